"""Reading the typed fields of back-office forms: whole numbers, choices and the rows of a
lines table (SKU and quantity). Every problem is collected and refused at once as 422
`ValidationFailed` naming each field, before any service is called, so nothing is written."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from omnitill.api.routes.admin_common import Form
from omnitill.domain.errors import FieldError, ValidationFailed


@dataclass(frozen=True, slots=True)
class LineRow:
    """One filled row of a lines table; `index` is its place among the filled rows."""

    index: int
    sku: str
    quantity: int


def refuse(errors: list[FieldError], message: str = "check the marked fields") -> None:
    """Raise 422 `admin.invalid_form` naming every field of `errors` (if any)."""
    if errors:
        raise ValidationFailed("admin.invalid_form", message, errors=errors)


def parse_int(
    text: str, *, field: str, errors: list[FieldError], minimum: int | None = None
) -> int | None:
    """A typed whole number, or None with a field error added to `errors`."""
    try:
        value = int(text.replace(",", "").strip())
    except ValueError:
        errors.append(FieldError(field, "admin.invalid_number", "enter a whole number"))
        return None
    if minimum is not None and value < minimum:
        errors.append(FieldError(field, "admin.invalid_number", f"enter {minimum} or more"))
        return None
    return value


def whole_number(text: str, *, field: str, minimum: int | None = None) -> int:
    """A typed whole number; 422 naming `field` otherwise."""
    errors: list[FieldError] = []
    value = parse_int(text, field=field, errors=errors, minimum=minimum)
    refuse(errors)
    assert value is not None
    return value


def optional_number(text: str, *, field: str, minimum: int | None = None) -> int | None:
    """Empty: None; otherwise as `whole_number`."""
    return whole_number(text, field=field, minimum=minimum) if text.strip() else None


def choice(text: str, choices: Iterable[str], *, field: str) -> str:
    """One of `choices`; 422 `admin.invalid_choice` naming `field` otherwise."""
    if text not in set(choices):
        raise ValidationFailed(
            "admin.invalid_choice",
            f"{field} is not one of the choices",
            errors=[FieldError(field, "admin.invalid_choice", "pick one of the choices")],
        )
    return text


def line_rows(form: Form, *, signed: bool = False) -> list[LineRow]:
    """The filled rows of a lines table (inputs `sku` and `quantity`, repeated); blank rows
    are skipped. 422 naming `lines.N.quantity` for a bad quantity (zero, or negative unless
    `signed`) and `lines` when no row is filled."""
    skus, quantities = form.getlist("sku"), form.getlist("quantity")
    quantities += [""] * (len(skus) - len(quantities))
    rows: list[LineRow] = []
    errors: list[FieldError] = []
    for sku, text in zip(skus, quantities, strict=False):
        if not sku and not text:
            continue
        index = len(rows)
        if not sku:
            errors.append(FieldError(f"lines.{index}.sku", "admin.required", "enter a SKU"))
        quantity = parse_int(text, field=f"lines.{index}.quantity", errors=errors)
        if quantity is not None and (quantity == 0 or (quantity < 0 and not signed)):
            errors.append(
                FieldError(f"lines.{index}.quantity", "admin.invalid_number", "not a quantity")
            )
        rows.append(LineRow(index, sku, quantity or 0))
    if not rows and not errors:
        errors.append(FieldError("lines", "admin.required", "fill in at least one line"))
    refuse(errors)
    return rows
