"""A register shift's cash and tenders: what the drawer should hold, and the closing count.

The drawer's ledger holds signed cash movements: the opening float (+), cash taken for sales
net of change (+), cash refunds (-), drops to the safe and pickups by a manager (-), paid in
(+) and paid out (-) with reasons, and no-sale opens (0, counted). Expected cash is the float
plus the sum of the rest. Other tenders are expected from the shift's payments (a card batch
total is compared with the terminal's settlement; gift cards and store credit are ledgers of
their own and need no count).

Closing is blind: the cashier counts before seeing what was expected, and the count is frozen
once given. A variance beyond the store's threshold then needs a reason before the shift
closes; the count itself can no longer change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import format_major


class CashKind(StrEnum):
    FLOAT = "float"
    SALE = "sale"
    REFUND = "refund"
    DROP = "drop"
    PICKUP = "pickup"
    PAID_IN = "paid_in"
    PAID_OUT = "paid_out"
    NO_SALE = "no_sale"


# What a positive amount asked for does to the drawer.
SIGN: dict[CashKind, int] = {
    CashKind.FLOAT: 1,
    CashKind.SALE: 1,
    CashKind.REFUND: -1,
    CashKind.DROP: -1,
    CashKind.PICKUP: -1,
    CashKind.PAID_IN: 1,
    CashKind.PAID_OUT: -1,
    CashKind.NO_SALE: 0,
}
# Movements a person records by hand (the rest come from sales, refunds and opening).
MANUAL: frozenset[CashKind] = frozenset(
    {CashKind.DROP, CashKind.PICKUP, CashKind.PAID_IN, CashKind.PAID_OUT}
)
NEEDS_REASON: frozenset[CashKind] = frozenset(
    {CashKind.PAID_IN, CashKind.PAID_OUT, CashKind.NO_SALE}
)
COUNTED_TENDERS: frozenset[str] = frozenset({"cash", "card", "qr"})


@dataclass(frozen=True, slots=True)
class ShiftSummary:
    """The X report: everything the drawer and the tenders should hold right now."""

    currency: str
    float_amount: int
    by_kind: Mapping[str, int]  # signed cash totals per movement kind
    no_sales: int
    payments: Mapping[str, int]  # method -> amount taken (refunds netted)
    expected_cash: int

    def expected(self) -> dict[str, int]:
        """Expected per tender: cash from the drawer ledger, the rest from payments."""
        out = {m: a for m, a in self.payments.items() if m != "cash"}
        out["cash"] = self.expected_cash
        return dict(sorted(out.items()))


def summarize(
    *,
    currency: str,
    movements: Iterable[tuple[str, int]],
    payments: Mapping[str, int],
) -> ShiftSummary:
    """`movements` are (kind, signed amount) of the drawer ledger."""
    by_kind: dict[str, int] = {}
    no_sales = 0
    total = 0
    for kind, amount in movements:
        by_kind[kind] = by_kind.get(kind, 0) + amount
        total += amount
        if kind == CashKind.NO_SALE:
            no_sales += 1
    return ShiftSummary(
        currency=currency,
        float_amount=by_kind.get(CashKind.FLOAT, 0),
        by_kind=dict(sorted(by_kind.items())),
        no_sales=no_sales,
        payments=dict(sorted(payments.items())),
        expected_cash=total,
    )


def check_manual(kind: str, amount: int, reason: str, *, expected_cash: int) -> CashKind:
    """A hand-recorded drawer movement: a known kind, a positive amount, a reason where one
    is required, and never more out of the drawer than it should hold."""
    errors: list[FieldError] = []
    try:
        parsed = CashKind(kind)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in MANUAL:
        allowed = ", ".join(sorted(MANUAL))
        errors.append(FieldError("kind", "cash.invalid_kind", f"one of {allowed}"))
    if amount <= 0:
        errors.append(FieldError("amount", "cash.invalid_amount", "must be positive"))
    if parsed in NEEDS_REASON and not reason.strip():
        errors.append(FieldError("reason", "cash.reason_required", "required"))
    if errors:
        raise ValidationFailed(errors[0].code, "the cash movement is invalid", errors=errors)
    assert parsed is not None
    if SIGN[parsed] < 0 and amount > expected_cash:
        raise ValidationFailed(  # the expected cash stays hidden: the close is blind
            "cash.exceeds_drawer",
            "the drawer should not hold that much cash",
            {"requested": amount},
            errors=[FieldError("amount", "cash.exceeds_drawer", "more than the drawer holds")],
        )
    return parsed


@dataclass(frozen=True, slots=True)
class TenderCount:
    method: str
    expected: int
    counted: int | None
    variance: int | None


@dataclass(frozen=True, slots=True)
class Closing:
    tenders: tuple[TenderCount, ...]
    variance: int  # sum of the counted tenders' variances

    def needs_reason(self, threshold: int) -> bool:
        """A variance beyond the store's threshold, either way, must be explained."""
        return abs(self.variance) > threshold


