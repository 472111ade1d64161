"""Stock reservations: hold units for an order or pickup, then release, fulfil or expire them.

Reserving is all-or-nothing and never oversells (DESIGN invariant 1): each line is one
conditional UPDATE of its stock level (`reserved += n` only while `available >= n`), applied in
(variant id, location id) order so concurrent reservations lock rows alike and cannot
deadlock. Every state change writes `reserved` movements (and, for fulfil, a sale movement on
on_hand) that reference the reservation, and an audit entry, in the same transaction.
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
from omnitill.adapters.db.models import (
    Location,
    Reservation,
    ReservationLine,
    StockException,
    StockMovement,
    User,
    Variant,
)
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import SYSTEM_ACTOR_NAME, Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.lots import business_date
from omnitill.domain.inventory.reservations import (
    TARGET,
    ReservationStatus,
    Transition,
    check_request,
    is_noop,
    merge_quantities,
)
from omnitill.services import audit, events, tracking
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import (
    LineRef,
    accessible_location,
    resolve_lines,
    scope_to_locations,
)
from omnitill.services.retries import run_retrying

REFERENCE_TYPE = "reservation"
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
        conn = uow.connection
        short = [
            vid
            for vid in sorted(wanted)
            if not stock_repo.reserve_if_available(
                conn, variant_id=vid, location_id=loc.id, quantity=wanted[vid]
            )
        ]
        if short:
            raise _insufficient(uow, refs=refs, wanted=wanted, short=short, location_id=loc.id)
        reservation = Reservation(
            id=uuid7(),
            reference_type=request.reference_type,
            reference_id=request.reference_id,
            location_id=loc.id,
            status=ReservationStatus.ACTIVE,
            expires_at=now + timedelta(seconds=request.ttl_seconds)
            if request.ttl_seconds is not None
            else None,
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
            _movement(uow, reservation, vid, Bucket.RESERVED, wanted[vid], "reserve", actor, now)
        view = _views(uow, [reservation])[0]
        skus = {ref.id: ref.sku for ref in refs}
        audit.record(
            uow,
            action="stock.reserved",
            chain=stock_chain(loc.code),
            actor=actor,
            subject_type="reservation",
            subject_id=str(reservation.id),
            details={
                "reference": {"type": request.reference_type, "id": request.reference_id},
                "location": loc.code,
                "lines": [{"sku": skus[v], "quantity": wanted[v]} for v in sorted(wanted)],
                "expires_at": reservation.expires_at.isoformat()
                if reservation.expires_at
                else None,
            },
        )
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
        )
        uow.commit()
        return view


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
    return replace(_views(uow, [existing])[0], replayed=True)


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


def _movement(
    uow: UnitOfWork,
    reservation: Reservation,
    variant_id: uuid.UUID,
    bucket: Bucket,
    quantity: int,
    kind: str,
    actor: Actor | None,
    now: datetime,
    lot_id: uuid.UUID | None = None,
) -> None:
    uow.session.add(
        StockMovement(
            id=uuid7(),
            variant_id=variant_id,
            location_id=reservation.location_id,
            bucket=str(bucket),
            quantity=quantity,
            kind=kind,
            reason=f"{reservation.reference_type} {reservation.reference_id}",
            reference_type=REFERENCE_TYPE,
            reference_id=str(reservation.id),
            actor_id=actor.user_id if actor else None,
            created_at=now,
            lot_id=lot_id,
        )
    )


def release(*, db: Database, actor: Actor, reservation_id: uuid.UUID) -> ReservationView:
    """Give the units back (`released`); releasing again, or an expired one, changes nothing."""
    return _change(db=db, actor=actor, reservation_id=reservation_id, how=Transition.RELEASE)


@dataclass(frozen=True, slots=True)
class FulfilSerials:
    """The serial numbers of the units of one serial-tracked SKU handed over at fulfilment."""

    sku: str
    serials: tuple[str, ...]


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
            reservation = _visible(uow, actor, reservation_id)
            now = utcnow()
            if not _apply(
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
            view = _views(uow, [reservation])[0]
            uow.commit()
            return view

    return run_retrying(once)


def _apply(
    uow: UnitOfWork,
    *,
    reservation_id: uuid.UUID,
    how: Transition,
    actor: Actor | None,
    now: datetime,
    expired_by: datetime | None = None,
    serials: Sequence[FulfilSerials] = (),
) -> bool:
    """Claim the reservation for `how` and move its units; False if it was not active."""
    conn = uow.connection
    if not stock_repo.claim_reservation(
        conn,
        reservation_id=reservation_id,
        to_status=TARGET[how],
        now=now,
        expired_by=expired_by,
    ):
        return False
    reservation = uow.session.get_one(Reservation, reservation_id, populate_existing=True)
    lines = uow.session.scalars(
        select(ReservationLine)
        .where(ReservationLine.reservation_id == reservation_id)
        .order_by(ReservationLine.variant_id)
    ).all()
    portions: dict[uuid.UUID, list[tracking.Portion]] = {}
    if how is Transition.FULFIL and actor is not None:
        portions = _take_tracked(
            uow, reservation=reservation, lines=lines, serials=serials, actor=actor, now=now
        )
    for line in lines:
        ship = how is Transition.FULFIL
        on_hand = stock_repo.unreserve(
            conn,
            variant_id=line.variant_id,
            location_id=reservation.location_id,
            quantity=line.quantity,
            ship=ship,
        )
        _movement(
            uow, reservation, line.variant_id, Bucket.RESERVED, -line.quantity, str(how), actor, now
        )
        if ship:
            for portion in portions.get(line.variant_id) or [tracking.Portion(line.quantity)]:
                _movement(
                    uow,
                    reservation,
                    line.variant_id,
                    Bucket.ON_HAND,
                    -portion.quantity,
                    "sale",
                    actor,
                    now,
                    lot_id=portion.lot_id,
                )
            if on_hand < 0:
                uow.session.add(
                    StockException(
                        variant_id=line.variant_id,
                        location_id=reservation.location_id,
                        kind="negative_stock",
                        on_hand_after=on_hand,
                        reference_type=REFERENCE_TYPE,
                        reference_id=str(reservation.id),
                    )
                )
    code = uow.session.scalar(select(Location.code).where(Location.id == reservation.location_id))
    audit.record(
        uow,
        chain=stock_chain(code or str(reservation.location_id)),
        action=f"stock.reservation_{TARGET[how]}",
        actor=actor or SYSTEM_ACTOR_NAME,
        subject_type="reservation",
        subject_id=str(reservation_id),
        details={
            "reference": {"type": reservation.reference_type, "id": reservation.reference_id},
            "lines": [
                {"variant_id": str(line.variant_id), "quantity": line.quantity} for line in lines
            ],
        },
    )
    events.emit(  # reservation.released | .fulfilled | .expired, with the change (DESIGN 7)
        uow,
        topic=f"reservation.{TARGET[how]}",
        aggregate_type="reservation",
        aggregate_id=str(reservation_id),
        payload={
            "reference": {"type": reservation.reference_type, "id": reservation.reference_id},
            "location": code,
            "lines": [
                {"variant_id": str(line.variant_id), "quantity": line.quantity} for line in lines
            ],
        },
    )
    return True


def _take_tracked(
    uow: UnitOfWork,
    *,
    reservation: Reservation,
    lines: Sequence[ReservationLine],
    serials: Sequence[FulfilSerials],
    actor: Actor,
    now: datetime,
) -> dict[uuid.UUID, list[tracking.Portion]]:
    """The lots and serials the fulfilled units leave, per variant (untracked: none).

    Taken before the levels change, in variant id order, as a sale takes them."""
    known: dict[uuid.UUID, tuple[str, str]] = {
        vid: (sku, how_tracked)
        for vid, sku, how_tracked in uow.session.execute(
            select(Variant.id, Variant.sku, Variant.tracking).where(
                Variant.id.in_([line.variant_id for line in lines])
            )
        )
    }
    given = {entry.sku: (j, entry) for j, entry in enumerate(serials)}
    reserved = {sku for sku, _ in known.values()}
    errors = [
        FieldError(f"lines.{j}.sku", "reservation.sku_not_reserved", f"{sku} is not reserved")
        for sku, (j, _entry) in given.items()
        if sku not in reserved
    ]
    if errors:
        raise ValidationFailed(errors[0].code, "serials given for SKUs not reserved", errors=errors)
    wanted = [
        line
        for line in lines
        if known[line.variant_id][1] != "none" or known[line.variant_id][0] in given
    ]
    if not wanted:
        return {}
    refs = _refs(uow, sorted({known[line.variant_id][0] for line in wanted}))
    context = _context(uow, reservation, actor, now)
    taken: dict[uuid.UUID, list[tracking.Portion]] = {}
    for line in wanted:
        sku, how_tracked = known[line.variant_id]
        found = given.get(sku)
        if how_tracked == "serial" and found is None:
            raise ValidationFailed(
                "inventory.serials_count_mismatch",
                f"{line.quantity} units of {sku} need their serial numbers",
                {"sku": sku, "quantity": line.quantity},
                errors=[
                    FieldError(
                        "lines",
                        "inventory.serials_count_mismatch",
                        f"{sku} needs {line.quantity} serial numbers",
                    )
                ],
            )
        taken[line.variant_id] = tracking.take(
            uow,
            variant=refs[sku],
            location_id=reservation.location_id,
            quantity=line.quantity,
            tracked=tracking.Tracked(serials=found[1].serials if found else ()),
            serial_status="sold",
            context=context,
            allow_short=True,
            field_prefix=f"lines.{found[0]}" if found else "lines",
        )
    return taken


def _refs(uow: UnitOfWork, skus: list[str]) -> dict[str, VariantRef]:
    by_sku, _ = catalog_repo.variant_refs(uow.connection, skus=skus, barcodes=[])
    return by_sku


def _context(
    uow: UnitOfWork, reservation: Reservation, actor: Actor, now: datetime
) -> tracking.Context:
    timezone = uow.session.scalar(
        select(Location.timezone).where(Location.id == reservation.location_id)
    )
    return tracking.Context(
        actor=actor,
        event="sold",
        reference_type=REFERENCE_TYPE,
        reference_id=str(reservation.id),
        now=now,
        today=business_date(now, timezone or "UTC"),
    )


def stock_chain(location_code: str) -> str:
    """Reservations of one store are audited on that store's own chain, so reservations at
    different stores never queue on one chain head (as sales use one chain per register)."""
    return f"stock:{location_code}"


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
        done = _apply(
            uow,
            reservation_id=reservation_id,
            how=Transition.EXPIRE,
            actor=None,
            now=now,
            expired_by=now,
        )
        uow.commit()
        return done


def get(*, db: Database, actor: Actor, reservation_id: uuid.UUID) -> ReservationView:
    """One reservation with its lines (404 if unknown, 403 outside the actor's stores)."""
    actor.require(Permission.STOCK_RESERVE)
    with db.uow(write=False) as uow:
        return _views(uow, [_visible(uow, actor, reservation_id)])[0]


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
        items = _views(uow, rows[:page])
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def _visible(uow: UnitOfWork, actor: Actor, reservation_id: uuid.UUID) -> Reservation:
    reservation = uow.session.get(Reservation, reservation_id)
    if reservation is None or not actor.may_access(reservation.location_id):
        raise NotFound(
            "reservation.not_found",
            f"no reservation {reservation_id}",
            {"id": str(reservation_id)},
        )
    return reservation


def _views(uow: UnitOfWork, reservations: list[Reservation]) -> list[ReservationView]:
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
