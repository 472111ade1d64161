"""Quotes: price a cart with no side effects (the register and the web shop both use it)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter

from omnitill.api.deps import CurrentActor, DbDep, OverrideHeader, TaxProviderDep
from omnitill.api.schemas.quotes import (
    AdjustmentRead,
    AppliedPromotionRead,
    CartLineCreate,
    CouponRead,
    DiscountCreate,
    GiftOfferRead,
    QuoteCreate,
    QuoteLineRead,
    QuoteRead,
    TaxRead,
)
from omnitill.domain.pricing.cart import DiscountKind, ManualDiscount, PricedCart
from omnitill.domain.tax.engine import ComponentTax
from omnitill.services import quotes as quote_service
from omnitill.services.pricing import Address, CartLineRequest, CartRequest, Fulfillment

router = APIRouter(prefix="/api/v1", tags=["pricing"])


def manual_discount(body: DiscountCreate | None) -> ManualDiscount | None:
    if body is None:
        return None
    return ManualDiscount(kind=DiscountKind(body.kind), value=body.value, reason=body.reason)


def cart_line(body: CartLineCreate) -> CartLineRequest:
    return CartLineRequest(
        sku=body.sku,
        barcode=body.barcode,
        quantity=body.quantity,
        unit_price=body.unit_price,
        price_override_reason=body.price_override_reason,
        discount=manual_discount(body.discount),
        gift_card_amount=None if body.gift_card is None else body.gift_card.amount,
    )


def rate_text(rate: Decimal) -> str:
    """A rate in its shortest plain form ("0.04", never "0.040000" or "4E-2"), so a sale reads
    back exactly as it was first answered whatever the column's scale."""
    return format(rate.normalize(), "f")


def taxes_read(taxes: tuple[ComponentTax, ...]) -> list[TaxRead]:
    return [
        TaxRead(code=t.code, name=t.name, rate=rate_text(t.rate), taxable=t.taxable, tax=t.tax)
        for t in taxes
    ]


def quote_read(cart: PricedCart, *, channel: str, location: str | None) -> QuoteRead:
    return QuoteRead(
        currency=cart.currency,
        channel=channel,
        location=location,
        subtotal=cart.subtotal,
        discount_total=cart.discount_total,
        shipping=cart.shipping,
        shipping_tax=cart.shipping_tax,
        tax_total=cart.tax_total,
        total=cart.total,
        exchange_rate=None if cart.exchange_rate is None else str(cart.exchange_rate),
        tax_exempt_reason=cart.tax_exempt_reason,
        lines=[
            QuoteLineRead(
                sku=x.sku,
                name=x.name,
                quantity=x.quantity,
                unit_price=x.unit_price,
                list_price=x.list_price,
                compare_at=x.compare_at,
                price_source=x.price_source.value,
                price_list_id=x.price_list_id,
                tax_inclusive=x.tax_inclusive,
                subtotal=x.subtotal,
                discount_total=x.discount_total,
                unit_discounts=list(x.unit_discounts),
                net=x.net,
                tax_total=x.tax_total,
                total=x.total,
                adjustments=[
                    AdjustmentRead(
                        source=a.source,
                        name=a.name,
                        amount=a.amount,
                        coupon=a.coupon,
                        reason=a.reason,
                    )
                    for a in x.adjustments
                ],
                taxes=taxes_read(x.taxes),
            )
            for x in cart.lines
        ],
        taxes=taxes_read(cart.taxes),
        promotions=[
            AppliedPromotionRead(
                promotion_id=p.promotion_id, name=p.name, amount=p.amount, coupon=p.coupon
            )
            for p in cart.promotions
        ],
        coupons=[
            CouponRead(code=c.code, accepted=c.accepted, reason=c.error_code, message=c.message)
            for c in cart.coupons
        ],
        gift_offers=[
            GiftOfferRead(promotion_id=g.promotion_id, variant_id=g.variant_id)
            for g in cart.gift_offers
        ],
    )


@router.post(
    "/quotes",
    response_model=QuoteRead,
    summary="Price a cart (no side effects)",
    responses={
        422: {"description": "Unknown items, no price in the currency, a refused coupon."},
        403: {"description": "A manual price or discount without permission or override."},
    },
)
def create_quote(
    body: QuoteCreate,
    actor: CurrentActor,
    db: DbDep,
    tax_provider: TaxProviderDep,
    override: OverrideHeader = None,
) -> QuoteRead:
    """Prices, discounts and taxes every line exactly as a sale would; spends nothing.
    A refused coupon answers 422 `promotion.coupon_<reason>` naming `coupons.<i>`."""
    request = CartRequest(
        lines=tuple(cart_line(x) for x in body.lines),
        channel=body.channel,
        currency=body.currency,
        customer=body.customer,
        coupons=tuple(body.coupons),
        discount=manual_discount(body.discount),
        shipping=body.shipping,
        fulfillment=Fulfillment(body.fulfillment),
        ship_to=None
        if body.ship_to is None
        else Address(body.ship_to.country, body.ship_to.region, body.ship_to.postal_code),
    )
    result = quote_service.quote(
        db=db,
        actor=actor,
        request=request,
        location=body.location,
        override_token=override,
        tax_provider=tax_provider,
    )
    return quote_read(result.cart, channel=result.channel, location=result.location)
