"""Builders for test data. They write through models directly so any test can set up state
without depending on the feature under test; assertions go through services and the API."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from omnitill.adapters.db.models import (
    Location,
    Product,
    Register,
    StockLevel,
    StockMovement,
    Variant,
)
from omnitill.config import Settings
from omnitill.domain.catalog.gtin import gtin_check_digit
from omnitill.services import auth
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
