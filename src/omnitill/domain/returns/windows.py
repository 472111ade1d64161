"""Return windows: until which calendar day a sold line may come back.

A window of N days counts calendar days from the purchase's local date at the selling
location: bought on 1 March with 30 days, returnable through 31 March. The deadline is a date
(what the receipt prints), so a return is in time when today's date where the customer stands
(the returning location's time zone) is on or before it. A holiday window extends the
deadline of purchases made in its date range; it never shortens one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from omnitill.domain.returns.model import HolidayWindow, ReturnPolicy, SoldLine


@dataclass(frozen=True, slots=True)
class Deadline:
    """The last day a line may be returned, and the holiday window that set it, if any."""

    bought_on: date
    last_day: date
    holiday: HolidayWindow | None = None


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of a UTC-aware `moment` in `timezone`."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def window_days(policy: ReturnPolicy, *, category_id: str | None, channel: str) -> int:
    """The window of the most specific matching rule (category and channel, then category,
    then channel), else the policy default."""
    best: tuple[int, int] | None = None
    for rule in policy.window_rules:
        if rule.category_id is not None and rule.category_id != category_id:
            continue
        if rule.channel is not None and rule.channel != channel:
            continue
        rank = (2 if rule.category_id is not None else 0) + (1 if rule.channel else 0)
        if rank and (best is None or rank > best[0]):
            best = (rank, rule.days)
    return best[1] if best else policy.default_window_days


def deadline(policy: ReturnPolicy, sold: SoldLine) -> Deadline:
    """The last day `sold` may be returned under `policy`."""
    bought_on = local_date(sold.sold_at, sold.timezone)
    days = window_days(policy, category_id=sold.category_id, channel=sold.channel)
    result = Deadline(bought_on, bought_on + timedelta(days=days))
    for holiday in policy.holiday_windows:
        in_range = holiday.purchased_from <= bought_on <= holiday.purchased_until
        if in_range and holiday.return_until > result.last_day:
            result = Deadline(bought_on, holiday.return_until, holiday)
    return result
