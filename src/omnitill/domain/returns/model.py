"""What the returns policy engine reads and what it answers.

Money is integer minor units of the request's `currency`; percentages are `Decimal` percent
(15 is 15 %). Times are UTC-aware datetimes; calendar dates are read in a location's time
zone. Every input is a frozen snapshot the caller loads (the sale as charged, the customer's
no-receipt history, the lowest selling price seen lately), so a decision never depends on
anything but its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from omnitill.domain.errors import FieldError


class Condition(StrEnum):
    """The state of a returned unit, as the cashier sees it."""

    UNOPENED = "unopened"
    OPENED = "opened"
    DAMAGED = "damaged"


class RefundTo(StrEnum):
    """Where a line's refund goes: back to the sale's tenders, or to store credit."""

    ORIGINAL_TENDERS = "original_tenders"
    STORE_CREDIT = "store_credit"


# Stable reason codes. Refusals stop a line; notes explain an amount or a route.
WINDOW_EXPIRED = "returns.window_expired"
FINAL_SALE = "returns.final_sale"
CONDITION_REQUIRED = "returns.condition_required"
DAMAGED = "returns.damaged"
SERIAL_REQUIRED = "returns.serial_required"
SERIAL_MISMATCH = "returns.serial_mismatch"
MORE_THAN_SOLD = "returns.more_than_sold"
ALREADY_RETURNED = "returns.already_returned"
CUSTOMER_REQUIRED = "returns.no_receipt_customer_required"
NO_RECEIPT_COUNT_CAP = "returns.no_receipt_count_cap"
NO_RECEIPT_VALUE_CAP = "returns.no_receipt_value_cap"
RESTOCKING_FEE = "returns.restocking_fee"
HOLIDAY_WINDOW = "returns.holiday_window"
NO_RECEIPT_STORE_CREDIT = "returns.no_receipt_store_credit"
MANAGER_APPROVAL = "returns.manager_approval_required"
MANAGER_OVERRIDE = "returns.manager_override"

# The refusals a policy may let a manager lift. The others state facts no one can approve
# away (a different unit, more than was sold, an anonymous no-receipt return, a missing
# condition).
LIFTABLE = frozenset(
    {WINDOW_EXPIRED, FINAL_SALE, DAMAGED, NO_RECEIPT_COUNT_CAP, NO_RECEIPT_VALUE_CAP}
)


@dataclass(frozen=True, slots=True)
class HolidayWindow:
    """Purchases made from `purchased_from` to `purchased_until` (local dates of the selling
    location, inclusive) may be returned until `return_until` (inclusive), if that is later
    than their usual deadline."""

    purchased_from: date
    purchased_until: date
    return_until: date


@dataclass(frozen=True, slots=True)
class WindowRule:
    """A return window of `days` for one category, one channel, or one category on one
    channel. The most specific matching rule wins: category and channel, then category, then
    channel, then the policy default."""

    days: int
    category_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    """A retailer's return rules; the defaults are a common 30-day policy.

    `restocking_fee_percent` maps a category id to the fee charged on opened units of it, as a
    percent of the merchandise refunded (tax excluded). No-receipt returns are refunded as
    store credit at the lowest selling price of the last `no_receipt_price_days` days (the
    caller looks that price up), at most `no_receipt_max_count` returns and
    `no_receipt_max_value` minor units per customer over `no_receipt_period_days`, and always
    with a manager's approval. `overridable` lists the refusals a manager may lift (a subset
    of `LIFTABLE`).
    """

    currency: str
    default_window_days: int = 30
    window_rules: tuple[WindowRule, ...] = ()
    holiday_windows: tuple[HolidayWindow, ...] = ()
    final_sale_category_ids: frozenset[str] = frozenset()
    restocking_fee_percent: Mapping[str, Decimal] = field(default_factory=dict)
    accept_damaged: bool = False
    no_receipt_allowed: bool = True
    no_receipt_price_days: int = 90
    no_receipt_period_days: int = 365
    no_receipt_max_count: int = 3
    no_receipt_max_value: int = 10000
    overridable: frozenset[str] = frozenset({WINDOW_EXPIRED, DAMAGED, NO_RECEIPT_COUNT_CAP})


@dataclass(frozen=True, slots=True)
class SoldLine:
    """One line of the original sale or order, as charged (its snapshot).

    `paid_total` is what the customer paid for the whole line: discounts prorated, tax
    included; `tax_total` is the tax inside it. `returned_quantity` and `returned_serials`
    are what earlier returns took back. `serials` lists the units sold, empty when the item is
    not serial-tracked. `timezone` is the selling location's (for a web order, the channel's).
    """

    line_id: str
    category_id: str | None
    channel: str
    sold_at: datetime
    timezone: str
    quantity: int
    paid_total: int
    tax_total: int = 0
    final_sale: bool = False
    serials: frozenset[str] = frozenset()
    returned_quantity: int = 0
    returned_serials: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ReturnLine:
    """One line the customer brings back: with a receipt, `sold` is the line it came from;
    without one, `sold` is None and `lowest_unit_price` is the lowest price the item sold at
    over the policy's `no_receipt_price_days` (tax included), `category_id` its category."""

    quantity: int
    condition: Condition | None
    sold: SoldLine | None = None
    serials: tuple[str, ...] = ()
    category_id: str | None = None
    lowest_unit_price: int | None = None


