"""The demo retailer's prices, taxes and promotions, seeded through the back-office services.

S01 (SoHo, New York City) charges stacked sales tax on top of shelf prices: New York State
4 %, New York City 4.5 % and the MCTD surcharge 0.375 %, rounded at the combined 8.875 %,
with clothing and footwear under $110 an item exempt from all three (NY Tax Bulletin ST-530:
the state tax and the MCTD surcharge, and the city's tax, which opted in). S02 (Amsterdam)
sells from a euro price list whose prices include Dutch VAT (21 %, 9 % reduced). Shipped
orders are taxed at the destination: New York City by postal prefix, New Jersey (6.625 %,
clothing exempt) by state.

Each record is looked up by its natural key (class code, jurisdiction code, list name,
promotion code, rate pair) and created only when missing, so `omnitill demo` stays
idempotent. The records go through the same services as the API, so they are validated
and audited the same way (as `system:demo`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import (
    Category,
    ExchangeRate,
    Location,
    PriceList,
    Promotion,
    TaxClass,
    TaxJurisdiction,
    User,
    Variant,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Role
from omnitill.domain.pricing.model import PriceTier
from omnitill.domain.promotions.model import Target, Tier, TimeWindow
from omnitill.domain.tax.model import ExemptBelow
from omnitill.services import price_lists, promotions, tax_settings
from omnitill.services.demo_catalog import CLOTHING, variants

ACTOR_NAME = "system:demo"
NYC_ZIP_PREFIXES = ("100", "101", "102", "103", "104", "111", "112", "113", "114", "116")
CLOTHING_THRESHOLD = 11_000  # $110.00 an item


@dataclass(frozen=True, slots=True)
class PricingSeeded:
    tax_classes: int = 0
    jurisdictions: int = 0
    price_lists: int = 0
    exchange_rates: int = 0
    promotions: int = 0
    coupons: int = 0


def seed_pricing(*, db: Database) -> PricingSeeded:
    """Create whatever of the demo's pricing set-up is missing (see the module docstring)."""
    actor = _demo_actor(db)
    tax_classes = _tax_classes(db, actor)
    jurisdictions = _jurisdictions(db, actor)
    lists = _price_lists(db, actor)
    rates = _exchange_rates(db, actor)
    created, coupons = _promotions(db, actor)
    return PricingSeeded(tax_classes, jurisdictions, lists, rates, created, coupons)


def _demo_actor(db: Database) -> Actor:
    """The demo acts with the admin's rights and is audited under its own name."""
    with db.uow(write=False) as uow:
        admin = uow.session.scalars(select(User.id).where(User.username == "admin")).one()
    return Actor(user_id=admin, username=ACTOR_NAME, role=Role.ADMIN, location_ids=None)


def _exists(db: Database, column: InstrumentedAttribute[str], value: str) -> bool:
    with db.uow(write=False) as uow:
        return bool(uow.session.scalar(select(func.count()).where(column == value)))


def _tax_classes(db: Database, actor: Actor) -> int:
    if _exists(db, TaxClass.code, CLOTHING):
        return 0
    tax_settings.create_tax_class(
        db=db,
        actor=actor,
        code=CLOTHING,
        name="Clothing and footwear",
        description="Exempt or reduced in some US states.",
    )
    return 1


