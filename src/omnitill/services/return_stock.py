"""Returned units into the stock of the location that receives them, by disposition.

Every unit comes back into on_hand first (a `return` movement, referenced to the return), so
the ledger shows the receipt whatever happens next; then, in the same transaction:

| disposition | stock                                             | serial status      |
|-------------|---------------------------------------------------|--------------------|
| resalable   | stays sellable (available again)                  | in_stock           |
| quarantine  | into the quarantine bucket, until inspected       | quarantined        |
| damaged     | into the damaged bucket                           | returned           |
| defective   | into the damaged bucket, for return to the vendor | returned           |
| write_off   | out of on_hand again (`write_off` movement)       | written_off        |

A defective unit then leaves through the dispositions service (`return_to_vendor` from the
damaged bucket). Lot-tracked goods go back into the lot they were sold from (the sale line's
snapshot names it; an order line, or a sale line without one, into no lot).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Lot, StockLevel, StockMovement
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.domain.auth.actor import Actor
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.lots import business_date
from omnitill.domain.inventory.tracked import Context, Portion
from omnitill.domain.returns.model import Disposition
from omnitill.services import tracking

_BUCKET = {
    Disposition.QUARANTINE: "quarantine",
    Disposition.DAMAGED: "damaged",
    Disposition.DEFECTIVE: "damaged",
}
_SERIAL = {
    Disposition.RESALABLE: "in_stock",
    Disposition.QUARANTINE: "quarantined",
    Disposition.WRITE_OFF: "written_off",
}


@dataclass(frozen=True, slots=True)
class UnitsBack:
    """`quantity` units of a variant coming back with one disposition."""

    variant_id: uuid.UUID
    sku: str
    quantity: int
    disposition: Disposition
    serials: tuple[str, ...] = ()
    lot_code: str | None = None


def put_back(
    uow: UnitOfWork,
    *,
    actor: Actor,
    location_id: uuid.UUID,
    timezone: str,
    return_id: uuid.UUID,
    units: Sequence[UnitsBack],
    now: datetime,
) -> None:
    """Book every returned unit at the location (see the module doc), in variant id order so
    concurrent returns lock stock rows alike."""
    today = business_date(now, timezone)
    reference = str(return_id)
    refs, _ = catalog_repo.variant_refs(uow.connection, skus=[u.sku for u in units])
    for item in sorted(units, key=lambda u: (u.variant_id, u.disposition)):
        variant = refs[item.sku]
        context = Context(actor, "returned", "return", reference, now, today)
        lot_id = _lot_id(uow, item)
        if variant.tracking == "serial":
            portion = Portion(item.quantity, serials=item.serials)
            tracking.put(
                uow,
                variant=variant,
                location_id=location_id,
                quantity=item.quantity,
                portions=[portion],
                serial_source="sold",
                serial_status="returned",
                context=context,
            )
            target = _SERIAL.get(item.disposition)
            if target is not None:
                tracking.put(
                    uow,
                    variant=variant,
                    location_id=location_id,
                    quantity=item.quantity,
                    portions=[portion],
                    serial_source="returned",
                    serial_status=target,
                    context=Context(actor, target, "return", reference, now, today),
                )
        elif (
            variant.tracking == "lot"
            and lot_id is not None
            and item.disposition != Disposition.WRITE_OFF  # in and out again: the lot is as it was
        ):
            tracking.put(
                uow,
                variant=variant,
                location_id=location_id,
                quantity=item.quantity,
                portions=[Portion(item.quantity, lot_id=lot_id, lot_code=item.lot_code)],
                context=context,
            )
        stock_repo.add_on_hand_many(
            uow.connection, location_id=location_id, deltas={item.variant_id: item.quantity}
        )
        book = (uow, actor, item, location_id)
        _movement(*book, "on_hand", item.quantity, "return", lot_id, now, reference)
        bucket = _BUCKET.get(item.disposition)
        if bucket is not None:
            # The units just came in: they are set aside whatever the rest of the stock is
            # (a location short of stock still quarantines what came back).
            column = getattr(StockLevel, bucket)
            uow.session.execute(
                update(StockLevel)
                .where(
                    StockLevel.variant_id == item.variant_id,
                    StockLevel.location_id == location_id,
                )
                .values({column: column + item.quantity})
                .execution_options(synchronize_session=False)
            )
            _movement(*book, bucket, item.quantity, "return", None, now, reference)
        if item.disposition == Disposition.WRITE_OFF:
            stock_repo.add_on_hand_many(
                uow.connection, location_id=location_id, deltas={item.variant_id: -item.quantity}
            )
            _movement(*book, "on_hand", -item.quantity, "write_off", lot_id, now, reference)


def lot_of(lots: Sequence[Mapping[str, Any]], already_returned: int) -> str | None:
    """The lot the next returned unit was sold from: lots in the order the sale took them,
    skipping the units earlier returns gave back."""
    skip = already_returned
    for lot in lots:
        quantity = int(lot.get("quantity") or 0)
        if skip < quantity:
            code = lot.get("lot")
            return None if code is None else str(code)
        skip -= quantity
    return None


def _lot_id(uow: UnitOfWork, item: UnitsBack) -> uuid.UUID | None:
    if item.lot_code is None:
        return None
    return uow.session.scalar(
        select(Lot.id).where(Lot.variant_id == item.variant_id, Lot.code == item.lot_code)
    )


def _movement(
    uow: UnitOfWork,
    actor: Actor,
    item: UnitsBack,
    location_id: uuid.UUID,
    bucket: str,
    quantity: int,
    kind: str,
    lot_id: uuid.UUID | None,
    now: datetime,
    reference: str,
) -> None:
    uow.session.add(
        StockMovement(
            id=uuid7(),
            variant_id=item.variant_id,
            location_id=location_id,
            bucket=bucket,
            quantity=quantity,
            kind=kind,
            reason=f"return: {item.disposition.value}",
            reference_type="return",
            reference_id=reference,
            actor_id=actor.user_id,
            lot_id=lot_id,
            created_at=now,
        )
    )
