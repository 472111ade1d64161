"""Giving a return's money back, tender by tender (the plan: domain/returns/tenders.py).

In the return's own transaction, for each planned refund, a `return_refunds` row and:

- **gift card**, **store credit**: back onto the card or the customer's credit at once;
- **cash** (and QR, given back as cash): out of the register's drawer at once;
- **card**: the amount is reserved on the card payment (`refund_requested`); the gateway is
  called after the commit (`finish_cards`), referenced to the original payment, with the
  refund's id as its idempotency key;
- a **fallback** (a card that could not take it): given as store credit or cash, with the
  card payment's refunded total raised all the same;
- **exchange credit** (the purchase was paid with an earlier exchange's credit): given as
  store credit to the return's customer (422 `returns.customer_required` without one), never
  as cash (domain/returns/tenders.py), the exchange payment's refunded total raised.

A card refund the gateway declines stays `failed` (history); `POST /returns/{id}/settle`
gives its amount as the fallback in a row of its own (`CARD_DECLINED`).

Every step raises the paying payment's refunded total by one conditional UPDATE, so two
returns of one purchase at two stores at once can never give back more than a tender took:
the second one's UPDATE finds nothing left and its whole transaction rolls back
(`TenderRaced`, and the return is evaluated again from fresh figures).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select, update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Payment, Return, ReturnRefund
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.errors import Conflict, DomainError, FieldError, ValidationFailed
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.payments.shifts import CashKind
from omnitill.domain.returns.tenders import CARD_DECLINED, PlannedRefund
from omnitill.services import refunds, shifts, store_credit


class TenderRaced(Exception):
    """A payment had less left to give back than the plan read: evaluate again."""


@dataclass(frozen=True, slots=True)
class Till:
    """Where cash is given back: the register's open shift (None without cash management)."""

    register_id: uuid.UUID | None
    shift_id: uuid.UUID | None
    cash_management: bool


def refund_id(return_id: uuid.UUID, seq: int) -> uuid.UUID:
    """The fixed id (idempotency key) of a return's `seq`-th refund."""
    return uuid.uuid5(return_id, f"return-refund:{seq}")


def check_till(plan: Sequence[PlannedRefund], till: Till) -> None:
    """Cash comes out of a register's drawer: a register, and an open shift where the
    location runs shifts (409 `shift.required`)."""
    if not any(p.given_as == "cash" for p in plan):
        return
    if till.register_id is None:
        raise ValidationFailed(
            "returns.register_required",
            "cash is given back at a register",
            errors=[FieldError("register", "returns.register_required", "required for cash")],
        )
    if till.shift_id is None and till.cash_management:
        raise Conflict(
            "shift.required",
            "cash goes back from a drawer: open a shift on the register first",
        )


def give_back_in(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ret: Return,
    plan: Sequence[PlannedRefund],
    till: Till,
    first_seq: int,
    reason: str,
) -> int:
    """Book every planned refund in the caller's transaction; what was given back at once
    (everything but card refunds, which `finish_cards` sends after the commit)."""
    given = 0
    for offset, planned in enumerate(plan):
        seq = first_seq + offset
        rid = refund_id(ret.id, seq)
        payment = uow.session.get_one(Payment, uuid.UUID(planned.payment_id))
        status = "refunded"
        if planned.given_as == planned.method and planned.method != "cash":
            with _raced():  # card: reserved; gift card, store credit: given back
                refunds.reserve_in(uow, payment, rid, planned.amount, reason, actor)
            status = "pending" if planned.method == "card" else "refunded"
        elif planned.given_as == "cash" and planned.method in ("cash", "qr"):
            if not refunds.from_drawer_in(
                uow,
                payment_id=payment.id,
                refund_id=rid,
                amount=planned.amount,
                shift_id=till.shift_id,
                actor=actor,
                message=f"{reason}: cash from the drawer",
                reference_type="return",
                reference_id=str(ret.id),
            ):
                raise TenderRaced
        else:  # a fallback, or exchange credit: the share given as store credit or cash
            with _raced():
                refunds.given_otherwise_in(
                    uow, payment, rid, planned.amount, planned.given_as, reason, actor
                )
            _give_fallback(uow, actor, ret, planned, rid, till, reason)
        uow.session.add(
            ReturnRefund(
                id=rid,
                return_id=ret.id,
                seq=seq,
                payment_id=payment.id,
                method=planned.method,
                given_as=planned.given_as,
                amount_minor=planned.amount,
                currency=ret.currency,
                status=status,
                fallback_reason=planned.fallback_reason,
            )
        )
        if status == "refunded":
            given += planned.amount
    return given


def store_credit_in(
    uow: UnitOfWork, *, actor: Actor, ret: Return, amount: int, seq: int, reason: str
) -> None:
    """A refund with no tender behind it (a return without a receipt): store credit."""
    if ret.customer_id is None:
        raise _customer_required()
    rid = refund_id(ret.id, seq)
    store_credit.issue_in(
        uow,
        customer_id=ret.customer_id,
        currency=ret.currency,
        amount=amount,
        kind="refund",
        reason=reason,
        actor=actor,
        reference_type="return",
        reference_id=str(ret.id),
    )
    uow.session.add(
        ReturnRefund(
            id=rid,
            return_id=ret.id,
            seq=seq,
            payment_id=None,
            method="none",
            given_as="store_credit",
            amount_minor=amount,
            currency=ret.currency,
            status="refunded",
        )
    )


