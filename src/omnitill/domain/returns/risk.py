"""Fraud risk of a return: each check that fires adds points with a reason; a manager must
approve when the total reaches the policy's threshold.

Pure: the caller counts and measures (earlier returns in the windows the policy names, the
distance to the nearest store the goods were bought at) and passes the figures in. Counts are
of earlier returns; the limits below count this one too. The defaults are a starting point to
tune per retailer, chosen so that one strong signal (a serial that does not match, a refund
above what was paid, an employee returning their own purchase) reaches the threshold alone,
while the softer ones (velocity, no-receipt habits, distance) must combine.

Defaults:

- customer_velocity: more than 3 returns by the customer in 30 days, 20 points;
- card_velocity: more than 3 refunds to the card fingerprint in 30 days, 25 points;
- no_receipt_frequency: more than 2 no-receipt returns in 90 days, 25 points;
- serial_mismatch: a returned serial is not a unit sold, 50 points;
- value_above_purchase: the refund asked exceeds what the purchase paid, 50 points;
- employee_own_purchase: the cashier is the buyer of the original purchase, 50 points;
- far_from_purchase: the store is more than 150 km from every purchase store, 15 points.

Codes are ``returns.risk.<check>``. Manager approval at a score of 50 or more.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnitill.domain.errors import FieldError
from omnitill.domain.pricing.model import raise_if_any
from omnitill.domain.returns.model import field_error

CUSTOMER_VELOCITY = "returns.risk.customer_velocity"
CARD_VELOCITY = "returns.risk.card_velocity"
NO_RECEIPT_FREQUENCY = "returns.risk.no_receipt_frequency"
SERIAL_MISMATCH = "returns.risk.serial_mismatch"
VALUE_ABOVE_PURCHASE = "returns.risk.value_above_purchase"
EMPLOYEE_OWN_PURCHASE = "returns.risk.employee_own_purchase"
FAR_FROM_PURCHASE = "returns.risk.far_from_purchase"


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """Limits, windows and weights of the checks (see the module table for the defaults).

    A velocity limit is the number of returns allowed in its window without a signal; the
    windows tell the caller what to count."""

    velocity_window_days: int = 30
    customer_limit: int = 3
    customer_points: int = 20
    card_limit: int = 3
    card_points: int = 25
    no_receipt_window_days: int = 90
    no_receipt_limit: int = 2
    no_receipt_points: int = 25
    serial_mismatch_points: int = 50
    value_above_purchase_points: int = 50
    employee_own_purchase_points: int = 50
    far_km: float = 150.0
    far_points: int = 15
    manager_threshold: int = 50


@dataclass(frozen=True, slots=True)
class RiskInput:
    """The figures of one return.

    `customer_returns` and `card_returns` are earlier returns in the velocity window by the
    same customer and to the same card fingerprint (None: no customer or no card);
    `no_receipt_returns` are the customer's earlier no-receipt returns in their window, and
    `no_receipt` says this return has no receipt. `purchase_value` is None without a receipt.
    `buyer_employee_ids` are the employees who were the buyer of the original purchases.
    `km_to_nearest_purchase` is None when unknown (online purchase, no receipt).
    """

    refund_value: int
    purchase_value: int | None = None
    customer_returns: int | None = None
    card_returns: int | None = None
    no_receipt: bool = False
    no_receipt_returns: int = 0
    serial_mismatches: int = 0
    cashier_id: str | None = None
    buyer_employee_ids: frozenset[str] = frozenset()
    km_to_nearest_purchase: float | None = None


@dataclass(frozen=True, slots=True)
class RiskSignal:
    """One check that fired: its code, its points, and the phrase for the manager."""

    code: str
    points: int
    message: str


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: int
    needs_manager: bool
    signals: tuple[RiskSignal, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.signals)


def score_return(facts: RiskInput, *, policy: RiskPolicy | None = None) -> RiskScore:
    """Score a return: the sum of the points of every check that fires, in the table's order."""
    p = policy or RiskPolicy()
    raise_if_any(check_risk(facts, p), "invalid risk input")
    signals: list[RiskSignal] = []
    days = p.velocity_window_days
    if facts.customer_returns is not None and facts.customer_returns + 1 > p.customer_limit:
        signals.append(
            RiskSignal(
                CUSTOMER_VELOCITY,
                p.customer_points,
                f"Return {facts.customer_returns + 1} by this customer in {days} days "
                f"(more than {p.customer_limit})",
            )
        )
    if facts.card_returns is not None and facts.card_returns + 1 > p.card_limit:
        signals.append(
            RiskSignal(
                CARD_VELOCITY,
                p.card_points,
                f"Refund {facts.card_returns + 1} to this card in {days} days "
                f"(more than {p.card_limit})",
            )
        )
    if facts.no_receipt and facts.no_receipt_returns + 1 > p.no_receipt_limit:
        signals.append(
            RiskSignal(
                NO_RECEIPT_FREQUENCY,
                p.no_receipt_points,
                f"No-receipt return {facts.no_receipt_returns + 1} in "
                f"{p.no_receipt_window_days} days (more than {p.no_receipt_limit})",
            )
        )
    if facts.serial_mismatches:
        signals.append(
            RiskSignal(
                SERIAL_MISMATCH,
                p.serial_mismatch_points,
                f"{facts.serial_mismatches} serial(s) not among the units sold",
            )
        )
    if facts.purchase_value is not None and facts.refund_value > facts.purchase_value:
        signals.append(
            RiskSignal(
                VALUE_ABOVE_PURCHASE,
                p.value_above_purchase_points,
                f"Refund of {facts.refund_value} exceeds the {facts.purchase_value} paid "
                "(minor units)",
            )
        )
    if facts.cashier_id is not None and facts.cashier_id in facts.buyer_employee_ids:
        signals.append(
            RiskSignal(
                EMPLOYEE_OWN_PURCHASE,
                p.employee_own_purchase_points,
                "The cashier is returning their own purchase",
            )
        )
    km = facts.km_to_nearest_purchase
    if km is not None and km > p.far_km:
        signals.append(
            RiskSignal(
                FAR_FROM_PURCHASE,
                p.far_points,
                f"Bought {km:.0f} km from here (more than {p.far_km:.0f} km)",
            )
        )
    score = sum(s.points for s in signals)
    return RiskScore(score, score >= p.manager_threshold, tuple(signals))


def check_risk(facts: RiskInput, policy: RiskPolicy) -> list[FieldError]:
    """Counts, amounts, distances, limits and weights must not be negative."""
    figures: dict[str, float | int | None] = {
        "refund_value": facts.refund_value,
        "purchase_value": facts.purchase_value,
        "customer_returns": facts.customer_returns,
        "card_returns": facts.card_returns,
        "no_receipt_returns": facts.no_receipt_returns,
        "serial_mismatches": facts.serial_mismatches,
        "km_to_nearest_purchase": facts.km_to_nearest_purchase,
    }
    errors = [field_error(k, "must be >= 0") for k, v in figures.items() if v is not None and v < 0]
    for name in RiskPolicy.__dataclass_fields__:
        if getattr(policy, name) < 0:
            errors.append(field_error(f"policy.{name}", "must be >= 0"))
    return errors
