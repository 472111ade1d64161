"""The returns policy engine: decides a return request line by line.

`decide_return(request, policy=..., now=...)` is pure: it reads only its arguments. For each
line it answers whether it may come back, the refund before fees, the restocking fee, where
the refund goes, whether a manager must approve, and every reason, each with a stable code and
a phrase for the cashier. Rules, in the order reasons are listed:

- receipt lines: not more than is left to return on the sold line (earlier returns and earlier
  lines of this request count); not final sale; within the return window (`windows`); serial
  numbers, one per unit, each a unit sold on that line and not returned yet;
- no-receipt lines: an identified customer; not final sale; within the customer's no-receipt
  caps (count of returns and value over the policy period); refunded as store credit at the
  lowest recent selling price, always with a manager's approval;
- every line: a condition; damaged units refused unless the policy accepts them; opened units
  of a category with a restocking fee pay it.

A receipt line refunds its share of what the customer paid for the sold line (discounts
prorated, tax included): the paid total is split over the sold units by largest remainder and
returns take the units in order, so several partial returns add up to exactly the paid total,
never more. The restocking fee is a percent of the merchandise part of that refund (tax
excluded), rounded half-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import allocate, check_currency, format_major, round_minor
from omnitill.domain.pricing.model import raise_if_any
from omnitill.domain.returns import model as m
from omnitill.domain.returns.model import (
    Condition,
    LineDecision,
    Reason,
    RefundTo,
    ReturnDecision,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    SoldLine,
    field_error,
)
from omnitill.domain.returns.windows import deadline, local_date


@dataclass(slots=True)
class _Tally:
    """What earlier lines of the request already took: units and serials per sold line, and
    the no-receipt value granted."""

    units: dict[str, int] = field(default_factory=dict)
    serials: dict[str, set[str]] = field(default_factory=dict)
    no_receipt_value: int = 0


def decide_return(request: ReturnRequest, *, policy: ReturnPolicy, now: datetime) -> ReturnDecision:
    """Decide every line of `request` under `policy` at `now` (UTC-aware)."""
    raise_if_any(check_policy(policy) + check_request(request, policy, now), "invalid return")
    tally = _Tally(no_receipt_value=request.no_receipt_history.value)
    decisions: list[LineDecision] = []
    for index, line in enumerate(request.lines):
        if line.sold is not None:
            decision = _receipt_line(index, line, line.sold, request, policy, now, tally)
        else:
            decision = _no_receipt_line(index, line, request, policy, tally)
        decisions.append(decision)
    return ReturnDecision(tuple(decisions))


def _receipt_line(
    index: int,
    line: ReturnLine,
    sold: SoldLine,
    request: ReturnRequest,
    policy: ReturnPolicy,
    now: datetime,
    tally: _Tally,
) -> LineDecision:
    reasons: list[Reason] = []
    taken = sold.returned_quantity + tally.units.get(sold.line_id, 0)
    left = sold.quantity - taken
    if left <= 0:
        reasons.append(_refusal(m.ALREADY_RETURNED, "Every unit of this line was returned"))
    elif line.quantity > left:
        reasons.append(_refusal(m.MORE_THAN_SOLD, f"Only {left} of {sold.quantity} left to return"))
    if sold.final_sale or sold.category_id in policy.final_sale_category_ids:
        reasons.append(_refusal(m.FINAL_SALE, "Sold as final sale"))
    due = deadline(policy, sold)
    today = local_date(now, request.timezone)
    if due.holiday is not None:
        reasons.append(
            Reason(m.HOLIDAY_WINDOW, f"Holiday purchase: returnable until {due.last_day}")
        )
    if today > due.last_day:
        late = (today - due.last_day).days
        reasons.append(
            _refusal(
                m.WINDOW_EXPIRED,
                f"Returnable until {due.last_day} (bought {due.bought_on}); {late} day(s) late",
            )
        )
    reasons += _serial_reasons(line, sold, tally)
    refund = tax = 0
    if 0 < line.quantity <= left:
        refund = _units_share(sold.paid_total, sold.quantity, taken, line.quantity)
        tax = _units_share(sold.tax_total, sold.quantity, taken, line.quantity)
    fee = _condition(line.condition, line_category(line), refund - tax, policy, request, reasons)
    decision = _finish(
        index, reasons, refund, fee, RefundTo.ORIGINAL_TENDERS, False, policy, request
    )
    if decision.allowed:
        tally.units[sold.line_id] = tally.units.get(sold.line_id, 0) + line.quantity
        tally.serials.setdefault(sold.line_id, set()).update(line.serials)
    return decision


def _no_receipt_line(
    index: int, line: ReturnLine, request: ReturnRequest, policy: ReturnPolicy, tally: _Tally
) -> LineDecision:
    unit = line.lowest_unit_price or 0
    refund = unit * line.quantity
    cur = request.currency
    reasons = [
        Reason(
            m.NO_RECEIPT_STORE_CREDIT,
            f"No receipt: store credit at the lowest price of the last "
            f"{policy.no_receipt_price_days} days ({format_major(unit, cur)} {cur} each)",
        ),
        Reason(m.MANAGER_APPROVAL, "A return without a receipt needs a manager's approval"),
    ]
    if request.customer_id is None:
        reasons.append(
            _refusal(m.CUSTOMER_REQUIRED, "Identify the customer to return without a receipt")
        )
    if line.category_id in policy.final_sale_category_ids:
        reasons.append(_refusal(m.FINAL_SALE, "Sold as final sale"))
    count = request.no_receipt_history.count + 1
    if count > policy.no_receipt_max_count:
        reasons.append(
            _refusal(
                m.NO_RECEIPT_COUNT_CAP,
                f"This would be no-receipt return {count} in {policy.no_receipt_period_days} "
                f"days; the limit is {policy.no_receipt_max_count}",
            )
        )
    if tally.no_receipt_value + refund > policy.no_receipt_max_value:
        cap = format_major(policy.no_receipt_max_value, cur)
        spent = format_major(tally.no_receipt_value, cur)
        reasons.append(
            _refusal(
                m.NO_RECEIPT_VALUE_CAP,
                f"No-receipt returns are capped at {cap} {cur} in "
                f"{policy.no_receipt_period_days} days; {spent} {cur} already used",
            )
        )
    fee = _condition(line.condition, line.category_id, refund, policy, request, reasons)
    decision = _finish(index, reasons, refund, fee, RefundTo.STORE_CREDIT, True, policy, request)
    if decision.allowed:
        tally.no_receipt_value += refund
    return decision


def line_category(line: ReturnLine) -> str | None:
    """The category a line is judged by: the sold line's snapshot, else the line's own."""
    return line.sold.category_id if line.sold is not None else line.category_id


def _serial_reasons(line: ReturnLine, sold: SoldLine, tally: _Tally) -> list[Reason]:
    """Serial-tracked items: one distinct serial per returned unit, each sold on this line and
    not returned already (by an earlier return or an earlier line of this request)."""
    if not sold.serials:
        return []
    given = line.serials
    if len(given) != line.quantity or len(set(given)) != len(given):
        return [
            _refusal(
                m.SERIAL_REQUIRED,
                f"Scan one serial per returned unit ({line.quantity} expected, "
                f"{len(set(given))} distinct given)",
            )
        ]
    back = sold.returned_serials | tally.serials.get(sold.line_id, set())
    foreign = sorted(s for s in given if s not in sold.serials)
    again = sorted(s for s in given if s in sold.serials and s in back)
    reasons = []
    if foreign:
        reasons.append(
            _refusal(m.SERIAL_MISMATCH, f"Not a unit sold on this line: {', '.join(foreign)}")
        )
    if again:
        reasons.append(_refusal(m.SERIAL_MISMATCH, f"Already returned: {', '.join(again)}"))
    return reasons


def _condition(
    condition: Condition | None,
    category_id: str | None,
    merchandise: int,
    policy: ReturnPolicy,
    request: ReturnRequest,
    reasons: list[Reason],
) -> int:
    """Add the condition's reasons; return the restocking fee on `merchandise` (tax excluded)."""
    if condition is None:
        reasons.append(
            _refusal(m.CONDITION_REQUIRED, "Say whether the item is unopened, opened or damaged")
        )
        return 0
    if condition is Condition.DAMAGED and not policy.accept_damaged:
        reasons.append(_refusal(m.DAMAGED, "Damaged items are not taken back"))
    percent = policy.restocking_fee_percent.get(category_id or "")
    if condition is not Condition.OPENED or percent is None or category_id is None:
        return 0
    fee = round_minor(Decimal(merchandise) * percent / 100)
    cur = request.currency
    reasons.append(
        Reason(
            m.RESTOCKING_FEE,
            f"Opened: {percent.normalize():f} % restocking fee ({format_major(fee, cur)} {cur})",
        )
    )
    return fee


