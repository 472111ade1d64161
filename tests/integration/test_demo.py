"""The demo retailer seeds what the README promises, on both databases, and only once."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from omnitill.adapters.db.models import (
    AuditEntry,
    Base,
    Coupon,
    Customer,
    Location,
    Product,
    Promotion,
    Register,
    Shift,
    StockLevel,
    StockMovement,
    User,
    UserLocation,
    Variant,
)
from omnitill.adapters.db.types import utcnow
from omnitill.config import Settings
from omnitill.domain.catalog.gtin import is_valid_gtin
from omnitill.services import audit, auth, demo, pricing, stock
from omnitill.services.database import Database
from omnitill.services.demo_catalog import DEMO_PASSWORD, PRODUCTS, STAFF, variants


def _rows(session: Session, stmt: Select[Any]) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in session.execute(stmt)}


def _snapshot(db: Database) -> dict[str, Any]:
    """Every table's row count and the content that the demo decides, without ids or times."""
    with db.uow(write=False) as uow:
        s = uow.session
        counts = {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.tables.values()
        }
        locations = {
            (loc.code, loc.kind, loc.name, loc.tax_rate, loc.sells_in_store, loc.ships)
            for loc in s.scalars(select(Location))
        }
        variant_rows = {
            (v.sku, v.barcode, v.name, v.price_minor, v.cost_minor, tuple(sorted(v.option_values)))
            for v in s.scalars(select(Variant))
        }
        levels = _rows(
            s,
            select(Variant.sku, Location.code, StockLevel.on_hand)
            .join(Variant, Variant.id == StockLevel.variant_id)
            .join(Location, Location.id == StockLevel.location_id),
        )
        users = _rows(s, select(User.username, User.role))
    return {
        "counts": counts,
        "locations": locations,
        "variants": variant_rows,
        "levels": levels,
        "users": users,
    }


def test_demo_seeds_the_stores_warehouse_and_registers(db: Database) -> None:
    demo.seed(db=db)
    with db.uow(write=False) as uow:
        locs = {loc.code: loc for loc in uow.session.scalars(select(Location))}
        registers = dict(
            _rows(
                uow.session,
                select(Register.code, Location.code).join(
                    Location, Location.id == Register.location_id
                ),
            )
        )
    assert set(locs) == {"S01", "S02", "W01"}
    s01, s02, w01 = locs["S01"], locs["S02"], locs["W01"]
    assert (s01.kind, s01.city, s01.timezone) == ("store", "New York", "America/New_York")
    assert s01.tax_rate == Decimal("0.08875")
    assert s01.prices_include_tax is False
    assert (s02.kind, s02.city, s02.country, s02.timezone) == (
        "store",
        "Amsterdam",
        "NL",
        "Europe/Amsterdam",
    )
    assert (s02.currency, s02.prices_include_tax) == ("EUR", True)
    assert (w01.kind, w01.ships, w01.sells_in_store) == ("warehouse", True, False)
    assert (s01.currency, w01.currency) == ("USD", "USD")
    assert registers == {"S01-R1": "S01", "S02-R1": "S02"}


def test_demo_catalog_has_about_two_hundred_real_looking_variants(db: Database) -> None:
    demo.seed(db=db)
    with db.uow(write=False) as uow:
        rows = uow.session.scalars(select(Variant)).all()
        products = uow.session.scalars(select(Product)).all()
    assert 180 <= len(rows) <= 250
    assert len(products) == len(PRODUCTS)
    assert all(p.category_id is not None and p.brand_id is not None for p in products)
    barcodes = [v.barcode for v in rows]
    assert all(b is not None and len(b) == 13 and is_valid_gtin(b) for b in barcodes)
    assert len(set(barcodes)) == len(rows)
    oxford = next(v for v in rows if v.sku == "NW-OXF-NVY-M")
    assert oxford.name == "Oxford Shirt — Navy / M"
    assert oxford.option_values == {"size": "M", "colour": "Navy"}
    assert "oxford" in oxford.search_text
    for v in rows:
        assert v.currency == "USD"
        assert v.cost_minor is not None
        assert 0 < v.cost_minor < v.price_minor
        assert "colour" in v.option_values


def test_demo_stocks_every_active_variant_everywhere_as_received_movements(db: Database) -> None:
    demo.seed(db=db)
    with db.uow(write=False) as uow:
        n_variants = uow.session.scalar(select(func.count()).select_from(Variant))
        levels = uow.session.scalars(select(StockLevel)).all()
        kinds = Counter(uow.session.scalars(select(StockMovement.kind)))
        buckets = set(uow.session.scalars(select(StockMovement.bucket)))
    assert len(levels) == 3 * n_variants
    assert all(level.on_hand > 0 for level in levels)
    # opening stock as receipts; the order on its way to W01 counts as incoming
    assert kinds == Counter({"receive": 3 * n_variants, "po_ordered": 4})
    assert buckets == {"on_hand", "incoming"}
    assert sum(level.incoming for level in levels) == 2 * 6 * 2 + 2 * 12 * 2
    assert stock.verify(db=db) == []


def test_demo_registers_have_an_open_shift_and_the_shop_has_a_supplier(db: Database) -> None:
    made = demo.seed(db=db)
    assert (made.shifts, made.suppliers, made.purchase_orders) == (2, 1, 1)
    assert made.reorder_settings == 12
    with db.uow(write=False) as uow:
        open_shifts = uow.session.scalars(select(Shift).where(Shift.status == "open")).all()
    assert len(open_shifts) == 2
    assert {s.float_minor for s in open_shifts} == {21750, 23800}
    again = demo.seed(db=db)
    assert (again.shifts, again.suppliers, again.purchase_orders, again.reorder_settings) == (
        0,
        0,
        0,
        0,
    )