def _jurisdictions(db: Database, actor: Actor) -> int:
    rate = Decimal
    created = 0
    wanted = [
        (
            tax_settings.JurisdictionInput(
                code="US-NY-NYC",
                name="New York City, NY",
                country="US",
                region="NY",
                postal_prefixes=NYC_ZIP_PREFIXES,
                components=(
                    _levy("NYS", "New York State sales tax", rate("0.04")),
                    _levy("NYC", "New York City sales tax", rate("0.045")),
                    _levy("MCTD", "MCTD surcharge", rate("0.00375")),
                ),
            ),
            ("S01",),
        ),
        (
            tax_settings.JurisdictionInput(
                code="US-NJ",
                name="New Jersey",
                country="US",
                region="NJ",
                components=(
                    tax_settings.ComponentInput(
                        code="NJ",
                        name="New Jersey sales tax",
                        rates={"standard": rate("0.06625"), CLOTHING: rate(0)},
                    ),
                ),
            ),
            (),
        ),
        (
            tax_settings.JurisdictionInput(
                code="NL",
                name="Netherlands",
                country="NL",
                inclusive=True,
                components=(
                    tax_settings.ComponentInput(
                        code="NL-BTW",
                        name="BTW (VAT)",
                        rates={
                            "standard": rate("0.21"),
                            CLOTHING: rate("0.21"),
                            "reduced": rate("0.09"),
                        },
                    ),
                ),
            ),
            ("S02",),
        ),
    ]
    for data, stores in wanted:
        if _exists(db, TaxJurisdiction.code, data.code):
            continue
        tax_settings.create_jurisdiction(db=db, actor=actor, data=data)
        for store in stores:
            if _exists(db, Location.code, store):
                tax_settings.assign_location(
                    db=db, actor=actor, code=data.code, location_code=store
                )
        created += 1
    return created


def _levy(code: str, name: str, rate: Decimal) -> tax_settings.ComponentInput:
    """One New York City levy: rounded with the others at the combined rate, and waived on
    clothing under $110 an item."""
    return tax_settings.ComponentInput(
        code=code,
        name=name,
        rates={"standard": rate, CLOTHING: rate},
        rounding_group="US-NY-NYC",
        exempt_below=(ExemptBelow(CLOTHING, CLOTHING_THRESHOLD),),
    )


def euro_price(usd_minor: int) -> int:
    """The Amsterdam shelf price (VAT included): 1.1 x the dollar price, up to the next
    whole euro, less 5 cents (69.00 USD -> 75.95 EUR)."""
    return math.ceil(usd_minor * 11 / 1000) * 100 - 5


