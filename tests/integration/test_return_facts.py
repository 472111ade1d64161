"""Facts a return is decided by, counted from stored returns, sales and orders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from omnitill.adapters.db.models import Customer
from omnitill.domain.returns.model import NoReceiptHistory, ReturnPolicy
from omnitill.domain.returns.risk import RiskInput, RiskPolicy, score_return
from omnitill.services import return_facts
from tests.factories import make_customer, make_location, make_register
from tests.integration import return_rows as rows

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NYC = {"latitude": "40.712800", "longitude": "-74.006000"}
PHILADELPHIA = {"latitude": "39.952600", "longitude": "-75.165200"}
BOSTON = {"latitude": "42.360100", "longitude": "-71.058900"}
# Boston to New York by the spherical law of cosines on the same 6371.0088 km sphere.
BOSTON_NYC_KM = 306.1089


@pytest.fixture
def shop(db):
    return {
        "nyc": make_location(db, "S01", **NYC).id,
        "phl": make_location(db, "S02", **PHILADELPHIA).id,
        "bos": make_location(db, "S03", **BOSTON).id,
        "wh": make_location(db, "W01", kind="warehouse").id,  # no coordinates
    }


def facts(db, **given):
    args = {
        "customer_id": None,
        "card_fingerprints": frozenset(),
        "no_receipt": False,
        "refund_value": 1000,
        "purchase_value": 1000,
        "cashier_id": None,
        "buyer_employee_ids": frozenset(),
        "purchase_location_ids": frozenset(),
        "risk": RiskPolicy(),
        "now": NOW,
        **given,
    }
    with db.uow(write=False) as uow:
        return return_facts.risk_input(uow, **args)


def test_customer_returns_count_the_velocity_window_without_cancelled_or_later_ones(db, shop):
    ann, bob = make_customer(db).id, make_customer(db).id
    s01 = shop["nyc"]
    counted = [
        rows.add_return(db, location_id=s01, at=NOW - d * DAY, customer_id=ann) for d in (1, 10, 29)
    ]
    rows.add_return(db, location_id=s01, at=NOW - 31 * DAY, customer_id=ann)  # too old
    rows.add_return(db, location_id=s01, at=NOW - 2 * DAY, customer_id=ann, status="cancelled")
    rows.add_return(db, location_id=s01, at=NOW + timedelta(hours=1), customer_id=ann)  # later
    rows.add_return(db, location_id=s01, at=NOW - DAY, customer_id=bob)

    got = facts(db, customer_id=ann, location_id=s01)
    assert (got.customer_returns, got.card_returns, got.no_receipt_returns) == (3, None, 0)
    assert facts(db, customer_id=ann, location_id=s01, return_id=counted[0]).customer_returns == 2
    short = facts(db, customer_id=ann, location_id=s01, risk=RiskPolicy(velocity_window_days=5))
    assert short.customer_returns == 1
    assert facts(db, customer_id=None, location_id=s01).customer_returns is None


def test_card_returns_count_refunds_to_the_fingerprint_and_the_card_shown_once_each(db, shop):
    s01 = shop["nyc"]
    fp1 = rows.payment(db, location_id=s01, fingerprint="fp1")
    fp1_again = rows.payment(db, location_id=s01, fingerprint="fp1")
    fp2 = rows.payment(db, location_id=s01, fingerprint="fp2")
    rows.add_return(db, location_id=s01, at=NOW - DAY, refunds=[(fp1, "refunded")])
    # the card shown and two refunds to it: one return
    rows.add_return(
        db,
        location_id=s01,
        at=NOW - 2 * DAY,
        card_fingerprint="fp1",
        refunds=[(fp1, "refunded"), (fp1_again, "pending")],
    )
    rows.add_return(db, location_id=s01, at=NOW - 3 * DAY, card_fingerprint="fp1")
    rows.add_return(db, location_id=s01, at=NOW - 4 * DAY, refunds=[(fp1, "failed")])
    rows.add_return(db, location_id=s01, at=NOW - 5 * DAY, refunds=[(fp2, "refunded")])
    rows.add_return(db, location_id=s01, at=NOW - 40 * DAY, refunds=[(fp1, "refunded")])
    rows.add_return(
        db, location_id=s01, at=NOW - DAY, refunds=[(fp1, "refunded")], status="cancelled"
    )

    assert facts(db, location_id=s01, card_fingerprints={"fp1"}).card_returns == 3
    assert facts(db, location_id=s01, card_fingerprints={"fp1", "fp2"}).card_returns == 4
    assert facts(db, location_id=s01, card_fingerprints={"fp9"}).card_returns == 0
    assert facts(db, location_id=s01, card_fingerprints=set()).card_returns is None


def test_no_receipt_returns_count_the_customers_own_in_their_window(db, shop):
    ann, bob = make_customer(db).id, make_customer(db).id
    s01 = shop["nyc"]
    for days in (5, 80):
        rows.add_return(db, location_id=s01, at=NOW - days * DAY, customer_id=ann, no_receipt=True)
    rows.add_return(db, location_id=s01, at=NOW - 100 * DAY, customer_id=ann, no_receipt=True)
    rows.add_return(
        db, location_id=s01, at=NOW - DAY, customer_id=ann, no_receipt=True, status="cancelled"
    )
    rows.add_return(db, location_id=s01, at=NOW - DAY, customer_id=ann)  # with a receipt
    rows.add_return(db, location_id=s01, at=NOW - DAY, customer_id=bob, no_receipt=True)

    got = facts(db, customer_id=ann, location_id=s01, no_receipt=True)
    assert (got.no_receipt_returns, got.no_receipt, got.customer_returns) == (2, True, 2)


def test_distance_is_to_the_nearest_purchase_store_with_coordinates(db, shop):
    far = facts(db, location_id=shop["bos"], purchase_location_ids={shop["nyc"], shop["phl"]})
    assert far.km_to_nearest_purchase == pytest.approx(BOSTON_NYC_KM, abs=0.001)
    with_warehouse = facts(
        db, location_id=shop["bos"], purchase_location_ids={shop["phl"], shop["wh"]}
    )
    assert with_warehouse.km_to_nearest_purchase == pytest.approx(435.6275, abs=0.001)
    same = facts(db, location_id=shop["nyc"], purchase_location_ids={shop["nyc"]})
    assert same.km_to_nearest_purchase == 0.0
    unknown = [
        facts(db, location_id=shop["bos"], purchase_location_ids={shop["wh"]}),
        facts(db, location_id=shop["wh"], purchase_location_ids={shop["nyc"]}),
        facts(db, location_id=shop["bos"], purchase_location_ids=set()),
    ]
    assert [f.km_to_nearest_purchase for f in unknown] == [None, None, None]


def test_risk_input_carries_the_given_figures_and_scores_as_the_policy_says(db, shop):
    ann = make_customer(db).id
    for days in (1, 2, 3):
        rows.add_return(db, location_id=shop["nyc"], at=NOW - days * DAY, customer_id=ann)
    cashier = uuid.uuid4()
    got = facts(
        db,
        customer_id=ann,
        card_fingerprints={"fp1"},
        refund_value=2500,
        purchase_value=2000,
        cashier_id=cashier,
        buyer_employee_ids=frozenset({str(cashier)}),
        location_id=shop["bos"],
        purchase_location_ids={shop["nyc"]},
        serial_mismatches=1,
    )
    assert got == RiskInput(
        refund_value=2500,
        purchase_value=2000,
        customer_returns=3,
        card_returns=0,
        no_receipt=False,
        no_receipt_returns=0,
        serial_mismatches=1,
        cashier_id=str(cashier),
        buyer_employee_ids=frozenset({str(cashier)}),
        km_to_nearest_purchase=pytest.approx(BOSTON_NYC_KM, abs=0.001),
    )
    assert set(score_return(got).codes) == {
        "returns.risk.customer_velocity",
        "returns.risk.serial_mismatch",
        "returns.risk.value_above_purchase",
        "returns.risk.employee_own_purchase",
        "returns.risk.far_from_purchase",
    }


def test_no_receipt_history_counts_the_period_and_sums_value_before_fees(db, shop):
    ann = make_customer(db).id
    s01 = shop["nyc"]
    mine = {"customer_id": ann, "no_receipt": True}
    rows.add_return(db, location_id=s01, at=NOW - DAY, refund_total_minor=1000, **mine)
    rows.add_return(
        db,
        location_id=s01,
        at=NOW - 200 * DAY,
        refund_total_minor=2500,
        fee_total_minor=500,
        **mine,
    )
    rows.add_return(
        db, location_id=s01, at=NOW - 3 * DAY, refund_total_minor=700, currency="EUR", **mine
    )  # counted, its value is in another currency
    rows.add_return(db, location_id=s01, at=NOW - 400 * DAY, refund_total_minor=9000, **mine)
    rows.add_return(
        db, location_id=s01, at=NOW - DAY, refund_total_minor=9000, status="cancelled", **mine
    )
    rows.add_return(db, location_id=s01, at=NOW - DAY, refund_total_minor=9000, customer_id=ann)

    policy = ReturnPolicy(currency="USD")
    stranger = make_customer(db).id
    with db.uow(write=False) as uow:
        history = return_facts.no_receipt_history(uow, ann, policy, NOW)
        recent = return_facts.no_receipt_history(
            uow, ann, ReturnPolicy(currency="USD", no_receipt_period_days=30), NOW
        )
        nobody = return_facts.no_receipt_history(uow, stranger, policy, NOW)
    assert history == NoReceiptHistory(count=3, value=4000)
    assert recent == NoReceiptHistory(count=2, value=1000)
    assert nobody == NoReceiptHistory(count=0, value=0)


def test_lowest_price_is_the_lowest_paid_unit_price_of_recent_sales_and_orders(db, shop):
    s01 = shop["nyc"]
    register = make_register(db, make_location(db, "S09")).id
    cashier = rows.user_id(db, "till1")
    item, other, unsold = rows.variant(db), rows.variant(db), rows.variant(db)

    def sold(lines, at=NOW - DAY, **kw):
        rows.sale(
            db, location_id=s01, register_id=register, cashier_id=cashier, at=at, lines=lines, **kw
        )

    sold([(item, 3, 2999)])  # 999.67 each, rounded down
    sold([(item, 1, 1050), (other, 1, 1)])
    sold([(item, 1, 500)], at=NOW - 100 * DAY)  # before the 90 days
    sold([(item, 1, 100)], status="voided")
    sold([(item, 1, 200)], currency="EUR")
    with db.uow(write=False) as uow:
        assert return_facts.lowest_price(uow, item, 90, NOW, "USD") == 999
        assert return_facts.lowest_price(uow, item, 120, NOW, "USD") == 500
        assert return_facts.lowest_price(uow, item, 90, NOW, "EUR") == 200
        assert return_facts.lowest_price(uow, unsold, 90, NOW, "USD") is None

    rows.order(db, placed_at=NOW - 3 * DAY, lines=[(item, 2, 1997)], status="in_progress")
    rows.order(db, placed_at=NOW - 3 * DAY, lines=[(item, 1, 10)], status="cancelled")
    rows.order(db, placed_at=NOW - 3 * DAY, lines=[(item, 1, 20)], status="pending_payment")
    with db.uow(write=False) as uow:
        assert return_facts.lowest_price(uow, item, 90, NOW, "USD") == 998
        assert return_facts.lowest_price(uow, item, 2, NOW, "USD") == 999  # order too old


def test_buyer_employees_are_users_whose_username_is_the_customers_email(db, shop):
    ann_staff = rows.user_id(db, "Ann@Shop.example")
    rows.user_id(db, "bob")
    with db.uow() as uow:
        ann = Customer(first_name="Ann", email="ANN@shop.example")  # as an import might
        anonymous = Customer(first_name="Cy")
        uow.session.add_all([ann, anonymous])
        uow.commit()
        ann_id, anonymous_id = ann.id, anonymous.id
    with db.uow(write=False) as uow:
        assert return_facts.buyer_employees(uow, ann_id) == frozenset({str(ann_staff)})
        assert return_facts.buyer_employees(uow, anonymous_id) == frozenset()
