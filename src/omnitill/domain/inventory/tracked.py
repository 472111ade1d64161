"""What a stock movement says about the lots and serial numbers of the units it moves.

The contract of `services/tracking.py`: requests name a lot and serial numbers (`Tracked`),
the services answer which lot each portion of a line came from or went into (`Portion`), and
every change is made for someone, for a reason, at a time (`Context`). Plain data, no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from omnitill.domain.auth.actor import Actor


@dataclass(frozen=True, slots=True)
class LotInput:
    """A lot named by its code; `expires_on` is required when the lot is first received."""

    code: str
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class Tracked:
    """What a request says about the units of one line.

    Inbound: the lot received into (required for lot-tracked variants) and the serial numbers
    of the units (one per unit for serial-tracked variants). Outbound: a lot to take from
    (None: first expired, first out) and the serial numbers that leave (required for
    serial-tracked variants).
    """

    lot: LotInput | None = None
    serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Portion:
    """Units of one line that came from (or went into) one lot; lot None when untracked, or
    for the part of an in-hand sale no lot balance covered."""

    quantity: int
    lot_id: uuid.UUID | None = None
    lot_code: str | None = None
    expires_on: date | None = None
    serials: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Context:
    """Who moves the units, why, and when (`today`: the location's business date)."""

    actor: Actor
    event: str  # received | sold | transferred_out | transferred_in | written_off | ...
    reference_type: str | None
    reference_id: str | None
    now: datetime
    today: date
