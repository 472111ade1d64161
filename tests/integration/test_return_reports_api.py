"""Return KPIs over March 2026, every figure computed by hand from the rows below.

Sold in March (USD unless said): sale 1 at S01, 4 shoes for 40.00 and 6 hats for 12.00 (and a
gift card, not merchandise); sale 2 at S02, 2 shoes for 20.00; a EUR sale at S01, 1 shoe for
9.00. Web order 1: 3 shoes for 30.00 shipped from S01 (its 2 hats are only packed); web order
2: hats, 3 for 10.00, 1 cancelled, 2 picked up at S02 (6.67 of the 10.00, largest remainder).
Returns in March, USD unless said (lines: units reason refund [fee] [chargeback] disposition):

- R1 S01 in_store completed, 2 h to refund: 2 shoes defective 2000 (defective); 1 hat
  wrong_size 400, fee 100 (resalable); total 2300.
- R2 S01 web completed, 24 h: 1 shoe wrong_size 1000 (resalable); 500 shipping; total 1500.
- R3 S02 in_store refund_pending, no receipt: 2 hats changed_mind 300, not received yet.
- R4 S02 in_store completed, 6 h: 1 shoe defective 1000, chargeback 100 (damaged); total 900.
- R7 EUR S01 in_store completed, 10 h: 1 shoe defective 900 (resalable).
- R8 S01 in_store exchange_open: 1 hat wrong_size 200 (resalable).
- R9 S01 in_store completed, never refunded (31 March 23:00): 1 hat wrong_size 200 (resalable).

Left out: a cancelled return in March, a return on 28 February, a sale on 28 February, a voided
sale, an order placed in February, a transfer between stores.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_location, make_register, token_for
from tests.integration import return_rows as rows

URL = "/api/v1/reports/returns"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
HOUR = timedelta(hours=1)


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def march(client, db, settings):
    s01, s02 = make_location(db, "S01"), make_location(db, "S02")
    reg1, reg2 = make_register(db, s01).id, make_register(db, s02).id
    cashier = rows.user_id(db, "till")
    shoes_cat, hats_cat = rows.category(db, "Shoes"), rows.category(db, "Hats")
    shoe, hat = rows.variant(db, shoes_cat), rows.variant(db, hats_cat)

    def sold(location, register, when, line, cat, **kw):
        rows.sale(
            db,
            location_id=location,
            register_id=register,
            cashier_id=cashier,
            at=when,
            lines=[line],
            category_id=cat,
            **kw,
        )

    sold(s01.id, reg1, at(2), (shoe, 4, 4000), shoes_cat, gift_card_line=5000)
    sold(s01.id, reg1, at(2), (hat, 6, 1200), hats_cat)
    sold(s02.id, reg2, at(31, 23), (shoe, 2, 2000), shoes_cat)
    sold(s01.id, reg1, at(3), (shoe, 1, 900), shoes_cat, currency="EUR")
    sold(s01.id, reg1, at(28, 23, month=2), (shoe, 10, 10000), shoes_cat)
    sold(s01.id, reg1, at(4), (shoe, 5, 5000), shoes_cat, status="voided")

    shoes_line, hats_line = rows.order(db, placed_at=at(5), lines=[(shoe, 3, 3000), (hat, 2, 1001)])
    rows.fulfil(db, order_line_id=shoes_line, location_id=s01.id, status="shipped", quantity=3)
    rows.fulfil(db, order_line_id=hats_line, location_id=s01.id, status="packed", quantity=2)
    (order2,) = rows.order(db, placed_at=at(6), lines=[(hat, 3, 1000)])
    rows.fulfil(
        db, order_line_id=order2, location_id=s02.id, status="picked_up", quantity=3, cancelled=1
    )
    (moved,) = rows.order(db, placed_at=at(7), lines=[(hat, 1, 500)])
    rows.fulfil(
        db,
        order_line_id=moved,
        location_id=s01.id,
        status="delivered",
        quantity=1,
        method="transfer",
    )
    (old,) = rows.order(db, placed_at=at(27, month=2), lines=[(shoe, 1, 1000)])
    rows.fulfil(db, order_line_id=old, location_id=s01.id, status="shipped", quantity=1)

    def line(units, reason, refund, cat, variant, disposition=None, fee=0, chargeback=0):
        return {
            "quantity": units,
            "reason_code": reason,
            "refund_minor": refund,
            "fee_minor": fee,
            "chargeback_minor": chargeback,
            "category_id": cat,
            "variant_id": variant,
            "disposition": disposition,
        }

    shoe_line = {"cat": shoes_cat, "variant": shoe}
    hat_line = {"cat": hats_cat, "variant": hat}
    ret = rows.add_return
    ret(
        db,
        location_id=s01.id,
        at=at(5),
        refunded_after=2 * HOUR,
        refund_total_minor=2300,
        fee_total_minor=100,
        lines=[
            line(2, "defective", 2000, disposition="defective", **shoe_line),
            line(1, "wrong_size", 400, disposition="resalable", fee=100, **hat_line),
        ],
    )
    ret(
        db,
        location_id=s01.id,
        at=at(10, 0),
        refunded_after=24 * HOUR,
        channel="web",
        refund_total_minor=1500,
        shipping_refund_minor=500,
        lines=[line(1, "wrong_size", 1000, disposition="resalable", **shoe_line)],
    )
    ret(
        db,
        location_id=s02.id,
        at=at(20),
        status="refund_pending",
        no_receipt=True,
        refund_total_minor=300,
        lines=[line(2, "changed_mind", 300, **hat_line)],
    )
    ret(
        db,
        location_id=s02.id,
        at=at(25, 8),
        refunded_after=6 * HOUR,
        refund_total_minor=900,
        lines=[line(1, "defective", 1000, disposition="damaged", chargeback=100, **shoe_line)],
    )
    ret(
        db,
        location_id=s01.id,
        at=at(15),
        refunded_after=10 * HOUR,
        currency="EUR",
        refund_total_minor=900,
        lines=[line(1, "defective", 900, disposition="resalable", **shoe_line)],
    )
    ret(
        db,
        location_id=s01.id,
        at=at(16),
        status="exchange_open",
        refund_total_minor=200,
        lines=[line(1, "wrong_size", 200, disposition="resalable", **hat_line)],
    )
    ret(
        db,
        location_id=s01.id,
        at=at(31, 23),
        refund_total_minor=200,
        lines=[line(1, "wrong_size", 200, disposition="resalable", **hat_line)],
    )
    ret(
        db,
        location_id=s01.id,
        at=at(12),
        status="cancelled",
        refund_total_minor=5000,
        lines=[line(5, "defective", 5000, **shoe_line)],
    )
    ret(
        db,
        location_id=s01.id,
        at=at(28, 23, month=2),
        refunded_after=HOUR,
        refund_total_minor=1000,
        lines=[line(1, "defective", 1000, **shoe_line)],
    )
    return {
        "shoes": str(shoes_cat),
        "hats": str(hats_cat),
        "admin": token_for(db, settings, "boss", "admin"),
    }


def report(client, headers, **query):
    r = client.get(URL, headers=headers, params={**MARCH, **query})
    assert r.status_code == 200, r.text
    return r.json()


def test_totals_and_reasons_group_money_by_currency(client, march):
    body = report(client, march["admin"])
    assert (body["from"], body["to"], body["location"]) == ("2026-03-01", "2026-03-31", None)
    assert body["totals"] == [
        {
            "currency": "EUR",
            "returns": 1,
            "units": 1,
            "refund_value": 900,
            "fees": 0,
            "shipping_refunded": 0,
        },
        {
            "currency": "USD",
            "returns": 6,
            "units": 9,
            "refund_value": 5400,
            "fees": 100,
            "shipping_refunded": 500,
        },
    ]
    assert body["reasons"] == [
        {"reason_code": "changed_mind", "currency": "USD", "units": 2, "refund_value": 300},
        {"reason_code": "defective", "currency": "EUR", "units": 1, "refund_value": 900},
        {"reason_code": "defective", "currency": "USD", "units": 3, "refund_value": 2900},
        {"reason_code": "wrong_size", "currency": "USD", "units": 4, "refund_value": 1700},
    ]
    usd = [r["refund_value"] for r in body["reasons"] if r["currency"] == "USD"]
    assert sum(usd) == 5400 - 500  # the lines' refunds are the total less shipping


def test_return_rates_by_channel_and_category(client, march):
    rates = report(client, march["admin"])["return_rate"]
    assert rates["by_channel"] == [
        _rate("EUR", 1, 1, "1.0000", 900, 900, "1.0000", channel="in_store"),
        _rate("USD", 8, 12, "0.6667", 4100, 7200, "0.5694", channel="in_store"),
        _rate("USD", 1, 5, "0.2000", 1000, 3667, "0.2727", channel="web"),
    ]
    by_category = {(r["category"], r["currency"]): r for r in rates["by_category"]}
    shoes = {"category_id": march["shoes"], "category": "Shoes"}
    hats = {"category_id": march["hats"], "category": "Hats"}
    assert by_category == {
        ("Shoes", "EUR"): _rate("EUR", 1, 1, "1.0000", 900, 900, "1.0000", **shoes),
        ("Shoes", "USD"): _rate("USD", 4, 9, "0.4444", 4000, 9000, "0.4444", **shoes),
        ("Hats", "USD"): _rate("USD", 5, 8, "0.6250", 1100, 1867, "0.5892", **hats),
    }


def test_turnaround_and_restock_rate(client, march):
    body = report(client, march["admin"])
    # refunded after 2, 6, 10 and 24 hours; R3 and R8 still open, R9 completed unrefunded
    assert body["turnaround"] == {"refunded": 4, "median_hours": 8.0, "p90_hours": 24.0, "open": 2}
    # received: 2 + 1 + 1 + 1 + 1 + 1 + 1 (R3 not yet); back on the shelf: 5
    assert body["restock_rate"] == {"units_received": 8, "units_resalable": 5, "rate": "0.6250"}


def test_one_location_counts_its_returns_sales_and_hand_overs(client, march):
    body = report(client, march["admin"], location="S02")
    assert body["location"] == "S02"
    assert body["totals"] == [
        {
            "currency": "USD",
            "returns": 2,
            "units": 3,
            "refund_value": 1200,
            "fees": 0,
            "shipping_refunded": 0,
        }
    ]
    assert body["return_rate"]["by_channel"] == [
        _rate("USD", 3, 2, "1.5000", 1300, 2000, "0.6500", channel="in_store"),
        _rate("USD", 0, 2, "0.0000", 0, 667, "0.0000", channel="web"),
    ]
    assert body["turnaround"] == {"refunded": 1, "median_hours": 6.0, "p90_hours": 6.0, "open": 1}
    assert body["restock_rate"] == {"units_received": 1, "units_resalable": 0, "rate": "0.0000"}


def test_staff_bound_to_a_store_see_only_it(client, db, settings, march):
    manager = token_for(db, settings, "m1", "manager", ["S01"])
    totals = report(client, manager)["totals"]
    assert [(t["currency"], t["returns"], t["units"]) for t in totals] == [
        ("EUR", 1, 1),
        ("USD", 4, 6),
    ]
    other = client.get(URL, headers=manager, params={**MARCH, "location": "S02"})
    assert other.status_code == 403
    assert other.json()["code"] == "auth.location_forbidden"
    inventory = token_for(db, settings, "i1", "inventory")
    assert client.get(URL, headers=inventory, params=MARCH).status_code == 403


def test_an_empty_range_has_no_rates_and_a_reversed_one_is_refused(client, march):
    body = report(client, march["admin"], **{"from": "2026-05-01", "to": "2026-05-02"})
    assert (body["totals"], body["reasons"], body["return_rate"]["by_channel"]) == ([], [], [])
    assert body["turnaround"] == {
        "refunded": 0,
        "median_hours": None,
        "p90_hours": None,
        "open": 0,
    }
    assert body["restock_rate"]["rate"] is None
    bad = client.get(URL, headers=march["admin"], params={"from": "2026-03-31", "to": "2026-03-01"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["from"]
    missing = client.get(URL, headers=march["admin"], params={"to": "2026-03-01"})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["from"]


def _rate(currency, back, sold, unit_rate, value_back, value_sold, value_rate, **key):
    return {
        **key,
        "currency": currency,
        "units_returned": back,
        "units_sold": sold,
        "unit_rate": unit_rate,
        "value_returned": value_back,
        "value_sold": value_sold,
        "value_rate": value_rate,
    }
