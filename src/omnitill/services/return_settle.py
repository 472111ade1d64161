"""Settling a return: what an exchange did not spend, and card refunds the gateway declined.

`POST /api/v1/returns/{id}/settle`, by the return's status:

- **exchange_open**: the exchange credit not spent on the new sale or order (credit less
  applied) is refunded to the purchase's original tenders now, planned like a return's
  refund (domain/returns/tenders.py over services/return_sources.py), cash from the
  register's drawer, card refunds sent after the commit. The return's row is locked first
  and leaves `exchange_open` in the same transaction, so no exchange tender can spend the
  credit while it is being refunded (the tender's conditional UPDATE finds it closed). A
  return with nothing left to refund completes.
- **refund_pending**: card refunds still pending (the gateway did not answer) are sent again;
  card refunds the gateway declined (`failed`) are given as the `fallback` (store credit to
  the return's customer, or cash from the drawer) with `returns.approve` or a manager's
  override, recorded on the return's `approval`. The failed row stays as history; the
  fallback is a new `return_refunds` row (`fallback_reason` `returns.card_refund_declined`)
  and the card payment's refunded total rises by it, so the card never gives back more than
  it took.
- anything else: 409 `returns.not_settleable`.

What moves money is audited (`return.settled`) and emits `return.settled`. A tender that
gave back meanwhile (another return of the same purchase) makes the plan stale: the
transaction rolls back and the plan is made again from fresh figures, as in returns.create.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Return, ReturnRefund
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.returns.tenders import (
    CARD_DECLINED,
    Fallback,
    PlannedRefund,
    RefundRules,
    plan_refund,
)
from omnitill.services import audit, events, return_money, return_settings, returns
from omnitill.services.auth import authorise
from omnitill.services.retries import run_retrying
from omnitill.services.return_requests import planned_json
from omnitill.services.return_sources import load
from omnitill.services.return_views import ReturnView, view_of

REASON = "return settled"


@dataclass(frozen=True, slots=True)
class SettleInput:
    """`register`: where cash is given back; `fallback`: how declined card refunds are
    given instead; `override_token`: a manager's approval of that fallback."""

    return_id: uuid.UUID
    register: str | None = None
    fallback: str | None = None  # store_credit | cash
    override_token: str | None = None


def settle(
    *, db: Database, actor: Actor, gateway: PaymentGateway, request: SettleInput
) -> ReturnView:
    """Settle a return (see the module doc)."""
    actor.require(Permission.RETURNS_CREATE)
    with db.uow(write=False) as uow:
        status = _status(uow, request.return_id)
    if status == "refund_pending":  # try the gateway again before giving anything otherwise
        return_money.finish_cards(
            db=db, actor=actor, gateway=gateway, return_id=request.return_id, reason=REASON
        )

    def once() -> None:
        for _ in range(3):
            try:
                _settle(db, actor, request, status)
                return
            except return_money.TenderRaced:
                continue
        raise Conflict("returns.busy", "the purchase is being returned elsewhere; try again")

    run_retrying(once)
    return_money.finish_cards(
        db=db, actor=actor, gateway=gateway, return_id=request.return_id, reason=REASON
    )
    with db.uow(write=False) as uow:
        return view_of(uow, uow.session.get_one(Return, request.return_id))


def _status(uow: UnitOfWork, return_id: uuid.UUID) -> str:
    status = uow.session.scalar(select(Return.status).where(Return.id == return_id))
    if status is None:
        raise NotFound("returns.not_found", "no such return", {"id": str(return_id)})
    return status


def _settle(db: Database, actor: Actor, request: SettleInput, was: str) -> None:
    with db.uow() as uow:
        ret = uow.session.get(Return, request.return_id, with_for_update=True)
        if ret is None:
            raise NotFound("returns.not_found", "no such return", {"id": str(request.return_id)})
        if was == "refund_pending" and ret.status == "completed":
            return  # the card refunds sent again were all answered: settled
        loc = uow.session.get_one(Location, ret.location_id)
        if request.register is None:
            actor.require_location(loc.id, loc.code)
        details: dict[str, Any] | None
        if ret.status == "exchange_open":
            details = _refund_the_rest(uow, actor, ret, loc, request)
        elif ret.status == "refund_pending":
            details = _give_declined_otherwise(uow, actor, ret, loc, request)
        else:
            raise Conflict(
                "returns.not_settleable",
                f"{ret.number} is {ret.status}: nothing to settle",
                {"status": ret.status},
            )
        uow.session.flush()
        return_money.close_if_settled(uow, ret.id)
        if details is None:  # nothing moved: at most the return completed
            uow.commit()
            return
        audit.record(
            uow,
            action="return.settled",
            actor=actor,
            subject_type="return",
            subject_id=str(ret.id),
            details={"number": ret.number, "currency": ret.currency, **details},
        )
        events.emit(
            uow,
            topic="return.settled",
            aggregate_type="return",
            aggregate_id=str(ret.id),
            payload={"id": str(ret.id), "number": ret.number, "status": ret.status},
            locations=[loc.code],
            channel=ret.channel,
        )
        uow.commit()