def test_demo_staff_cover_every_role_and_sign_in_with_the_demo_password(
    db: Database, settings: Settings
) -> None:
    demo.seed(db=db)
    with db.uow(write=False) as uow:
        roles = dict(_rows(uow.session, select(User.username, User.role)))
        bindings = _rows(
            uow.session,
            select(User.username, Location.code)
            .join(UserLocation, UserLocation.user_id == User.id)
            .join(Location, Location.id == UserLocation.location_id),
        )
        created = uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "user.created")
        )
    assert roles == {
        "admin": "admin",
        "manager1": "manager",
        "cashier1": "cashier",
        "cashier2": "cashier",
        "inventory1": "inventory",
        "analyst1": "analyst",
    }
    assert {("manager1", "S01"), ("cashier1", "S01"), ("cashier2", "S02")} <= bindings
    assert created == len(STAFF)
    assert len(DEMO_PASSWORD) >= 12
    for username in roles:
        issued = auth.login(db=db, settings=settings, username=username, password=DEMO_PASSWORD)
        assert issued.access_token


def test_running_the_demo_twice_changes_nothing(db: Database) -> None:
    first = demo.seed(db=db)
    before = _snapshot(db)
    second = demo.seed(db=db)
    assert first.created_anything
    assert first.variants == len(list(variants()))
    assert not second.created_anything
    assert _snapshot(db) == before
    assert audit.verify(db=db) == []


def test_a_second_run_keeps_stock_sold_since_the_first(db: Database) -> None:
    demo.seed(db=db)
    with db.uow() as uow:
        level = uow.session.scalars(select(StockLevel).limit(1)).one()
        level.on_hand -= 1
        uow.session.add(
            StockMovement(
                variant_id=level.variant_id,
                location_id=level.location_id,
                quantity=-1,
                kind="sale",
            )
        )
        uow.commit()
        expected = level.on_hand
    demo.seed(db=db)
    with db.uow(write=False) as uow:
        again = uow.session.get(StockLevel, (level.variant_id, level.location_id))
    assert again is not None
    assert again.on_hand == expected
    assert stock.verify(db=db) == []


def test_the_demo_completes_a_partly_seeded_database(db: Database) -> None:
    demo.seed(db=db)
    with db.uow() as uow:
        gone = uow.session.scalars(select(User).where(User.username == "analyst1")).one()
        uow.session.delete(gone)
        uow.session.delete(uow.session.scalars(select(Customer).limit(1)).one())
        uow.commit()
    again = demo.seed(db=db)
    assert (again.users, again.customers, again.variants) == (1, 1, 0)
    assert audit.verify(db=db) == []


def test_the_demo_is_the_same_on_every_run_of_a_fresh_database() -> None:
    first, second = list(variants()), list(variants())
    assert first == second
    assert len({v.sku for v in first}) == len(first)
    assert demo.opening_stock("NW-TEE-WHT-M", location_code="W01", warehouse=True) == (
        demo.opening_stock("NW-TEE-WHT-M", location_code="W01", warehouse=True)
    )


def test_demo_prices_new_york_with_stacked_tax_and_amsterdam_with_vat_included(
    db: Database,
) -> None:
    demo.seed(db=db)
    sku = next(v.sku for v in variants() if v.product_code == "SUN")  # standard-rated
    shirt = next(v for v in variants() if v.product_code == "OXF")  # clothing under $110
    with db.uow(write=False) as uow:
        s01, s02 = (
            uow.session.scalars(select(Location).where(Location.code == code)).one()
            for code in ("S01", "S02")
        )
        places = [
            pricing.Place(
                loc.id,
                loc.code,
                loc.currency,
                loc.timezone,
                loc.tax_rate,
                loc.prices_include_tax,
                loc.tax_jurisdiction_id,
            )
            for loc in (s01, s02)
        ]
        lines = (pricing.CartLineRequest(sku, None, 1), pricing.CartLineRequest(shirt.sku, None, 1))
        ny = pricing.price_cart(
            uow, request=pricing.CartRequest(lines=lines), place=places[0], at=utcnow()
        ).cart
        ams = pricing.price_cart(
            uow, request=pricing.CartRequest(lines=lines), place=places[1], at=utcnow()
        ).cart
    # NYC: 128.00 sunglasses at 8.875 % = 11.36; the 69.00 shirt is clothing under $110: none
    assert [x.tax_total for x in ny.lines] == [1136, 0]
    assert {t.code for t in ny.taxes} == {"NYS", "NYC", "MCTD"}
    assert ny.total == 12800 + 6900 + 1136
    # Amsterdam: the euro list's shelf prices include 21 % VAT
    assert ams.currency == "EUR"
    assert [x.price_source.value for x in ams.lines] == ["price_list", "price_list"]
    assert ams.total == sum(x.subtotal for x in ams.lines) - ams.discount_total
    assert [t.code for t in ams.taxes] == ["NL-BTW"]


def test_demo_runs_live_promotions_and_coupons(db: Database) -> None:
    result = demo.seed(db=db)
    assert (result.promotions, result.coupons, result.jurisdictions) == (8, 21, 3)
    with db.uow(write=False) as uow:
        kinds = set(uow.session.scalars(select(Promotion.kind)))
        vip = uow.session.scalars(select(Coupon.code).where(Coupon.code.like("VIP-%"))).all()
    assert {"buy_x_get_y", "bundle", "spend_tiers", "free_gift", "order_percent"} <= kinds
    assert len(vip) == 20
