"""The serial unit status machine (domain/inventory/serials.py)."""

from __future__ import annotations

import pytest

from omnitill.domain.inventory.serials import (
    GONE,
    HELD,
    MOVES,
    SerialStatus,
    allowed,
    check_move,
    duplicates,
    event_for,
    may_receive,
)

S = SerialStatus


def test_every_status_is_either_held_or_gone():
    assert set(SerialStatus) == GONE | HELD
    assert not GONE & HELD
    assert {S.SOLD, S.WRITTEN_OFF, S.RETURNED_TO_VENDOR} == GONE


def test_a_new_serial_or_one_that_left_may_be_received():
    assert may_receive(None)
    for status in (S.SOLD, S.WRITTEN_OFF, S.RETURNED_TO_VENDOR):
        assert may_receive(status)
    for status in (S.IN_STOCK, S.RESERVED, S.RETURNED, S.QUARANTINED, S.IN_TRANSIT):
        assert not may_receive(status)


def test_only_stock_on_hand_or_reserved_for_the_buyer_can_be_sold():
    assert MOVES["sold"].sources == {S.IN_STOCK, S.RESERVED}
    assert allowed("in_stock", "sold")
    assert not allowed("sold", "sold")
    assert not allowed("in_transit", "sold")
    assert not allowed("quarantined", "sold")


def test_each_event_names_the_move_it_makes():
    assert event_for(None, "in_stock") == "received"
    assert event_for("in_stock", "in_transit") == "transferred_out"
    assert event_for("in_transit", "in_stock") == "transferred_in"
    assert event_for("sold", "returned") == "returned"
    assert event_for("returned", "quarantined") == "quarantined"
    assert event_for("quarantined", "returned_to_vendor") == "returned_to_vendor"


def test_a_move_no_event_makes_is_a_programming_error():
    with pytest.raises(ValueError, match="from sold to in_transit"):
        check_move("sold", "in_transit")
    with pytest.raises(ValueError, match="from written_off to sold"):
        event_for("written_off", "sold")
    check_move("in_stock", "written_off")


def test_every_status_is_reachable_and_every_event_targets_one_status():
    targets = {move.target for move in MOVES.values()}
    assert targets == set(SerialStatus)


def test_duplicates_are_reported_at_their_repeated_positions():
    assert duplicates(["A", "B", "A", "C", "B", "A"]) == [2, 4, 5]
    assert duplicates([]) == []
