"""Serial numbers: the life of one unit, as a status machine driven by events.

A serial unit is `in_stock` at a location from the moment it is received. It may be
reserved for an order, sold, shipped to another location (`in_transit`), quarantined,
written off or returned to its vendor. A sold unit may come back from the customer
(`returned`) and be restocked, quarantined or written off. A unit that has left the
business (sold, written off, returned to the vendor) may be received again: a refurbished
unit comes back with the same serial, and its history continues.

Every change of status is one event in the append-only serial history; `MOVES` says which
event moves a unit from which statuses to which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class SerialStatus(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"
    SOLD = "sold"
    RETURNED = "returned"
    QUARANTINED = "quarantined"
    IN_TRANSIT = "in_transit"
    WRITTEN_OFF = "written_off"
    RETURNED_TO_VENDOR = "returned_to_vendor"


S = SerialStatus
# Statuses of a unit no longer held by the business: it may be received again.
GONE: frozenset[SerialStatus] = frozenset({S.SOLD, S.WRITTEN_OFF, S.RETURNED_TO_VENDOR})
# Statuses of a unit at a location (or on its way to one): one that cannot be received.
HELD: frozenset[SerialStatus] = frozenset(SerialStatus) - GONE


@dataclass(frozen=True, slots=True)
class Move:
    """An event takes a unit from one of `sources` (None: the unit is new) to `target`."""

    sources: frozenset[SerialStatus | None]
    target: SerialStatus


MOVES: dict[str, Move] = {
    "received": Move(frozenset({None, *GONE}), S.IN_STOCK),
    "reserved": Move(frozenset({S.IN_STOCK}), S.RESERVED),
    "released": Move(frozenset({S.RESERVED}), S.IN_STOCK),
    "sold": Move(frozenset({S.IN_STOCK, S.RESERVED}), S.SOLD),
    "transferred_out": Move(frozenset({S.IN_STOCK}), S.IN_TRANSIT),
    "transferred_in": Move(frozenset({S.IN_TRANSIT}), S.IN_STOCK),
    "returned": Move(frozenset({S.SOLD}), S.RETURNED),
    "restocked": Move(frozenset({S.RETURNED, S.QUARANTINED}), S.IN_STOCK),
    "quarantined": Move(frozenset({S.IN_STOCK, S.RETURNED}), S.QUARANTINED),
    "written_off": Move(frozenset({S.IN_STOCK, S.RETURNED, S.QUARANTINED}), S.WRITTEN_OFF),
    "returned_to_vendor": Move(
        frozenset({S.IN_STOCK, S.RETURNED, S.QUARANTINED}), S.RETURNED_TO_VENDOR
    ),
}


def allowed(source: SerialStatus | str | None, target: SerialStatus | str) -> bool:
    """True when some event moves a unit from `source` to `target`."""
    src = None if source is None else SerialStatus(source)
    tgt = SerialStatus(target)
    return any(move.target == tgt and src in move.sources for move in MOVES.values())


def check_move(source: SerialStatus | str | None, target: SerialStatus | str) -> None:
    """Raise ValueError for a move no event makes (a programming error, not bad input)."""
    if not allowed(source, target):
        raise ValueError(f"no serial event moves a unit from {source} to {target}")


def event_for(source: SerialStatus | str | None, target: SerialStatus | str) -> str:
    """The name of the event that moves a unit from `source` to `target`."""
    src = None if source is None else SerialStatus(source)
    tgt = SerialStatus(target)
    for name, move in MOVES.items():
        if move.target == tgt and src in move.sources:
            return name
    raise ValueError(f"no serial event moves a unit from {source} to {target}")


def may_receive(status: SerialStatus | str | None) -> bool:
    """A new serial, or a unit that left the business, may be received."""
    return status is None or SerialStatus(status) in GONE


def duplicates(serials: Iterable[str]) -> list[int]:
    """Positions of serials that repeat an earlier one in the same list."""
    seen: set[str] = set()
    repeated: list[int] = []
    for i, serial in enumerate(serials):
        if serial in seen:
            repeated.append(i)
        seen.add(serial)
    return repeated
