"""Looking up serial numbers (where a unit is, its warranty, its whole history) and lots.

Staff bound to stores see what they would see in stock: units at their locations, and
units sold there. A serial they may not see answers as if it did not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, tuple_

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import (
    Location,
    Lot,
    LotBalance,
    Sale,
    SerialEvent,
    SerialUnit,
    User,
    Variant,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.inventory.lots import business_date, is_expired
from omnitill.services.pagination import clamp_limit, decode_cursor, encode_cursor
from omnitill.services.references import scope_to_locations


@dataclass(frozen=True, slots=True)
class SerialEventView:
    event: str
    from_status: str | None
    to_status: str
    location: str | None
    reference_type: str | None
    reference_id: str | None
    actor: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SerialUnitView:
    serial: str
    sku: str
    status: str
    location: str | None
    warranty_starts_on: date | None
    sale_id: uuid.UUID | None
    receipt_number: str | None
    received_at: datetime
    updated_at: datetime
    history: tuple[SerialEventView, ...]


def lookup(*, db: Database, actor: Actor, serial: str) -> list[SerialUnitView]:
    """Every unit carrying `serial` (one per variant that uses it) with its history.

    404 `serial.not_found` when none exists or none is visible to the actor."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        stmt = (
            select(SerialUnit, Variant.sku, Location.code, Sale.receipt_number)
            .join(Variant, Variant.id == SerialUnit.variant_id)
            .outerjoin(Location, Location.id == SerialUnit.location_id)
            .outerjoin(Sale, Sale.id == SerialUnit.sale_id)
            .where(SerialUnit.serial == serial.strip())
            .order_by(Variant.sku)
        )
        if actor.location_ids is not None:
            seen = sorted(actor.location_ids)
            stmt = stmt.where(or_(SerialUnit.location_id.in_(seen), Sale.location_id.in_(seen)))
        units = uow.session.execute(stmt).all()
        if not units:
            raise NotFound("serial.not_found", f"no serial {serial!r}", {"serial": serial})
        history: dict[uuid.UUID, list[SerialEventView]] = {u.id: [] for u, *_ in units}
        for e, code, username in uow.session.execute(
            select(SerialEvent, Location.code, User.username)
            .outerjoin(Location, Location.id == SerialEvent.location_id)
            .outerjoin(User, User.id == SerialEvent.actor_id)
            .where(SerialEvent.serial_unit_id.in_(list(history)))
            .order_by(SerialEvent.created_at, SerialEvent.id)
        ):
            history[e.serial_unit_id].append(
                SerialEventView(
                    event=e.event,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    location=code,
                    reference_type=e.reference_type,
                    reference_id=e.reference_id,
                    actor=username,
                    created_at=e.created_at,
                )
            )
    return [
        SerialUnitView(
            serial=u.serial,
            sku=sku,
            status=u.status,
            location=code,
            warranty_starts_on=u.warranty_starts_on,
            sale_id=u.sale_id,
            receipt_number=receipt_number,
            received_at=u.created_at,
            updated_at=u.updated_at,
            history=tuple(history[u.id]),
        )
        for u, sku, code, receipt_number in units
    ]


@dataclass(frozen=True, slots=True)
class LotView:
    sku: str
    lot: str
    expires_on: date | None
    location: str
    on_hand: int
    expired_units: int
    expired: bool  # past its expiry date at the location's business date today

    @property
    def sellable(self) -> int:
        """Units that may still be sold: none once the lot has expired."""
        return 0 if self.expired else self.on_hand - self.expired_units


def list_lots(
    *,
    db: Database,
    actor: Actor,
    sku: str | None = None,
    location: str | None = None,
    include_empty: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[LotView], str | None]:
    """Lot balances by SKU, lot code and location, one page; empty balances on request."""
    actor.require(Permission.STOCK_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    now = utcnow()
    with db.uow(write=False) as uow:
        stmt = (
            select(
                Variant.sku,
                Lot.code,
                Lot.expires_on,
                Location.code,
                Location.timezone,
                LotBalance.on_hand,
                LotBalance.expired,
            )
            .join(Lot, Lot.id == LotBalance.lot_id)
            .join(Variant, Variant.id == Lot.variant_id)
            .join(Location, Location.id == LotBalance.location_id)
            .order_by(Variant.sku, Lot.code, Location.code)
            .limit(page + 1)
        )
        if sku is not None:
            stmt = stmt.where(Variant.sku == sku)
        if not include_empty:
            stmt = stmt.where(LotBalance.on_hand != 0)
        stmt = scope_to_locations(uow, actor, stmt, LotBalance.location_id, location)
        if after is not None:
            stmt = stmt.where(
                tuple_(Variant.sku, Lot.code, Location.code)
                > tuple_(after["sku"], after["lot"], after["location"])
            )
        rows = uow.session.execute(stmt).all()
    items = [
        LotView(
            sku=sku_,
            lot=code,
            expires_on=expires_on,
            location=loc_code,
            on_hand=int(on_hand),
            expired_units=int(expired),
            expired=is_expired(expires_on, business_date(now, timezone)),
        )
        for sku_, code, expires_on, loc_code, timezone, on_hand, expired in rows[:page]
    ]
    next_cursor = (
        encode_cursor({"sku": items[-1].sku, "lot": items[-1].lot, "location": items[-1].location})
        if len(rows) > page
        else None
    )
    return items, next_cursor
