"""Card payments through the gateway: never charge twice, never lose a charge.

A card payment is born on the register with its own UUID, which is its idempotency key here
and (as ``pay:<uuid>``) at the gateway. The attempt is committed as `pending` *before* the
gateway is called, and the answer recorded in a second transaction, so a crash in between
leaves a record that `resolve` can settle by asking the gateway what became of that key.

When the gateway's answer is lost (`GatewayTimeout`), the outcome is unknown: the service asks
`lookup(key)` and, if the gateway never saw the request, sends it again with the *same* key
(which a gateway answers at most once), up to `attempts` times. Only then is the payment left
`unknown` (504 `payment.outcome_unknown`) for a later `resolve`. A decline is recorded and
answered 402 `payment.declined`: the sale stays open and the customer pays another way.

Every request and answer is an event of the append-only `payment_events` ledger; the
`payments` row is the projection. No card number ever reaches this module: the terminal
encrypted it for the gateway (DESIGN invariant 6).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Payment, PaymentEvent, Register
from omnitill.config import Settings
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    OutcomeUnknown,
    PaymentDeclined,
    ValidationFailed,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.payments.gateway import (
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    PaymentGateway,
    PaymentStatus,
)
from omnitill.domain.payments.tenders import EntryMode, Method
from omnitill.services.references import location_by_code
from omnitill.services.shifts import open_shift_of

CARD_ENTRY_MODES = frozenset(EntryMode) - {EntryMode.QR}
FINAL = frozenset({"captured", "authorized", "declined", "voided", "failed", "expired"})


@dataclass(frozen=True, slots=True)
class CardPaymentRequest:
    payment_id: uuid.UUID
    register: str | None  # the register that takes it; None for an order paid online
    amount: int
    payment_data: str  # encrypted by the terminal for the gateway, or a gateway token
    entry_mode: str
    sale_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    currency: str | None = None  # default: the store's
    capture: bool = True
    location: str | None = None  # without a register: the location it is booked to


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: uuid.UUID
    sale_id: uuid.UUID | None
    order_id: uuid.UUID | None
    method: str
    status: str
    amount: int
    currency: str
    refunded: int
    entry_mode: str | None
    card_brand: str | None
    card_last4: str | None
    card_exp_month: int | None
    card_exp_year: int | None
    auth_code: str | None
    decline_code: str | None
    message: str
    created_at: datetime


def view(payment: Payment) -> PaymentView:
    return PaymentView(
        id=payment.id,
        sale_id=payment.sale_id,
        order_id=payment.order_id,
        method=payment.method,
        status=payment.status,
        amount=payment.amount_minor,
        currency=payment.currency,
        refunded=payment.refunded_minor,
        entry_mode=payment.entry_mode,
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        card_exp_month=payment.card_exp_month,
        card_exp_year=payment.card_exp_year,
        auth_code=payment.auth_code,
        decline_code=payment.decline_code,
        message=payment.message,
        created_at=payment.created_at,
    )


def gateway_for(settings: Settings) -> PaymentGateway:
    """The configured card processor: the sandbox (its records beside the database) or
    Stripe (an optional extra, imported only when chosen)."""
    if settings.payment_gateway == "stripe":
        from omnitill.adapters.payments.stripe_gateway import StripeGateway

        assert settings.stripe_api_key is not None  # the settings refuse stripe without
        return StripeGateway(
            settings.stripe_api_key,
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.gateway_timeout_seconds,
        )
    from omnitill.adapters.payments.sandbox import SandboxGateway

    return SandboxGateway(settings.resolved_sandbox_gateway_path)


# --- paying by card -----------------------------------------------------------------------------


def pay_by_card(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    request: CardPaymentRequest,
    attempts: int = 3,
    permission: Permission = Permission.SALES_CREATE,
) -> PaymentView:
    """Charge (or authorize) a card; the same payment id again replays its outcome.

    `permission` is what the actor needs: taking a sale's payment, or placing an order."""
    actor.require(permission)
    _check_card_request(request)
    payment = _record_attempt(db, actor, gateway, request)
    if payment.status in FINAL:
        return _answer(view(payment))
    key = payment.idempotency_key

    def authorize() -> GatewayResult:
        return gateway.authorize(
            amount=payment.amount_minor,
            currency=payment.currency,
            payment_data=request.payment_data,
            entry_mode=request.entry_mode,
            idempotency_key=key,
            capture=request.capture,
        )

    try:
        result, timeouts = with_recovery(authorize, gateway, key, attempts)
    except GatewayError as exc:
        return _answer(_record_failure(db, actor, payment.id, exc))
    return _answer(_record_result(db, actor, payment.id, result, timeouts))


