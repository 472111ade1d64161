"""The life cycle of a stock reservation.

A reservation holds units of stock for a reference (a web order, a pickup, a quote) at one
location. It is born `active`; it ends once, as `released` (the hold was given back),
`fulfilled` (the units left as a sale) or `expired` (its time ran out and the sweeper gave them
back). Asking again for the state it already reached changes nothing (so clients may retry);
asking for another end state is an invalid transition. An expired reservation answers a release
as already done: its units are back either way.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from omnitill.domain.errors import Conflict, FieldError, ValidationFailed


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    FULFILLED = "fulfilled"
    EXPIRED = "expired"


class Transition(StrEnum):
    RELEASE = "release"
    FULFIL = "fulfil"
    EXPIRE = "expire"


TARGET: dict[Transition, ReservationStatus] = {
    Transition.RELEASE: ReservationStatus.RELEASED,
    Transition.FULFIL: ReservationStatus.FULFILLED,
    Transition.EXPIRE: ReservationStatus.EXPIRED,
}

# End states that answer a transition as already done.
_ALREADY_DONE: dict[Transition, frozenset[ReservationStatus]] = {
    Transition.RELEASE: frozenset({ReservationStatus.RELEASED, ReservationStatus.EXPIRED}),
    Transition.FULFIL: frozenset({ReservationStatus.FULFILLED}),
    Transition.EXPIRE: frozenset(
        {ReservationStatus.RELEASED, ReservationStatus.EXPIRED, ReservationStatus.FULFILLED}
    ),
}


def is_noop(current: ReservationStatus, transition: Transition) -> bool:
    """True when `transition` from `current` has nothing left to do; raises if it is illegal."""
    if current is ReservationStatus.ACTIVE:
        return False
    if current in _ALREADY_DONE[transition]:
        return True
    raise Conflict(
        "reservation.invalid_transition",
        f"a {current} reservation cannot be {TARGET[transition]}",
        {"status": str(current), "transition": str(transition)},
    )


K = TypeVar("K")


def merge_quantities(pairs: list[tuple[K, int]]) -> dict[K, int]:
    """Sum the quantities of lines naming the same variant."""
    merged: dict[K, int] = {}
    for key, qty in pairs:
        merged[key] = merged.get(key, 0) + qty
    return merged


def check_request(*, quantities: list[int], ttl_seconds: int | None) -> None:
    """Every line asks for at least one unit; a time to live, when given, is positive."""
    errors = [
        FieldError(f"lines.{i}.quantity", "reservation.invalid_quantity", "must be at least 1")
        for i, qty in enumerate(quantities)
        if qty < 1
    ]
    if not quantities:
        errors.append(FieldError("lines", "reservation.no_lines", "at least one line"))
    if ttl_seconds is not None and ttl_seconds < 1:
        errors.append(FieldError("ttl_seconds", "reservation.invalid_ttl", "must be positive"))
    if errors:
        raise ValidationFailed(errors[0].code, "the reservation is invalid", errors=errors)
