from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from omnitill.domain.errors import Conflict, ValidationFailed
from omnitill.domain.inventory.reservations import (
    ReservationStatus,
    Transition,
    check_request,
    is_noop,
    merge_quantities,
)
from omnitill.services.retries import run_retrying

S, T = ReservationStatus, Transition


def test_an_active_reservation_may_end_any_way():
    assert not any(is_noop(S.ACTIVE, t) for t in Transition)


@pytest.mark.parametrize(
    ("status", "transition"),
    [
        (S.RELEASED, T.RELEASE),
        (S.EXPIRED, T.RELEASE),
        (S.FULFILLED, T.FULFIL),
        (S.FULFILLED, T.EXPIRE),
    ],
)
def test_asking_again_for_an_end_already_reached_changes_nothing(status, transition):
    assert is_noop(status, transition)


@pytest.mark.parametrize(
    ("status", "transition"),
    [(S.RELEASED, T.FULFIL), (S.EXPIRED, T.FULFIL), (S.FULFILLED, T.RELEASE)],
)
def test_another_end_is_an_invalid_transition(status, transition):
    with pytest.raises(Conflict) as refused:
        is_noop(status, transition)
    assert refused.value.code == "reservation.invalid_transition"


def test_lines_naming_the_same_variant_are_merged():
    assert merge_quantities([("a", 1), ("b", 2), ("a", 3)]) == {"a": 4, "b": 2}


def test_a_request_lists_every_bad_line_and_a_bad_ttl():
    with pytest.raises(ValidationFailed) as bad:
        check_request(quantities=[1, 0, -2], ttl_seconds=0)
    assert [e.field for e in bad.value.errors] == [
        "lines.1.quantity",
        "lines.2.quantity",
        "ttl_seconds",
    ]


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_serialization_failures_and_deadlocks_are_retried_and_others_are_not():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("UPDATE", {}, _Deadlock())
        return "done"

    assert run_retrying(flaky) == "done"
    assert len(calls) == 3

    def broken():
        raise OperationalError("UPDATE", {}, ValueError("no sqlstate"))

    with pytest.raises(OperationalError):
        run_retrying(broken)
