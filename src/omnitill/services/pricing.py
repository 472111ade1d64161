"""Pricing a cart: one path for quotes, register sales and (later) orders.

The service loads the snapshot the pure engine needs (the variants, the price lists in the
cart's currency, exchange rates, the tax jurisdiction of the place of supply, the promotions,
the entered coupons and the customer's groups) inside the caller's unit of work, calls
`domain.pricing.engine.price` and returns its answer with what a sale must record. Because a
quote and a sale take the same path, the price a register showed is the price it records.

Where tax applies (the place of supply):
- in store: the selling store's jurisdiction;
- pick up in store: the pickup store's jurisdiction;
- shipped: the destination address's jurisdiction (postal prefix, else region, else country);
  no configured jurisdiction there means the retailer collects no tax there.
A store with no jurisdiction assigned falls back to its single location tax rate, so the
set-ups made before jurisdictions existed keep charging what they charged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.tax.remote import RemoteTaxService
from omnitill.config import Settings
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import check_currency
from omnitill.domain.pricing.cart import (
    CartLine,
    CouponResult,
    ManualDiscount,
    PricedCart,
    PricingContext,
    PricingInput,
)
from omnitill.domain.pricing.engine import price
from omnitill.domain.promotions.model import CouponRefusal, Promotion
from omnitill.domain.tax.model import Jurisdiction, TaxComponent
from omnitill.domain.tax.provider import BUILTIN, TaxProvider
from omnitill.services import pricing_data
from omnitill.services.references import LineRef, resolve_lines


class Fulfillment(StrEnum):
    IN_STORE = "in_store"
    PICKUP = "pickup"
    SHIP = "ship"


# Selling a gift card is not a taxable supply: tax is due when the card is spent. No
# jurisdiction has a rate for this class.
GIFT_CARD_TAX_CLASS = "gift_card"


@dataclass(frozen=True, slots=True)
class CartLineRequest:
    sku: str | None
    barcode: str | None
    quantity: int
    unit_price: int | None = None  # a price override; needs sales.price_override
    price_override_reason: str | None = None
    discount: ManualDiscount | None = None  # needs sales.manual_discount
    gift_card_amount: int | None = None  # a gift card product: the amount loaded on the card


@dataclass(frozen=True, slots=True)
class Address:
    country: str
    region: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class CartRequest:
    lines: tuple[CartLineRequest, ...]
    channel: str = "in_store"
    currency: str | None = None  # default: the selling location's, else the catalog's
    customer: uuid.UUID | None = None
    coupons: tuple[str, ...] = ()
    discount: ManualDiscount | None = None  # an order discount; needs sales.manual_discount
    shipping: int = 0
    fulfillment: Fulfillment = Fulfillment.IN_STORE
    ship_to: Address | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """The location a cart is sold from or picked up at, as pricing needs it."""

    id: uuid.UUID
    code: str
    currency: str
    timezone: str
    tax_rate: Decimal
    prices_include_tax: bool
    tax_jurisdiction_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class PricedRequest:
    """The engine's answer, the variants it priced, and what the caller must still check."""

    cart: PricedCart
    refs: tuple[VariantRef, ...]
    needs: frozenset[Permission]  # sensitive permissions the request uses


def tax_provider_for(settings: Settings) -> TaxProvider:
    """The configured tax provider: the built-in tables, or a tax service over HTTP."""
    if settings.tax_provider == "remote" and settings.tax_service_url:
        return RemoteTaxService(
            settings.tax_service_url, timeout_seconds=settings.tax_service_timeout_seconds
        )
    return BUILTIN


