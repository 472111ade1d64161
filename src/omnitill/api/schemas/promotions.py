"""Request and response bodies for promotions and coupons.

Percentages are decimal strings of percent ("15" is 15 %); amounts, prices and spends are
integers in minor units of the promotion's `currency`, which any fixed amount needs.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from omnitill.domain.promotions.model import RuleKind, StackingClass

_KIND = (
    "item_percent, item_amount, fixed_price, quantity_tiers, buy_x_get_y, bundle, "
    "order_percent, order_amount, spend_tiers or free_gift."
)
_STACKING = "product (one per unit), order (after product discounts) or exclusive (alone)."
_WINDOW = "UTC; `ends_at` is exclusive."


class TargetBody(BaseModel):
    """Items a rule looks at: any listed variant, category, collection or brand, or all."""

    variant_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    category_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    collection_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    brand_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    all_items: bool = False


class TierBody(BaseModel):
    threshold: int = Field(description="Units (quantity tiers) or minor units (spend tiers).")
    percent: Decimal | None = Field(None, description="Percent off from the threshold on.")
    amount: int | None = Field(None, description="Amount off (spend tiers only).")


class HoursBody(BaseModel):
    weekdays: list[int] = Field(max_length=7, description="0 Monday .. 6 Sunday.")
    start: time = Field(description="Local time of the selling location.")
    end: time


def _all_items() -> TargetBody:
    return TargetBody(all_items=True)


class PromotionCreate(BaseModel):
    """A promotion; the rule fields its `kind` needs are checked together."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "spring-shoes-15",
                    "name": "15 % off shoes",
                    "kind": "item_percent",
                    "percent": "15",
                    "target": {"category_ids": ["0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e8f"]},
                    "starts_at": "2027-03-01T05:00:00Z",
                    "ends_at": "2027-04-01T04:00:00Z",
                },
                {
                    "code": "welcome-10",
                    "name": "10 off 50",
                    "kind": "order_amount",
                    "stacking": "order",
                    "amount": 1000,
                    "min_spend": 5000,
                    "currency": "USD",
                    "requires_coupon": True,
                    "per_customer_limit": 1,
                },
            ]
        }
    )
    code: str = Field(max_length=64, description="Unique slug, lower-case (spring-shoes-15).")
    name: str = Field(min_length=1, max_length=200, description="Shown on receipts.")
    kind: RuleKind = Field(description=_KIND)
    stacking: StackingClass = Field(StackingClass.PRODUCT, description=_STACKING)
    priority: int = Field(0, description="Higher first among equally good promotions.")
    target: TargetBody = Field(default_factory=_all_items)
    percent: Decimal | None = None
    amount: int | None = None
    price: int | None = None
    currency: str | None = Field(None, max_length=3)
    tiers: list[TierBody] = Field(default_factory=list, max_length=20)
    buy_quantity: int = 0
    get_quantity: int = 0
    get_percent: Decimal = Decimal(100)
    get_target: TargetBody | None = None
    max_applications: int | None = None
    bundle_quantity: int = 0
    gift_variant_id: uuid.UUID | None = None
    min_spend: int | None = None
    requires_coupon: bool = False
    channels: list[str] = Field(default_factory=list, max_length=10)
    locations: list[str] = Field(default_factory=list, max_length=500)
    customer_groups: list[str] = Field(default_factory=list, max_length=50)
    starts_at: AwareDatetime | None = Field(None, description=_WINDOW)
    ends_at: AwareDatetime | None = Field(None, description=_WINDOW)
    hours: list[HoursBody] = Field(default_factory=list, max_length=20)
    usage_limit: int | None = Field(None, description="Redemptions in total.")
    per_customer_limit: int | None = None
    active: bool = True


class PromotionUpdate(BaseModel):
    """Only the fields sent change (null clears an optional one); the code is fixed."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    name: str | None = Field(None, max_length=200)
    kind: RuleKind | None = None
    stacking: StackingClass | None = None
    priority: int | None = None
    target: TargetBody | None = None
    percent: Decimal | None = None
    amount: int | None = None
    price: int | None = None
    currency: str | None = Field(None, max_length=3)
    tiers: list[TierBody] | None = Field(None, max_length=20)
    buy_quantity: int | None = None
    get_quantity: int | None = None
    get_percent: Decimal | None = None
    get_target: TargetBody | None = None
    max_applications: int | None = None
    bundle_quantity: int | None = None
    gift_variant_id: uuid.UUID | None = None
    min_spend: int | None = None
    requires_coupon: bool | None = None
    channels: list[str] | None = Field(None, max_length=10)
    locations: list[str] | None = Field(None, max_length=500)
    customer_groups: list[str] | None = Field(None, max_length=50)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    hours: list[HoursBody] | None = Field(None, max_length=20)
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    active: bool | None = None


class PromotionRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: RuleKind
    stacking: StackingClass
    priority: int
    target: TargetBody
    percent: str | None
    amount: int | None
    price: int | None
    currency: str | None
    tiers: list[TierBody]
    buy_quantity: int
    get_quantity: int
    get_percent: str
    get_target: TargetBody | None
    max_applications: int | None
    bundle_quantity: int
    gift_variant_id: uuid.UUID | None
    min_spend: int | None
    requires_coupon: bool
    channels: list[str]
    locations: list[str]
    customer_groups: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    hours: list[HoursBody]
    usage_limit: int | None
    per_customer_limit: int | None
    active: bool
    created_at: datetime
    updated_at: datetime


class PromotionPage(BaseModel):
    items: list[PromotionRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class CouponCreate(BaseModel):
    """Either one named `code`, or `count` generated single-use codes starting `prefix`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "WELCOME10", "usage_limit": 500},
                {"count": 1000, "prefix": "SPRING"},
            ]
        }
    )
    code: str | None = Field(None, max_length=64, description="Stored upper-case.")
    count: int | None = Field(None, description="1 to 10,000 codes to generate.")
    prefix: str = Field("", max_length=20, description="Letters and digits before the code.")
    single_use: bool | None = Field(
        None, description="A named code is shared unless true; generated ones are single-use."
    )
    usage_limit: int | None = Field(None, description="Uses in total of a shared code.")
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class CouponsIssuedRead(BaseModel):
    promotion_id: uuid.UUID
    batch_id: uuid.UUID | None = Field(description="The batch of generated codes, if any.")
    count: int
    codes: list[str]


class CouponRead(BaseModel):
    id: uuid.UUID
    code: str
    promotion_id: uuid.UUID
    batch_id: uuid.UUID | None
    single_use: bool
    usage_limit: int | None
    uses: int
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool
    created_at: datetime


class CouponPage(BaseModel):
    items: list[CouponRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class CouponUpdate(BaseModel):
    """Deactivate or end a coupon, or change a shared code's limit."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    active: bool | None = None
    ends_at: AwareDatetime | None = None
    usage_limit: int | None = None
