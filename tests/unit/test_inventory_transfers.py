"""The pure rules of transfers: status machine, shipment and receipt plans, discrepancies."""

from __future__ import annotations

import pytest

from omnitill.domain.errors import Conflict, ValidationFailed
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.transfers import (
    Booking,
    LineReceipt,
    Parcel,
    TransferStep,
    arrived,
    check_request,
    check_step,
    receipt_quantities,
    ship_quantities,
    split_expected,
)


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


@pytest.mark.parametrize(
    ("status", "step", "allowed"),
    [
        ("requested", TransferStep.SHIP, True),
        ("requested", TransferStep.CANCEL, True),
        ("requested", TransferStep.RECEIVE, False),
        ("shipped", TransferStep.RECEIVE, True),
        ("shipped", TransferStep.SHIP, False),
        ("shipped", TransferStep.CANCEL, False),
        ("received", TransferStep.RECEIVE, False),
        ("cancelled", TransferStep.SHIP, False),
    ],
)
def test_each_step_starts_from_one_status(status, step, allowed):
    if allowed:
        check_step(status, step, number="TR-1")
        return
    with pytest.raises(Conflict) as exc:
        check_step(status, step, number="TR-1")
    assert exc.value.details == {"number": "TR-1", "status": status}
    assert exc.value.code.startswith("inventory.transfer_not_")


def test_receiving_twice_names_the_current_status():
    with pytest.raises(Conflict) as exc:
        check_step("received", TransferStep.RECEIVE, number="TR-7")
    assert exc.value.code == "inventory.transfer_not_receivable"
    assert exc.value.details["status"] == "received"


def test_a_request_lists_every_problem():
    with pytest.raises(ValidationFailed) as exc:
        check_request(
            source="S01",
            destination="S01",
            lines=[("TEE", 0), ("CAP", 2), ("TEE", -1)],
        )
    assert exc.value.code == "inventory.transfer_same_location"
    assert fields(exc) == [
        ("destination", "inventory.transfer_same_location"),
        ("lines.0.quantity", "inventory.invalid_quantity"),
        ("lines.2.quantity", "inventory.invalid_quantity"),
        ("lines.2.sku", "inventory.transfer_duplicate_sku"),
    ]


def test_a_request_needs_a_line():
    with pytest.raises(ValidationFailed) as exc:
        check_request(source="W01", destination="S01", lines=[])
    assert exc.value.code == "inventory.transfer_no_lines"


def test_a_good_request_passes():
    check_request(source="W01", destination="S01", lines=[("TEE", 1), ("CAP", 3)])


def test_everything_requested_ships_by_default():
    assert ship_quantities({"TEE": 5, "CAP": 1}, None) == {"TEE": 5, "CAP": 1}


def test_a_shipment_may_send_less_and_leave_lines_out():
    assert ship_quantities({"TEE": 5, "CAP": 1}, [("TEE", 3)]) == {"TEE": 3, "CAP": 0}


def test_a_shipment_cannot_send_more_than_requested_or_other_skus():
    with pytest.raises(ValidationFailed) as exc:
        ship_quantities({"TEE": 5}, [("TEE", 6), ("MUG", 1), ("TEE", -1)])
    assert sorted(fields(exc)) == [
        ("lines.0.quantity", "inventory.transfer_over_ship"),
        ("lines.1.sku", "inventory.transfer_sku_not_on_transfer"),
        ("lines.2.quantity", "inventory.invalid_quantity"),
        ("lines.2.sku", "inventory.transfer_duplicate_sku"),
    ]


def test_a_shipment_of_nothing_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        ship_quantities({"TEE": 5}, [("TEE", 0)])
    assert exc.value.code == "inventory.transfer_nothing_to_ship"


def test_a_receipt_defaults_to_what_shipped():
    assert receipt_quantities({"TEE": 5, "CAP": 0}, None) == {"TEE": 5, "CAP": 0}


def test_a_receipt_must_name_every_line_that_shipped():
    with pytest.raises(ValidationFailed) as exc:
        receipt_quantities({"TEE": 5, "CAP": 2, "MUG": 0}, [("TEE", 5)])
    assert fields(exc) == [("lines", "inventory.transfer_lines_missing")]
    assert "CAP" in exc.value.errors[0].message


def test_a_receipt_refuses_negative_quantities():
    with pytest.raises(ValidationFailed) as exc:
        receipt_quantities({"TEE": 5}, [("TEE", -1)])
    assert fields(exc) == [("lines.0.quantity", "inventory.invalid_quantity")]


def test_a_receipt_may_book_nothing_or_more_of_a_line():
    assert receipt_quantities({"TEE": 5, "CAP": 1}, [("TEE", 0), ("CAP", 3)]) == {
        "TEE": 0,
        "CAP": 3,
    }


def test_an_exact_receipt_moves_in_transit_to_on_hand():
    receipt = LineReceipt(shipped=5, received=5)
    assert receipt.discrepancy is None
    assert receipt.bookings() == [
        Booking(Bucket.IN_TRANSIT, "transfer_received", -5),
        Booking(Bucket.ON_HAND, "transfer_in", 5),
    ]


