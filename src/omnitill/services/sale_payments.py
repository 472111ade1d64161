"""Paying at a register, inside the caller's transaction: every tender, split in any mix.

What is paid is a `Target`: a register sale (its total, in full), or one payment on an order
(a deposit, a layaway instalment, the balance: services/order_deposits.py), which may pay
part of what is due. The rules are `domain/payments/tenders.py` (non-cash tenders pay exact
amounts, cash settles the rest with rounding and change, foreign cash at the dated rate).
Each tender is made real here:

- **card** and **qr**: the payment taken before for this same sale or order is claimed by
  its id (services/tender_claims.py).
- **gift_card** and **store_credit** (the sale's or order's customer): spent by one
  conditional UPDATE each, never below zero.
- **exchange**: the credit of an exchange return (`code`: its number), claimed by one
  conditional UPDATE (services/exchange_credit.py); the row keeps the return's id.
- **cash**: its net (tendered less change) goes into the drawer ledger of the register's open
  shift; where the store manages cash, taking cash needs one (409 `shift.required`).

Each tender is a `payments` row (card and QR ones already are) with `sale_id` or `order_id`;
gift card, store credit and drawer entries reference the sale or the order (`reference_type`
"sale" or "order"). A refused tender rolls everything back: nothing is half-written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import ExchangeRate, Payment, PaymentEvent, table
from omnitill.domain.auth.actor import Actor
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.money import check_currency
from omnitill.domain.payments.cash import cash_increment
from omnitill.domain.payments.tenders import Method, Settlement, TenderInput, settle
from omnitill.services import exchange_credit, gift_cards, shifts, store_credit, tender_claims

_payments = table(Payment)
_INSERT_PAYMENTS = insert(_payments)
_INSERT_CLAIMS = insert(table(PaymentEvent))


@dataclass(frozen=True, slots=True)
class Target:
    """What the tenders pay: a register sale, or one payment on an order. An order is paid
    in several payments (deposit, instalments, balance), each with its own id."""

    kind: str  # sale | order
    id: uuid.UUID  # the sale's or the order's id
    payment_id: uuid.UUID | None = None  # order: this payment's id (its idempotency key)

    @classmethod
    def sale(cls, sale_id: uuid.UUID) -> Target:
        return cls("sale", sale_id)

    @classmethod
    def order(cls, order_id: uuid.UUID, payment_id: uuid.UUID) -> Target:
        return cls("order", order_id, payment_id)

    def key(self, method: str, i: int) -> str:
        """The idempotency key of the `payments` row the i-th tender writes."""
        if self.kind == "sale":
            return f"{method}:{self.id}:{i}"
        return f"{method}:order:{self.payment_id}:{i}"

    def claim_key(self, i: int) -> str:
        """An order's claim of the card or QR payment of its i-th tender."""
        return f"claim:order:{self.payment_id}:{i}"


@dataclass(frozen=True, slots=True)
class TenderRequest:
    """One tender as the register sends it. `amount` is in minor units of `currency` (None:
    the sale's); `payment_id` names a card or QR payment taken before; `code` a gift card."""

    method: str
    amount: int
    currency: str | None = None
    payment_id: uuid.UUID | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class PaidTender:
    """A tender as the sale keeps it (the receipt's view)."""

    method: str
    amount: int  # what it paid of the sale, in the sale's currency
    currency: str
    payment_id: uuid.UUID
    tendered: int | None = None  # cash handed over, in `tendered_currency`
    tendered_currency: str | None = None
    change: int = 0
    card_brand: str | None = None
    card_last4: str | None = None
    entry_mode: str | None = None
    auth_code: str | None = None


@dataclass(frozen=True, slots=True)
class Till:
    """What paying needs to know of the register and its store."""

    register_id: uuid.UUID
    location_id: uuid.UUID
    currency: str
    cash_management: bool
    cash_rounding_minor: int | None


