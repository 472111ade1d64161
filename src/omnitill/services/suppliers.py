"""Suppliers and what each one sells (supplier items: code, pack size, pack cost).

Writes need `purchasing.write` and land in the audit trail; reads need `stock.read`.
Suppliers are addressed by their code (`ACME`). A variant has at most one preferred
supplier: marking an item preferred clears the flag on the variant's other suppliers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Supplier, SupplierItem, Variant
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.validation import raise_invalid
from omnitill.domain.errors import FieldError, NotFound, ValidationFailed
from omnitill.domain.inventory.purchasing import (
    SupplierFields,
    SupplierItemFields,
    check_supplier,
    check_supplier_items,
    unit_cost_from_pack,
)
from omnitill.services import audit
from omnitill.services.pagination import clamp_limit, cursor_value, encode_cursor
from omnitill.services.references import LineRef, resolve_lines
from omnitill.services.retries import run_retrying
from omnitill.services.uniqueness import flush_unique, taken


@dataclass(frozen=True, slots=True)
class SupplierInput:
    code: str
    name: str
    currency: str
    email: str | None = None
    phone: str | None = None
    lead_time_days: int = 7
    active: bool = True


@dataclass(frozen=True, slots=True)
class SupplierChanges:
    """A partial update: None leaves a field alone; `clear` names fields to null (email,
    phone). The code is fixed: purchase orders and imports address the supplier by it."""

    name: str | None = None
    currency: str | None = None
    email: str | None = None
    phone: str | None = None
    lead_time_days: int | None = None
    active: bool | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SupplierView:
    code: str
    name: str
    currency: str
    email: str | None
    phone: str | None
    lead_time_days: int
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SupplierItemView:
    sku: str
    name: str
    unit: str
    supplier_sku: str | None
    pack_size: int
    pack_cost: int | None
    unit_cost: int | None  # pack cost / pack size, rounded half-up
    min_order_packs: int
    preferred: bool
    currency: str
    updated_at: datetime


def _view(s: Supplier) -> SupplierView:
    return SupplierView(
        s.code,
        s.name,
        s.currency,
        s.email,
        s.phone,
        s.lead_time_days,
        s.active,
        s.created_at,
        s.updated_at,
    )


def _clean(data: SupplierInput) -> SupplierInput:
    email = data.email.strip().lower() if data.email is not None else None
    phone = data.phone.strip() if data.phone is not None else None
    return replace(
        data,
        code=data.code.strip(),
        name=data.name.strip(),
        currency=data.currency.strip().upper(),
        email=email or None,
        phone=phone or None,
    )


def _check(data: SupplierInput) -> None:
    raise_invalid(
        check_supplier(
            SupplierFields(
                data.code, data.name, data.currency, data.email, data.phone, data.lead_time_days
            )
        )
    )


def supplier_by_code(uow: UnitOfWork, code: str, *, field: str | None = None) -> Supplier:
    """The supplier with `code`: 404 `supplier.not_found` when addressed by path, or 422
    naming `field` when a request body names it."""
    found = uow.session.scalars(select(Supplier).where(Supplier.code == code)).one_or_none()
    if found is not None:
        return found
    message = f"no supplier with code {code!r}"
    if field is None:
        raise NotFound("supplier.not_found", message, {"supplier": code})
    raise ValidationFailed(
        "supplier.not_found",
        message,
        {"supplier": code},
        errors=[FieldError(field, "supplier.not_found", message)],
    )


def create_supplier(*, db: Database, actor: Actor, data: SupplierInput) -> SupplierView:
    """Add a supplier; 409 `supplier.code_taken` when the code is in use."""
    actor.require(Permission.PURCHASING_WRITE)
    data = _clean(data)
    _check(data)
    clash = taken("supplier.code_taken", "code", f"supplier code {data.code!r} is taken")
    with db.uow() as uow:
        if uow.session.scalar(select(Supplier.id).where(Supplier.code == data.code)):
            raise clash
        supplier = Supplier(**{f.name: getattr(data, f.name) for f in fields(data)})
        uow.session.add(supplier)
        flush_unique(uow, {"suppliers.code": clash})
        audit.record(
            uow,
            action="supplier.created",
            actor=actor,
            subject_type="supplier",
            subject_id=data.code,
            details={"name": data.name, "currency": data.currency},
        )
        uow.commit()
        return _view(supplier)


def list_suppliers(
    *,
    db: Database,
    actor: Actor,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[SupplierView], str | None]:
    """Suppliers in code order, one page; `active` filters on the flag."""
    actor.require(Permission.STOCK_READ)
    size = clamp_limit(limit)
    after = cursor_value(cursor, "code")
    stmt = select(Supplier).order_by(Supplier.code).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Supplier.code > after)
    if active is not None:
        stmt = stmt.where(Supplier.active.is_(active))
    with db.uow(write=False) as uow:
        rows = list(uow.session.scalars(stmt))
    more = len(rows) > size
    items = [_view(s) for s in rows[:size]]
    return items, encode_cursor({"code": items[-1].code}) if more else None


def get_supplier(*, db: Database, actor: Actor, code: str) -> SupplierView:
    """One supplier; 404 `supplier.not_found`."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        return _view(supplier_by_code(uow, code))