def price_cart(
    uow: UnitOfWork,
    *,
    request: CartRequest,
    place: Place | None,
    at: datetime,
    tax_provider: TaxProvider | None = None,
) -> PricedRequest:
    """Price `request` sold at `place` (None: a web cart with no store) at time `at`.

    Raises 422 for unknown items, a currency with neither price list nor exchange rate,
    invalid discounts and refused coupons (`promotion.coupon_*`, one error per coupon).
    """
    _check_shape(request)
    refs = tuple(resolve_lines(uow, [LineRef(x.sku, x.barcode) for x in request.lines]))
    _check_sellable(refs, request.lines)
    base_currency = _base_currency(refs)
    currency = request.currency or (place.currency if place else base_currency)
    _check_currency(currency)
    customer = pricing_data.customer_pricing(uow, customer_id=request.customer)
    product_ids = sorted({r.product_id for r in refs if r.product_id is not None})
    categories = pricing_data.category_lineage(
        uow, {r.category_id for r in refs if r.category_id is not None}
    )
    collections = pricing_data.collection_ids_for(uow, product_ids=product_ids)
    catalog = pricing_data.promotion_catalog(uow)
    coupons = pricing_data.coupons_by_code(uow, codes=list(request.coupons))
    data = PricingInput(
        context=PricingContext(
            currency=currency,
            channel=request.channel,
            at=at,
            timezone=place.timezone if place else "UTC",
            location=place.code if place else None,
            customer_id=str(request.customer) if request.customer else None,
            customer_groups=customer.groups,
        ),
        lines=[
            _cart_line(i, ref, line, categories, collections)
            for i, (ref, line) in enumerate(zip(refs, request.lines, strict=True))
        ],
        book=pricing_data.price_book(
            uow,
            currency=currency,
            base_currency=base_currency,
            variant_ids=[r.id for r in refs],
        ),
        promotions=catalog,
        usage=pricing_data.promotion_usage(
            uow,
            promotion_ids=[p.id for p in catalog.promotions if _limited(p)],
            customer_id=request.customer,
        ),
        coupons=coupons,
        coupon_codes=request.coupons,
        order_discount=request.discount,
        jurisdiction=_jurisdiction(uow, request, place),
        exemption_certificate=customer.tax_exempt_certificate,
        shipping=request.shipping,
        tax_provider=tax_provider,
    )
    cart = price(data)
    _raise_refused_coupons(cart.coupons)
    return PricedRequest(cart=cart, refs=refs, needs=_needs(request, cart))


def _limited(p: Promotion) -> bool:
    return p.usage_limit is not None or p.per_customer_limit is not None


def _check_shape(request: CartRequest) -> None:
    errors: list[FieldError] = []
    if not request.lines:
        errors.append(FieldError("lines", "sale.no_lines", "at least one line is required"))
    for i, line in enumerate(request.lines):
        if line.unit_price is not None and not (line.price_override_reason or "").strip():
            errors.append(
                FieldError(
                    f"lines.{i}.price_override_reason",
                    "sale.override_reason_required",
                    "a price override needs a reason",
                )
            )
        if line.discount is not None and not line.discount.reason.strip():
            errors.append(
                FieldError(
                    f"lines.{i}.discount.reason",
                    "pricing.discount_reason_required",
                    "a manual discount needs a reason",
                )
            )
    if request.discount is not None and not request.discount.reason.strip():
        errors.append(
            FieldError(
                "discount.reason",
                "pricing.discount_reason_required",
                "a manual discount needs a reason",
            )
        )
    if request.shipping < 0:
        errors.append(FieldError("shipping", "pricing.invalid_amount", "must be >= 0"))
    if request.fulfillment is Fulfillment.SHIP and request.ship_to is None:
        errors.append(
            FieldError("ship_to", "pricing.ship_to_required", "a shipped cart needs an address")
        )
    if errors:
        raise ValidationFailed(errors[0].code, "the cart cannot be priced", errors=errors)


def _check_sellable(refs: Sequence[VariantRef], lines: Sequence[CartLineRequest]) -> None:
    errors = [
        FieldError(f"lines.{i}", "catalog.variant_inactive", f"{ref.sku} is not for sale")
        for i, ref in enumerate(refs)
        if not ref.sellable
    ]
    for i, (ref, line) in enumerate(zip(refs, lines, strict=True)):
        errors.extend(_gift_card_errors(i, ref, line))
    if errors:
        raise ValidationFailed(errors[0].code, "some lines cannot be sold", errors=errors)


def _gift_card_errors(i: int, ref: VariantRef, line: CartLineRequest) -> list[FieldError]:
    """A gift card product is sold with the amount loaded (never a price override or a
    discount); any other product is not."""
    where = f"lines.{i}.gift_card"
    if not ref.gift_card:
        if line.gift_card_amount is None:
            return []
        return [FieldError(where, "sale.not_a_gift_card", f"{ref.sku} is not a gift card")]
    if line.gift_card_amount is None:
        return [FieldError(f"{where}.amount", "sale.gift_card_amount_required", "required")]
    if line.unit_price is not None or line.discount is not None:
        return [FieldError(where, "sale.gift_card_not_discountable", "sold at the amount loaded")]
    return []


