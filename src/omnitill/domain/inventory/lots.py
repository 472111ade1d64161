"""Lots with expiry dates: when a lot has expired, and which lots a take picks (FEFO).

A lot is *expired* at a location once that location's business date (its local calendar
date) is after the lot's `expires_on`: goods marked "use by 3 March" sell all day on
3 March and stop at the store's midnight. A lot without an expiry date never expires.

First expired, first out: a take with no lot named draws from the unexpired lots at the
location that hold unexpired units, earliest expiry first, lots without expiry last, ties by
lot code, so the pick is the same on every process and every database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


def business_date(now: datetime, timezone: str) -> date:
    """The local calendar date at a location (its timezone) at the instant `now`."""
    return now.astimezone(ZoneInfo(timezone)).date()


def is_expired(expires_on: date | None, today: date) -> bool:
    """True when `today` (the location's business date) is after the expiry date."""
    return expires_on is not None and today > expires_on


@dataclass(frozen=True, slots=True)
class LotStock:
    """One lot's units at one location: `on_hand` of which `expired` were swept out."""

    lot_id: uuid.UUID
    code: str
    expires_on: date | None
    on_hand: int
    expired: int = 0

    @property
    def unexpired(self) -> int:
        """Units of the lot that may still be taken as sellable stock."""
        return self.on_hand - self.expired


@dataclass(frozen=True, slots=True)
class Pick:
    """Take `quantity` units from one lot."""

    lot: LotStock
    quantity: int


@dataclass(frozen=True, slots=True)
class FefoPlan:
    """The picks, and the units no unexpired lot covers (`short`)."""

    picks: tuple[Pick, ...]
    short: int


def fefo_order(lots: Iterable[LotStock], *, today: date) -> list[LotStock]:
    """Lots that may be sold from today, in the order FEFO takes them."""
    usable = [lot for lot in lots if lot.unexpired > 0 and not is_expired(lot.expires_on, today)]
    return sorted(
        usable,
        key=lambda lot: (lot.expires_on is None, lot.expires_on or date.max, lot.code),
    )


def plan_fefo(lots: Iterable[LotStock], *, quantity: int, today: date) -> FefoPlan:
    """Draw `quantity` units first expired first out; what no lot covers is `short`."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    picks: list[Pick] = []
    remaining = quantity
    for lot in fefo_order(lots, today=today):
        if remaining == 0:
            break
        n = min(remaining, lot.unexpired)
        picks.append(Pick(lot, n))
        remaining -= n
    return FefoPlan(tuple(picks), remaining)


def expired_order(lots: Iterable[LotStock]) -> list[LotStock]:
    """Lots holding swept-out (expired) units, oldest expiry first: what a write-off or a
    return to vendor of expired goods takes."""
    held = [lot for lot in lots if lot.expired > 0]
    return sorted(held, key=lambda lot: (lot.expires_on or date.max, lot.code))


def plan_expired(lots: Iterable[LotStock], *, quantity: int) -> FefoPlan:
    """Draw `quantity` expired units, oldest expiry first; what none covers is `short`."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    picks: list[Pick] = []
    remaining = quantity
    for lot in expired_order(lots):
        if remaining == 0:
            break
        n = min(remaining, lot.expired)
        picks.append(Pick(lot, n))
        remaining -= n
    return FefoPlan(tuple(picks), remaining)


def units_to_expire(lot: LotStock, *, today: date) -> int:
    """Units the expiry sweep moves to the expired bucket now (0 for a lot still good)."""
    if not is_expired(lot.expires_on, today):
        return 0
    return max(lot.unexpired, 0)