@dataclass(frozen=True, slots=True)
class NoReceiptHistory:
    """The customer's earlier no-receipt returns within the policy's period."""

    count: int = 0
    value: int = 0


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    """A return at one location (`timezone` is the returning location's).

    `manager_override` says a manager approved this request: every refusal that the policy
    lets a manager lift is lifted (and the decision says so)."""

    currency: str
    timezone: str
    lines: tuple[ReturnLine, ...]
    customer_id: str | None = None
    no_receipt_history: NoReceiptHistory = NoReceiptHistory()
    manager_override: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a line is refused (`refuses`) or why its amount or route is what it is; `message`
    is the phrase for the cashier; `overridable` says a manager may lift the refusal."""

    code: str
    message: str
    refuses: bool = False
    overridable: bool = False
    overridden: bool = False


@dataclass(frozen=True, slots=True)
class LineDecision:
    """The answer for one return line.

    `allowed`: the line may be returned now (with the overrides the request carries).
    `refund` is the amount before fees, `fee` the restocking fee, `net` what the customer
    gets. `needs_manager`: the line goes through only with a manager's approval, because a
    rule asks for it or because every refusal is one a manager may lift; it stays True once
    the override is given, so the caller records the approval, and is False when a refusal
    no manager may lift remains (no approval would help).
    """

    index: int
    allowed: bool
    refund: int
    fee: int
    refund_to: RefundTo
    needs_manager: bool
    reasons: tuple[Reason, ...]

    @property
    def net(self) -> int:
        return self.refund - self.fee

    @property
    def liftable(self) -> frozenset[str]:
        """The refusal codes a manager's override lifts (or lifted) on this line."""
        return frozenset(r.code for r in self.reasons if r.refuses and r.overridable)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


@dataclass(frozen=True, slots=True)
class ReturnDecision:
    """Every line's decision, in request order, with totals over the allowed lines."""

    lines: tuple[LineDecision, ...]

    @property
    def allowed(self) -> bool:
        return all(line.allowed for line in self.lines)

    @property
    def needs_manager(self) -> bool:
        return any(line.needs_manager for line in self.lines)

    @property
    def refund_total(self) -> int:
        return sum(line.refund for line in self.lines if line.allowed)

    @property
    def fee_total(self) -> int:
        return sum(line.fee for line in self.lines if line.allowed)


def field_error(path: str, message: str) -> FieldError:
    return FieldError(path, "returns.invalid_request", message)


class ReturnReason(StrEnum):
    """Why the customer brings it back (the reason codes the return KPIs count)."""

    DEFECTIVE = "defective"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    WRONG_ITEM = "wrong_item"
    WRONG_SIZE = "wrong_size"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    BETTER_PRICE = "better_price"
    ARRIVED_LATE = "arrived_late"
    OTHER = "other"


class Disposition(StrEnum):
    """Where a returned unit goes at the location that receives it.

    - resalable: back on the shelf, available to sell;
    - quarantine: held for inspection (out of sellable stock until moved back);
    - damaged: kept, not sellable;
    - defective: held for return to the vendor (in the damaged bucket, serial `returned`);
    - write_off: received and written off at once (two movements, so the ledger shows both).
    """

    RESALABLE = "resalable"
    QUARANTINE = "quarantine"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    WRITE_OFF = "write_off"
