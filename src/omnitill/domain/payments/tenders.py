"""How tenders settle a total: split tenders, cash rounding, foreign cash, change, deposits.

The rules, in the order a register applies them:

1. Non-cash tenders (card, gift card, store credit, QR, exchange credit) pay exact amounts, in
   the order given; none may exceed what is still due (`payment.over_tender`): change is only
   ever cash. An `exchange` tender spends the credit an exchange return holds (its `code` is
   the return's number, services/exchange_credit.py).
2. Cash settles the rest. Where the currency has no smallest coins, the cash part is rounded
   to the cash increment (`cash.round_cash`): the rounding is recorded as its own signed
   amount, the sale total stays as priced.
3. Foreign cash counts at a dated exchange rate, converted down to whole local minor units
   (the store never credits more than the rate gives); change is given in local currency.
4. A complete sale needs the tenders to cover the total (`payment.insufficient`); an order
   deposit or a layaway payment (`allow_partial`) may pay less and leaves a balance due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import minor_units
from omnitill.domain.payments.cash import round_cash


class Method(StrEnum):
    CASH = "cash"
    CARD = "card"
    GIFT_CARD = "gift_card"
    STORE_CREDIT = "store_credit"
    QR = "qr"
    EXCHANGE = "exchange"  # the credit of an exchange return (RET-...), spent on the new sale


class EntryMode(StrEnum):
    """How a card reached the terminal, recorded on each card payment."""

    EMV_CHIP = "emv_chip"
    NFC_TAP = "nfc_tap"
    WALLET = "wallet"  # Apple Pay, Google Pay (a device token over NFC or in app)
    KEYED = "keyed"
    MAGSTRIPE = "magstripe"  # a swipe, when the chip cannot be read (fallback)
    ONLINE = "online"  # card not present: a web or phone order, by the gateway's token
    QR = "qr"


@dataclass(frozen=True, slots=True)
class TenderInput:
    """One payment as asked: `amount` in minor units of `currency` (None: the sale's)."""

    method: str
    amount: int
    currency: str | None = None
    rate: Decimal | None = None  # foreign cash: 1 unit of `currency` = `rate` sale units


@dataclass(frozen=True, slots=True)
class AppliedTender:
    """One payment as it settles: `applied` is what it pays of the sale (sale currency),
    `tendered` what was handed over (its own currency), `change` what cash went back."""

    method: str
    applied: int
    tendered: int
    currency: str
    rate: Decimal | None = None
    change: int = 0


@dataclass(frozen=True, slots=True)
class Settlement:
    total: int
    cash_rounding: int  # signed: payable = total + cash_rounding
    tenders: tuple[AppliedTender, ...]
    change_due: int
    balance_due: int  # > 0 only for a partial payment

    @property
    def payable(self) -> int:
        return self.total + self.cash_rounding

    @property
    def paid(self) -> int:
        return sum(t.applied for t in self.tenders)


def convert_down(amount: int, source: str, target: str, rate: Decimal) -> int:
    """`amount` minor units of `source` in whole minor units of `target`, rounded down."""
    scale = Decimal(10) ** (minor_units(target) - minor_units(source))
    return int((Decimal(amount) * rate * scale).to_integral_value(rounding=ROUND_FLOOR))


def settle(
    *,
    total: int,
    currency: str,
    tenders: Sequence[TenderInput],
    cash_increment: int = 1,
    allow_partial: bool = False,
) -> Settlement:
    """Apply `tenders` to `total` (minor units of `currency`); 422 naming every bad tender."""
    _check(tenders, currency)
    due = total
    applied: list[AppliedTender | None] = [None] * len(tenders)
    errors: list[FieldError] = []
    cash_at: list[int] = []
    for i, t in enumerate(tenders):
        if t.method == Method.CASH:
            cash_at.append(i)
            continue
        if t.amount > due:
            errors.append(
                FieldError(
                    f"payments.{i}.amount",
                    "payment.over_tender",
                    f"only {max(due, 0)} is left to pay; change is given in cash only",
                )
            )
            continue
        due -= t.amount
        applied[i] = AppliedTender(t.method, t.amount, t.amount, currency)
    if errors:
        raise ValidationFailed(errors[0].code, "a payment is more than is due", errors=errors)
    values = {i: _local_value(tenders[i], currency) for i in cash_at}
    cash_given = sum(values.values())
    rounding = 0
    if cash_at:
        if due == 0:
            raise ValidationFailed(
                "payment.not_needed",
                "cash was tendered but nothing is left to pay",
                errors=[FieldError(f"payments.{cash_at[0]}", "payment.not_needed", "remove")],
            )
        rounded = round_cash(due, cash_increment)
        if cash_given >= rounded or not allow_partial:
            rounding, due = rounded - due, rounded
    if cash_given < due and not allow_partial:
        raise ValidationFailed(
            "payment.insufficient",
            f"payments of {total - due + cash_given} do not cover {total + rounding}",
            {"total": total + rounding, "short_by": due - cash_given},
            errors=[FieldError("payments", "payment.insufficient", "payments short of total")],
        )
    change = max(cash_given - due, 0)
    cash_left = min(cash_given, due)
    for n, i in enumerate(cash_at):
        t = tenders[i]
        last = n == len(cash_at) - 1
        part = values[i] if not last else cash_left
        part = min(part, cash_left)
        cash_left -= part
        applied[i] = AppliedTender(
            Method.CASH,
            part,
            t.amount,
            t.currency or currency,
            t.rate,
            change if last else 0,
        )
    settled = tuple(a for a in applied if a is not None)
    paid = sum(a.applied for a in settled)
    return Settlement(
        total=total,
        cash_rounding=rounding,
        tenders=settled,
        change_due=change,
        balance_due=total + rounding - paid,
    )


def _local_value(t: TenderInput, currency: str) -> int:
    if t.currency in (None, currency):
        return t.amount
    assert t.rate is not None  # _check
    return convert_down(t.amount, t.currency, currency, t.rate)


def _check(tenders: Sequence[TenderInput], currency: str) -> None:
    errors: list[FieldError] = []
    methods = set(Method)
    for i, t in enumerate(tenders):
        if t.method not in methods:
            errors.append(
                FieldError(f"payments.{i}.method", "payment.method_unsupported", repr(t.method))
            )
        if t.amount <= 0:
            errors.append(
                FieldError(f"payments.{i}.amount", "payment.amount_not_positive", "must be > 0")
            )
        foreign = t.currency not in (None, currency)
        if foreign and t.method != Method.CASH:
            errors.append(
                FieldError(
                    f"payments.{i}.currency",
                    "payment.foreign_currency_not_cash",
                    f"only cash may be tendered in another currency than {currency}",
                )
            )
        elif foreign and (t.rate is None or t.rate <= 0):
            errors.append(
                FieldError(f"payments.{i}.rate", "payment.rate_required", "no exchange rate")
            )
    if errors:
        raise ValidationFailed(errors[0].code, "some payments are invalid", errors=errors)