def update_supplier(
    *, db: Database, actor: Actor, code: str, changes: SupplierChanges
) -> SupplierView:
    """Change a supplier's fields. A new currency applies to purchase orders created from
    then on; existing orders keep the currency they were placed in."""
    actor.require(Permission.PURCHASING_WRITE)
    raise_invalid(
        [
            FieldError(name, "supplier.not_nullable", "cannot be null")
            for name in sorted(changes.clear - {"email", "phone"})
        ]
    )
    given = sorted(
        f.name
        for f in fields(changes)
        if f.name != "clear" and getattr(changes, f.name) is not None
    )

    def once() -> SupplierView:
        with db.uow() as uow:
            supplier = supplier_by_code(uow, code)
            merged = _merged(supplier, changes)
            _check(merged)
            for name in [*given, *changes.clear]:
                setattr(supplier, name, getattr(merged, name))
            supplier.updated_at = utcnow()
            audit.record(
                uow,
                action="supplier.updated",
                actor=actor,
                subject_type="supplier",
                subject_id=code,
                details={"fields": sorted({*given, *changes.clear})},
            )
            uow.commit()
            return _view(supplier)

    return run_retrying(once)


def _merged(supplier: Supplier, changes: SupplierChanges) -> SupplierInput:
    values: dict[str, object] = {}
    for f in fields(SupplierInput):
        new = getattr(changes, f.name, None)
        if f.name in changes.clear:
            values[f.name] = None
        else:
            values[f.name] = getattr(supplier, f.name) if new is None else new
    return _clean(SupplierInput(**values))  # type: ignore[arg-type]