def finish_cards(
    *, db: Database, actor: Actor, gateway: PaymentGateway, return_id: uuid.UUID, reason: str
) -> None:
    """Send the return's pending card refunds to the gateway (each once, by its id), and
    book each answer: refunded, failed (the reserved amount went back to the payment), or
    still pending when the gateway did not answer (sent again by the next settle)."""
    with db.uow(write=False) as uow:
        pending = [
            (r.id, r.payment_id, r.amount_minor)
            for r in uow.session.scalars(
                select(ReturnRefund)
                .where(ReturnRefund.return_id == return_id, ReturnRefund.status == "pending")
                .order_by(ReturnRefund.seq)
            )
        ]
    for rid, payment_id, amount in pending:
        assert payment_id is not None
        try:
            done = refunds.refund(
                db=db,
                actor=actor,
                gateway=gateway,
                payment_id=payment_id,
                refund_id=rid,
                amount=amount,
                reason=reason,
            )
        except Conflict as refused:  # declined: the reservation was given back
            _book_card(db, return_id, rid, "failed", None, refused.message)
            continue
        except DomainError:  # no answer: stays pending, sent again later
            continue
        _book_card(db, return_id, rid, "refunded", done.gateway_reference, "")


def _book_card(
    db: Database,
    return_id: uuid.UUID,
    rid: uuid.UUID,
    status: str,
    reference: str | None,
    message: str,
) -> None:
    with db.uow() as uow:
        row = uow.session.get_one(ReturnRefund, rid, with_for_update=True)
        if row.status != "pending":
            return
        row.status = status
        row.gateway_reference = reference
        row.message = message[:200]
        if status == "refunded":
            uow.session.execute(
                update(Return)
                .where(Return.id == return_id)
                .values(refunded_minor=Return.refunded_minor + row.amount_minor)
                .execution_options(synchronize_session=False)
            )
        close_if_settled(uow, return_id)
        uow.commit()


def close_if_settled(uow: UnitOfWork, return_id: uuid.UUID) -> None:
    """A return whose refunds are all given back (and whose exchange credit is spent) is
    completed, with its refund time for the turnaround figures."""
    ret = uow.session.get_one(Return, return_id)
    if ret.status not in ("refund_pending",):
        return
    pending = uow.session.scalar(
        select(ReturnRefund.id).where(
            ReturnRefund.return_id == return_id, ReturnRefund.status == "pending"
        )
    )
    if pending is None and not declined_unsettled(uow, return_id):
        now = utcnow()
        ret.status = "completed"
        ret.refunded_at = ret.refunded_at or now
        ret.completed_at = now


def declined_unsettled(uow: UnitOfWork, return_id: uuid.UUID) -> list[ReturnRefund]:
    """The return's `failed` card refunds not yet given another way: per payment, the
    `CARD_DECLINED` rows settle the failed ones in seq order."""
    rows = uow.session.scalars(
        select(ReturnRefund).where(ReturnRefund.return_id == return_id).order_by(ReturnRefund.seq)
    ).all()
    settled: dict[uuid.UUID | None, int] = {}
    for r in rows:
        if r.fallback_reason == CARD_DECLINED and r.status == "refunded":
            settled[r.payment_id] = settled.get(r.payment_id, 0) + r.amount_minor
    left: list[ReturnRefund] = []
    for r in rows:
        if r.status != "failed":
            continue
        if settled.get(r.payment_id, 0) >= r.amount_minor:
            settled[r.payment_id] -= r.amount_minor
        else:
            left.append(r)
    return left


def _give_fallback(
    uow: UnitOfWork,
    actor: Actor,
    ret: Return,
    planned: PlannedRefund,
    rid: uuid.UUID,
    till: Till,
    reason: str,
) -> None:
    if planned.given_as == "store_credit":
        if ret.customer_id is None:
            raise _customer_required()
        store_credit.issue_in(
            uow,
            customer_id=ret.customer_id,
            currency=ret.currency,
            amount=planned.amount,
            kind="refund",
            reason=reason,
            actor=actor,
            reference_type="return",
            reference_id=str(ret.id),
        )
        return
    if till.shift_id is not None:
        shifts.record_sale_cash(
            uow,
            shift_id=till.shift_id,
            amount=planned.amount,
            actor=actor,
            reference_type="return",
            reference_id=str(ret.id),
            kind=CashKind.REFUND,
        )


@contextmanager
def _raced() -> Iterator[None]:
    try:
        yield
    except ValidationFailed as short:
        if short.code == "refund.exceeds_payment":
            raise TenderRaced from short
        raise


def _customer_required() -> ValidationFailed:
    return ValidationFailed(
        "returns.customer_required",
        "store credit is given to a customer: attach one to the return",
        errors=[FieldError("customer", "returns.customer_required", "required")],
    )