def _check_card_request(request: CardPaymentRequest) -> None:
    errors: list[FieldError] = []
    if request.amount <= 0:
        errors.append(FieldError("amount", "payment.amount_not_positive", "must be > 0"))
    if request.entry_mode not in CARD_ENTRY_MODES:
        modes = ", ".join(sorted(CARD_ENTRY_MODES))
        errors.append(FieldError("entry_mode", "payment.invalid_entry_mode", f"one of {modes}"))
    if not request.payment_data.strip():
        errors.append(FieldError("payment_data", "payment.data_required", "from the terminal"))
    if (request.sale_id is None) == (request.order_id is None):
        errors.append(FieldError("sale_id", "payment.target_required", "a sale or an order"))
    if request.register is None and request.location is None:
        errors.append(FieldError("register", "payment.register_required", "a register"))
    if errors:
        raise ValidationFailed(errors[0].code, "the card payment is invalid", errors=errors)


def _record_attempt(
    db: Database, actor: Actor, gateway: PaymentGateway, request: CardPaymentRequest
) -> Payment:
    """The pending payment, committed before the gateway is asked (or the one recorded under
    this id before, which must be the same request)."""
    with db.uow() as uow:
        existing = uow.session.get(Payment, request.payment_id)
        if existing is not None:
            same = (
                existing.method == Method.CARD
                and existing.amount_minor == request.amount
                and existing.sale_id == request.sale_id
                and existing.order_id == request.order_id
            )
            if not same:
                raise ValidationFailed(
                    "payment.id_reused",
                    "this payment id was used for another payment",
                    {"id": str(request.payment_id)},
                    errors=[FieldError("id", "payment.id_reused", "use a new id")],
                )
            uow.session.expunge(existing)
            return existing
        register: Register | None = None
        if request.register is not None:
            register, location = register_and_location(uow, actor, request.register)
        else:
            location = location_by_code(uow, request.location or "")
            actor.require_location(location.id, location.code)
        currency = request.currency or location.currency
        if currency != location.currency:
            raise ValidationFailed(
                "payment.currency_mismatch",
                f"the store takes cards in {location.currency}",
                errors=[FieldError("currency", "payment.currency_mismatch", location.currency)],
            )
        payment = Payment(
            id=request.payment_id,
            sale_id=request.sale_id,
            order_id=request.order_id,
            location_id=location.id,
            register_id=register.id if register else None,
            shift_id=open_shift_of(uow, register.id) if register else None,
            method=Method.CARD,
            status="pending",
            amount_minor=request.amount,
            currency=currency,
            refunded_minor=0,
            idempotency_key=f"pay:{request.payment_id}",
            gateway=gateway.name,
            entry_mode=request.entry_mode,
            actor_id=actor.user_id,
        )
        uow.session.add(payment)
        uow.commit()
        uow.session.expunge(payment)
        return payment


def register_and_location(uow: UnitOfWork, actor: Actor, code: str) -> tuple[Register, Location]:
    row = uow.session.execute(
        select(Register, Location)
        .join(Location, Location.id == Register.location_id)
        .where(Register.code == code, Register.active.is_(True))
    ).first()
    if row is None:
        raise ValidationFailed(
            "register.unknown",
            f"no active register {code!r}",
            errors=[FieldError("register", "register.unknown", code)],
        )
    actor.require_location(row[1].id, row[1].code)
    return row[0], row[1]


def with_recovery(
    call: Callable[[], GatewayResult], gateway: PaymentGateway, key: str, attempts: int
) -> tuple[GatewayResult | None, int]:
    """The gateway's answer, asking after it when it was lost: (result or None, timeouts)."""
    timeouts = 0
    for _ in range(max(attempts, 1)):
        try:
            return call(), timeouts
        except GatewayTimeout:
            timeouts += 1
        try:
            found = gateway.lookup(idempotency_key=key)
        except GatewayTimeout:
            found = None
        if found is not None:
            return found, timeouts
    return None, timeouts


