"""Seed the demo retailer (`omnitill demo`), idempotently.

Every record is looked up by its natural key first (location and register code, category slug,
brand name, SKU, customer email, username) and created only when missing; nothing that exists is
changed. A stock level is opened only where none exists, as a ``receive`` movement plus the
level it projects, so a second run never undoes the sales made since the first. Staff are
created through `auth.create_user`, so their passwords are hashed and their creation audited.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass, fields

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Brand,
    Category,
    Customer,
    Location,
    Product,
    Register,
    StockLevel,
    StockMovement,
    User,
    Variant,
)
from omnitill.domain.catalog.products import search_text
from omnitill.domain.errors import Conflict
from omnitill.services import audit, auth
from omnitill.services.demo_catalog import (
    BRANDS,
    CATEGORIES,
    CURRENCY,
    CUSTOMERS,
    DEMO_PASSWORD,
    LOCATIONS,
    PRODUCTS,
    REGISTERS,
    STAFF,
    DemoStaff,
    variants,
)
from omnitill.services.demo_operations import seed_operations
from omnitill.services.demo_pricing import seed_pricing

__all__ = ["DEMO_PASSWORD", "STAFF", "DemoResult", "DemoStaff", "opening_stock", "seed"]

ACTOR = "system:demo"


@dataclass(frozen=True, slots=True)
class DemoResult:
    """How many records of each kind this run created (all zero on a second run)."""

    locations: int = 0
    registers: int = 0
    categories: int = 0
    brands: int = 0
    products: int = 0
    variants: int = 0
    stock_levels: int = 0
    customers: int = 0
    users: int = 0
    tax_classes: int = 0
    jurisdictions: int = 0
    price_lists: int = 0
    exchange_rates: int = 0
    promotions: int = 0
    coupons: int = 0
    shifts: int = 0
    suppliers: int = 0
    purchase_orders: int = 0
    reorder_settings: int = 0

    @property
    def created_anything(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


def opening_stock(sku: str, *, location_code: str, warehouse: bool) -> int:
    """The demo's opening quantity of `sku` at a location: fixed, varied, never zero.

    Stores hold a few of each (4 to 16), the warehouse a carton's worth (24 to 120).
    """
    digest = hashlib.sha256(f"{sku}@{location_code}".encode()).digest()
    spread = int.from_bytes(digest[:4], "big")
    return 24 + spread % 97 if warehouse else 4 + spread % 13


def seed(*, db: Database) -> DemoResult:
    """Create whatever of the demo retailer is missing; safe to run any number of times."""
    with db.uow() as uow:
        counts = {
            "locations": _seed_locations(uow),
            "registers": _seed_registers(uow),
            "categories": _seed_categories(uow),
            "brands": _seed_brands(uow),
        }
        counts["products"], counts["variants"] = _seed_catalog(uow)
        counts["stock_levels"] = _seed_stock(uow)
        counts["customers"] = _seed_customers(uow)
        if any(counts.values()):
            audit.record(
                uow,
                action="demo.seeded",
                actor=ACTOR,
                subject_type="demo",
                subject_id=None,
                details={"created": counts},
            )
        uow.commit()
    users = sum(1 for staff in STAFF if _create_staff(db, staff))
    pricing = asdict(seed_pricing(db=db))
    operations = asdict(seed_operations(db=db))
    return DemoResult(**counts, users=users, **pricing, **operations)


def _seed_locations(uow: UnitOfWork) -> int:
    existing = set(uow.session.scalars(select(Location.code)).all())
    created = 0
    for loc in LOCATIONS:
        if loc.code in existing:
            continue
        uow.session.add(
            Location(
                code=loc.code,
                name=loc.name,
                kind=loc.kind,
                address_line1=loc.address_line1,
                city=loc.city,
                region=loc.region,
                postal_code=loc.postal_code,
                country=loc.country,
                timezone=loc.timezone,
                latitude=loc.latitude,
                longitude=loc.longitude,
                currency=loc.currency,
                tax_rate=loc.tax_rate,
                prices_include_tax=loc.prices_include_tax,
                sells_in_store=loc.sells_in_store,
                ships=loc.ships,
                offers_pickup=loc.offers_pickup,
                offers_curbside=loc.offers_curbside,
                local_delivery_radius_km=loc.local_delivery_radius_km,
                accepts_returns=loc.accepts_returns,
            )
        )
        created += 1
    uow.session.flush()
    return created


def _location_ids(uow: UnitOfWork) -> dict[str, uuid.UUID]:
    codes = [loc.code for loc in LOCATIONS]
    rows = uow.session.execute(select(Location.code, Location.id).where(Location.code.in_(codes)))
    return {code: location_id for code, location_id in rows}


def _seed_registers(uow: UnitOfWork) -> int:
    existing = set(uow.session.scalars(select(Register.code)).all())
    location_ids = _location_ids(uow)
    created = 0
    for reg in REGISTERS:
        if reg.code not in existing:
            uow.session.add(
                Register(code=reg.code, location_id=location_ids[reg.location], name=reg.name)
            )
            created += 1
    uow.session.flush()
    return created


def _category_ids(uow: UnitOfWork) -> dict[str, uuid.UUID]:
    rows = uow.session.execute(select(Category.slug, Category.id))
    return {slug: category_id for slug, category_id in rows}


def _seed_categories(uow: UnitOfWork) -> int:
    by_slug = _category_ids(uow)
    created = 0
    for cat in CATEGORIES:  # parents come before their children
        if cat.slug in by_slug:
            continue
        row = Category(
            name=cat.name,
            slug=cat.slug,
            parent_id=by_slug[cat.parent] if cat.parent else None,
        )
        uow.session.add(row)
        uow.session.flush()
        by_slug[cat.slug] = row.id
        created += 1
    return created


def _seed_brands(uow: UnitOfWork) -> int:
    existing = set(uow.session.scalars(select(Brand.name)).all())
    missing = [name for name in BRANDS if name not in existing]
    uow.session.add_all(Brand(name=name) for name in missing)
    uow.session.flush()
    return len(missing)


def _seed_catalog(uow: UnitOfWork) -> tuple[int, int]:
    """Products and variants missing by SKU; a product is reused if any of its SKUs exists."""
    demo_variants = list(variants())
    stored = {
        sku: product_id
        for sku, product_id in uow.session.execute(
            select(Variant.sku, Variant.product_id).where(
                Variant.sku.in_([v.sku for v in demo_variants])
            )
        )
    }
    categories = _category_ids(uow)
    brands = {
        name: brand_id for name, brand_id in uow.session.execute(select(Brand.name, Brand.id))
    }
    product_ids: dict[str, uuid.UUID] = {}
    for v in demo_variants:
        if v.sku in stored:
            product_ids.setdefault(v.product_code, stored[v.sku])
    products_created = variants_created = 0
    for product in PRODUCTS:
        if product.code in product_ids:
            continue
        row = Product(
            name=product.name,
            description=product.description,
            category_id=categories[product.category],
            brand_id=brands[product.brand],
            tax_class=product.tax_class,
            options=["size", "colour"] if product.sizes else ["colour"],
        )
        uow.session.add(row)
        uow.session.flush()
        product_ids[product.code] = row.id
        products_created += 1
    names = {p.code: p.name for p in PRODUCTS}
    for v in demo_variants:
        if v.sku in stored:
            continue
        uow.session.add(
            Variant(
                product_id=product_ids[v.product_code],
                sku=v.sku,
                barcode=v.barcode,
                name=v.name,
                option_values=dict(v.option_values),
                price_minor=v.price,
                compare_at_minor=v.compare_at,
                cost_minor=v.cost,
                currency=CURRENCY,
                search_text=search_text(
                    product_name=names[v.product_code],
                    variant_name=v.name,
                    sku=v.sku,
                    barcode=v.barcode,
                    option_values=v.option_values,
                ),
            )
        )
        variants_created += 1
    uow.session.flush()
    return products_created, variants_created


def _seed_stock(uow: UnitOfWork) -> int:
    """Open a level for every active variant at every demo location that has none yet."""
    locations = {loc.code: loc for loc in LOCATIONS}
    location_ids = _location_ids(uow)
    active = uow.session.execute(
        select(Variant.id, Variant.sku).where(Variant.status == "active").order_by(Variant.sku)
    ).all()
    stocked = {
        (variant_id, location_id)
        for variant_id, location_id in uow.session.execute(
            select(StockLevel.variant_id, StockLevel.location_id).where(
                StockLevel.location_id.in_(location_ids.values())
            )
        )
    }
    created = 0
    for variant_id, sku in active:
        for code, location_id in sorted(location_ids.items()):
            if (variant_id, location_id) in stocked:
                continue
            qty = opening_stock(
                sku, location_code=code, warehouse=locations[code].kind == "warehouse"
            )
            uow.session.add(
                StockMovement(
                    variant_id=variant_id,
                    location_id=location_id,
                    bucket="on_hand",
                    quantity=qty,
                    kind="receive",
                    reason="demo opening stock",
                    reference_type="demo",
                )
            )
            uow.session.add(StockLevel(variant_id=variant_id, location_id=location_id, on_hand=qty))
            created += 1
    uow.session.flush()
    return created


def _seed_customers(uow: UnitOfWork) -> int:
    emails = [c.email for c in CUSTOMERS]
    existing = set(uow.session.scalars(select(Customer.email).where(Customer.email.in_(emails))))
    missing = [c for c in CUSTOMERS if c.email not in existing]
    uow.session.add_all(
        Customer(first_name=c.first_name, last_name=c.last_name, email=c.email, phone=c.phone)
        for c in missing
    )
    uow.session.flush()
    return len(missing)


def _create_staff(db: Database, staff: DemoStaff) -> bool:
    """Create one demo login unless the username exists; True when it was created."""
    with db.uow(write=False) as uow:
        exists = uow.session.scalar(select(User.id).where(User.username == staff.username))
    if exists is not None:
        return False
    try:
        auth.create_user(
            db=db,
            username=staff.username,
            password=DEMO_PASSWORD,
            role=staff.role,
            location_codes=list(staff.locations),
            display_name=staff.display_name,
            actor=ACTOR,
        )
    except Conflict as exc:  # another `omnitill demo` created it meanwhile
        if exc.code != "auth.username_taken":
            raise
        return False
    return True
