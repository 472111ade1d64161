"""Stock reservations: hold units for an order or pickup, then release, fulfil or expire them.

Reserving is all-or-nothing and never oversells (DESIGN invariant 1): each line is one
conditional UPDATE of its stock level (`reserved += n` only while `available >= n`), applied in
(variant id, location id) order so concurrent reservations lock rows alike and cannot
deadlock. Every state change writes `reserved` movements (and, for fulfil, a sale movement on
on_hand) that reference the reservation, and an audit entry, in the same transaction.

The read side is services/reservation_views.py; a change of state applied inside a unit of
work (and the movements every step writes) services/reservation_transitions.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Reservation, ReservationLine
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.reservations import (
    ReservationStatus,
    Transition,
    check_request,
    is_noop,
    merge_quantities,
)
from omnitill.services import audit, events
from omnitill.services.references import LineRef, accessible_location, resolve_lines
from omnitill.services.reservation_transitions import (
    FulfilSerials,
    apply_transition,
    movement,
    stock_chain,
)
from omnitill.services.reservation_views import (
    ReservationView,
    find,
    get,
    load_views,
    visible_reservation,
)
from omnitill.services.retries import run_retrying

__all__ = [
    "FulfilSerials",
    "ReservationLineInput",
    "ReservationRequest",
    "ReservationView",
    "find",
    "fulfil",
    "get",
    "hold",
    "release",
    "reserve",
    "sweep",
]

SWEEP_BATCH = 100


@dataclass(frozen=True, slots=True)
class ReservationLineInput:
    sku: str | None
    barcode: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """Hold `lines` at `location` for the reference; `ttl_seconds` None holds until released."""

    reference_type: str
    reference_id: str
    location: str
    lines: tuple[ReservationLineInput, ...]
    ttl_seconds: int | None = None


def reserve(
    *, db: Database, actor: Actor, request: ReservationRequest, now: datetime | None = None
) -> ReservationView:
    """Hold every line or none; the same reference with the same lines replays the first.

    409 `inventory.insufficient_stock` lists every short line (sku, requested, available);
    422 `reservation.reference_reused` when the reference already holds different lines.
    """
    actor.require(Permission.STOCK_RESERVE)
    check_request(
        quantities=[line.quantity for line in request.lines], ttl_seconds=request.ttl_seconds
    )
    if not request.reference_type.strip() or not request.reference_id.strip():
        raise ValidationFailed(
            "reservation.reference_required",
            "a reservation needs a reference type and id",
            errors=[FieldError("reference", "reservation.reference_required", "required")],
        )
    at = now or utcnow()
    try:
        return run_retrying(lambda: _reserve_once(db=db, actor=actor, request=request, now=at))
    except IntegrityError:
        # The same reference was reserved concurrently and committed first: answer as its
        # replay (or as a reused reference), which this second run finds.
        return run_retrying(lambda: _reserve_once(db=db, actor=actor, request=request, now=at))


def _reserve_once(
    *, db: Database, actor: Actor, request: ReservationRequest, now: datetime
) -> ReservationView:
    with db.uow() as uow:
        loc = accessible_location(uow, actor, request.location)
        refs = resolve_lines(uow, [LineRef(line.sku, line.barcode) for line in request.lines])
        wanted = merge_quantities(
            [(ref.id, line.quantity) for ref, line in zip(refs, request.lines, strict=True)]
        )
        existing = uow.session.scalars(
            select(Reservation).where(
                Reservation.reference_type == request.reference_type,
                Reservation.reference_id == request.reference_id,
            )
        ).one_or_none()
        if existing is not None:
            return _replay(uow, existing, location_id=loc.id, wanted=wanted)
        reservation = hold(
            uow,
            actor=actor,
            reference_type=request.reference_type,
            reference_id=request.reference_id,
            location=loc,
            refs=refs,
            wanted=wanted,
            now=now,
            expires_at=now + timedelta(seconds=request.ttl_seconds)
            if request.ttl_seconds is not None
            else None,
        )
        view = load_views(uow, [reservation])[0]
        skus = {ref.id: ref.sku for ref in refs}
        events.emit(
            uow,
            topic="reservation.created",
            aggregate_type="reservation",
            aggregate_id=str(reservation.id),
            payload={
                "reference": {"type": request.reference_type, "id": request.reference_id},
                "location": loc.code,
                "lines": [{"sku": skus[v], "quantity": wanted[v]} for v in sorted(wanted)],
            },
            locations=[loc.code],
        )
        uow.commit()
        return view


def hold(
    uow: UnitOfWork,
    *,
    actor: Actor,
    reference_type: str,
    reference_id: str,
    location: Location,
    refs: Sequence[VariantRef],
    wanted: dict[uuid.UUID, int],
    now: datetime,
    expires_at: datetime | None = None,
) -> Reservation:
    """Reserve `wanted` (variant id -> units) at `location` inside the caller's transaction,
    all or nothing, with its movements and audit entry; 409 `inventory.insufficient_stock`
    lists every short line. `refs` names the variants for errors and the audit trail."""
    conn = uow.connection
    short = [
        vid
        for vid in sorted(wanted)
        if not stock_repo.reserve_if_available(
            conn, variant_id=vid, location_id=location.id, quantity=wanted[vid]
        )
    ]
    if short:
        raise _insufficient(uow, refs=refs, wanted=wanted, short=short, location_id=location.id)
    reservation = Reservation(
        id=uuid7(),
        reference_type=reference_type,
        reference_id=reference_id,
        location_id=location.id,
        status=ReservationStatus.ACTIVE,
        expires_at=expires_at,
        actor_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(reservation)
    uow.session.flush()
    for vid in sorted(wanted):
        uow.session.add(
            ReservationLine(reservation_id=reservation.id, variant_id=vid, quantity=wanted[vid])
        )
        movement(uow, reservation, vid, Bucket.RESERVED, wanted[vid], "reserve", actor, now)
    skus = {ref.id: ref.sku for ref in refs}
    audit.record(
        uow,
        action="stock.reserved",
        chain=stock_chain(location.code),
        actor=actor,
        subject_type="reservation",
        subject_id=str(reservation.id),
        details={
            "reference": {"type": reference_type, "id": reference_id},
            "location": location.code,
            "lines": [{"sku": skus[v], "quantity": wanted[v]} for v in sorted(wanted)],
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return reservation


def _replay(
    uow: UnitOfWork,
    existing: Reservation,
    *,
    location_id: uuid.UUID,
    wanted: dict[uuid.UUID, int],
) -> ReservationView:
    held = {
        line.variant_id: line.quantity
        for line in uow.session.scalars(
            select(ReservationLine).where(ReservationLine.reservation_id == existing.id)
        )
    }
    if existing.location_id != location_id or held != wanted:
        raise ValidationFailed(
            "reservation.reference_reused",
            "this reference already holds a different reservation",
            {
                "reservation": str(existing.id),
                "reference": {"type": existing.reference_type, "id": existing.reference_id},
            },
            errors=[FieldError("reference", "reservation.reference_reused", "already used")],
        )
    return replace(load_views(uow, [existing])[0], replayed=True)


def _insufficient(
    uow: UnitOfWork,
    *,
    refs: Sequence[VariantRef],
    wanted: dict[uuid.UUID, int],
    short: list[uuid.UUID],
    location_id: uuid.UUID,
) -> Conflict:
    first_line: dict[uuid.UUID, tuple[int, str]] = {}
    for i, ref in enumerate(refs):
        first_line.setdefault(ref.id, (i, ref.sku))
    lines = [
        {
            "sku": first_line[vid][1],
            "requested": wanted[vid],
            "available": stock_repo.available_now(
                uow.connection, variant_id=vid, location_id=location_id
            ),
        }
        for vid in short
    ]
    return Conflict(
        "inventory.insufficient_stock",
        "not enough stock is available for every line; nothing was reserved",
        {"lines": lines},
        errors=[
            FieldError(
                f"lines.{first_line[vid][0]}.quantity",
                "inventory.insufficient_stock",
                f"{line['sku']}: {line['requested']} requested, {line['available']} available",
            )
            for vid, line in zip(short, lines, strict=True)
        ],
    )


def release(*, db: Database, actor: Actor, reservation_id: uuid.UUID) -> ReservationView:
    """Give the units back (`released`); releasing again, or an expired one, changes nothing."""
    return _change(db=db, actor=actor, reservation_id=reservation_id, how=Transition.RELEASE)


def fulfil(
    *,
    db: Database,
    actor: Actor,
    reservation_id: uuid.UUID,
    serials: Sequence[FulfilSerials] = (),
) -> ReservationView:
    """The held units leave as a sale: on_hand and reserved both fall by each line.

    Idempotent. If on_hand goes negative (a register sold the units meanwhile), the units
    still left the building: it is recorded as a stock exception, never refused.
    A reservation holds quantities only: lot-tracked units leave first expired first out
    (units no lot covers leave without one), and serial-tracked units need their serials
    here, one per unit, each in stock at the location (422
    `inventory.serials_count_mismatch`, `inventory.serial_*`; nothing is written).
    """
    return _change(
        db=db,
        actor=actor,
        reservation_id=reservation_id,
        how=Transition.FULFIL,
        serials=serials,
    )


def _change(
    *,
    db: Database,
    actor: Actor,
    reservation_id: uuid.UUID,
    how: Transition,
    serials: Sequence[FulfilSerials] = (),
) -> ReservationView:
    actor.require(Permission.STOCK_RESERVE)

    def once() -> ReservationView:
        with db.uow() as uow:
            reservation = visible_reservation(uow, actor, reservation_id)
            now = utcnow()
            if not apply_transition(
                uow,
                reservation_id=reservation_id,
                how=how,
                actor=actor,
                now=now,
                serials=serials,
            ):
                uow.session.refresh(reservation)  # lost to a concurrent change: decide again
                if not is_noop(ReservationStatus(reservation.status), how):
                    raise Conflict("reservation.concurrent_write", "retry the request")
            view = load_views(uow, [reservation])[0]
            uow.commit()
            return view

    return run_retrying(once)


def sweep(*, db: Database, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """Expire every active reservation whose time ran out; how many this call expired.

    Each reservation is expired in its own short transaction, claimed by a conditional UPDATE
    on its status (still `active` and due), so several processes may sweep at once: exactly
    one of them expires each reservation and the others skip it.
    """
    at = now or utcnow()
    expired = 0
    while True:
        with db.uow(write=False) as uow:
            due = stock_repo.due_reservations(uow.connection, now=at, limit=batch_size)
        for reservation_id in due:
            if run_retrying(partial(_expire_one, db, reservation_id, at)):
                expired += 1
        if len(due) < batch_size:
            return expired


def _expire_one(db: Database, reservation_id: uuid.UUID, now: datetime) -> bool:
    with db.uow() as uow:
        done = apply_transition(
            uow,
            reservation_id=reservation_id,
            how=Transition.EXPIRE,
            actor=None,
            now=now,
            expired_by=now,
        )
        uow.commit()
        return done
