"""Reorder settings per variant and location, and replenishment suggestions.

The rules live in domain/inventory/replenishment.py; this module loads the snapshots the
engine reads and writes the settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select, update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierItem,
    Variant,
)
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.repositories.stock import AVAILABLE
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.inventory.replenishment import (
    SETTINGS,
    STORE,
    WAREHOUSE,
    LevelSnapshot,
    ReorderSettings,
    ReplenishmentInput,
    Suggestion,
    SupplierOffer,
    check_days,
    setting_errors,
    suggest,
)
from omnitill.services import audit
from omnitill.services.auth import authorise
from omnitill.services.references import accessible_location
from omnitill.services.retries import run_retrying

MAX_SETTINGS = 1000
# Sales counted towards velocity: register sales, and reservations fulfilled (which book
# their on_hand movement as `sale`; `fulfil` is the reserved-bucket side, never on_hand).
SALE_KINDS = ("sale", "fulfil")
_CHUNK = 500
T = TypeVar("T")


# --- reorder settings ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReorderSettingInput:
    """One level's settings change: only the names in `changes` change (None clears
    reorder_point or max_level)."""

    sku: str
    location: str
    changes: Mapping[str, int | None]


@dataclass(frozen=True, slots=True)
class ReorderSettingResult:
    sku: str
    location: str
    settings: ReorderSettings
    previous: ReorderSettings


def set_reorder_settings(
    *,
    db: Database,
    actor: Actor,
    items: Sequence[ReorderSettingInput],
    batch: bool = False,
    override_token: str | None = None,
) -> list[ReorderSettingResult]:
    """Set reorder point, max level and safety stock of one or many levels, all or nothing.

    Creates a level that does not exist yet (settings need no stock). Needs `stock.adjust`
    (or a manager override) and is audited as one entry. 422 names each bad field, as
    `items.N.<field>` for a batch: `inventory.value_required`, `catalog.unknown_sku`,
    `location.not_found`, `inventory.invalid_quantity`, `inventory.max_below_reorder_point`
    (max_level below reorder_point once the change is applied), `inventory.duplicate_setting`;
    403
    `auth.location_forbidden` for a location outside the actor's stores.
    """
    prefixes = [f"items.{i}." if batch else "" for i in range(len(items))]
    _check_shape(items, prefixes, batch=batch)

    def once() -> list[ReorderSettingResult]:
        with db.uow() as uow:
            keys = _resolve(uow, actor, items, prefixes)
            authorisation = authorise(
                uow,
                actor=actor,
                permission=Permission.STOCK_ADJUST,
                override_token=override_token,
                used_for="stock.reorder_settings",
            )
            results = _write_settings(uow.connection, items, keys, prefixes)
            audit.record(
                uow,
                action="stock.reorder_settings_set",
                actor=actor,
                subject_type="stock_levels",
                subject_id=items[0].location if len({i.location for i in items}) == 1 else None,
                details={
                    "items": [
                        {
                            "sku": r.sku,
                            "location": r.location,
                            "from": _as_dict(r.previous),
                            "to": _as_dict(r.settings),
                        }
                        for r in results
                    ],
                    **authorisation.as_details(),
                },
            )
            uow.commit()
            return results

    return run_retrying(once)


def _check_shape(items: Sequence[ReorderSettingInput], prefixes: list[str], *, batch: bool) -> None:
    field = "items" if batch else "body"
    if not items:
        raise ValidationFailed(
            "inventory.no_settings",
            "give at least one setting",
            errors=[FieldError(field, "inventory.no_settings", "empty")],
        )
    if len(items) > MAX_SETTINGS:
        raise ValidationFailed(
            "inventory.too_many_settings",
            f"at most {MAX_SETTINGS} settings per request",
            errors=[FieldError("items", "inventory.too_many_settings", f"max {MAX_SETTINGS}")],
        )
    errors: list[FieldError] = []
    first: dict[tuple[str, str], int] = {}
    for i, (item, prefix) in enumerate(zip(items, prefixes, strict=True)):
        errors += [
            FieldError(f"{prefix}{name}", "inventory.value_required", "required")
            for name, value in (("sku", item.sku), ("location", item.location))
            if not value
        ]
        errors += setting_errors(item.changes, None, prefix=prefix)
        key = (item.sku, item.location)
        if key in first:
            errors.append(
                FieldError(
                    f"{prefix}sku",
                    "inventory.duplicate_setting",
                    f"{item.sku} at {item.location} is also item {first[key]}",
                )
            )
        first.setdefault(key, i)
    if errors:
        raise ValidationFailed(errors[0].code, "some settings are invalid", errors=errors)


def _resolve(
    uow: UnitOfWork,
    actor: Actor,
    items: Sequence[ReorderSettingInput],
    prefixes: list[str],
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(variant id, location id) of each item; 422 listing every unknown SKU and location."""
    variants = _variants_by_sku(uow.connection, {i.sku for i in items})
    locations = {
        loc.code: loc
        for loc in uow.session.scalars(
            select(Location).where(Location.code.in_({i.location for i in items}))
        )
    }
    errors: list[FieldError] = []
    for item, prefix in zip(items, prefixes, strict=True):
        if item.sku not in variants:
            errors.append(
                FieldError(f"{prefix}sku", "catalog.unknown_sku", f"no variant {item.sku!r}")
            )
        if item.location not in locations:
            errors.append(
                FieldError(
                    f"{prefix}location", "location.not_found", f"no location {item.location!r}"
                )
            )
    if errors:
        raise ValidationFailed(errors[0].code, "some settings name nothing known", errors=errors)
    for loc in locations.values():
        actor.require_location(loc.id, loc.code)
    return [(variants[i.sku].id, locations[i.location].id) for i in items]


