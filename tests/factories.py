"""Builders for test data. They write through models directly so any test can set up state
without depending on the feature under test; assertions go through services and the API."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from omnitill.adapters.db.models import (
    Coupon,
    Customer,
    Location,
    PriceList,
    PriceListEntry,
    Product,
    Promotion,
    Register,
    StockLevel,
    StockMovement,
    TaxComponent,
    TaxJurisdiction,
    Variant,
)
from omnitill.config import Settings
from omnitill.domain.catalog.gtin import gtin_check_digit
from omnitill.services import auth, versions
from omnitill.services.database import Database

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def gtin13(n: int) -> str:
    data = f"200{n:09d}"
    return data + str(gtin_check_digit(data))


def make_location(
    db: Database,
    code: str = "S01",
    *,
    kind: str = "store",
    tax_rate: str = "0.08875",
    currency: str = "USD",
    inclusive: bool = False,
    **extra: Any,
) -> Location:
    with db.uow() as uow:
        loc = Location(
            code=code,
            name=f"Store {code}",
            kind=kind,
            currency=currency,
            tax_rate=Decimal(tax_rate),
            prices_include_tax=inclusive,
            timezone=extra.pop("timezone", "America/New_York"),
            **extra,
        )
        uow.session.add(loc)
        uow.commit()
        return loc


def make_register(db: Database, location: Location, code: str | None = None) -> Register:
    with db.uow() as uow:
        reg = Register(code=code or f"{location.code}-R1", location_id=location.id, name="Till")
        uow.session.add(reg)
        uow.commit()
        return reg


def make_variant(
    db: Database,
    *,
    sku: str | None = None,
    price: int = 1000,
    barcode: str | None = None,
    status: str = "active",
    currency: str = "USD",
    stock: dict[Location, int] | None = None,
    tracking: str = "none",
    unit: str = "each",
) -> Variant:
    n = next(_seq)
    sku = sku or f"SKU-{n:05d}"
    with db.uow() as uow:
        product = Product(name=f"Product {sku}", status=status)
        uow.session.add(product)
        uow.session.flush()
        variant = Variant(
            product_id=product.id,
            sku=sku,
            barcode=barcode or gtin13(n),
            name=f"Product {sku}",
            price_minor=price,
            currency=currency,
            status=status,
            search_text=f"product {sku}".lower(),
            tracking=tracking,
            unit=unit,
        )
        uow.session.add(variant)
        uow.session.flush()
        for loc, qty in (stock or {}).items():
            uow.session.add(StockLevel(variant_id=variant.id, location_id=loc.id, on_hand=qty))
            uow.session.add(
                StockMovement(
                    variant_id=variant.id,
                    location_id=loc.id,
                    quantity=qty,
                    kind="receive",
                    reason="test setup",
                )
            )
        uow.commit()
        return variant


def make_user(db: Database, username: str, role: str, locations: list[str] | None = None) -> None:
    auth.create_user(
        db=db, username=username, password=PASSWORD, role=role, location_codes=locations or []
    )


def token_for(
    db: Database, settings: Settings, username: str, role: str, locations: list[str] | None = None
) -> dict[str, str]:
    """Create the user and return an Authorization header for them."""
    make_user(db, username, role, locations)
    issued = auth.login(db=db, settings=settings, username=username, password=PASSWORD)
    return {"Authorization": f"Bearer {issued.access_token}"}


# --- pricing, tax and promotions ---------------------------------------------------------


def make_customer(
    db: Database, *, groups: list[str] | None = None, certificate: str | None = None
) -> Customer:
    with db.uow() as uow:
        customer = Customer(
            first_name="Ada", groups=groups or [], tax_exempt_certificate=certificate
        )
        uow.session.add(customer)
        uow.commit()
        return customer


def make_price_list(
    db: Database,
    name: str = "Retail EUR",
    *,
    currency: str = "EUR",
    prices: dict[Variant, int] | None = None,
    **extra: Any,
) -> PriceList:
    """A price list with one entry per variant in `prices` (minor units)."""
    with db.uow() as uow:
        price_list = PriceList(name=name, currency=currency, **extra)
        uow.session.add(price_list)
        uow.session.flush()
        for variant, price in (prices or {}).items():
            uow.session.add(
                PriceListEntry(
                    price_list_id=price_list.id, variant_id=variant.id, unit_price_minor=price
                )
            )
        versions.touch(uow, versions.PRICING)  # as the services do
        uow.commit()
        return price_list


def make_jurisdiction(
    db: Database,
    code: str = "US-NY",
    *,
    country: str = "US",
    region: str = "",
    postal_prefixes: list[str] | None = None,
    rates: dict[str, str] | None = None,
    locations: list[Location] | None = None,
) -> TaxJurisdiction:
    """A jurisdiction with one component charging `rates` (tax class -> fraction string)."""
    with db.uow() as uow:
        row = TaxJurisdiction(
            code=code,
            name=code,
            country=country,
            region=region,
            postal_prefixes=postal_prefixes or [],
        )
        uow.session.add(row)
        uow.session.flush()
        uow.session.add(
            TaxComponent(
                jurisdiction_id=row.id,
                code="TAX",
                name=f"{code} tax",
                rates=rates or {"standard": "0.04"},
            )
        )
        for location in locations or []:
            uow.session.get_one(Location, location.id).tax_jurisdiction_id = row.id
        versions.touch(uow, versions.PRICING)  # as the services do
        uow.commit()
        return row


def make_promotion(
    db: Database,
    code: str | None = None,
    *,
    kind: str = "item_percent",
    percent: str | None = "10",
    requires_coupon: bool = False,
    **extra: Any,
) -> Promotion:
    """A promotion on all items (the catalog stamp moves, as every promotion write does)."""
    from omnitill.services.promotions import touch_catalog

    with db.uow() as uow:
        promotion = Promotion(
            code=code or f"promo-{next(_seq)}",
            name=code or "Promotion",
            kind=kind,
            stacking=extra.pop("stacking", "product"),
            definition={"target": {"all_items": True}, "percent": percent, **extra.pop("rule", {})},
            requires_coupon=requires_coupon,
            **extra,
        )
        uow.session.add(promotion)
        uow.session.flush()
        touch_catalog(uow)
        uow.commit()
        return promotion


def make_coupon(
    db: Database,
    promotion: Promotion,
    code: str,
    *,
    single_use: bool = True,
    usage_limit: int | None = None,
) -> Coupon:
    with db.uow() as uow:
        coupon = Coupon(
            code=code, promotion_id=promotion.id, single_use=single_use, usage_limit=usage_limit
        )
        uow.session.add(coupon)
        uow.commit()
        return coupon


def set_tax_class(db: Database, variant: Variant, tax_class: str) -> None:
    """Put the variant's product in `tax_class` (clothing, reduced, ...)."""
    with db.uow() as uow:
        uow.session.get_one(Product, variant.product_id).tax_class = tax_class
        uow.commit()
