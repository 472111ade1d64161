"""Refunding a payment to the tender it came from, never more than it took.

A refund has its own UUID (its idempotency key). The amount is first *reserved* on the payment
by one conditional UPDATE (`refunded + amount <= amount`), in a transaction of its own, so two
refunds of one payment at the same moment (two stores processing returns of one order) can
never together exceed what it took. Then the money goes back:

- **card**: through the gateway, referenced to the original payment, with the idempotency key
  ``refund:<id>``; a lost answer is asked after and resent with the same key (one refund,
  never two). A refusal gives the reserved amount back; an answer still unknown leaves it
  reserved (`refund.outcome_unknown`) until the same refund is sent again.
- **gift card** and **store credit**: back onto the card or the customer's credit, in the same
  transaction as the reservation.

Cash comes out of a drawer and QR payments out of the provider: both belong to the returns
flow at a register (`refund.not_supported` here). Every step is a `payment_events` entry;
refunds are sensitive (`payments.refund` or a manager override) and audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Payment, PaymentEvent
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    OutcomeUnknown,
    ValidationFailed,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.payments.gateway import GatewayError, GatewayResult, PaymentGateway
from omnitill.domain.payments.shifts import CashKind
from omnitill.domain.payments.tenders import Method
from omnitill.services import audit, gift_cards, shifts, store_credit
from omnitill.services.auth import authorise
from omnitill.services.payments import with_recovery


@dataclass(frozen=True, slots=True)
class RefundView:
    id: uuid.UUID
    payment_id: uuid.UUID
    method: str
    amount: int
    currency: str
    status: str  # refunded
    refunded_total: int  # of the payment, after this refund
    refundable: int  # what the payment may still give back
    gateway_reference: str | None = None
    replayed: bool = False


def refund(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID,
    amount: int,
    reason: str,
    override_token: str | None = None,
) -> RefundView:
    """Give `amount` of a captured payment back to its tender (see the module doc). A card
    refund reserved earlier whose answer was never recorded is completed by sending the same
    refund again (it was authorised and audited when first asked)."""
    if amount <= 0 or not reason.strip():
        errors = []
        if amount <= 0:
            errors.append(FieldError("amount", "refund.invalid_amount", "must be > 0"))
        if not reason.strip():
            errors.append(FieldError("reason", "refund.reason_required", "required"))
        raise ValidationFailed(errors[0].code, "the refund is invalid", errors=errors)
    key = f"refund:{refund_id}"
    with db.uow(write=False) as uow:
        prior = _prior(uow, key, refund_id, payment_id, amount)
    if isinstance(prior, RefundView):
        return prior
    if prior is not None:  # reserved before, its gateway answer never recorded: ask again
        return _card_refund(db, actor, gateway, payment_id, refund_id, amount, prior, reason)
    try:
        reference = _reserve_and_credit(
            db, actor, payment_id, refund_id, amount, reason, override_token
        )
    except IntegrityError:  # the same refund id, sent twice at once: the other one won
        with db.uow(write=False) as uow:
            if _prior(uow, key, refund_id, payment_id, amount) is None:
                raise  # not a twin request: a real integrity problem
        return refund(
            db=db,
            actor=actor,
            gateway=gateway,
            payment_id=payment_id,
            refund_id=refund_id,
            amount=amount,
            reason=reason,
            override_token=override_token,
        )
    if isinstance(reference, RefundView):
        return reference
    return _card_refund(db, actor, gateway, payment_id, refund_id, amount, reference, reason)


def _reserve_and_credit(
    db: Database,
    actor: Actor,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID,
    amount: int,
    reason: str,
    override_token: str | None,
) -> RefundView | str:
    """Reserve the amount on the payment and, for a gift card or store credit, give it back
    at once; the finished refund, or the card payment's gateway reference to refund."""
    with db.uow() as uow:
        payment = _payment(uow, payment_id)
        actor.require_location(payment.location_id, str(payment.location_id))
        authorisation = authorise(
            uow,
            actor=actor,
            permission=Permission.PAYMENTS_REFUND,
            override_token=override_token,
            used_for=f"refund:{refund_id}",
        )
        if payment.method not in (Method.CARD, Method.GIFT_CARD, Method.STORE_CREDIT):
            raise Conflict(
                "refund.not_supported",
                f"a {payment.method} payment is refunded at a register, in a return",
                {"method": payment.method},
            )
        reserve_in(uow, payment, refund_id, amount, reason, actor)
        audit.record(
            uow,
            action="payment.refund",
            actor=actor,
            subject_type="payment",
            subject_id=str(payment_id),
            details={
                "refund": str(refund_id),
                "amount": amount,
                "currency": payment.currency,
                "method": payment.method,
                "reason": reason.strip(),
                **authorisation.as_details(),
            },
        )
        uow.commit()
        if payment.method != Method.CARD:
            return _view(refund_id, payment, amount, None)
        assert payment.gateway_reference is not None
        return payment.gateway_reference


