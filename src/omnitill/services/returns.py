"""Returns and exchanges at any location: decide, take the units back, give the money back.

A return names the purchase (a sale or an order; none for a return without a receipt), the
location receiving the goods, and per line the units, their condition, the reason and the
disposition. One transaction:

1. the purchase is read from its snapshot (services/return_sources.py) and every line decided
   by the returns policy (domain/returns/policy.py), with the promotion charge-backs and the
   shipping refund by rule; the fraud checks score it (domain/returns/risk.py);
2. a refused line refuses the return (422 with each line's reasons, nothing written); what
   the policy, the risk score or a refund away from the card sends to a manager needs
   `returns.approve` or a manager's override token (403), recorded with the return;
3. the units are taken off the sold lines by one conditional UPDATE per line
   (`quantity_returned + n <= sold`), so concurrent returns of one purchase at two stores
   never take more than was sold (409 `returns.more_than_sold` to the later one);
4. the units go into the receiving location's stock by disposition (services/return_stock.py)
   and the money back to the tenders (services/return_money.py); a mail-in return only
   authorises (units held, no stock, no money) until `receive`; an exchange keeps the money
   as credit for the new sale or order (`exchange` tender) until `settle` refunds the rest;
5. the return, its lines, the audit entry (decision, risk, approval) and a `return.created`
   event commit together; card refunds go to the gateway after the commit.

A return is idempotent by its id: the same id with the same body replays the first answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, OrderLine, Return, ReturnLine, SaleLine
from omnitill.adapters.db.repositories.sequences import next_number
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from omnitill.domain.money import allocate
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.returns import model as m
from omnitill.domain.returns.tenders import (
    PlannedRefund,
    RefundPlan,
)
from omnitill.services import (
    audit,
    events,
    return_money,
)
from omnitill.services.auth import authorise
from omnitill.services.references import accessible_location
from omnitill.services.retries import run_retrying
from omnitill.services.return_evaluation import Evaluation, evaluate
from omnitill.services.return_requests import (
    ReturnInput,
    check_shape,
    decision_json,
    reason_json,
)
from omnitill.services.return_sources import SourceLine
from omnitill.services.return_stock import UnitsBack, lot_of, put_back
from omnitill.services.return_views import ReturnView, view_of

REASON = "return"


def preview(*, db: Database, actor: Actor, request: ReturnInput) -> tuple[Evaluation, str]:
    """The decision, refund plan and risk of a return, writing nothing; and the location's
    currency."""
    actor.require(Permission.RETURNS_CREATE)
    with db.uow(write=False) as uow:
        loc = accessible_location(uow, actor, request.location)
        return evaluate(uow, actor, request, loc, utcnow()), loc.currency


def create(
    *, db: Database, actor: Actor, gateway: PaymentGateway, request: ReturnInput
) -> ReturnView:
    """Take a return (see the module doc)."""
    actor.require(Permission.RETURNS_CREATE)
    check_shape(request)
    digest = request.fingerprint()

    def once() -> ReturnView:
        for _ in range(3):
            try:
                return _record(db, actor, request, digest)
            except return_money.TenderRaced:
                continue
        raise Conflict("returns.busy", "the purchase is being returned elsewhere; try again")

    try:
        view = run_retrying(once)
    except (ValidationFailed, PermissionDenied) as refused:
        if refused.code.startswith("returns.") and "decision" in refused.details:
            _audit_refusal(db, actor, request, refused)
        raise
    if view.replayed:
        return view
    return_money.finish_cards(db=db, actor=actor, gateway=gateway, return_id=view.id, reason=REASON)
    with db.uow(write=False) as uow:
        return view_of(uow, uow.session.get_one(Return, view.id))


def _audit_refusal(
    db: Database, actor: Actor, request: ReturnInput, refused: ValidationFailed | PermissionDenied
) -> None:
    """A refused return writes nothing, but the decision is audited all the same (repeated
    attempts are what the fraud review looks for), in a transaction of its own."""
    with db.uow() as uow:
        audit.record(
            uow,
            action="return.refused",
            actor=actor,
            subject_type="return",
            subject_id=str(request.id),
            details={
                "code": refused.code,
                "location": request.location,
                "sale_id": None if request.sale_id is None else str(request.sale_id),
                "order_id": None if request.order_id is None else str(request.order_id),
                "customer_id": None if request.customer_id is None else str(request.customer_id),
                "reasons": [e.code for e in refused.errors] or refused.details.get("reasons", []),
            },
        )
        uow.commit()


def _record(db: Database, actor: Actor, request: ReturnInput, digest: str) -> ReturnView:
    with db.uow() as uow:
        prior = uow.session.get(Return, request.id)
        if prior is not None:
            return _replay(uow, prior, digest)
        loc = accessible_location(uow, actor, request.location)
        if not loc.accepts_returns:
            raise Conflict("returns.not_accepted_here", f"{loc.code} does not take returns")
        till = till_at(uow, actor, request.register, loc)
        now = utcnow()
        ev = evaluate(uow, actor, request, loc, now)
        _refuse_if_refused(ev)
        approval = _approve(uow, actor, request, ev)
        if ev.plan is not None:
            refuse_unplaced(ev.plan)
            return_money.check_till(ev.plan.refunds, till)
        _take_units(uow, request, ev)
        ret = _return_row(uow, actor, request, ev, loc, till, digest, now, approval)
        _line_rows(uow, request, ev, ret)
        if request.kind != "mail_in":
            finish_in(uow, actor=actor, ret=ret, ev=ev, request=request, till=till, loc=loc)
        audit.record(
            uow,
            action="return.created",
            actor=actor,
            subject_type="return",
            subject_id=str(ret.id),
            details={
                "number": ret.number,
                "kind": ret.kind,
                "source": None if ev.source is None else f"{ev.source.kind}:{ev.source.id}",
                "refund_total": ev.refund_total,
                "currency": ret.currency,
                "risk_score": ev.risk.score,
                "risk": list(ev.risk.codes),
                "decision": ret.decision,
                "approval": approval,
            },
        )
        events.emit(
            uow,
            topic="return.created",
            aggregate_type="return",
            aggregate_id=str(ret.id),
            payload={"id": str(ret.id), "number": ret.number, "kind": ret.kind},
            locations=[loc.code],
            channel=ret.channel,
        )
        uow.commit()
        return view_of(uow, ret)


def finish_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ret: Return,
    ev: Evaluation,
    request: ReturnInput,
    till: return_money.Till,
    loc: Location,
) -> None:
    """Stock by disposition, then the money: to the tenders, or held as exchange credit."""
    units = []
    for i, (line, sl) in enumerate(zip(request.lines, ev.lines, strict=True)):
        vid, sku, _, _ = ev.variants[i]
        assert line.disposition is not None  # checked by check_shape
        before = 0 if sl is None else sl.quantity_returned
        lot = None if sl is None else lot_of(sl.lots, before)
        units.append(
            UnitsBack(vid, sku, line.quantity, m.Disposition(line.disposition), line.serials, lot)
        )
    plan = None if ev.plan is None else ev.plan.refunds
    take_back_in(uow, actor=actor, ret=ret, units=units, plan=plan, till=till, loc=loc)


def take_back_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ret: Return,
    units: Sequence[UnitsBack],
    plan: Sequence[PlannedRefund] | None,
    till: return_money.Till,
    loc: Location,
) -> None:
    """The units into `loc`'s stock by disposition, then `ret.refund_total_minor` back: over
    `plan` (the tenders), as store credit without one (no receipt), or held as exchange
    credit. Shared by a return at the counter and a mail-in return received."""
    now = utcnow()
    put_back(
        uow,
        actor=actor,
        location_id=loc.id,
        timezone=loc.timezone,
        return_id=ret.id,
        units=units,
        now=now,
    )
    ret.received_at = now
    if ret.kind == "exchange":
        ret.exchange_credit_minor = ret.refund_total_minor
        ret.status = "exchange_open"
        return
    if plan is None:  # no receipt: store credit
        return_money.store_credit_in(
            uow, actor=actor, ret=ret, amount=ret.refund_total_minor, seq=1, reason=REASON
        )
        given = ret.refund_total_minor
    else:
        given = return_money.give_back_in(
            uow, actor=actor, ret=ret, plan=plan, till=till, first_seq=1, reason=REASON
        )
    ret.refunded_minor = given
    ret.status = "refund_pending"
    uow.session.flush()
    return_money.close_if_settled(uow, ret.id)


def refuse_unplaced(plan: RefundPlan) -> None:
    """409 when the purchase's tenders cannot take the refund (they gave back elsewhere)."""
    if plan.unplaced:
        raise Conflict(
            "returns.tenders_exhausted",
            f"the purchase's payments can give back {plan.total} of {plan.total + plan.unplaced}",
            {"refundable": plan.total, "requested": plan.total + plan.unplaced},
        )


