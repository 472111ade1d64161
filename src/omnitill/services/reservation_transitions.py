"""A reservation's units moving inside a unit of work: the movements that reference it, and a
change of state (release, fulfil, expire) applied to it, claimed by a conditional UPDATE on
its status, with its units moved, the lots and serials a fulfilment takes, the audit entry on
the store's own chain and the event, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Reservation,
    ReservationLine,
    StockException,
    StockMovement,
    Variant,
)
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.domain.auth.actor import SYSTEM_ACTOR_NAME, Actor
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.lots import business_date
from omnitill.domain.inventory.reservations import TARGET, Transition
from omnitill.services import audit, events, tracking

REFERENCE_TYPE = "reservation"


@dataclass(frozen=True, slots=True)
class FulfilSerials:
    """The serial numbers of the units of one serial-tracked SKU handed over at fulfilment."""

    sku: str
    serials: tuple[str, ...]


def movement(
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


def apply_transition(
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
        movement(
            uow, reservation, line.variant_id, Bucket.RESERVED, -line.quantity, str(how), actor, now
        )
        if ship:
            for portion in portions.get(line.variant_id) or [tracking.Portion(line.quantity)]:
                movement(
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
        locations=[code] if code else (),
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
