"""Mail-in returns (RMA) after their authorisation: the return label, receiving, cancelling.

A mail-in return is authorised by `returns.create` (`kind: mail_in`): its units are taken
off the order lines at once, so nobody else can return them, but no stock moves and no money
goes back until the parcel arrives. Then:

- **label** (services/return_label.py): a prepaid carrier label from the order's ship-to
  address to the return's location, bought once;
- **receive**: every line of the return gets its disposition; the units go into the stock
  of the location that received the parcel (any store or warehouse taking returns, which
  becomes the return's location) and the refund decided at authorisation goes back to the
  order's tenders exactly as at the counter (`returns.take_back_in`), split afresh over
  what each tender may still give back; card refunds go to the gateway after the commit;
- **cancel**: the parcel never came: the units go back onto the order lines and the
  return is `cancelled` (an unused label is voided with the carrier when it still can be).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, OrderLine, Return, ReturnLine
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.fulfillment.carrier import Carrier, CarrierError
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.returns import model as m
from omnitill.domain.returns.tenders import PlannedRefund, plan_refund
from omnitill.services import audit, events, return_money, return_settings, return_views, returns
from omnitill.services.order_cancel import location_code
from omnitill.services.references import accessible_location
from omnitill.services.retries import run_retrying
from omnitill.services.return_sources import load
from omnitill.services.return_stock import UnitsBack
from omnitill.services.return_views import ReturnView, view_of


@dataclass(frozen=True, slots=True)
class LineReceived:
    line_no: int
    disposition: str
    condition: str | None = None


# --- receiving ------------------------------------------------------------------------------


def receive(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    return_id: uuid.UUID,
    lines: tuple[LineReceived, ...],
    location: str | None = None,
    register: str | None = None,
) -> ReturnView:
    """The parcel arrived: stock by disposition where it arrived, then the refund."""
    actor.require(Permission.RETURNS_CREATE)

    def once() -> ReturnView:
        for _ in range(3):
            try:
                return _receive(db, actor, return_id, lines, location, register)
            except return_money.TenderRaced:
                continue
        raise Conflict("returns.busy", "the order is being refunded elsewhere; try again")

    view = run_retrying(once)
    return_money.finish_cards(
        db=db, actor=actor, gateway=gateway, return_id=return_id, reason=returns.REASON
    )
    with db.uow(write=False) as uow:
        return view_of(uow, uow.session.get_one(Return, view.id))


def _receive(
    db: Database,
    actor: Actor,
    return_id: uuid.UUID,
    received: tuple[LineReceived, ...],
    location: str | None,
    register: str | None,
) -> ReturnView:
    with db.uow() as uow:
        ret = authorized(uow, actor, return_id, lock=True, access=False)
        code = location or location_code(uow, ret.location_id)
        loc = accessible_location(uow, actor, code)
        _check_place(ret, loc)
        rows = return_views.lines_of(uow, ret.id)
        units = _units(rows, received)
        till = returns.till_at(uow, actor, register, loc)
        plan = _plan(uow, ret)
        return_money.check_till(plan, till)
        moved_from = ret.location_id
        ret.location_id = loc.id
        if till.register_id is not None:
            ret.register_id, ret.shift_id = till.register_id, till.shift_id
        returns.take_back_in(uow, actor=actor, ret=ret, units=units, plan=plan, till=till, loc=loc)
        audit.record(
            uow,
            action="return.received",
            actor=actor,
            subject_type="return",
            subject_id=str(ret.id),
            details={
                "number": ret.number,
                "location": loc.code,
                "authorized_at": location_code(uow, moved_from),
                "dispositions": {str(x.line_no): x.disposition for x in received},
                "refund_total": ret.refund_total_minor,
                "currency": ret.currency,
            },
        )
        events.emit(
            uow,
            topic="return.received",
            aggregate_type="return",
            aggregate_id=str(ret.id),
            payload={"id": str(ret.id), "number": ret.number, "location": loc.code},
            locations=[loc.code],
            channel=ret.channel,
        )
        uow.commit()
        return view_of(uow, ret)


def _check_place(ret: Return, loc: Location) -> None:
    if not loc.accepts_returns:
        raise Conflict("returns.not_accepted_here", f"{loc.code} does not take returns")
    if loc.currency != ret.currency:
        raise ValidationFailed(
            "returns.currency_mismatch",
            f"the return refunds {ret.currency}; {loc.code} refunds {loc.currency}",
            errors=[FieldError("location", "returns.currency_mismatch", ret.currency)],
        )


def _units(rows: list[ReturnLine], received: tuple[LineReceived, ...]) -> list[UnitsBack]:
    """Each return line's units with the disposition given to it; every line named once
    (422 naming each line left out, each line named twice or unknown, each bad value)."""
    by_no = {r.line_no: r for r in rows}
    dispositions = {d.value for d in m.Disposition}
    conditions = {c.value for c in m.Condition}
    errors: list[FieldError] = []
    seen: dict[int, LineReceived] = {}
    for i, x in enumerate(received):
        at = f"lines.{i}"
        if x.line_no not in by_no:
            errors.append(
                FieldError(f"{at}.line_no", "returns.unknown_line", f"no line {x.line_no}")
            )
        elif x.line_no in seen:
            errors.append(FieldError(f"{at}.line_no", "returns.line_repeated", "named twice"))
        if x.disposition not in dispositions:
            errors.append(
                FieldError(
                    f"{at}.disposition",
                    "returns.invalid_disposition",
                    ", ".join(sorted(dispositions)),
                )
            )
        if x.condition is not None and x.condition not in conditions:
            errors.append(
                FieldError(
                    f"{at}.condition", "returns.invalid_condition", ", ".join(sorted(conditions))
                )
            )
        seen.setdefault(x.line_no, x)
    missing = [n for n in sorted(by_no) if n not in seen]
    errors += [
        FieldError(
            "lines",
            "returns.disposition_required",
            f"line {n} ({by_no[n].sku}) needs a disposition",
        )
        for n in missing
    ]
    if errors:
        code = "returns.disposition_required" if missing else errors[0].code
        raise ValidationFailed(
            code,
            "every line of the return needs one disposition",
            {"missing": missing},
            errors=errors,
        )
    units = []
    for row in rows:
        x = seen[row.line_no]
        row.disposition = x.disposition
        if x.condition is not None:
            row.condition = x.condition
        units.append(
            UnitsBack(
                row.variant_id,
                row.sku,
                row.quantity,
                m.Disposition(x.disposition),
                tuple(row.serials or ()),
            )
        )
    return units


def _plan(uow: UnitOfWork, ret: Return) -> tuple[PlannedRefund, ...]:
    """The refund decided at authorisation, split over what each of the order's tenders may
    give back now (another refund may have taken some meanwhile), by the rules as they stood
    when the return was authorised (a card's age counts to then, not to the parcel's
    arrival). 409 `returns.tenders_exhausted` when the tenders cannot take it all."""
    assert ret.order_id is not None
    source = load(uow, sale_id=None, order_id=ret.order_id)
    settings = return_settings.load(uow, ret.currency).refunds
    plan = plan_refund(
        ret.refund_total_minor,
        source.tenders,
        rules=settings.for_plan(),
        now=ret.initiated_at,
        card_present=False,
    )
    returns.refuse_unplaced(plan)
    return plan.refunds


# --- cancelling -----------------------------------------------------------------------------


def cancel(
    *, db: Database, actor: Actor, carrier: Carrier, return_id: uuid.UUID, note: str = ""
) -> ReturnView:
    """The parcel never came: the units go back onto the order, the return is cancelled."""
    actor.require(Permission.RETURNS_CREATE)
    with db.uow(write=False) as uow:
        tracking_number = authorized(uow, actor, return_id).tracking_number
    voided = None if tracking_number is None else _void(carrier, tracking_number)
    with db.uow() as uow:
        ret = authorized(uow, actor, return_id, lock=True)
        for row in return_views.lines_of(uow, ret.id):
            _give_units_back(uow, row)
        now = utcnow()
        ret.status = "cancelled"
        ret.cancelled_at = now
        if ret.label is not None:
            ret.label = {**ret.label, "voided": voided}
        if note:
            ret.note = f"{ret.note}\ncancelled: {note}".strip()[:500]
        audit.record(
            uow,
            action="return.cancelled",
            actor=actor,
            subject_type="return",
            subject_id=str(ret.id),
            details={"number": ret.number, "label_voided": voided, "note": note[:200]},
        )
        events.emit(
            uow,
            topic="return.cancelled",
            aggregate_type="return",
            aggregate_id=str(ret.id),
            payload={"id": str(ret.id), "number": ret.number},
            locations=[location_code(uow, ret.location_id)],
            channel=ret.channel,
        )
        uow.commit()
        return view_of(uow, ret)


def _void(carrier: Carrier, tracking_number: str) -> bool:
    """Void the unused label (the carrier refunds it); a parcel already moving keeps it."""
    try:
        carrier.void_label(tracking_number)
    except CarrierError:
        return False
    return True


def _give_units_back(uow: UnitOfWork, row: ReturnLine) -> None:
    """Lower the order line's returned units by one conditional UPDATE."""
    assert row.order_line_id is not None
    done = uow.session.execute(
        update(OrderLine)
        .where(OrderLine.id == row.order_line_id, OrderLine.quantity_returned >= row.quantity)
        .values(quantity_returned=OrderLine.quantity_returned - row.quantity)
        .returning(OrderLine.id)
        .execution_options(synchronize_session=False)
    ).first()
    if done is None:  # only a broken ledger gets here: the return holds these units
        raise Conflict(
            "returns.units_not_held",
            "the order line does not hold this return's units",
            {"order_line_id": str(row.order_line_id), "quantity": row.quantity},
        )


# --- shared ---------------------------------------------------------------------------------


def get_return(uow: UnitOfWork, return_id: uuid.UUID, *, lock: bool = False) -> Return:
    ret = uow.session.get(Return, return_id, with_for_update=lock)
    if ret is None:
        raise NotFound("returns.not_found", "no such return", {"id": str(return_id)})
    return ret


def authorized(
    uow: UnitOfWork,
    actor: Actor,
    return_id: uuid.UUID,
    *,
    lock: bool = False,
    access: bool = True,
) -> Return:
    """The mail-in return, still awaiting its parcel (409 `returns.not_authorized`), at a
    location the actor works at (unless `access` is False: the receiver checks its own)."""
    ret = get_return(uow, return_id, lock=lock)
    if ret.kind != "mail_in":
        raise Conflict(
            "returns.not_mail_in", f"{ret.number} is not a mail-in return", {"kind": ret.kind}
        )
    if ret.status != "authorized":
        raise Conflict(
            "returns.not_authorized",
            f"{ret.number} is {ret.status}, no longer awaiting its parcel",
            {"status": ret.status},
        )
    if access:
        actor.require_location(ret.location_id, location_code(uow, ret.location_id))
    return ret
