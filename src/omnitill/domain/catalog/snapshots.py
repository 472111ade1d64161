"""What the register needs to know of a variant at the moment of sale."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VariantRef:
    """A variant as read for a sale or stock movement (price in minor units of `currency`)."""

    id: uuid.UUID
    sku: str
    barcode: str | None
    name: str
    price_minor: int
    currency: str
    status: str
    product_status: str
    product_id: uuid.UUID | None = None
    compare_at_minor: int | None = None
    tax_class: str = "standard"
    brand_id: uuid.UUID | None = None
    sold_by_weight: bool = False  # priced per kg, sold in grams
    category_id: uuid.UUID | None = None
    unit: str = "each"  # the base unit quantities count in: each | g | ml
    tracking: str = "none"  # none | lot (with expiry dates) | serial (one by one)
    gift_card: bool = False  # sold at the amount loaded; no discount, no tax, no stock

    @property
    def sellable(self) -> bool:
        """Sellable only while both the variant and its product are active."""
        return self.status == "active" and self.product_status == "active"
