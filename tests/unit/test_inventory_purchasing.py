"""The pure purchasing rules: PO life cycle, receiving, landed cost, moving-average cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnitill.domain.errors import Conflict, ValidationFailed
from omnitill.domain.inventory.purchasing import (
    ALLOWED_FROM,
    OrderLineRequest,
    POAction,
    POStatus,
    SupplierFields,
    SupplierItemFields,
    SupplierTerms,
    allocate_landed_cost,
    check_action,
    check_receipt_request,
    check_supplier,
    check_supplier_items,
    convert_cost,
    div_half_up,
    landed_unit_cost,
    moving_average_cost,
    plan_order_lines,
    receive_lines,
    receive_on_line,
    remaining,
    status_after_receipt,
    unit_cost_from_pack,
)

# --- the life cycle -------------------------------------------------------------------------

LEGAL = {
    (POStatus.DRAFT, POAction.EDIT),
    (POStatus.DRAFT, POAction.SEND),
    (POStatus.DRAFT, POAction.CANCEL),
    (POStatus.SENT, POAction.RECEIVE),
    (POStatus.SENT, POAction.CANCEL),
    (POStatus.PARTIALLY_RECEIVED, POAction.RECEIVE),
    (POStatus.PARTIALLY_RECEIVED, POAction.CLOSE),
    (POStatus.RECEIVED, POAction.RECEIVE),
    (POStatus.RECEIVED, POAction.CLOSE),
}


@pytest.mark.parametrize("status", list(POStatus))
@pytest.mark.parametrize("action", list(POAction))
def test_only_the_documented_transitions_are_legal(status, action):
    if (status, action) in LEGAL:
        check_action(status, action)
        return
    with pytest.raises(Conflict) as err:
        check_action(status, action)
    assert err.value.details["status"] == status
    assert err.value.details["action"] == action
    assert err.value.details["allowed_from"] == sorted(str(s) for s in ALLOWED_FROM[action])


def test_refusals_carry_codes_that_say_what_went_wrong():
    with pytest.raises(Conflict) as edit:
        check_action("sent", POAction.EDIT)
    with pytest.raises(Conflict) as receive:
        check_action("draft", POAction.RECEIVE)
    with pytest.raises(Conflict) as close:
        check_action("sent", POAction.CLOSE)
    assert edit.value.code == "purchasing.not_draft"
    assert receive.value.code == "purchasing.not_receivable"
    assert close.value.code == "purchasing.invalid_transition"


def test_closed_and_cancelled_orders_allow_nothing():
    for status in (POStatus.CLOSED, POStatus.CANCELLED):
        for action in POAction:
            with pytest.raises(Conflict):
                check_action(status, action)


# --- receiving ------------------------------------------------------------------------------


def test_remaining_never_goes_below_zero():
    assert remaining(ordered=10, received=4) == 6
    assert remaining(ordered=10, received=12) == 0


def test_a_receipt_splits_into_what_was_expected_and_what_is_over():
    split = receive_on_line(ordered=10, received=4, quantity=8)
    assert (split.released, split.over) == (6, 2)
    exact = receive_on_line(ordered=10, received=4, quantity=6)
    assert (exact.released, exact.over) == (6, 0)
    late = receive_on_line(ordered=10, received=10, quantity=3)
    assert (late.released, late.over) == (0, 3)


def test_two_receipt_lines_on_one_po_line_see_each_other():
    splits = receive_lines({"a": (10, 4), "b": (5, 0)}, [("a", 4), ("b", 5), ("a", 4)])
    assert [(s.released, s.over) for s in splits] == [(4, 0), (5, 0), (2, 2)]


def test_an_order_is_received_once_every_line_is_complete():
    assert status_after_receipt([(10, 10), (5, 6)]) is POStatus.RECEIVED
    assert status_after_receipt([(10, 10), (5, 4)]) is POStatus.PARTIALLY_RECEIVED


def test_receipt_requests_name_every_bad_field():
    with pytest.raises(ValidationFailed) as err:
        check_receipt_request(quantities=[0, 3, -1], landed_costs=[("freight", -5), ("tip", 1)])
    assert [e.field for e in err.value.errors] == [
        "lines.0.quantity",
        "lines.2.quantity",
        "landed_costs.0.amount",
        "landed_costs.1.kind",
    ]
    with pytest.raises(ValidationFailed) as empty:
        check_receipt_request(quantities=[], landed_costs=[])
    assert empty.value.code == "purchasing.no_lines"


# --- landed cost and moving average ---------------------------------------------------------


def test_landed_cost_follows_line_value_and_sums_exactly():
    # Values 12000 and 10000: exact shares 545.45 and 454.55; the spare unit goes to the
    # larger remainder (the second line).
    shares = allocate_landed_cost(1000, quantities=[30, 10], unit_costs=[400, 1000])
    assert shares == [545, 455]
    assert landed_unit_cost(quantity=30, unit_cost=400, share=545) == 418  # 418.17
    assert landed_unit_cost(quantity=10, unit_cost=1000, share=455) == 1046  # 1045.5 up


def test_free_goods_share_the_landed_cost_by_quantity():
    assert allocate_landed_cost(100, quantities=[1, 3], unit_costs=[0, 0]) == [25, 75]


@given(
    total=st.integers(min_value=0, max_value=10**9),
    lines=st.lists(
        st.tuples(st.integers(1, 10_000), st.integers(0, 100_000)), min_size=1, max_size=20
    ),
)
def test_landed_cost_shares_always_sum_to_the_total(total, lines):
    shares = allocate_landed_cost(
        total, quantities=[q for q, _ in lines], unit_costs=[c for _, c in lines]
    )
    assert sum(shares) == total
    assert all(s >= 0 for s in shares)


def test_moving_average_weighs_old_stock_and_the_landed_cost():
    # 15 units at 500 plus 30 at 418: 20040 / 45 = 445.33
    assert moving_average_cost(on_hand_before=15, old_cost=500, receipts=[(30, 418)]) == 445


def test_moving_average_rounds_half_up():
    # (1 x 100 + 1 x 101) / 2 = 100.5
    assert moving_average_cost(on_hand_before=1, old_cost=100, receipts=[(1, 101)]) == 101


def test_negative_stock_does_not_drag_the_average():
    assert moving_average_cost(on_hand_before=-7, old_cost=900, receipts=[(10, 400)]) == 400


def test_without_an_old_cost_the_receipt_sets_the_cost():
    assert moving_average_cost(on_hand_before=50, old_cost=None, receipts=[(10, 400)]) == 400
    assert (
        moving_average_cost(on_hand_before=50, old_cost=None, receipts=[(1, 100), (3, 200)]) == 175
    )


def test_unit_cost_of_a_pack_rounds_half_up():
    assert unit_cost_from_pack(pack_cost=1000, pack_size=12) == 83  # 83.33
    assert unit_cost_from_pack(pack_cost=30, pack_size=4) == 8  # 7.5
    assert div_half_up(5, 2) == 3
    with pytest.raises(ValueError, match="denominator"):
        div_half_up(1, 0)


def test_costs_convert_between_currencies_with_different_minor_units():
    assert convert_cost(1000, rate=Decimal("1.1"), source="EUR", target="USD") == 1100
    # 10.00 USD at 150 JPY per USD: 1500 yen
    assert convert_cost(1000, rate=Decimal("150"), source="USD", target="JPY") == 1500
    assert convert_cost(333, rate=Decimal("0.5"), source="EUR", target="USD") == 167


# --- order lines ----------------------------------------------------------------------------


def test_lines_take_quantities_or_packs_and_the_supplier_cost():
    planned = plan_order_lines(
        [
            OrderLineRequest("A", quantity=7),
            OrderLineRequest("B", packs=3),
            OrderLineRequest("C", packs=2, pack_size=6, unit_cost=90),
        ],
        [SupplierTerms(12, 1000), SupplierTerms(12, 1000), None],
    )
    assert [(p.sku, p.quantity, p.pack_size, p.unit_cost) for p in planned] == [
        ("A", 7, 12, 83),
        ("B", 36, 12, 83),
        ("C", 12, 6, 90),
    ]


def test_bad_lines_are_all_named():
    with pytest.raises(ValidationFailed) as err:
        plan_order_lines(
            [
                OrderLineRequest("A", quantity=0, unit_cost=1),
                OrderLineRequest("B", packs=2, unit_cost=1),
                OrderLineRequest("C", quantity=1, packs=1, pack_size=2, unit_cost=1),
                OrderLineRequest("A", quantity=1, unit_cost=1),
                OrderLineRequest("D", quantity=1),
                OrderLineRequest("E", quantity=1, unit_cost=-1),
                OrderLineRequest("F", packs=1, pack_size=0, unit_cost=1),
            ],
            [None, None, None, None, None, None, None],
        )
    assert [(e.field, e.code) for e in err.value.errors] == [
        ("lines.0.quantity", "purchasing.invalid_quantity"),
        ("lines.1.pack_size", "purchasing.pack_size_required"),
        ("lines.2", "purchasing.quantity_or_packs"),
        ("lines.3.sku", "purchasing.duplicate_sku"),
        ("lines.4.unit_cost", "purchasing.unit_cost_required"),
        ("lines.5.unit_cost", "purchasing.invalid_unit_cost"),
        ("lines.6.pack_size", "purchasing.invalid_pack_size"),
    ]


# --- suppliers ------------------------------------------------------------------------------


def test_supplier_fields_are_checked_together():
    errors = check_supplier(
        SupplierFields("bad code", " ", "XXX", email="nope", lead_time_days=400)
    )
    assert [e.field for e in errors] == ["code", "name", "currency", "email", "lead_time_days"]
    assert check_supplier(SupplierFields("ACME-1", "Acme", "USD", "a@b.example")) == []


def test_supplier_items_are_checked_per_line():
    errors = check_supplier_items(
        [
            SupplierItemFields("A", pack_size=0),
            SupplierItemFields("A", pack_cost=-1, min_order_packs=0),
        ]
    )
    assert [e.field for e in errors] == [
        "items.0.pack_size",
        "items.1.sku",
        "items.1.pack_cost",
        "items.1.min_order_packs",
    ]
