"""Which tenders a refund goes back to, and how much each gives back.

`plan_refund(amount, tenders, rules=..., now=..., card_present=...)` is pure. It splits a
refund over the tenders that paid the purchase, each capped at what it took less what it gave
back already, in a fixed order:

1. **exchange credit** (the purchase was paid with the credit of an earlier exchange), given
   back as **store credit**, never as cash or to a card: that credit came from goods returned
   on another purchase whose own tenders are not this one's, so giving it back in cash would
   turn a card-paid (or gift-card-paid) purchase into cash through an exchange and a second
   return. Store credit keeps it value to spend at the shop, as it was;
2. **store credit**, then 3. **gift card**: value that was never money goes back first, so a
   partial return never turns a gift card or store credit into cash or a card refund (the
   classic gift card cash-out);
4. **card**: back to the card that paid, through the gateway, referenced to its payment;
5. **QR**: the QR provider takes no refunds here, so its share is given back in cash from the
   drawer;
6. **cash** last: the drawer pays out only what cash paid, after everything else.

Within one method the newest payment gives back first (an order paid in instalments refunds
its last instalment first).

A card that cannot take its share (the payment is older than `card_max_days`, or the policy
wants the card presented and it is not) gives it as the policy's `fallback` (store credit or
cash) with the reason; such a plan needs a manager's approval. What no tender can
take (the payments were refunded elsewhere) is `unplaced`: the caller refuses the return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed

ORDER: tuple[str, ...] = ("exchange", "store_credit", "gift_card", "card", "qr", "cash")

CARD_TOO_OLD = "returns.card_payment_too_old"
CARD_ABSENT = "returns.card_not_present"
CARD_DECLINED = "returns.card_refund_declined"  # the gateway refused; settled otherwise


class Fallback(StrEnum):
    STORE_CREDIT = "store_credit"
    CASH = "cash"


@dataclass(frozen=True, slots=True)
class PaidTender:
    """A captured payment of the purchase: `refundable` is what it took less what it gave
    back already."""

    payment_id: str
    method: str  # exchange | card | cash | gift_card | store_credit | qr
    refundable: int
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class RefundRules:
    """`card_max_days`: a card payment older than this cannot be refunded to the card;
    `card_present_required`: a card refund needs the card presented at the return;
    `fallback`: where what a card cannot take goes (with a manager's approval)."""

    card_max_days: int = 540
    card_present_required: bool = False
    fallback: Fallback = Fallback.STORE_CREDIT


@dataclass(frozen=True, slots=True)
class PlannedRefund:
    """`amount` of what `payment_id` took, given back as `given_as`: the tender itself, or the
    policy's fallback when `fallback_reason` says why the card could not take it (the
    payment's refundable total falls either way, so no tender ever gives back more than it
    took)."""

    payment_id: str
    method: str  # the tender that paid
    given_as: str  # card | cash | gift_card | store_credit
    amount: int
    fallback_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RefundPlan:
    refunds: tuple[PlannedRefund, ...]
    unplaced: int = 0

    @property
    def needs_manager(self) -> bool:
        return any(r.fallback_reason for r in self.refunds)

    @property
    def total(self) -> int:
        return sum(r.amount for r in self.refunds)


_GIVEN_AS = {"qr": "cash", "exchange": "store_credit"}


def plan_refund(
    amount: int,
    tenders: Sequence[PaidTender],
    *,
    rules: RefundRules,
    now: datetime,
    card_present: bool,
) -> RefundPlan:
    """Split `amount` over `tenders` (see the module doc)."""
    if amount < 0:
        raise ValueError("a refund is not negative")
    left = amount
    planned: list[PlannedRefund] = []
    for tender in _in_order(tenders):
        if left == 0:
            break
        share = min(left, tender.refundable)
        if share <= 0:
            continue
        left -= share
        refusal = _card_refusal(tender, rules, now, card_present)
        if refusal is not None:
            given = rules.fallback.value
        else:
            given = _GIVEN_AS.get(tender.method, tender.method)
        planned.append(PlannedRefund(tender.payment_id, tender.method, given, share, refusal))
    return RefundPlan(tuple(planned), unplaced=left)


def _in_order(tenders: Sequence[PaidTender]) -> list[PaidTender]:
    rank = {m: i for i, m in enumerate(ORDER)}
    unknown = [t.method for t in tenders if t.method not in rank]
    if unknown:
        raise ValueError(f"no refund route for {unknown}")
    newest_first = sorted(tenders, key=lambda t: (t.taken_at, t.payment_id), reverse=True)
    return sorted(newest_first, key=lambda t: rank[t.method])


def _card_refusal(
    tender: PaidTender, rules: RefundRules, now: datetime, card_present: bool
) -> str | None:
    if tender.method != "card":
        return None
    if now - tender.taken_at > timedelta(days=rules.card_max_days):
        return CARD_TOO_OLD
    if rules.card_present_required and not card_present:
        return CARD_ABSENT
    return None


SPLIT_CHANGED = "returns.refund_split_changed"


def directed_plan(
    amount: int,
    split: Sequence[tuple[str, int]],
    tenders: Sequence[PaidTender],
    *,
    rules: RefundRules,
    now: datetime,
    card_present: bool,
) -> RefundPlan:
    """The cashier's own split of a refund over the purchase's tenders (`split`: payment id
    and amount, in the order given), checked: every payment one that paid this purchase,
    each amount within what it may still give back, a card that may take a refund, and the
    amounts adding up to the refund. A split other than `plan_refund`'s needs a manager
    (it could turn a gift card into cash): each part then carries `SPLIT_CHANGED`."""
    paid = {t.payment_id: t for t in tenders}
    errors: list[FieldError] = []
    planned: list[PlannedRefund] = []
    for i, (payment_id, part) in enumerate(split):
        tender = paid.get(payment_id)
        if tender is None:
            errors.append(
                FieldError(
                    f"refund_to.{i}.payment_id",
                    "returns.tender_not_on_purchase",
                    "not a payment of this purchase",
                )
            )
            continue
        if part <= 0 or part > tender.refundable:
            errors.append(
                FieldError(
                    f"refund_to.{i}.amount",
                    "refund.exceeds_payment",
                    f"between 1 and {tender.refundable}",
                )
            )
            continue
        refusal = _card_refusal(tender, rules, now, card_present)
        if refusal is not None:
            errors.append(FieldError(f"refund_to.{i}.payment_id", refusal, "cannot take it"))
            continue
        given = _GIVEN_AS.get(tender.method, tender.method)
        planned.append(PlannedRefund(payment_id, tender.method, given, part))
    if not errors and sum(part for _, part in split) != amount:
        errors.append(
            FieldError("refund_to", "returns.refund_split_mismatch", f"must add up to {amount}")
        )
    if len({p for p, _ in split}) != len(split):
        errors.append(FieldError("refund_to", "returns.refund_split_repeated", "once each"))
    if errors:
        raise ValidationFailed(errors[0].code, "the refund split is not valid", errors=errors)
    default = plan_refund(amount, tenders, rules=rules, now=now, card_present=card_present)
    same = sorted((p.payment_id, p.amount) for p in default.refunds) == sorted(
        (p.payment_id, p.amount) for p in planned
    )
    if same and not default.needs_manager:
        return default
    return RefundPlan(
        tuple(
            PlannedRefund(p.payment_id, p.method, p.given_as, p.amount, SPLIT_CHANGED)
            for p in planned
        )
    )