def _record_result(
    db: Database,
    actor: Actor,
    payment_id: uuid.UUID,
    result: GatewayResult | None,
    timeouts: int,
) -> PaymentView:
    with db.uow() as uow:
        payment = _locked(uow, payment_id)
        for n in range(timeouts):
            _event(
                uow,
                payment,
                "timeout",
                f"{payment.idempotency_key}:timeout:{n}",
                actor,
                status="unknown",
                message="the gateway did not answer in time",
            )
        if result is None:
            payment.status = "unknown"
            payment.message = "the gateway did not answer; the outcome is not known yet"
        else:
            _apply(payment, result)
            kind = (
                "resolve"
                if timeouts
                else ("decline" if result.status is PaymentStatus.DECLINED else "authorize")
            )
            _event(
                uow,
                payment,
                kind,
                payment.idempotency_key,
                actor,
                reference=result.reference,
                code=result.decline_code,
                message=result.message,
            )
        uow.commit()
        return view(payment)


def _record_failure(
    db: Database, actor: Actor, payment_id: uuid.UUID, exc: GatewayError
) -> PaymentView:
    with db.uow() as uow:
        payment = _locked(uow, payment_id)
        payment.status = "failed"
        payment.decline_code = exc.code[:32]
        payment.message = str(exc)[:200]
        _event(
            uow, payment, "fail", payment.idempotency_key, actor, code=exc.code, message=str(exc)
        )
        uow.commit()
        return view(payment)


def _apply(payment: Payment, result: GatewayResult) -> None:
    payment.status = str(result.status)
    payment.gateway_reference = result.reference
    payment.auth_code = result.auth_code
    payment.decline_code = result.decline_code
    payment.message = result.message[:200]
    card = result.card
    if card is not None:
        payment.card_brand = card.brand
        payment.card_last4 = card.last4
        payment.card_exp_month = card.exp_month
        payment.card_exp_year = card.exp_year
        payment.card_fingerprint = card.fingerprint
        payment.card_token = card.token


def _answer(payment: PaymentView) -> PaymentView:
    """Declines answer 402 and lost answers 504, each naming the recorded payment."""
    details = {"payment_id": str(payment.id), "status": payment.status}
    if payment.status == "declined":
        raise PaymentDeclined(
            "payment.declined",
            f"the card was declined: {payment.decline_code}",
            {**details, "decline_code": payment.decline_code},
        )
    if payment.status == "failed":
        raise ValidationFailed(
            "payment.failed",
            f"the gateway refused the payment: {payment.message}",
            {**details, "gateway_code": payment.decline_code},
            errors=[FieldError("payment_data", "payment.failed", payment.message)],
        )
    if payment.status in ("unknown", "pending"):
        raise OutcomeUnknown(
            "payment.outcome_unknown",
            "the gateway did not answer; resolve the payment before taking another",
            details,
        )
    return payment


def _locked(uow: UnitOfWork, payment_id: uuid.UUID) -> Payment:
    payment = uow.session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("payment.not_found", "no such payment", {"id": str(payment_id)})
    return payment


def _event(
    uow: UnitOfWork,
    payment: Payment,
    kind: str,
    key: str,
    actor: Actor,
    *,
    amount: int | None = None,
    status: str | None = None,
    reference: str | None = None,
    code: str | None = None,
    message: str = "",
    reference_type: str | None = None,
    reference_id: str | None = None,
) -> None:
    uow.session.add(
        PaymentEvent(
            id=uuid7(),
            payment_id=payment.id,
            kind=kind,
            amount_minor=payment.amount_minor if amount is None else amount,
            status=status or payment.status,
            idempotency_key=key,
            gateway_reference=reference,
            code=code,
            message=message[:200],
            reference_type=reference_type,
            reference_id=reference_id,
            actor_id=actor.user_id,
        )
    )


# --- after the charge ---------------------------------------------------------------------------


