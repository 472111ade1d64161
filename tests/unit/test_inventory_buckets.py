from __future__ import annotations

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.inventory.buckets import Bucket, BucketMove, StockBuckets


def test_available_subtracts_reserved_safety_stock_and_every_unavailable_bucket():
    b = StockBuckets(on_hand=20, reserved=3, safety_stock=2, quarantine=1, damaged=4, qc=5)
    assert b.available == 5
    assert b.free == 7  # a move may take units from the safety buffer, never promised ones


def test_available_may_be_negative_and_is_reported_as_is():
    assert StockBuckets(on_hand=-1, reserved=2).available == -3


def test_a_move_into_an_unavailable_bucket_changes_only_that_bucket():
    assert BucketMove("sellable", "damaged", 2).changes() == {Bucket.DAMAGED: 2}


def test_a_move_between_unavailable_buckets_changes_both():
    assert BucketMove("qc", "quarantine", 3).changes() == {Bucket.QC: -3, Bucket.QUARANTINE: 3}


def test_a_move_needs_two_different_known_buckets_and_a_positive_quantity():
    with pytest.raises(ValidationFailed) as same:
        BucketMove("damaged", "damaged", 1)
    assert same.value.code == "inventory.same_bucket"
    with pytest.raises(ValidationFailed) as unknown:
        BucketMove("reserved", "on_hand", 0)
    assert [e.field for e in unknown.value.errors] == ["from", "to", "quantity"]