@dataclass(frozen=True, slots=True)
class SalePayments:
    settlement: Settlement
    tenders: tuple[PaidTender, ...]
    shift_id: uuid.UUID | None

    @property
    def tendered(self) -> int:
        """Everything handed over, in the sale's currency (change included)."""
        return self.settlement.paid + self.settlement.change_due

    def snapshot(self, sale_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
        """The sale's `sale_payments` rows."""
        return [
            {
                "id": uuid7(),
                "sale_id": sale_id,
                "seq": i + 1,
                "method": t.method,
                "amount_minor": t.amount,
                "currency": t.currency,
                "created_at": now,
                "payment_id": t.payment_id,
                "tendered_minor": t.tendered,
                "tendered_currency": t.tendered_currency,
                "change_minor": t.change,
                "card_brand": t.card_brand,
                "card_last4": t.card_last4,
                "entry_mode": t.entry_mode,
                "auth_code": t.auth_code,
            }
            for i, t in enumerate(self.tenders)
        ]


def pay(
    uow: UnitOfWork,
    *,
    till: Till,
    actor: Actor,
    sale_id: uuid.UUID,
    customer: uuid.UUID | None,
    total: int,
    requests: Sequence[TenderRequest],
    today: date,
    now: datetime,
) -> SalePayments:
    """Settle a register sale's `total` in full with `requests` (see `take`)."""
    return take(
        uow,
        till=till,
        actor=actor,
        target=Target.sale(sale_id),
        customer=customer,
        total=total,
        requests=requests,
        today=today,
        now=now,
    )


def take(
    uow: UnitOfWork,
    *,
    till: Till,
    actor: Actor,
    target: Target,
    customer: uuid.UUID | None,
    total: int,
    requests: Sequence[TenderRequest],
    today: date,
    now: datetime,
    allow_partial: bool = False,
) -> SalePayments:
    """Settle `total` (what is due) with `requests` and make each tender real (see the
    module doc). `allow_partial`: the tenders may pay less than `total` (an order payment);
    the settlement's `balance_due` is what is left."""
    tender_claims.check_distinct(
        [t.payment_id if t.method in (Method.CARD, Method.QR) else None for t in requests]
    )
    inputs = [_input(uow, t, till.currency, today, i) for i, t in enumerate(requests)]
    settlement = settle(
        total=total,
        currency=till.currency,
        tenders=inputs,
        cash_increment=cash_increment(till.currency, till.cash_rounding_minor),
        allow_partial=allow_partial,
    )
    has_cash = any(t.method == Method.CASH for t in requests)
    shift_id = shifts.open_shift_of(uow, till.register_id) if has_cash else None
    if has_cash and shift_id is None and till.cash_management:
        raise Conflict(
            "shift.required",
            "this store manages cash: open a shift on the register before taking cash",
            {"register_id": str(till.register_id)},
        )
    paid: list[PaidTender] = []
    new_rows: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    first: ValidationFailed | None = None
    for i, (request, applied) in enumerate(zip(requests, settlement.tenders, strict=True)):
        try:
            tender, row = _make_real(
                uow, till, actor, target, customer, request, applied, today, now, shift_id, i
            )
        except ValidationFailed as refused:
            first = first or refused
            errors.extend(refused.errors)
            continue
        paid.append(tender)
        if row is not None:
            new_rows.append(row)
        elif target.kind == "order":
            claims.append(
                tender_claims.claim_row(
                    payment_id=tender.payment_id,
                    amount=tender.amount,
                    key=target.claim_key(i),
                    order_payment_id=target.payment_id,
                    actor_id=actor.user_id,
                    now=now,
                )
            )
    if first is not None:
        raise ValidationFailed(first.code, first.message, first.details, errors=errors)
    if new_rows:
        uow.connection.execute(_INSERT_PAYMENTS, new_rows)
    if claims:
        uow.connection.execute(_INSERT_CLAIMS, claims)
    cash = sum(t.amount for t in paid if t.method == Method.CASH)
    if shift_id is not None and cash:
        shifts.record_sale_cash(
            uow,
            shift_id=shift_id,
            amount=cash,
            actor=actor,
            reference_type=target.kind,
            reference_id=str(target.id),
        )
    return SalePayments(settlement, tuple(paid), shift_id)


def _input(uow: UnitOfWork, t: TenderRequest, currency: str, today: date, i: int) -> TenderInput:
    """The tender for the rules; foreign cash gets the store's rate for today."""
    if t.currency is not None:
        try:
            check_currency(t.currency)
        except ValidationFailed as exc:
            raise ValidationFailed(
                "money.unknown_currency",
                f"{t.currency!r} is not an ISO 4217 currency",
                errors=[FieldError(f"payments.{i}.currency", "money.unknown_currency", t.currency)],
            ) from exc
    if t.currency in (None, currency) or t.method != Method.CASH:
        return TenderInput(t.method, t.amount, t.currency)
    rate = uow.session.scalar(
        select(ExchangeRate.rate)
        .where(
            ExchangeRate.base == t.currency,
            ExchangeRate.quote == currency,
            ExchangeRate.valid_from <= today,
        )
        .order_by(ExchangeRate.valid_from.desc())
        .limit(1)
    )
    if rate is None:
        raise ValidationFailed(
            "payment.no_exchange_rate",
            f"no exchange rate from {t.currency} to {currency} for today",
            errors=[FieldError(f"payments.{i}.currency", "payment.no_exchange_rate", "no rate")],
        )
    return TenderInput(t.method, t.amount, t.currency, Decimal(rate))


def _make_real(
    uow: UnitOfWork,
    till: Till,
    actor: Actor,
    target: Target,
    customer: uuid.UUID | None,
    request: TenderRequest,
    applied: Any,
    today: date,
    now: datetime,
    shift_id: uuid.UUID | None,
    i: int,
) -> tuple[PaidTender, dict[str, Any] | None]:
    """(the tender as kept, the new `payments` row or None for a claimed one)."""
    method = request.method
    if method in (Method.CARD, Method.QR):
        return _claim(uow, till, target, request, applied.applied, i), None
    payment_id = uuid7()
    row: dict[str, Any] = {
        "id": payment_id,
        "sale_id": target.id if target.kind == "sale" else None,
        "order_id": target.id if target.kind == "order" else None,
        "location_id": till.location_id,
        "register_id": till.register_id,
        "shift_id": shift_id,
        "method": method,
        "status": "captured",
        "amount_minor": applied.applied,
        "currency": till.currency,
        "tendered_minor": None,
        "tendered_currency": None,
        "exchange_rate": None,
        "change_minor": 0,
        "refunded_minor": 0,
        "idempotency_key": target.key(method, i),
        "message": "",
        "gift_card_id": None,
        "customer_id": None,
        "gateway": None,
        "gateway_reference": None,
        "actor_id": actor.user_id,
        "created_at": now,
        "updated_at": now,
    }
    tender = PaidTender(method, applied.applied, till.currency, payment_id)
    if method == Method.GIFT_CARD:
        if not request.code:
            raise ValidationFailed(
                "payment.code_required",
                "a gift card tender names the card",
                errors=[FieldError(f"payments.{i}.code", "payment.code_required", "required")],
            )
        try:
            card, _ = gift_cards.redeem_in(
                uow,
                code=request.code,
                amount=applied.applied,
                currency=till.currency,
                today=today,
                actor=actor,
                reference_type=target.kind,
                reference_id=str(target.id),
                location_id=till.location_id,
                field=f"payments.{i}.code",
            )
        except NotFound as unknown:  # bad input in a sale: 422 naming the tender
            raise ValidationFailed(
                unknown.code,
                unknown.message,
                errors=[FieldError(f"payments.{i}.code", unknown.code, unknown.message)],
            ) from unknown
        row["gift_card_id"] = card.id
        return tender, row
    if method == Method.STORE_CREDIT:
        if customer is None:
            raise ValidationFailed(
                "payment.customer_required",
                f"store credit is spent by a customer: attach them to the {target.kind}",
                errors=[FieldError("customer", "payment.customer_required", "required")],
            )
        store_credit.redeem_in(
            uow,
            customer_id=customer,
            currency=till.currency,
            amount=applied.applied,
            actor=actor,
            reference_type=target.kind,
            reference_id=str(target.id),
            field=f"payments.{i}.amount",
        )
        row["customer_id"] = customer
        return tender, row
    if method == Method.EXCHANGE:
        return_id = exchange_credit.claim_in(
            uow,
            code=request.code,
            amount=applied.applied,
            currency=till.currency,
            now=now,
            field=f"payments.{i}",
        )
        row.update(gateway="return", gateway_reference=str(return_id))
        return tender, row
    # cash
    row.update(
        tendered_minor=applied.tendered,
        tendered_currency=applied.currency,
        exchange_rate=applied.rate,
        change_minor=applied.change,
    )
    return (
        PaidTender(
            method,
            applied.applied,
            till.currency,
            payment_id,
            tendered=applied.tendered,
            tendered_currency=applied.currency,
            change=applied.change,
        ),
        row,
    )


def _claim(
    uow: UnitOfWork, till: Till, target: Target, request: TenderRequest, amount: int, i: int
) -> PaidTender:
    """The card or QR payment this tender names, claimed (services/tender_claims.py)."""
    payment = tender_claims.claim(
        uow,
        method=request.method,
        payment_id=request.payment_id,
        kind=target.kind,
        owner_id=target.id,
        currency=till.currency,
        amount=amount,
        field=f"payments.{i}.payment_id",
    )
    return PaidTender(
        payment.method,
        amount,
        payment.currency,
        payment.id,
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        entry_mode=payment.entry_mode,
        auth_code=payment.auth_code,
    )