def resolve(
    *, db: Database, actor: Actor, gateway: PaymentGateway, payment_id: uuid.UUID
) -> PaymentView:
    """Settle a payment left pending or unknown by asking the gateway about its key; a
    request the gateway never saw becomes `failed` (nothing was charged)."""
    actor.require(Permission.SALES_CREATE)
    with db.uow(write=False) as uow:
        payment = uow.session.get(Payment, payment_id)
        if payment is None:
            raise NotFound("payment.not_found", "no such payment", {"id": str(payment_id)})
        if payment.status in FINAL:
            return view(payment)
        key = payment.idempotency_key
    try:
        found = gateway.lookup(idempotency_key=key)
    except GatewayTimeout as exc:
        raise OutcomeUnknown(
            "payment.outcome_unknown", "the gateway still does not answer", {"id": str(payment_id)}
        ) from exc
    if found is None:
        return _record_failure(
            db, actor, payment_id, GatewayError("payment.not_received", "the gateway never got it")
        )
    return _record_result(db, actor, payment_id, found, 0)


def capture(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    payment_id: uuid.UUID,
    amount: int | None = None,
    permission: Permission = Permission.SALES_CREATE,
    scoped: bool = True,
) -> PaymentView:
    """Capture an authorized card payment (an order when it ships), all or part of it.

    `scoped` False: the caller has checked the actor's right to this order's payment (a
    store shipping its part of a web order booked to another location)."""
    return _follow_up(db, actor, gateway, payment_id, "capture", amount, permission, scoped)


def void(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    payment_id: uuid.UUID,
    permission: Permission = Permission.SALES_CREATE,
    scoped: bool = True,
) -> PaymentView:
    """Release an authorization that was never captured (a cancelled order)."""
    return _follow_up(db, actor, gateway, payment_id, "void", None, permission, scoped)


def _follow_up(
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    payment_id: uuid.UUID,
    operation: str,
    amount: int | None,
    permission: Permission,
    scoped: bool,
) -> PaymentView:
    actor.require(permission)
    with db.uow(write=False) as uow:
        payment = uow.session.get(Payment, payment_id)
        if payment is None:
            raise NotFound("payment.not_found", "no such payment", {"id": str(payment_id)})
        if scoped:
            actor.require_location(payment.location_id, str(payment.location_id))
        if payment.method != Method.CARD or payment.gateway_reference is None:
            raise Conflict("payment.not_a_card", "only card payments go through the gateway")
        reference, key = payment.gateway_reference, f"{payment.idempotency_key}:{operation}"

    def call() -> GatewayResult:
        if operation == "capture":
            return gateway.capture(reference=reference, amount=amount, idempotency_key=key)
        return gateway.void(reference=reference, idempotency_key=key)

    try:
        result, _ = with_recovery(call, gateway, key, 3)
    except GatewayError as exc:
        raise Conflict(exc.code, str(exc), {"payment_id": str(payment_id)}) from exc
    if result is None:
        raise OutcomeUnknown(
            "payment.outcome_unknown", "the gateway did not answer", {"id": str(payment_id)}
        )
    with db.uow() as uow:
        payment = _locked(uow, payment_id)
        payment.status = str(result.status)
        if operation == "capture":
            payment.amount_minor = result.amount
        _event(
            uow, payment, operation, key, actor, amount=result.amount, reference=result.reference
        )
        uow.commit()
        return view(payment)


def get(*, db: Database, actor: Actor, payment_id: uuid.UUID) -> PaymentView:
    actor.require(Permission.SALES_READ)
    with db.uow(write=False) as uow:
        payment = uow.session.get(Payment, payment_id)
        if payment is None:
            raise NotFound("payment.not_found", "no such payment", {"id": str(payment_id)})
        actor.require_location(payment.location_id, str(payment.location_id))
        return view(payment)


def for_sale(*, db: Database, actor: Actor, sale_id: uuid.UUID) -> list[PaymentView]:
    """Every payment attempt of a sale, declines included, oldest first."""
    actor.require(Permission.SALES_READ)
    with db.uow(write=False) as uow:
        rows = uow.session.scalars(
            select(Payment)
            .where(Payment.sale_id == sale_id)
            .order_by(Payment.created_at, Payment.id)
        ).all()
        for row in rows:
            actor.require_location(row.location_id, str(row.location_id))
        return [view(p) for p in rows]
