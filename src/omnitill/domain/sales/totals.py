"""Settling a register sale: do the tenders cover the total, and what change is due.

Pricing (prices, discounts, tax) is `domain.pricing.engine.price`; this module takes its
total. Not included in the total: change due, which is tendered cash above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omnitill.domain.errors import FieldError, ValidationFailed


@dataclass(frozen=True, slots=True)
class Tender:
    method: str
    amount: int


@dataclass(frozen=True, slots=True)
class Settlement:
    tenders: tuple[Tender, ...]
    tendered: int
    change_due: int


SUPPORTED_TENDERS = frozenset({"cash"})


def settle_cash(*, total: int, tenders: Sequence[Tender]) -> Settlement:
    """Check the tenders cover `total` exactly, giving change only from cash.

    Only cash is accepted until the payments issue adds cards, wallets and gift cards.
    """
    errors = [
        FieldError(f"payments.{i}.method", "payment.method_unsupported", f"{t.method!r}")
        for i, t in enumerate(tenders)
        if t.method not in SUPPORTED_TENDERS
    ]
    errors += [
        FieldError(f"payments.{i}.amount", "payment.amount_not_positive", "must be positive")
        for i, t in enumerate(tenders)
        if t.amount <= 0
    ]
    if errors:
        code = errors[0].code
        raise ValidationFailed(code, "some payments are invalid", errors=errors)
    tendered = sum(t.amount for t in tenders)
    if tendered < total:
        raise ValidationFailed(
            "payment.insufficient",
            f"payments of {tendered} do not cover the total of {total}",
            {"total": total, "tendered": tendered, "short_by": total - tendered},
            errors=[FieldError("payments", "payment.insufficient", "payments short of total")],
        )
    return Settlement(tenders=tuple(tenders), tendered=tendered, change_due=tendered - total)