def _refuse_if_refused(ev: Evaluation) -> None:
    refused = [line for line in ev.decision.lines if not line.allowed]
    if not refused:
        return
    errors = [
        FieldError(f"lines.{line.index}", r.code, r.message)
        for line in refused
        for r in line.reasons
        if r.refuses and not r.overridden
    ]
    codes = sorted({e.code for e in errors})
    raise ValidationFailed(
        codes[0] if len(codes) == 1 else "returns.refused",
        "the return is refused: " + "; ".join(e.message for e in errors),
        {"decision": decision_json(ev)},
        errors=errors,
    )


def _approve(
    uow: UnitOfWork, actor: Actor, request: ReturnInput, ev: Evaluation
) -> dict[str, Any] | None:
    if not ev.needs_manager:
        return None
    reasons = ev.approval_reasons()
    if not actor.can(Permission.RETURNS_APPROVE) and request.override_token is None:
        raise _approval_required(reasons, ev)
    granted = authorise(
        uow,
        actor=actor,
        permission=Permission.RETURNS_APPROVE,
        override_token=request.override_token,
        used_for=f"return:{request.id}",
    )
    return {"reasons": reasons, **granted.as_details()}


def _approval_required(reasons: list[str], ev: Evaluation) -> Exception:
    return PermissionDenied(
        "returns.manager_approval_required",
        "a manager must approve this return: " + ", ".join(reasons),
        {"reasons": reasons, "decision": decision_json(ev)},
    )