def _finish(
    index: int,
    reasons: list[Reason],
    refund: int,
    fee: int,
    refund_to: RefundTo,
    approval_rule: bool,
    policy: ReturnPolicy,
    request: ReturnRequest,
) -> LineDecision:
    """Mark the refusals a manager may lift, lift them under an override, and conclude."""
    marked = [
        replace(r, overridable=True, overridden=request.manager_override)
        if r.refuses and r.code in policy.overridable
        else r
        for r in reasons
    ]
    refusals = [r for r in marked if r.refuses]
    lifted = sorted({r.code for r in refusals if r.overridden})
    if lifted:
        marked.append(Reason(m.MANAGER_OVERRIDE, f"Manager override lifts: {', '.join(lifted)}"))
    allowed = all(r.overridden for r in refusals)
    # A refusal no manager may lift makes approval pointless: the line cannot go through.
    hopeless = any(not r.overridable for r in refusals)
    return LineDecision(
        index=index,
        allowed=allowed,
        refund=refund,
        fee=min(fee, refund),
        refund_to=refund_to,
        needs_manager=not hopeless and (approval_rule or bool(refusals)),
        reasons=tuple(marked),
    )


def _refusal(code: str, message: str) -> Reason:
    return Reason(code, message, refuses=True)


def _units_share(total: int, sold: int, start: int, count: int) -> int:
    """The part of `total` (split over `sold` units, largest remainder) that units
    start..start+count carry."""
    return sum(allocate(total, [1] * sold)[start : start + count])


