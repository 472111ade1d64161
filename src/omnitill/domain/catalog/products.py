"""Products and their variants as the catalog sees them: states, inputs, names and search text.

A product groups variants (the sellable SKUs) that differ only by option values such as size
and colour. Prices live on the variant, in integer minor units of the variant's currency.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class CatalogStatus(StrEnum):
    """The life cycle of a product or a variant; only ``active`` ones can be sold."""

    ACTIVE = "active"
    DRAFT = "draft"
    ARCHIVED = "archived"


class Tracking(StrEnum):
    """What the stock of a product is counted by: plain quantity, lot, or serial number."""

    NONE = "none"
    LOT = "lot"
    SERIAL = "serial"


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


def is_sellable(variant: HasStatus, product: HasStatus) -> bool:
    """A variant can be rung up only while both it and its product are active.

    Draft products are not yet on sale and archived ones are withdrawn, whatever the state of
    their variants; a single archived variant (a discontinued size) is withdrawn on its own.
    """
    return variant.status == CatalogStatus.ACTIVE and product.status == CatalogStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class VariantInput:
    """One SKU as a client sends it. Amounts are minor units of `currency`."""

    sku: str
    price: int
    currency: str
    barcode: str | None = None
    name: str | None = None
    option_values: Mapping[str, str] = field(default_factory=dict)
    compare_at_price: int | None = None
    cost: int | None = None
    status: CatalogStatus = CatalogStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class ProductInput:
    """A new product with the variants it is created with."""

    name: str
    variants: tuple[VariantInput, ...]
    description: str = ""
    category_id: uuid.UUID | None = None
    brand_id: uuid.UUID | None = None
    tax_class: str = "standard"
    tracking: Tracking = Tracking.NONE
    status: CatalogStatus = CatalogStatus.ACTIVE
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductChanges:
    """A partial update of a product: None leaves a field alone; `clear` names fields to null."""

    name: str | None = None
    description: str | None = None
    category_id: uuid.UUID | None = None
    brand_id: uuid.UUID | None = None
    tax_class: str | None = None
    tracking: Tracking | None = None
    status: CatalogStatus | None = None
    options: tuple[str, ...] | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class VariantChanges:
    """A partial update of a variant: None leaves a field alone; `clear` names fields to null."""

    sku: str | None = None
    barcode: str | None = None
    name: str | None = None
    option_values: Mapping[str, str] | None = None
    price: int | None = None
    compare_at_price: int | None = None
    cost: int | None = None
    currency: str | None = None
    status: CatalogStatus | None = None
    clear: frozenset[str] = frozenset()


def variant_display_name(
    product_name: str, options: Iterable[str], values: Mapping[str, str]
) -> str:
    """The name a variant gets when none is given: ``T-shirt - M / Red`` in option order."""
    parts = [values[o] for o in options if values.get(o)]
    return f"{product_name} - {' / '.join(parts)}" if parts else product_name


def search_text(
    *,
    product_name: str,
    variant_name: str,
    sku: str,
    barcode: str | None,
    option_values: Mapping[str, str],
) -> str:
    """The lower-cased text `q=` searches: names, SKU, barcode and option values."""
    words = [product_name, variant_name, sku, barcode or "", *option_values.values()]
    seen: list[str] = []
    for word in (w.strip().lower() for w in words):
        if word and word not in seen:
            seen.append(word)
    return " ".join(seen)
