from __future__ import annotations

import time
import uuid
from itertools import pairwise
from types import SimpleNamespace

from omnitill.domain import ids
from omnitill.domain.ids import uuid7, uuid7_time_ms


def test_ids_carry_version_7_and_the_rfc_variant():
    for _ in range(100):
        value = uuid7()
        assert value.version == 7
        assert value.variant == uuid.RFC_4122


def test_ids_made_in_one_process_strictly_increase():
    made = [uuid7() for _ in range(20_000)]
    assert all(a < b for a, b in pairwise(made))
    assert len(set(made)) == len(made)


def test_ids_sort_as_text_in_the_order_they_were_made():
    made = [uuid7() for _ in range(1000)]
    assert sorted(str(u) for u in made) == [str(u) for u in made]


def test_the_creation_time_is_embedded_in_milliseconds():
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= uuid7_time_ms(value) <= after


def _isolate_clock(monkeypatch) -> None:
    """The generator remembers the last millisecond; put it back so later ids carry real time."""
    monkeypatch.setattr(ids, "_last_ms", ids._last_ms)
    monkeypatch.setattr(ids, "_counter", ids._counter)


def test_more_ids_than_the_counter_holds_in_one_millisecond_still_increase(monkeypatch):
    _isolate_clock(monkeypatch)
    frozen = (time.time_ns() // 1_000_000 + 10_000) * 1_000_000
    monkeypatch.setattr(ids, "time", SimpleNamespace(time_ns=lambda: frozen))
    made = [uuid7() for _ in range(10_000)]  # the 12-bit counter holds 4096
    assert all(a < b for a, b in pairwise(made))
    assert all(m.version == 7 for m in made)


def test_a_clock_stepping_back_does_not_break_the_order(monkeypatch):
    _isolate_clock(monkeypatch)
    now = time.time_ns() // 1_000_000 + 20_000
    ticks = iter([now, now + 5, now - 1000, now - 999])
    monkeypatch.setattr(ids, "time", SimpleNamespace(time_ns=lambda: next(ticks) * 1_000_000))
    made = [uuid7() for _ in range(4)]
    assert all(a < b for a, b in pairwise(made))


def test_ids_after_a_faked_clock_carry_real_time_again():
    before = time.time_ns() // 1_000_000
    assert uuid7_time_ms(uuid7()) >= before
    assert uuid7_time_ms(uuid7()) <= time.time_ns() // 1_000_000 + 1
