"""Barcode labels and shelf price tags: what each shows, and the sizes they print at."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.labels.barcodes import Barcode

MAX_SKUS = 100
MAX_COPIES = 100


class LabelKind(StrEnum):
    BARCODE = "barcode"  # a sticker for the item: name, SKU, barcode
    SHELF = "shelf"  # the shelf edge tag: name, price, unit price, barcode


# Width and height in millimetres: the common 50 x 25 mm sticker and a 70 x 38 mm shelf tag.
SIZES_MM: dict[LabelKind, tuple[float, float]] = {
    LabelKind.BARCODE: (50.0, 25.0),
    LabelKind.SHELF: (70.0, 38.0),
}


@dataclass(frozen=True, slots=True)
class Label:
    """One label, its strings written for the store's locale. `price` is empty on a barcode
    label; `unit_price` ("$12.99 / kg") is given for goods sold by weight."""

    kind: LabelKind
    sku: str
    name: str
    barcode: Barcode
    price: str = ""
    unit_price: str | None = None

    @property
    def size_mm(self) -> tuple[float, float]:
        return SIZES_MM[self.kind]


def check_request(skus: list[str], copies: int) -> list[str]:
    """The SKUs asked for, blanks dropped, in order; 422 naming each bad parameter."""
    wanted = [s.strip() for s in skus if s.strip()]
    errors: list[FieldError] = []
    if not wanted:
        errors.append(FieldError("sku", "labels.sku_required", "give one or more sku"))
    if len(wanted) > MAX_SKUS:
        errors.append(FieldError("sku", "labels.too_many", f"at most {MAX_SKUS} SKUs"))
    if not 1 <= copies <= MAX_COPIES:
        errors.append(FieldError("copies", "labels.invalid_copies", f"1 to {MAX_COPIES}"))
    if errors:
        raise ValidationFailed(
            "labels.invalid_request", "the label request is invalid", errors=errors
        )
    return wanted
