"""Quotes: price a cart exactly as a sale or order would be priced, with no side effects.

The register shows the quote while the customer watches; the web shop shows it in the basket.
Nothing is written: no coupon is spent, no stock is reserved, no manager override is used
(a quote only checks that a manual price or discount would be allowed).
"""

from __future__ import annotations

from dataclasses import dataclass

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.pricing.cart import PricedCart
from omnitill.domain.tax.provider import TaxProvider
from omnitill.services.auth import check_authorised
from omnitill.services.pricing import CartRequest, Place, price_cart
from omnitill.services.references import accessible_location


@dataclass(frozen=True, slots=True)
class Quote:
    cart: PricedCart
    channel: str
    location: str | None


def quote(
    *,
    db: Database,
    actor: Actor,
    request: CartRequest,
    location: str | None,
    override_token: str | None = None,
    tax_provider: TaxProvider | None = None,
) -> Quote:
    """Price `request` as sold at (or picked up from) `location`; 403 for a manual price or
    discount the caller may not give, 422 for anything that cannot be priced."""
    actor.require(Permission.PRICING_READ)
    with db.uow(write=False) as uow:
        place = None
        if location is not None:
            loc = accessible_location(uow, actor, location)
            place = Place(
                id=loc.id,
                code=loc.code,
                currency=loc.currency,
                timezone=loc.timezone,
                tax_rate=loc.tax_rate,
                prices_include_tax=loc.prices_include_tax,
                tax_jurisdiction_id=loc.tax_jurisdiction_id,
            )
        priced = price_cart(
            uow, request=request, place=place, at=utcnow(), tax_provider=tax_provider
        )
        for permission in sorted(priced.needs):
            check_authorised(uow, actor=actor, permission=permission, override_token=override_token)
    return Quote(cart=priced.cart, channel=request.channel, location=location)
