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

    @property
    def sellable(self) -> bool:
        """Sellable only while both the variant and its product are active."""
        return self.status == "active" and self.product_status == "active"
