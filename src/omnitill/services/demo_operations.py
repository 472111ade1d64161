"""The demo retailer at work: open shifts, a supplier with an order on its way, reorder points.

Seeded after the catalog, stock and staff, through the same services as the API (as the demo
admin), and only what is missing: a register with an unclosed shift keeps it, an existing
supplier is left alone (and so is its order), a level keeps settings already set.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import (
    Location,
    Register,
    Shift,
    StockLevel,
    Supplier,
    User,
    Variant,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Role
from omnitill.domain.inventory.purchasing import OrderLineRequest, SupplierItemFields
from omnitill.services import purchasing, replenishment, shifts, suppliers
from omnitill.services.demo_catalog import variants

# The opening float of each demo register, by denomination (minor units -> pieces).
FLOATS: dict[str, dict[int, int]] = {
    "USD": {2000: 4, 1000: 5, 500: 10, 100: 20, 25: 40, 10: 50, 5: 40, 1: 50},  # 217.50
    "EUR": {2000: 4, 1000: 5, 500: 10, 200: 10, 100: 20, 50: 20, 20: 25, 10: 30},  # 238.00
}
SUPPLIER = suppliers.SupplierInput(
    code="NWT",
    name="Northwind Textiles",
    currency="USD",
    email="orders@northwind.example",
    lead_time_days=10,
)
# Shirts and tees come from Northwind in packs; the demo warehouse has an order on its way.
SUPPLIED = ("NW-OXF-", "NW-TEE-")
ORDERED = ("NW-OXF-NVY-M", "NW-OXF-NVY-L", "NW-TEE-WHT-M", "NW-TEE-WHT-L")
REORDER_AT_S01 = {"reorder_point": 8, "max_level": 16}


@dataclass(frozen=True, slots=True)
class OperationsResult:
    shifts: int = 0
    suppliers: int = 0
    purchase_orders: int = 0
    reorder_settings: int = 0


def seed_operations(*, db: Database) -> OperationsResult:
    actor = _admin(db)
    if actor is None:  # the staff were not seeded (cannot happen through `seed`)
        return OperationsResult()
    opened = _open_shifts(db, actor)
    made_supplier, made_order = _supplier_and_order(db, actor)
    reorder = _reorder_points(db, actor)
    return OperationsResult(opened, made_supplier, made_order, reorder)


def _admin(db: Database) -> Actor | None:
    with db.uow(write=False) as uow:
        user_id = uow.session.scalar(select(User.id).where(User.username == "admin"))
    if user_id is None:
        return None
    return Actor.build(
        user_id=user_id, username="admin", role=Role.ADMIN, bound_locations=frozenset()
    )


def _open_shifts(db: Database, actor: Actor) -> int:
    """A shift on each demo register, so cash sales work where a store manages cash."""
    with db.uow(write=False) as uow:
        rows = uow.session.execute(select(Register.code, Register.id).order_by(Register.code)).all()
        busy = set(uow.session.scalars(select(Shift.register_id).where(Shift.status != "closed")))
    opened = 0
    for code, register_id in rows:
        if register_id in busy:
            continue
        currency = "EUR" if code.startswith("S02") else "USD"
        shifts.open_shift(db=db, actor=actor, register=code, denominations=FLOATS[currency])
        opened += 1
    return opened


def _supplier_and_order(db: Database, actor: Actor) -> tuple[int, int]:
    with db.uow(write=False) as uow:
        if uow.session.scalar(select(Supplier.id).where(Supplier.code == SUPPLIER.code)):
            return 0, 0
    suppliers.create_supplier(db=db, actor=actor, data=SUPPLIER)
    items = [
        SupplierItemFields(
            sku=v.sku,
            supplier_sku=f"NWT-{v.sku[3:]}",
            pack_size=6 if v.sku.startswith("NW-OXF-") else 12,
            pack_cost=(6 if v.sku.startswith("NW-OXF-") else 12) * v.cost,
            preferred=True,
        )
        for v in variants()
        if v.sku.startswith(SUPPLIED)
    ]
    suppliers.put_items(db=db, actor=actor, code=SUPPLIER.code, items=items)
    order = purchasing.create_order(
        db=db,
        actor=actor,
        data=purchasing.PurchaseOrderInput(
            supplier=SUPPLIER.code,
            location="W01",
            lines=tuple(OrderLineRequest(sku=sku, packs=2) for sku in ORDERED),
            notes="spring restock",
        ),
    )
    purchasing.send_order(db=db, actor=actor, number=order.number)
    return 1, 1


def _reorder_points(db: Database, actor: Actor) -> int:
    """Reorder points on the shirts at S01, so replenishment has something to suggest."""
    with db.uow(write=False) as uow:
        unset = list(
            uow.session.scalars(
                select(Variant.sku)
                .join(StockLevel, StockLevel.variant_id == Variant.id)
                .join(Location, Location.id == StockLevel.location_id)
                .where(
                    Variant.sku.like("NW-OXF-%"),
                    Location.code == "S01",
                    StockLevel.reorder_point.is_(None),
                )
                .distinct()
                .order_by(Variant.sku)
            )
        )
    if not unset:
        return 0
    replenishment.set_reorder_settings(
        db=db,
        actor=actor,
        items=[
            replenishment.ReorderSettingInput(sku=sku, location="S01", changes=REORDER_AT_S01)
            for sku in unset
        ],
        batch=True,
    )
    return len(unset)