def put_items(
    *, db: Database, actor: Actor, code: str, items: list[SupplierItemFields]
) -> list[SupplierItemView]:
    """Add or replace the supplier's items named by SKU; items not in the list are kept.

    422 lists every unknown SKU and bad field (`items.N.field`); nothing is written then.
    """
    actor.require(Permission.PURCHASING_WRITE)
    raise_invalid(check_supplier_items(items))
    if not items:
        raise ValidationFailed(
            "purchasing.no_lines",
            "give at least one item",
            errors=[FieldError("items", "purchasing.no_lines", "at least one item")],
        )

    def once() -> list[SupplierItemView]:
        with db.uow() as uow:
            supplier = supplier_by_code(uow, code)
            refs = resolve_lines(uow, [LineRef(i.sku, None) for i in items], prefix="items")
            now = utcnow()
            # Variant id order: two lists naming the same variants lock their rows alike.
            for ref, item in sorted(zip(refs, items, strict=True), key=lambda p: p[0].id):
                row = uow.session.get(SupplierItem, (supplier.id, ref.id), with_for_update=True)
                if row is None:
                    row = SupplierItem(supplier_id=supplier.id, variant_id=ref.id)
                    uow.session.add(row)
                row.supplier_sku = item.supplier_sku
                row.pack_size = item.pack_size
                row.pack_cost_minor = item.pack_cost
                row.min_order_packs = item.min_order_packs
                row.preferred = item.preferred
                row.updated_at = now
                if item.preferred:
                    _clear_other_preferred(uow, variant_id=ref.id, supplier_id=supplier.id)
            uow.session.flush()
            audit.record(
                uow,
                action="supplier.items_updated",
                actor=actor,
                subject_type="supplier",
                subject_id=code,
                details={
                    "items": [
                        {
                            "sku": i.sku,
                            "pack_size": i.pack_size,
                            "pack_cost": i.pack_cost,
                            "preferred": i.preferred,
                        }
                        for i in items
                    ]
                },
            )
            views = _item_views(uow, supplier, [r.id for r in refs])
            uow.commit()
            order = {r.id: n for n, r in enumerate(refs)}
            return [v for _, v in sorted(views, key=lambda p: order[p[0]])]

    try:
        return run_retrying(once)
    except IntegrityError:
        # Another request added one of these items first; rerun as an update of it.
        return run_retrying(once)


def _clear_other_preferred(
    uow: UnitOfWork, *, variant_id: uuid.UUID, supplier_id: uuid.UUID
) -> None:
    uow.session.execute(
        update(SupplierItem)
        .where(
            SupplierItem.variant_id == variant_id,
            SupplierItem.supplier_id != supplier_id,
            SupplierItem.preferred.is_(True),
        )
        .values(preferred=False, updated_at=utcnow())
    )


def list_items(
    *,
    db: Database,
    actor: Actor,
    code: str,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[SupplierItemView], str | None]:
    """The supplier's items in SKU order, one page; 404 `supplier.not_found`."""
    actor.require(Permission.STOCK_READ)
    size = clamp_limit(limit)
    after = cursor_value(cursor, "sku")
    with db.uow(write=False) as uow:
        supplier = supplier_by_code(uow, code)
        stmt = (
            select(SupplierItem, Variant)
            .join(Variant, Variant.id == SupplierItem.variant_id)
            .where(SupplierItem.supplier_id == supplier.id)
            .order_by(Variant.sku)
            .limit(size + 1)
        )
        if after is not None:
            stmt = stmt.where(Variant.sku > after)
        rows = uow.session.execute(stmt).all()
        items = [_item_view(item, variant, supplier.currency) for item, variant in rows[:size]]
    more = len(rows) > size
    return items, encode_cursor({"sku": items[-1].sku}) if more else None


def _item_views(
    uow: UnitOfWork, supplier: Supplier, variant_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, SupplierItemView]]:
    rows = uow.session.execute(
        select(SupplierItem, Variant)
        .join(Variant, Variant.id == SupplierItem.variant_id)
        .where(SupplierItem.supplier_id == supplier.id, SupplierItem.variant_id.in_(variant_ids))
    ).all()
    return [(v.id, _item_view(item, v, supplier.currency)) for item, v in rows]


def _item_view(item: SupplierItem, variant: Variant, currency: str) -> SupplierItemView:
    unit_cost = (
        None
        if item.pack_cost_minor is None
        else unit_cost_from_pack(pack_cost=item.pack_cost_minor, pack_size=item.pack_size)
    )
    return SupplierItemView(
        sku=variant.sku,
        name=variant.name,
        unit=variant.unit,
        supplier_sku=item.supplier_sku,
        pack_size=item.pack_size,
        pack_cost=item.pack_cost_minor,
        unit_cost=unit_cost,
        min_order_packs=item.min_order_packs,
        preferred=item.preferred,
        currency=currency,
        updated_at=item.updated_at,
    )