def _price_lists(db: Database, actor: Actor) -> int:
    created = 0
    demo = list(variants())
    first = {v.product_code: v.sku for v in reversed(demo)}
    lists: list[tuple[price_lists.PriceListInput, list[tuple[str, int, Any, Any]]]] = [
        (
            price_lists.PriceListInput(
                name="Amsterdam (EUR, incl. VAT)", currency="EUR", tax_inclusive=True
            ),
            [(v.sku, euro_price(v.price), None, ()) for v in demo],
        ),
        (
            price_lists.PriceListInput(
                name="Web exclusives (USD)", currency="USD", priority=10, channels=("web",)
            ),
            [(first["TEE"], 1900, 2400, ()), (first["CAP"], 2500, 3200, ())],
        ),
        (
            price_lists.PriceListInput(
                name="Trade accounts (USD)",
                currency="USD",
                priority=20,
                customer_groups=("trade",),
            ),
            [
                (v.sku, v.price * 80 // 100, None, _trade_tiers(v.price))
                for v in demo
                if v.product_code in {"TEE", "SOX", "CAP"}
            ],
        ),
    ]
    for data, entries in lists:
        if _exists(db, PriceList.name, data.name):
            continue
        row = price_lists.create_price_list(db=db, actor=actor, data=data)
        price_lists.set_entries(
            db=db,
            actor=actor,
            price_list_id=row.id,
            entries=[price_lists.EntryInput(*entry) for entry in entries],
        )
        created += 1
    return created


def _trade_tiers(price: int) -> tuple[PriceTier, ...]:
    """Trade buyers pay less by the half dozen and the dozen: 70 %, then 60 % of retail."""
    return (PriceTier(6, price * 70 // 100), PriceTier(12, price * 60 // 100))


RATES = {"EUR": "0.92", "GBP": "0.79", "CHF": "0.88", "CAD": "1.39", "JPY": "151.2"}


def _exchange_rates(db: Database, actor: Actor) -> int:
    created = 0
    for quote, rate in RATES.items():
        with db.uow(write=False) as uow:
            found = uow.session.scalar(
                select(func.count()).where(ExchangeRate.base == "USD", ExchangeRate.quote == quote)
            )
        if found:
            continue
        price_lists.add_exchange_rate(
            db=db,
            actor=actor,
            base="USD",
            quote=quote,
            rate=Decimal(rate),
            valid_from=utcnow().date(),
        )
        created += 1
    if created:
        # Swiss prices land on 5 rappen, as Swiss cash does; yen on whole tens.
        price_lists.set_rounding(db=db, actor=actor, currency="CHF", increment=5, charm_ending=None)
        price_lists.set_rounding(
            db=db, actor=actor, currency="JPY", increment=10, charm_ending=None
        )
    return created


def _promotions(db: Database, actor: Actor) -> tuple[int, int]:
    tote_sku = next(v.sku for v in variants() if v.product_code == "TOT")
    with db.uow(write=False) as uow:
        categories = {
            slug: str(cid) for slug, cid in uow.session.execute(select(Category.slug, Category.id))
        }
        tote = str(uow.session.scalars(select(Variant.id).where(Variant.sku == tote_sku)).one())
    created = coupons = 0
    for data, coupon in demo_promotions(categories, tote):
        if _exists(db, Promotion.code, data.code):
            continue
        row = promotions.create_promotion(db=db, actor=actor, data=data)
        created += 1
        if coupon is not None:
            issued = promotions.issue_coupons(
                db=db, actor=actor, promotion_id=row.id, request=coupon
            )
            coupons += len(issued.codes)
    return created, coupons


def demo_promotions(
    categories: dict[str, str], tote_id: str
) -> list[tuple[promotions.PromotionInput, promotions.CouponRequest | None]]:
    """A few live promotions of each kind, and the coupons that unlock some of them."""
    p = promotions.PromotionInput

    def cats(*slugs: str) -> Target:
        return Target(category_ids=frozenset(categories[s] for s in slugs))

    weekday_evenings = (TimeWindow(frozenset(range(5)), time(17), time(19)),)
    return [
        (
            p(
                code="socks-3-for-2",
                name="Socks: 3 for 2",
                kind="buy_x_get_y",
                target=cats("socks"),
                buy_quantity=2,
                get_quantity=1,
            ),
            None,
        ),
        (
            p(
                code="outerwear-20",
                name="Outerwear 20 % off",
                kind="item_percent",
                target=cats("jackets", "coats"),
                percent=Decimal(20),
            ),
            None,
        ),
        (
            p(
                code="belt-and-tie",
                name="Any belt and tie for $99",
                kind="bundle",
                target=cats("belts", "ties"),
                bundle_quantity=2,
                price=9900,
                currency="USD",
            ),
            None,
        ),
        (
            p(
                code="happy-hour-hats",
                name="Happy hour: hats 15 % off",
                kind="item_percent",
                target=cats("hats"),
                percent=Decimal(15),
                hours=weekday_evenings,
            ),
            None,
        ),
        (
            p(
                code="spend-and-save",
                name="Spend $200 save $20, $400 save $50",
                kind="spend_tiers",
                stacking="order",
                currency="USD",
                tiers=(Tier(20_000, amount=2_000), Tier(40_000, amount=5_000)),
            ),
            None,
        ),
        (
            p(
                code="amsterdam-free-tote",
                name="Free canvas tote over EUR 150",
                kind="free_gift",
                stacking="order",
                currency="EUR",
                min_spend=15_000,
                gift_variant_id=tote_id,
            ),
            None,
        ),
        (
            p(
                code="welcome10",
                name="Welcome: 10 % off your first order",
                kind="order_percent",
                stacking="order",
                percent=Decimal(10),
                requires_coupon=True,
                per_customer_limit=1,
            ),
            promotions.CouponRequest(code="WELCOME10", single_use=False),
        ),
        (
            p(
                code="vip-25",
                name="VIP: 25 % off everything",
                kind="item_percent",
                stacking="exclusive",
                percent=Decimal(25),
                requires_coupon=True,
            ),
            promotions.CouponRequest(count=20, prefix="VIP"),
        ),
    ]