def _base_currency(refs: Sequence[VariantRef]) -> str:
    """The catalog's currency: every variant's base price is in it."""
    currencies = sorted({r.currency for r in refs})
    if len(currencies) > 1:
        raise ValidationFailed(
            "pricing.mixed_base_currencies",
            f"the catalog prices these items in several currencies: {', '.join(currencies)}",
            errors=[
                FieldError(f"lines.{i}", "pricing.mixed_base_currencies", r.currency)
                for i, r in enumerate(refs)
                if r.currency != currencies[0]
            ],
        )
    return currencies[0]


def _check_currency(currency: str) -> None:
    try:
        check_currency(currency)
    except ValidationFailed as exc:
        raise ValidationFailed(
            "money.unknown_currency",
            f"{currency!r} is not an ISO 4217 currency",
            errors=[FieldError("currency", "money.unknown_currency", currency)],
        ) from exc


def _cart_line(
    i: int,
    ref: VariantRef,
    line: CartLineRequest,
    categories: dict[uuid.UUID, frozenset[str]],
    collections: dict[uuid.UUID, frozenset[str]],
) -> CartLine:
    """`categories` by category id (with ancestors), `collections` by product id."""
    product = ref.product_id
    return CartLine(
        key=str(i),
        variant_id=str(ref.id),
        sku=ref.sku,
        name=ref.name,
        quantity=line.quantity,
        base_price=ref.price_minor,
        compare_at=ref.compare_at_minor,
        tax_class=GIFT_CARD_TAX_CLASS if ref.gift_card else ref.tax_class,
        category_ids=categories.get(ref.category_id, frozenset())
        if ref.category_id
        else frozenset(),
        collection_ids=collections.get(product, frozenset()) if product else frozenset(),
        brand_id=str(ref.brand_id) if ref.brand_id else None,
        sold_by_weight=ref.sold_by_weight,
        unit_price_override=line.gift_card_amount if ref.gift_card else line.unit_price,
        manual_discount=line.discount,
        stored_value=ref.gift_card,
    )


def _jurisdiction(
    uow: UnitOfWork, request: CartRequest, place: Place | None
) -> Jurisdiction | None:
    if request.fulfillment is Fulfillment.SHIP:
        to = request.ship_to
        assert to is not None  # checked in _check_shape
        return pricing_data.jurisdiction_for_address(
            uow, country=to.country, region=to.region, postal_code=to.postal_code
        )
    if place is None:
        return None
    found = pricing_data.jurisdiction_by_id(uow, place.tax_jurisdiction_id)
    return found if found is not None else location_rate(place)


def location_rate(place: Place) -> Jurisdiction | None:
    """A store's single tax rate as a one-component jurisdiction (None when it has none)."""
    if not place.tax_rate:
        return None
    return Jurisdiction(
        code=f"{place.code}-TAX",
        name=f"{place.code} tax",
        components=(TaxComponent(code="TAX", name="Tax", rates={"standard": place.tax_rate}),),
        inclusive=place.prices_include_tax,
    )


def _raise_refused_coupons(results: Sequence[CouponResult]) -> None:
    """A coupon that cannot apply is an error the cashier or shopper must see; one that lost to
    a better combination is not (the cart's answer says so)."""
    refused = [
        (i, r)
        for i, r in enumerate(results)
        if not r.accepted and r.refusal is not CouponRefusal.NOT_BEST
    ]
    if refused:
        first = refused[0][1]
        raise ValidationFailed(
            first.error_code or "promotion.coupon_refused",
            first.message or f"coupon {first.code} cannot be used",
            {"coupons": [{"code": r.code, "reason": r.error_code} for _, r in refused]},
            errors=[
                FieldError(f"coupons.{i}", r.error_code or "promotion.coupon_refused", r.message)
                for i, r in refused
            ],
        )


def _needs(request: CartRequest, cart: PricedCart) -> frozenset[Permission]:
    """A price override needs a permission only when it changes the price."""
    needs: set[Permission] = set()
    if any(
        x.unit_price is not None and x.unit_price != p.list_price
        for x, p in zip(request.lines, cart.lines, strict=True)
    ):
        needs.add(Permission.PRICE_OVERRIDE)
    if request.discount is not None or any(x.discount is not None for x in request.lines):
        needs.add(Permission.MANUAL_DISCOUNT)
    return frozenset(needs)