def reserve_in(
    uow: UnitOfWork,
    payment: Payment,
    refund_id: uuid.UUID,
    amount: int,
    reason: str,
    actor: Actor,
) -> None:
    """In the caller's transaction: reserve `amount` on a captured card, gift card or store
    credit payment (one conditional UPDATE; 422 `refund.exceeds_payment` past what it took)
    and give a gift card or store credit refund back at once. A card refund stays reserved
    until `refund` is called with the same id after the commit: it finds the reservation
    and sends it to the gateway."""
    key = f"refund:{refund_id}"
    if payment.status != "captured":
        raise Conflict(
            "refund.not_refundable",
            f"the payment is {payment.status}",
            {"status": payment.status},
        )
    _reserve(uow, payment, amount)
    _event(uow, payment, "refund_requested", f"{key}:requested", actor, amount, reason)
    if payment.method == Method.GIFT_CARD:
        assert payment.gift_card_id is not None
        gift_cards.refund_in(
            uow,
            card_id=payment.gift_card_id,
            amount=amount,
            actor=actor,
            reference_type="refund",
            reference_id=str(refund_id),
        )
    elif payment.method == Method.STORE_CREDIT:
        assert payment.customer_id is not None
        store_credit.issue_in(
            uow,
            customer_id=payment.customer_id,
            currency=payment.currency,
            amount=amount,
            kind="refund",
            reason=reason.strip(),
            actor=actor,
            reference_type="refund",
            reference_id=str(refund_id),
        )
    if payment.method != Method.CARD:
        _event(uow, payment, "refund", key, actor, amount, reason)


def from_drawer_in(
    uow: UnitOfWork,
    *,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID,
    amount: int,
    shift_id: uuid.UUID | None,
    actor: Actor,
    message: str,
    reference_type: str,
    reference_id: str,
) -> bool:
    """In the caller's transaction: give `amount` of a cash (or QR) payment back in cash
    from the drawer of `shift_id`: the payment's refunded total rises by one conditional
    UPDATE, a `refund` payment event and a cash refund in the drawer's ledger (when the
    location runs shifts: `shift_id`) are written. False when the payment has less than
    `amount` left to give back."""
    taken = uow.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.refunded_minor + amount <= Payment.amount_minor)
        .values(refunded_minor=Payment.refunded_minor + amount, updated_at=utcnow())
        .returning(Payment.id)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        return False
    uow.session.add(
        PaymentEvent(
            id=uuid7(),
            payment_id=payment_id,
            kind="refund",
            amount_minor=amount,
            status="captured",
            idempotency_key=f"refund:{refund_id}",
            message=message[:200],
            reference_type="refund",
            reference_id=str(refund_id),
            actor_id=actor.user_id,
        )
    )
    if shift_id is not None:
        shifts.record_sale_cash(
            uow,
            shift_id=shift_id,
            amount=amount,
            actor=actor,
            reference_type=reference_type,
            reference_id=reference_id,
            kind=CashKind.REFUND,
        )
    return True


def given_otherwise_in(
    uow: UnitOfWork,
    payment: Payment,
    refund_id: uuid.UUID,
    amount: int,
    given_as: str,
    reason: str,
    actor: Actor,
) -> None:
    """In the caller's transaction: record that `amount` of what a payment took was given
    back another way (a card that could not be refunded, given as store credit or cash with
    a manager's approval). The payment's refunded total rises like any refund, so it never
    gives back more than it took; the caller gives the money."""
    _reserve(uow, payment, amount)
    _event(uow, payment, "refund", f"refund:{refund_id}", actor, amount, f"as {given_as}: {reason}")