def _refund_the_rest(
    uow: UnitOfWork, actor: Actor, ret: Return, loc: Location, request: SettleInput
) -> dict[str, Any]:
    """The unspent exchange credit back to the purchase's tenders (store credit without a
    receipt); the return leaves `exchange_open` for good."""
    rest = ret.exchange_credit_minor - ret.exchange_applied_minor
    ret.status = "refund_pending"
    seq = _next_seq(uow, ret.id)
    given = 0
    plan: tuple[PlannedRefund, ...] = ()
    if rest > 0 and ret.sale_id is None and ret.order_id is None:
        return_money.store_credit_in(uow, actor=actor, ret=ret, amount=rest, seq=seq, reason=REASON)
        given = rest
    elif rest > 0:
        source = load(uow, sale_id=ret.sale_id, order_id=ret.order_id)
        refunds = return_settings.load(uow, ret.currency).refunds
        rules = RefundRules(
            card_max_days=refunds.card_refund_max_days,
            card_present_required=refunds.card_present_required,
            fallback=Fallback(refunds.fallback),
        )
        made = plan_refund(rest, source.tenders, rules=rules, now=utcnow(), card_present=False)
        if made.unplaced:
            raise Conflict(
                "returns.tenders_exhausted",
                f"the purchase's tenders can give back only {made.total} of {rest}",
                {"unplaced": made.unplaced},
            )
        plan = made.refunds
        if made.needs_manager:
            reasons = sorted({p.fallback_reason for p in plan if p.fallback_reason})
            ret.approval = {
                **(ret.approval or {}),
                "settle": _approve(uow, actor, request, reasons),
            }
        till = returns.till_at(uow, actor, request.register, loc)
        return_money.check_till(plan, till)
        given = return_money.give_back_in(
            uow, actor=actor, ret=ret, plan=plan, till=till, first_seq=seq, reason=REASON
        )
    ret.refunded_minor += given
    return {
        "exchange_credit": ret.exchange_credit_minor,
        "exchange_applied": ret.exchange_applied_minor,
        "refunded_rest": rest,
        "refunds": [planned_json(p) for p in plan],
    }


def _give_declined_otherwise(
    uow: UnitOfWork, actor: Actor, ret: Return, loc: Location, request: SettleInput
) -> dict[str, Any] | None:
    """Declined card refunds given as the fallback, with a manager's approval; None when
    none was declined (the return completes once its pending card refunds are answered)."""
    declined = return_money.declined_unsettled(uow, ret.id)
    if not declined:
        return None
    if request.fallback is None:
        raise ValidationFailed(
            "returns.fallback_required",
            "the gateway declined a card refund: give it as store_credit or cash",
            {"declined": sum(r.amount_minor for r in declined)},
            errors=[FieldError("fallback", "returns.fallback_required", "store_credit or cash")],
        )
    approval = _approve(uow, actor, request, [CARD_DECLINED])
    plan = tuple(
        PlannedRefund(str(r.payment_id), r.method, request.fallback, r.amount_minor, CARD_DECLINED)
        for r in declined
    )
    till = returns.till_at(uow, actor, request.register, loc)
    return_money.check_till(plan, till)
    given = return_money.give_back_in(
        uow,
        actor=actor,
        ret=ret,
        plan=plan,
        till=till,
        first_seq=_next_seq(uow, ret.id),
        reason=REASON,
    )
    ret.refunded_minor += given
    ret.approval = {**(ret.approval or {}), "settle": approval}
    return {
        "declined": [str(r.id) for r in declined],
        "fallback": request.fallback,
        "refunds": [planned_json(p) for p in plan],
        "approval": approval,
    }


def _approve(
    uow: UnitOfWork, actor: Actor, request: SettleInput, reasons: list[str]
) -> dict[str, Any]:
    """`returns.approve` by role, or a manager's override spent here (403 otherwise)."""
    if not actor.can(Permission.RETURNS_APPROVE) and request.override_token is None:
        raise PermissionDenied(
            "returns.manager_approval_required",
            "a manager must approve this: " + ", ".join(reasons),
            {"reasons": reasons},
        )
    granted = authorise(
        uow,
        actor=actor,
        permission=Permission.RETURNS_APPROVE,
        override_token=request.override_token,
        used_for=f"return-settle:{request.return_id}",
    )
    return {"reasons": reasons, **granted.as_details()}


def _next_seq(uow: UnitOfWork, return_id: uuid.UUID) -> int:
    last = uow.session.scalar(
        select(func.max(ReturnRefund.seq)).where(ReturnRefund.return_id == return_id)
    )
    return (last or 0) + 1
