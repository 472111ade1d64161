"""Reading reservations back: the view the API answers with (its lines by SKU, who made it,
and whether a request was a replay), `get` and `find`, and the lookup of a reservation at a
location the actor may act at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Reservation, ReservationLine, User, Variant
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.inventory.reservations import ReservationStatus
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import scope_to_locations


@dataclass(frozen=True, slots=True)
class ReservedLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ReservationView:
    id: uuid.UUID
    reference_type: str
    reference_id: str
    location: str
    status: str
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    actor: str | None
    lines: tuple[ReservedLine, ...]
    replayed: bool = False


def get(*, db: Database, actor: Actor, reservation_id: uuid.UUID) -> ReservationView:
    """One reservation with its lines (404 if unknown, 403 outside the actor's stores)."""
    actor.require(Permission.STOCK_RESERVE)
    with db.uow(write=False) as uow:
        return load_views(uow, [visible_reservation(uow, actor, reservation_id)])[0]


def find(
    *,
    db: Database,
    actor: Actor,
    reference_type: str | None = None,
    reference_id: str | None = None,
    location: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[ReservationView], str | None]:
    """Reservations, newest first, filtered by reference, location and status; one page."""
    actor.require(Permission.STOCK_RESERVE)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    check_status_filter(status, ReservationStatus, "reservation.invalid_status")
    with db.uow(write=False) as uow:
        stmt = select(Reservation).order_by(Reservation.id.desc()).limit(page + 1)
        if reference_type is not None:
            stmt = stmt.where(Reservation.reference_type == reference_type)
        if reference_id is not None:
            stmt = stmt.where(Reservation.reference_id == reference_id)
        if status is not None:
            stmt = stmt.where(Reservation.status == status)
        if after is not None:
            stmt = stmt.where(Reservation.id < cursor_uuid(after))
        stmt = scope_to_locations(uow, actor, stmt, Reservation.location_id, location)
        rows = list(uow.session.scalars(stmt))
        items = load_views(uow, rows[:page])
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def visible_reservation(uow: UnitOfWork, actor: Actor, reservation_id: uuid.UUID) -> Reservation:
    reservation = uow.session.get(Reservation, reservation_id)
    if reservation is None or not actor.may_access(reservation.location_id):
        raise NotFound(
            "reservation.not_found",
            f"no reservation {reservation_id}",
            {"id": str(reservation_id)},
        )
    return reservation


def load_views(uow: UnitOfWork, reservations: list[Reservation]) -> list[ReservationView]:
    if not reservations:
        return []
    ids = [r.id for r in reservations]
    lines: dict[uuid.UUID, list[ReservedLine]] = {rid: [] for rid in ids}
    for rid, sku, qty in uow.session.execute(
        select(ReservationLine.reservation_id, Variant.sku, ReservationLine.quantity)
        .join(Variant, Variant.id == ReservationLine.variant_id)
        .where(ReservationLine.reservation_id.in_(ids))
        .order_by(Variant.sku)
    ):
        lines[rid].append(ReservedLine(sku, qty))
    codes = dict(
        uow.session.execute(
            select(Location.id, Location.code).where(
                Location.id.in_(sorted({r.location_id for r in reservations}))
            )
        ).all()
    )
    actor_ids = {r.actor_id for r in reservations if r.actor_id is not None}
    names = (
        dict(
            uow.session.execute(
                select(User.id, User.username).where(User.id.in_(sorted(actor_ids)))
            ).all()
        )
        if actor_ids
        else {}
    )
    return [
        ReservationView(
            id=r.id,
            reference_type=r.reference_type,
            reference_id=r.reference_id,
            location=codes[r.location_id],
            status=r.status,
            expires_at=r.expires_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
            actor=names.get(r.actor_id) if r.actor_id else None,
            lines=tuple(lines[r.id]),
        )
        for r in reservations
    ]
