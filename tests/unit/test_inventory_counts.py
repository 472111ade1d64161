"""The pure rules of cycle counts: status machine, counts, blind view, variances, scope."""

from __future__ import annotations

import pytest

from omnitill.domain.errors import Conflict, ValidationFailed
from omnitill.domain.inventory.counts import (
    CountStep,
    LineVariance,
    Uncounted,
    category_scope,
    check_counts,
    check_step,
    shows_expected,
    totals,
)


@pytest.mark.parametrize(
    ("status", "step", "code"),
    [
        ("open", CountStep.RECORD, None),
        ("open", CountStep.SUBMIT, None),
        ("open", CountStep.CANCEL, None),
        ("submitted", CountStep.APPROVE, None),
        ("submitted", CountStep.CANCEL, None),
        ("submitted", CountStep.RECORD, "count.not_open"),
        ("open", CountStep.APPROVE, "count.not_approvable"),
        ("approved", CountStep.APPROVE, "count.not_approvable"),
        ("approved", CountStep.CANCEL, "count.not_cancellable"),
        ("cancelled", CountStep.SUBMIT, "count.not_open"),
    ],
)
def test_each_step_is_allowed_only_from_its_statuses(status, step, code):
    if code is None:
        check_step(status, step, number="CC-1")
        return
    with pytest.raises(Conflict) as exc:
        check_step(status, step, number="CC-1")
    assert exc.value.code == code
    assert exc.value.details == {"number": "CC-1", "status": status}


def test_counts_list_every_negative_and_repeated_line():
    with pytest.raises(ValidationFailed) as exc:
        check_counts([("TEE", -1), ("CAP", 0), ("TEE", 2), ("MUG", -5)])
    assert exc.value.code == "stock.count_negative"
    assert [(e.field, e.code) for e in exc.value.errors] == [
        ("lines.0.counted", "stock.count_negative"),
        ("lines.2.sku", "count.duplicate_sku"),
        ("lines.3.counted", "stock.count_negative"),
    ]


def test_counts_need_a_line_and_zero_is_a_count():
    with pytest.raises(ValidationFailed) as exc:
        check_counts([])
    assert exc.value.code == "count.no_lines"
    check_counts([("TEE", 0)])


@pytest.mark.parametrize(
    ("blind", "status", "may_adjust", "shown"),
    [
        (True, "open", False, False),
        (True, "open", True, True),
        (True, "submitted", False, True),
        (True, "approved", False, True),
        (False, "open", False, True),
    ],
)
def test_a_blind_count_hides_expected_figures_from_counters_while_open(
    blind, status, may_adjust, shown
):
    assert shows_expected(blind=blind, status=status, may_adjust=may_adjust) is shown


def test_a_sale_during_the_count_moves_the_expected_quantity():
    line = LineVariance(expected_at_start=10, movements_during=-2, counted=8, unit_cost=600)
    assert line.expected_at_count == 8
    assert line.variance == 0
    assert line.value == 0


def test_a_variance_is_valued_at_cost_when_there_is_one():
    short = LineVariance(expected_at_start=10, movements_during=0, counted=7, unit_cost=600)
    assert (short.variance, short.value) == (-3, -1800)
    costless = LineVariance(expected_at_start=4, movements_during=1, counted=6)
    assert (costless.variance, costless.value) == (1, None)


def test_approval_books_the_variance_or_what_the_policy_says_for_uncounted_lines():
    counted = LineVariance(expected_at_start=10, movements_during=-1, counted=7)
    uncounted = LineVariance(expected_at_start=4, movements_during=-1, counted=None)
    assert counted.booking(Uncounted.SKIP) == -2
    assert counted.booking(Uncounted.ZERO) == -2
    assert uncounted.variance is None
    assert uncounted.booking(Uncounted.SKIP) is None
    assert uncounted.booking(Uncounted.ZERO) == -3


def test_totals_split_units_and_value_over_and_short():
    summary = totals([(True, -3, 600), (True, 1, None), (True, 0, 100), (False, None, 50)])
    assert (summary.lines, summary.counted, summary.uncounted) == (4, 3, 1)
    assert (summary.units_over, summary.units_short, summary.net_units) == (1, 3, -2)
    assert (summary.value_over, summary.value_short, summary.net_value) == (0, 1800, -1800)
    assert summary.lines_without_cost == 1


def test_an_uncounted_line_set_to_zero_counts_in_the_units_but_not_as_counted():
    summary = totals([(False, -4, 10)])
    assert (summary.counted, summary.uncounted, summary.units_short) == (0, 1, 4)


def test_a_category_scope_holds_every_category_below_it():
    parents = {"apparel": None, "tees": "apparel", "v-neck": "tees", "toys": None}
    assert category_scope("apparel", parents) == {"apparel", "tees", "v-neck"}
    assert category_scope("tees", parents) == {"tees", "v-neck"}
    assert category_scope("toys", parents) == {"toys"}


def test_a_cycle_in_the_category_tree_does_not_loop():
    assert category_scope("a", {"a": "b", "b": "a"}) == {"a", "b"}