def test_a_short_receipt_clears_in_transit_and_books_what_arrived():
    receipt = LineReceipt(shipped=5, received=3)
    assert (receipt.discrepancy, receipt.difference) == ("short", -2)
    bookings = receipt.bookings()
    assert bookings == [
        Booking(Bucket.IN_TRANSIT, "transfer_received", -3),
        Booking(Bucket.IN_TRANSIT, "transfer_short", -2),
        Booking(Bucket.ON_HAND, "transfer_in", 3),
    ]
    assert sum(b.quantity for b in bookings if b.bucket is Bucket.IN_TRANSIT) == -5


def test_an_over_receipt_books_the_surplus_apart():
    receipt = LineReceipt(shipped=5, received=7)
    assert (receipt.discrepancy, receipt.difference) == ("over", 2)
    assert receipt.bookings() == [
        Booking(Bucket.IN_TRANSIT, "transfer_received", -5),
        Booking(Bucket.ON_HAND, "transfer_in", 5),
        Booking(Bucket.ON_HAND, "transfer_over", 2),
    ]


def test_nothing_arriving_loses_the_whole_line():
    assert LineReceipt(shipped=4, received=0).bookings() == [
        Booking(Bucket.IN_TRANSIT, "transfer_short", -4)
    ]


def test_surplus_units_are_the_last_of_the_portions():
    assert split_expected([3, 4], 5) == [(3, 0), (2, 2)]
    assert split_expected([3, 4], 7) == [(3, 0), (4, 0)]
    assert split_expected([2], 0) == [(0, 2)]


def test_untracked_lines_arrive_as_a_quantity():
    assert arrived(
        tracking="none", shipped=[Parcel(5)], quantity=3, lots=None, serials=None, field="lines.0"
    ) == [Parcel(3)]
    assert (
        arrived(
            tracking="none", shipped=[Parcel(5)], quantity=0, lots=None, serials=None, field="x"
        )
        == []
    )


def test_untracked_lines_take_no_lots_or_serials():
    with pytest.raises(ValidationFailed) as exc:
        arrived(
            tracking="none",
            shipped=[Parcel(1)],
            quantity=1,
            lots=None,
            serials=["SN1"],
            field="lines.2",
        )
    assert fields(exc) == [("lines.2.serials", "inventory.not_tracked")]


SHIPPED_SERIALS = [Parcel(3, None, ("A", "B", "C"))]
SHIPPED_LOTS = [Parcel(2, "L1"), Parcel(3, "L2")]


def test_tracked_lines_received_in_full_arrive_as_shipped():
    assert (
        arrived(
            tracking="serial",
            shipped=SHIPPED_SERIALS,
            quantity=3,
            lots=None,
            serials=None,
            field="lines.0",
        )
        == SHIPPED_SERIALS
    )
    assert (
        arrived(
            tracking="lot", shipped=SHIPPED_LOTS, quantity=5, lots=None, serials=None, field="x"
        )
        == SHIPPED_LOTS
    )


def test_a_short_serial_line_names_the_serials_that_arrived():
    got = arrived(
        tracking="serial",
        shipped=SHIPPED_SERIALS,
        quantity=2,
        lots=None,
        serials=["A", "C"],
        field="lines.0",
    )
    assert got == [Parcel(2, None, ("A", "C"))]
    with pytest.raises(ValidationFailed) as exc:
        arrived(
            tracking="serial",
            shipped=SHIPPED_SERIALS,
            quantity=2,
            lots=None,
            serials=None,
            field="lines.0",
        )
    assert exc.value.code == "inventory.transfer_serials_required"


def test_serials_received_must_be_shipped_unique_and_one_per_unit():
    with pytest.raises(ValidationFailed) as exc:
        arrived(
            tracking="serial",
            shipped=SHIPPED_SERIALS,
            quantity=2,
            lots=None,
            serials=["A", "A", "Z"],
            field="lines.1",
        )
    assert fields(exc) == [
        ("lines.1.serials", "inventory.serials_count_mismatch"),
        ("lines.1.serials.1", "inventory.serial_duplicate"),
        ("lines.1.serials.2", "inventory.transfer_serial_not_shipped"),
    ]


def test_a_lot_line_short_or_over_names_its_lots():
    got = arrived(
        tracking="lot",
        shipped=SHIPPED_LOTS,
        quantity=6,
        lots=[("L1", 2), ("L2", 4)],
        serials=None,
        field="lines.0",
    )
    assert got == [Parcel(2, "L1"), Parcel(4, "L2")]
    with pytest.raises(ValidationFailed) as exc:
        arrived(
            tracking="lot", shipped=SHIPPED_LOTS, quantity=4, lots=None, serials=None, field="l.0"
        )
    assert fields(exc) == [("l.0.lots", "inventory.transfer_lots_required")]


def test_lots_received_must_be_shipped_and_add_up():
    with pytest.raises(ValidationFailed) as exc:
        arrived(
            tracking="lot",
            shipped=SHIPPED_LOTS,
            quantity=4,
            lots=[("L1", 1), ("L9", 1), ("L1", 0)],
            serials=None,
            field="lines.0",
        )
    assert fields(exc) == [
        ("lines.0.lots.1.lot", "inventory.transfer_lot_not_shipped"),
        ("lines.0.lots.2.lot", "inventory.transfer_duplicate_lot"),
        ("lines.0.lots.2.quantity", "inventory.invalid_quantity"),
        ("lines.0.lots", "inventory.transfer_lots_mismatch"),
    ]