def _take_units(uow: UnitOfWork, request: ReturnInput, ev: Evaluation) -> None:
    """Raise each sold line's returned units by one conditional UPDATE, in line id order."""
    wanted: dict[uuid.UUID, int] = {}
    for x, sl in zip(request.lines, ev.lines, strict=True):
        if sl is not None:
            wanted[sl.line_id] = wanted.get(sl.line_id, 0) + x.quantity
    assert ev.source is not None or not wanted
    for line_id in sorted(wanted):
        n = wanted[line_id]
        if ev.source is not None and ev.source.kind == "sale":
            stmt = (
                update(SaleLine)
                .where(SaleLine.id == line_id, SaleLine.quantity_returned + n <= SaleLine.quantity)
                .values(quantity_returned=SaleLine.quantity_returned + n)
                .returning(SaleLine.id)
            )
        else:
            stmt = (
                update(OrderLine)
                .where(
                    OrderLine.id == line_id,
                    OrderLine.quantity_returned + n <= OrderLine.quantity_fulfilled,
                )
                .values(quantity_returned=OrderLine.quantity_returned + n)
                .returning(OrderLine.id)
            )
        done = uow.session.execute(stmt.execution_options(synchronize_session=False)).first()
        if done is None:
            raise Conflict(
                "returns.more_than_sold",
                "these units were returned meanwhile (another return took them)",
                {"line_id": str(line_id), "requested": n},
            )


def till_at(
    uow: UnitOfWork, actor: Actor, register: str | None, loc: Location
) -> return_money.Till:
    """Where cash is given back: the named register at `loc` and its open shift."""
    if register is None:
        return return_money.Till(None, None, loc.cash_management)
    from omnitill.services import shifts
    from omnitill.services.payments import register_and_location

    reg, reg_loc = register_and_location(uow, actor, register)
    if reg_loc.id != loc.id:
        raise ValidationFailed(
            "returns.register_elsewhere",
            f"{reg.code} is not at {loc.code}",
            errors=[FieldError("register", "returns.register_elsewhere", reg_loc.code)],
        )
    return return_money.Till(reg.id, shifts.open_shift_of(uow, reg.id), loc.cash_management)