def _variants_by_sku(conn: Connection, skus: Iterable[str]) -> dict[str, VariantRef]:
    found: dict[str, VariantRef] = {}
    for chunk in _chunks(sorted(set(skus))):
        found.update(catalog_repo.variant_refs(conn, skus=chunk)[0])
    return found


_L = StockLevel


def _write_settings(
    conn: Connection,
    items: Sequence[ReorderSettingInput],
    keys: list[tuple[uuid.UUID, uuid.UUID]],
    prefixes: list[str],
) -> list[ReorderSettingResult]:
    """Lock each level in (variant, location) order, check the settings that result, and
    write them; nothing is written unless every item is valid."""
    stock_repo.ensure_levels(conn, keys)
    order = sorted(range(len(items)), key=lambda i: keys[i])
    before: dict[int, ReorderSettings] = {}
    errors: list[FieldError] = []
    for i in order:
        variant_id, location_id = keys[i]
        row = conn.execute(
            select(_L.reorder_point, _L.max_level, _L.safety_stock)
            .where(_L.variant_id == variant_id, _L.location_id == location_id)
            .with_for_update()
        ).one()
        before[i] = ReorderSettings(row[0], row[1], int(row[2]))
        errors += setting_errors(
            items[i].changes, before[i].changed(items[i].changes), prefix=prefixes[i]
        )
    if errors:
        raise ValidationFailed(errors[0].code, "some settings are invalid", errors=errors)
    now = utcnow()
    results: dict[int, ReorderSettingResult] = {}
    for i in order:
        after = before[i].changed(items[i].changes)
        variant_id, location_id = keys[i]
        conn.execute(
            update(_L)
            .where(_L.variant_id == variant_id, _L.location_id == location_id)
            .values(
                reorder_point=after.reorder_point,
                max_level=after.max_level,
                safety_stock=after.safety_stock,
                updated_at=now,
            )
        )
        results[i] = ReorderSettingResult(items[i].sku, items[i].location, after, before[i])
    return [results[i] for i in range(len(items))]


def _as_dict(settings: ReorderSettings) -> dict[str, int | None]:
    return {name: getattr(settings, name) for name in SETTINGS}


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


# --- suggestions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestions:
    items: tuple[Suggestion, ...]
    days: int
    since: datetime  # start of the velocity window
    generated_at: datetime


def suggestions(
    *,
    db: Database,
    actor: Actor,
    location: str | None = None,
    sku: str | None = None,
    days: int = 28,
    now: datetime | None = None,
) -> Suggestions:
    """Transfers and purchases that bring each level at or below its reorder point back to
    target, with their reasoning (rules: domain/inventory/replenishment.py). Read-only.

    Lines are the actor's locations (or `location`), stores and warehouses, active variants;
    every active warehouse may be a transfer source. 422 `replenishment.invalid_days`,
    `location.not_found`; 403 `auth.location_forbidden`.
    """
    actor.require(Permission.STOCK_READ)
    check_days(days)
    now = now or utcnow()
    since = now - timedelta(days=days)
    with db.uow(write=False) as uow:
        lines = _lines(uow, actor, location=location, sku=sku)
        if not lines:
            return Suggestions((), days, since, now)
        variant_ids = sorted({vid for vid, _, _ in lines})
        sold = _sold(uow.connection, variant_ids, {lid for _, lid, _ in lines}, since)
        warehouses = _warehouse_levels(uow.connection, variant_ids)
        offers = _offers(uow.connection, variant_ids)
    data = ReplenishmentInput(
        levels=tuple(
            LevelSnapshot(
                sku=snap.sku,
                location=snap.location,
                location_kind=snap.location_kind,
                available=snap.available,
                incoming=snap.incoming,
                in_transit=snap.in_transit,
                reorder_point=snap.reorder_point,
                max_level=snap.max_level,
                sold=sold.get((vid, lid), 0),
            )
            for vid, lid, snap in lines
        ),
        warehouses=warehouses,
        offers=offers,
        days=days,
    )
    return Suggestions(suggest(data), days, since, now)