def check_policy(policy: ReturnPolicy) -> list[FieldError]:
    """Every problem with a policy (negative days or caps, ambiguous window rules, ...)."""
    errors: list[FieldError] = []
    try:
        check_currency(policy.currency)
    except ValidationFailed:
        errors.append(field_error("policy.currency", "an ISO 4217 code"))
    counts = {
        "default_window_days": policy.default_window_days,
        "no_receipt_price_days": policy.no_receipt_price_days,
        "no_receipt_period_days": policy.no_receipt_period_days,
        "no_receipt_max_count": policy.no_receipt_max_count,
        "no_receipt_max_value": policy.no_receipt_max_value,
    }
    errors += [field_error(f"policy.{k}", "must be >= 0") for k, v in counts.items() if v < 0]
    seen: set[tuple[str | None, str | None]] = set()
    for i, rule in enumerate(policy.window_rules):
        key = (rule.category_id, rule.channel)
        if rule.days < 0 or key == (None, None) or key in seen:
            errors.append(
                field_error(f"policy.window_rules.{i}", "days >= 0, a category or channel, once")
            )
        seen.add(key)
    for i, h in enumerate(policy.holiday_windows):
        if not h.purchased_from <= h.purchased_until <= h.return_until:
            errors.append(
                field_error(f"policy.holiday_windows.{i}", "from <= until <= return_until")
            )
    for category, percent in policy.restocking_fee_percent.items():
        if not Decimal(0) <= percent <= Decimal(100):
            errors.append(
                field_error(f"policy.restocking_fee_percent.{category}", "0 to 100 percent")
            )
    if not policy.overridable <= m.LIFTABLE:
        extra = ", ".join(sorted(policy.overridable - m.LIFTABLE))
        errors.append(field_error("policy.overridable", f"no manager may lift {extra}"))
    return errors


def check_request(request: ReturnRequest, policy: ReturnPolicy, now: datetime) -> list[FieldError]:
    """Every problem with a request as sent: one currency, an aware `now`, a known time zone,
    positive quantities, and each line either from a sold line or priced for no receipt."""
    errors: list[FieldError] = []
    if request.currency != policy.currency:
        errors.append(field_error("currency", f"the policy is in {policy.currency}"))
    if now.tzinfo is None:
        errors.append(field_error("now", "must be timezone-aware"))
    zones = [("timezone", request.timezone)]
    zones += [(f"lines.{i}.sold.timezone", sold.timezone) for i, sold in _sold(request.lines)]
    for path, zone in zones:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(field_error(path, "an IANA time zone"))
    for i, line in enumerate(request.lines):
        if line.quantity <= 0:
            errors.append(field_error(f"lines.{i}.quantity", "must be > 0"))
        if (line.sold is None) == (line.lowest_unit_price is None):
            errors.append(field_error(f"lines.{i}", "either a sold line or a no-receipt price"))
        if line.lowest_unit_price is not None and line.lowest_unit_price < 0:
            errors.append(field_error(f"lines.{i}.lowest_unit_price", "must be >= 0"))
    for i, sold in _sold(request.lines):
        if sold.sold_at.tzinfo is None:
            errors.append(field_error(f"lines.{i}.sold.sold_at", "must be timezone-aware"))
        if not 0 <= sold.tax_total <= sold.paid_total or sold.quantity <= 0:
            errors.append(field_error(f"lines.{i}.sold", "0 <= tax <= paid, quantity > 0"))
    if not request.lines:
        errors.append(field_error("lines", "at least one line"))
    return errors


def _sold(lines: Iterable[ReturnLine]) -> list[tuple[int, SoldLine]]:
    return [(i, line.sold) for i, line in enumerate(lines) if line.sold is not None]