def _card_refund(
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID,
    amount: int,
    reference: str,
    reason: str,
) -> RefundView:
    key = f"refund:{refund_id}"

    def call() -> GatewayResult:
        return gateway.refund(reference=reference, amount=amount, idempotency_key=key)

    try:
        result, _ = with_recovery(call, gateway, key, 3)
    except GatewayError as exc:
        with db.uow() as uow:  # the gateway refused: the reserved amount goes back
            payment = _payment(uow, payment_id, lock=True)
            uow.session.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(refunded_minor=Payment.refunded_minor - amount)
            )
            _event(uow, payment, "refund_failed", f"{key}:failed", actor, amount, str(exc))
            uow.commit()
        raise Conflict(exc.code, str(exc), {"payment_id": str(payment_id)}) from exc
    if result is None:
        raise OutcomeUnknown(
            "refund.outcome_unknown",
            "the gateway did not answer; send the same refund again to settle it",
            {"payment_id": str(payment_id), "refund_id": str(refund_id)},
        )
    try:
        with db.uow() as uow:
            payment = _payment(uow, payment_id)
            _event(uow, payment, "refund", key, actor, amount, reason, result.reference)
            uow.commit()
            return _view(refund_id, payment, amount, result.reference)
    except IntegrityError:  # a retry of the same refund recorded the answer first
        with db.uow(write=False) as uow:
            done = _prior(uow, key, refund_id, payment_id, amount)
        assert isinstance(done, RefundView)
        return done


def _reserve(uow: UnitOfWork, payment: Payment, amount: int) -> None:
    done = uow.session.execute(
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.refunded_minor + amount <= Payment.amount_minor,
        )
        .values(refunded_minor=Payment.refunded_minor + amount)
        .returning(Payment.refunded_minor)
        .execution_options(synchronize_session="fetch")
    ).first()
    if done is None:
        uow.session.refresh(payment)
        left = payment.amount_minor - payment.refunded_minor
        raise ValidationFailed(
            "refund.exceeds_payment",
            f"only {left} of this payment is left to refund",
            {"refundable": left, "requested": amount},
            errors=[FieldError("amount", "refund.exceeds_payment", f"at most {left}")],
        )


def _prior(
    uow: UnitOfWork, key: str, refund_id: uuid.UUID, payment_id: uuid.UUID, amount: int
) -> RefundView | str | None:
    """What became of a refund sent before under this id: its view when it was made (a
    replay), the gateway reference of the payment when a card refund was reserved but its
    answer never recorded (it is sent again with the same key), or None when it is new."""
    events = {
        e.idempotency_key: e
        for e in uow.session.scalars(
            select(PaymentEvent).where(PaymentEvent.idempotency_key.in_([key, f"{key}:requested"]))
        )
    }
    requested = events.get(f"{key}:requested")
    if requested is None:
        return None
    if requested.payment_id != payment_id or requested.amount_minor != amount:
        raise ValidationFailed(
            "refund.id_reused",
            "this refund id was used for another refund",
            errors=[FieldError("id", "refund.id_reused", "use a new id")],
        )
    payment = _payment(uow, payment_id)
    finished = events.get(key)
    if finished is None:
        assert payment.gateway_reference is not None  # only card refunds wait on an answer
        return payment.gateway_reference
    view = _view(refund_id, payment, amount, finished.gateway_reference)
    return RefundView(
        view.id,
        view.payment_id,
        view.method,
        view.amount,
        view.currency,
        view.status,
        view.refunded_total,
        view.refundable,
        view.gateway_reference,
        replayed=True,
    )


def _payment(uow: UnitOfWork, payment_id: uuid.UUID, *, lock: bool = False) -> Payment:
    payment = uow.session.get(Payment, payment_id, with_for_update=lock)
    if payment is None:
        raise NotFound("payment.not_found", "no such payment", {"id": str(payment_id)})
    return payment


def _event(
    uow: UnitOfWork,
    payment: Payment,
    kind: str,
    key: str,
    actor: Actor,
    amount: int,
    message: str,
    reference: str | None = None,
) -> None:
    uow.session.add(
        PaymentEvent(
            id=uuid7(),
            payment_id=payment.id,
            kind=kind,
            amount_minor=amount,
            status=payment.status,
            idempotency_key=key,
            gateway_reference=reference,
            message=message[:200],
            reference_type="refund",
            reference_id=key.split(":")[1],
            actor_id=actor.user_id,
        )
    )


def _view(refund_id: uuid.UUID, payment: Payment, amount: int, reference: str | None) -> RefundView:
    return RefundView(
        id=refund_id,
        payment_id=payment.id,
        method=payment.method,
        amount=amount,
        currency=payment.currency,
        status="refunded",
        refunded_total=payment.refunded_minor,
        refundable=payment.amount_minor - payment.refunded_minor,
        gateway_reference=reference,
    )