_SNAPSHOT_COLUMNS = (
    _L.variant_id,
    _L.location_id,
    Variant.sku,
    Location.code,
    Location.kind,
    AVAILABLE.label("available"),
    _L.incoming,
    _L.in_transit,
    _L.reorder_point,
    _L.max_level,
)


def _snapshot(row: Any) -> tuple[uuid.UUID, uuid.UUID, LevelSnapshot]:
    vid, lid, sku, code, kind, available, incoming, in_transit, rop, max_level = row
    return (
        vid,
        lid,
        LevelSnapshot(
            sku=sku,
            location=code,
            location_kind=kind,
            available=int(available),
            incoming=int(incoming),
            in_transit=int(in_transit),
            reorder_point=None if rop is None else int(rop),
            max_level=None if max_level is None else int(max_level),
        ),
    )


def _lines(
    uow: UnitOfWork, actor: Actor, *, location: str | None, sku: str | None
) -> list[tuple[uuid.UUID, uuid.UUID, LevelSnapshot]]:
    """Levels with a reorder point that projected stock has reached (the engine checks the
    same rule; filtering here keeps the snapshot small)."""
    stmt = (
        select(*_SNAPSHOT_COLUMNS)
        .join(Variant, Variant.id == _L.variant_id)
        .join(Location, Location.id == _L.location_id)
        .where(
            _L.reorder_point.is_not(None),
            AVAILABLE + _L.incoming + _L.in_transit <= _L.reorder_point,
            Location.active.is_(True),
            Location.kind.in_((STORE, WAREHOUSE)),
            Variant.status == "active",
        )
        .order_by(Variant.sku, Location.code)
    )
    if sku is not None:
        stmt = stmt.where(Variant.sku == sku)
    if location is not None:
        stmt = stmt.where(_L.location_id == accessible_location(uow, actor, location).id)
    elif actor.location_ids is not None:
        stmt = stmt.where(_L.location_id.in_(actor.location_ids))
    return [_snapshot(row) for row in uow.connection.execute(stmt)]


def _sold(
    conn: Connection,
    variant_ids: Sequence[uuid.UUID],
    location_ids: set[uuid.UUID],
    since: datetime,
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Units sold per (variant, location) since `since`: minus the on_hand sale movements."""
    m = StockMovement
    out: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for chunk in _chunks(variant_ids):
        stmt = (
            select(m.variant_id, m.location_id, func.sum(-m.quantity))
            .where(
                m.variant_id.in_(chunk),
                m.location_id.in_(location_ids),
                m.bucket == "on_hand",
                m.kind.in_(SALE_KINDS),
                m.created_at >= since,
            )
            .group_by(m.variant_id, m.location_id)
        )
        out.update({(v, loc): int(total or 0) for v, loc, total in conn.execute(stmt)})
    return out


def _warehouse_levels(
    conn: Connection, variant_ids: Sequence[uuid.UUID]
) -> tuple[LevelSnapshot, ...]:
    found: list[LevelSnapshot] = []
    for chunk in _chunks(variant_ids):
        stmt = (
            select(*_SNAPSHOT_COLUMNS)
            .join(Variant, Variant.id == _L.variant_id)
            .join(Location, Location.id == _L.location_id)
            .where(
                _L.variant_id.in_(chunk),
                Location.kind == WAREHOUSE,
                Location.active.is_(True),
            )
        )
        found += [_snapshot(row)[2] for row in conn.execute(stmt)]
    return tuple(found)


def _offers(conn: Connection, variant_ids: Sequence[uuid.UUID]) -> tuple[SupplierOffer, ...]:
    found: list[SupplierOffer] = []
    for chunk in _chunks(variant_ids):
        stmt = (
            select(
                Variant.sku,
                Supplier.code,
                Supplier.name,
                Supplier.currency,
                Supplier.lead_time_days,
                SupplierItem.pack_size,
                SupplierItem.min_order_packs,
                SupplierItem.pack_cost_minor,
                SupplierItem.preferred,
            )
            .join(Supplier, Supplier.id == SupplierItem.supplier_id)
            .join(Variant, Variant.id == SupplierItem.variant_id)
            .where(SupplierItem.variant_id.in_(chunk), Supplier.active.is_(True))
        )
        found += [
            SupplierOffer(
                sku=sku,
                supplier=code,
                supplier_name=name,
                currency=currency,
                lead_time_days=int(lead),
                pack_size=int(pack),
                min_order_packs=int(min_packs),
                pack_cost_minor=None if cost is None else int(cost),
                preferred=bool(preferred),
            )
            for sku, code, name, currency, lead, pack, min_packs, cost, preferred in conn.execute(
                stmt
            )
        ]
    return tuple(found)