def _return_row(
    uow: UnitOfWork,
    actor: Actor,
    request: ReturnInput,
    ev: Evaluation,
    loc: Location,
    till: return_money.Till,
    digest: str,
    now: datetime,
    approval: dict[str, Any] | None,
) -> Return:
    source = ev.source
    prefix = "RMA" if request.kind == "mail_in" else "RET"
    ret = Return(
        id=request.id,
        number=next_number(uow.connection, f"return:{prefix}", prefix),
        kind=request.kind,
        status="authorized",
        sale_id=request.sale_id,
        order_id=request.order_id,
        channel="in_store" if source is None else source.channel,
        location_id=loc.id,
        register_id=till.register_id,
        shift_id=till.shift_id,
        customer_id=request.customer_id or (None if source is None else source.customer_id),
        currency=loc.currency,
        refund_total_minor=ev.refund_total,
        fee_total_minor=ev.decision.fee_total,
        shipping_refund_minor=ev.shipping,
        refunded_minor=0,
        exchange_credit_minor=0,
        exchange_applied_minor=0,
        no_receipt=source is None,
        risk_score=ev.risk.score,
        risk=[{"code": s.code, "points": s.points, "message": s.message} for s in ev.risk.signals],
        decision=decision_json(ev),
        approval=approval,
        card_fingerprint=request.card_fingerprint,
        request_hash=digest,
        note=request.note[:500],
        actor_id=actor.user_id,
        initiated_at=now,
    )
    uow.session.add(ret)
    uow.session.flush()
    return ret


def _line_rows(uow: UnitOfWork, request: ReturnInput, ev: Evaluation, ret: Return) -> None:
    taken: dict[uuid.UUID, int] = {}
    for i, (x, sl, d) in enumerate(zip(request.lines, ev.lines, ev.decision.lines, strict=True)):
        vid, sku, name, category = ev.variants[i]
        uow.session.add(
            ReturnLine(
                return_id=ret.id,
                line_no=i + 1,
                sale_line_id=sl.line_id if sl is not None and ev.source.kind == "sale" else None,  # type: ignore[union-attr]
                order_line_id=sl.line_id if sl is not None and ev.source.kind == "order" else None,  # type: ignore[union-attr]
                variant_id=vid,
                category_id=category,
                sku=sku,
                name=name,
                quantity=x.quantity,
                serials=list(x.serials),
                condition=x.condition or "",
                reason_code=x.reason,
                disposition=x.disposition,
                refund_minor=d.refund,
                fee_minor=d.fee,
                tax_minor=_tax_share(sl, x.quantity, taken),
                chargeback_minor=ev.chargebacks[i],
                refund_to=d.refund_to.value,
                reasons=[reason_json(r) for r in (*d.reasons, *ev.chargeback_reasons[i])],
            )
        )


def _tax_share(sl: SourceLine | None, quantity: int, taken: dict[uuid.UUID, int]) -> int:
    """The tax inside a receipt line's refund: the sold line's tax, as charged (its rates
    and jurisdictions), split over its units like what was paid, these units' part."""
    if sl is None:
        return 0
    start = sl.sold.returned_quantity + taken.get(sl.line_id, 0)
    taken[sl.line_id] = taken.get(sl.line_id, 0) + quantity
    shares = allocate(sl.sold.tax_total, [1] * sl.sold.quantity)
    return sum(shares[start : start + quantity])


def _replay(uow: UnitOfWork, prior: Return, digest: str) -> ReturnView:
    if prior.request_hash != digest:
        raise ValidationFailed(
            "returns.id_reused",
            "this return id was used for another return",
            errors=[FieldError("id", "returns.id_reused", "use a new id")],
        )
    return replace(view_of(uow, prior), replayed=True)
