"""Quote bodies, and the read models of a priced cart that sales share."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE = {
    "location": "S01",
    "lines": [{"sku": "NW-TEE-CLS-WHT-M", "quantity": 2}],
    "coupons": ["WELCOME10"],
}


class DiscountCreate(BaseModel):
    """A cashier's manual discount; needs sales.manual_discount or a manager override."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["percent", "amount"]
    value: Decimal = Field(
        description="Percent (15 is 15 %) or an amount in minor units of the cart's currency."
    )
    reason: str = Field(max_length=200, description="Required; recorded with the sale.")


class GiftCardLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(description="Minor units loaded on the card: the line's price.")
    code: str | None = Field(
        default=None,
        max_length=40,
        description="Sales only: the printed card it activates; omitted, a new card is issued "
        "and its number is in the sale's answer (once).",
    )


class CartLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str | None = Field(default=None, max_length=64, description="Give sku or barcode.")
    barcode: str | None = Field(default=None, max_length=32, description="As scanned.")
    quantity: int = Field(description="Base units (each, or grams for weighed goods); >= 1.")
    unit_price: int | None = Field(
        default=None,
        description="Price override in minor units; needs the "
        "sales.price_override permission or a manager override (X-Manager-Override).",
    )
    price_override_reason: str | None = Field(default=None, max_length=200)
    discount: DiscountCreate | None = None
    gift_card: GiftCardLineIn | None = Field(
        default=None,
        description="For a gift card product: sold at the amount loaded, never discounted "
        "or taxed (tax is due when the card is spent), and not stock.",
    )


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    region: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)


class QuoteCreate(BaseModel):
    """A cart to price. Tax is charged where the goods are supplied: at `location` in store
    or for pickup, at `ship_to` when shipped."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    location: str | None = Field(
        default=None, max_length=32, description="Selling or pickup store code."
    )
    channel: Literal["in_store", "web", "marketplace", "social", "phone"] = "in_store"
    currency: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="Default: the location's currency, else the catalog's.",
    )
    customer: UUID | None = Field(default=None, description="Customer id, if known.")
    coupons: list[str] = Field(default_factory=list, max_length=20)
    discount: DiscountCreate | None = Field(default=None, description="An order discount.")
    shipping: int = Field(default=0, description="Shipping charge in minor units.")
    fulfillment: Literal["in_store", "pickup", "ship"] = "in_store"
    ship_to: AddressIn | None = None
    lines: list[CartLineCreate] = Field(max_length=500)


class AdjustmentRead(BaseModel):
    source: str = Field(description="The promotion's id, or `manual`.")
    name: str
    amount: int
    coupon: str | None = None
    reason: str | None = None


class TaxRead(BaseModel):
    code: str
    name: str
    rate: str = Field(description="Decimal rate, e.g. '0.045'.")
    taxable: int
    tax: int


class QuoteLineRead(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: int
    list_price: int
    compare_at: int | None
    price_source: str = Field(description="price_list, base, converted or override.")
    price_list_id: str | None
    tax_inclusive: bool
    subtotal: int
    discount_total: int
    unit_discounts: list[int] = Field(description="discount_total split over the units.")
    net: int
    tax_total: int
    total: int
    adjustments: list[AdjustmentRead]
    taxes: list[TaxRead]


class AppliedPromotionRead(BaseModel):
    promotion_id: str
    name: str
    amount: int
    coupon: str | None = None


class CouponRead(BaseModel):
    code: str
    accepted: bool
    reason: str | None = Field(description="Stable code when not applied.")
    message: str


class GiftOfferRead(BaseModel):
    promotion_id: str
    variant_id: str


class QuoteRead(BaseModel):
    currency: str
    channel: str
    location: str | None
    subtotal: int
    discount_total: int
    shipping: int
    shipping_tax: int
    tax_total: int
    total: int
    exchange_rate: str | None
    tax_exempt_reason: str | None
    lines: list[QuoteLineRead]
    taxes: list[TaxRead]
    promotions: list[AppliedPromotionRead]
    coupons: list[CouponRead]
    gift_offers: list[GiftOfferRead]
