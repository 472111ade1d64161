"""Opening hours and order cut-offs of a location, read at a moment in its own time zone.

Hours are a week of intervals in local time: ``{"mon": [["09:00", "18:00"]], "sat":
[["10:00", "16:00"]]}``; a day not listed is closed; an interval may end at "24:00". No hours
at all means always open. A cut-off ("17:00") is the local time after which orders count
for the next business day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from omnitill.domain.errors import FieldError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Hours = Mapping[str, Sequence[Sequence[str]]]


def _minutes(text: str) -> int:
    hh, mm = text.split(":")
    hours, minutes = int(hh), int(mm)
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(text)
    return hours * 60 + minutes


def check_hours(hours: Hours | None, *, field: str = "opening_hours") -> list[FieldError]:
    """Every problem with a week of hours (unknown day, bad time, an interval ending first)."""
    errors: list[FieldError] = []
    for day, spans in (hours or {}).items():
        if day not in DAYS:
            errors.append(FieldError(f"{field}.{day}", "location.invalid_hours", "mon..sun"))
            continue
        for i, span in enumerate(spans):
            try:
                start, end = (_minutes(t) for t in span)
            except (ValueError, TypeError):
                errors.append(
                    FieldError(f"{field}.{day}.{i}", "location.invalid_hours", '["HH:MM", "HH:MM"]')
                )
                continue
            if end <= start:
                errors.append(
                    FieldError(f"{field}.{day}.{i}", "location.invalid_hours", "must end later")
                )
    return errors


def check_cutoff(cutoff: str | None, *, field: str = "order_cutoff") -> list[FieldError]:
    if cutoff is None:
        return []
    try:
        _minutes(cutoff)
    except (ValueError, TypeError):
        return [FieldError(field, "location.invalid_cutoff", "HH:MM")]
    return []


def local(now: datetime, timezone: str) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


def is_open(hours: Hours | None, *, timezone: str, now: datetime) -> bool:
    if not hours:
        return True
    here = local(now, timezone)
    minute = here.hour * 60 + here.minute
    spans = hours.get(DAYS[here.weekday()], ())
    return any(_minutes(a) <= minute < _minutes(b) for a, b in spans)


def before_cutoff(cutoff: str | None, *, timezone: str, now: datetime) -> bool:
    """Whether an order placed `now` still counts for today (True without a cut-off)."""
    if cutoff is None:
        return True
    here = local(now, timezone)
    return here.time() < time(*divmod(_minutes(cutoff), 60)) if cutoff != "24:00" else True


def business_day(now: datetime, timezone: str) -> date:
    return local(now, timezone).date()