def check_counts(counted: Mapping[str, int]) -> None:
    """Cash must be counted; only counted tenders, never negative."""
    errors: list[FieldError] = []
    if "cash" not in counted:
        errors.append(FieldError("counted.cash", "shift.count_required", "count the drawer"))
    for method, amount in sorted(counted.items()):
        if method not in COUNTED_TENDERS:
            errors.append(
                FieldError(f"counted.{method}", "shift.uncountable_tender", "not counted")
            )
        elif amount < 0:
            errors.append(FieldError(f"counted.{method}", "cash.negative_count", "must be >= 0"))
    if errors:
        raise ValidationFailed(errors[0].code, "the closing count is invalid", errors=errors)


def close(summary: ShiftSummary, *, counted: Mapping[str, int]) -> Closing:
    """Compare the blind counts with what was expected, per tender."""
    check_counts(counted)
    expected = summary.expected()
    tenders = tuple(
        TenderCount(
            method,
            expected.get(method, 0),
            counted.get(method),
            None if method not in counted else counted[method] - expected.get(method, 0),
        )
        for method in sorted(set(expected) | set(counted))
    )
    return Closing(tenders, sum(t.variance or 0 for t in tenders))


WIDTH = 42  # characters of an 80 mm receipt printer line


def render(
    *,
    title: str,
    header: Iterable[str],
    summary: ShiftSummary,
    closing: Iterable[tuple[str, int, int | None, int | None]] = (),
    footer: Iterable[str] = (),
) -> str:
    """An X or Z report as plain text for a receipt printer (and the screen)."""

    def row(label: str, amount: int) -> str:
        value = format_major(amount, summary.currency)
        return f"{label[: WIDTH - len(value) - 1]:<{WIDTH - len(value)}}{value}"

    out = [title.center(WIDTH), *[h[:WIDTH] for h in header], "-" * WIDTH]
    out.append(row("Opening float", summary.float_amount))
    for kind, amount in summary.by_kind.items():
        if kind not in (CashKind.FLOAT, CashKind.NO_SALE):
            out.append(row(f"Cash {kind.replace('_', ' ')}", amount))
    out.append(f"{'No-sale drawer opens':<{WIDTH - 6}}{summary.no_sales:>6}")
    out.append("-" * WIDTH)
    for method, amount in summary.payments.items():
        out.append(row(f"Taken: {method.replace('_', ' ')}", amount))
    out.append(row("Expected cash in drawer", summary.expected_cash))
    rows = list(closing)
    if rows:
        out.append("-" * WIDTH)
        for method, expected, counted, variance in rows:
            out.append(row(f"{method} expected", expected))
            if counted is not None and variance is not None:
                out.append(row(f"{method} counted", counted))
                out.append(row(f"{method} variance", variance))
    out.extend(f[:WIDTH] for f in footer)
    return "\n".join(out) + "\n"
