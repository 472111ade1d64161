"""Register sales priced by the quote engine: adjustments, taxes, coupons and manual discounts
recorded with the sale, and the receipt printing them."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    AuditEntry,
    Coupon,
    PromotionRedemption,
    Sale,
    StockMovement,
)
from omnitill.domain.ids import uuid7
from tests.factories import make_location, make_register, make_variant, token_for

PRICED = ("subtotal", "discount_total", "tax_total", "total", "taxes", "promotions")
LINE_PRICED = ("unit_price", "subtotal", "discount_total", "unit_discounts", "net")
LINE_PRICED += ("tax_total", "total", "adjustments", "taxes")


@pytest.fixture
def store(client, db, settings) -> dict[str, Any]:
    """S01 taxed by New York City's three levies, ten percent off everything, and five off
    fifty with a coupon (SAVE5 shared, ONCE and RACE single-use)."""
    s01 = make_location(db, "S01", tax_rate="0.08875")
    make_register(db, s01, "S01-R1")
    make_register(db, s01, "S01-R2")
    make_variant(db, sku="LAMP", price=20000, stock={s01: 10})
    make_variant(db, sku="TEE", price=2000, stock={s01: 10})
    admin = token_for(db, settings, "admin1", "admin")
    levies = [("NYS", "New York State", "0.04"), ("NYC", "New York City", "0.045")]
    levies.append(("MCTD", "MCTD", "0.00375"))
    components = [
        {"code": c, "name": n, "rates": {"standard": r}, "rounding_group": "NYC"}
        for c, n, r in levies
    ]
    nyc = {"code": "US-NY-NYC", "name": "NYC", "country": "US", "components": components}
    assert client.post("/api/v1/tax/jurisdictions", json=nyc, headers=admin).status_code == 201
    assert client.put("/api/v1/tax/jurisdictions/US-NY-NYC/locations/S01", headers=admin).is_success
    ten = {"code": "spring-ten", "name": "Spring ten", "kind": "item_percent", "percent": "10"}
    assert client.post("/api/v1/promotions", json=ten, headers=admin).status_code == 201
    five = {"code": "five-off", "name": "Five off fifty", "kind": "order_amount", "amount": 500}
    five |= {"stacking": "order", "currency": "USD", "min_spend": 5000, "requires_coupon": True}
    promotion = client.post("/api/v1/promotions", json=five, headers=admin).json()
    for code in ({"code": "SAVE5"}, {"code": "ONCE", "single_use": True}):
        url = f"/api/v1/promotions/{promotion['id']}/coupons"
        assert client.post(url, json=code, headers=admin).status_code == 201
    assert client.post(url, json={"code": "RACE", "single_use": True}, headers=admin).is_success
    return {
        "cashier": token_for(db, settings, "till1", "cashier", ["S01"]),
        "manager": token_for(db, settings, "boss", "manager", ["S01"]),
    }


CART = [{"sku": "LAMP", "quantity": 1}, {"sku": "TEE", "quantity": 3}]


def sale_body(cash: int = 30000, **overrides: Any) -> dict[str, Any]:
    body = {"id": str(uuid7()), "location": "S01", "register": "S01-R1", "lines": CART}
    return body | {"payments": [{"method": "cash", "amount": cash}]} | overrides


def sell(client, headers, **overrides: Any):
    return client.post("/api/v1/sales", json=sale_body(**overrides), headers=headers)


def quoted(client, headers, **cart: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/quotes", json={"location": "S01", "lines": CART} | cart, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


def written(db) -> tuple[int, ...]:
    with db.uow(write=False) as uow:
        return (
            *(
                uow.session.scalar(select(func.count()).select_from(model))
                for model in (Sale, PromotionRedemption, StockMovement, AuditEntry)
            ),
            uow.session.scalar(select(func.coalesce(func.sum(Coupon.uses), 0))),
        )


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code, r.json()
    named = [e["field"] for e in r.json().get("errors", [])]
    assert set(fields) <= set(named), named


# --- the same engine -----------------------------------------------------------------------


def test_a_sale_charges_what_its_quote_showed_and_keeps_adjustments_taxes_and_promotions(
    client, store
):
    quote = quoted(client, store["cashier"], coupons=["SAVE5"])
    r = sell(client, store["cashier"], coupons=["SAVE5"])
    assert r.status_code == 201, r.text
    sale = r.json()
    # 10 % off 260.00 is 26.00, plus 5.00 off the order
    assert (sale["discount_total"], sale["total"]) == (3100, quote["total"])
    assert {k: sale[k] for k in PRICED} == {k: quote[k] for k in PRICED}
    for sold, shown in zip(sale["lines"], quote["lines"], strict=True):
        assert {k: sold[k] for k in LINE_PRICED} == {k: shown[k] for k in LINE_PRICED}
    assert [a["name"] for a in sale["lines"][0]["adjustments"]] == ["Spring ten", "Five off fifty"]
    assert [t["code"] for t in sale["taxes"]] == ["NYS", "NYC", "MCTD"]
    assert sorted(p["name"] for p in sale["promotions"]) == ["Five off fifty", "Spring ten"]
    read = client.get(f"/api/v1/sales/{sale['id']}", headers=store["cashier"]).json()
    assert (read["lines"], read["promotions"]) == (sale["lines"], sale["promotions"])
    assert levies(read) == levies(sale) == levies(quote)


def levies(body: dict[str, Any]) -> list[tuple[str, Decimal, int, int]]:
    return [(t["code"], Decimal(t["rate"]), t["taxable"], t["tax"]) for t in body["taxes"]]


def test_a_priced_sale_reads_back_and_replays_exactly_as_first_answered(client, store):
    body = sale_body(coupons=["SAVE5"])
    sale = client.post("/api/v1/sales", json=body, headers=store["cashier"]).json()
    assert [t["code"] for t in sale["taxes"]] == ["NYS", "NYC", "MCTD"]
    assert client.get(f"/api/v1/sales/{sale['id']}", headers=store["cashier"]).json() == sale
    assert client.post("/api/v1/sales", json=body, headers=store["cashier"]).json() == sale


def test_the_receipt_prints_each_tax_levy_and_promotion(client, store):
    sale = sell(client, store["cashier"], coupons=["SAVE5"]).json()
    html = client.get(f"/api/v1/sales/{sale['id']}/receipt.html", headers=store["cashier"]).text
    for tax in sale["taxes"]:
        taxable = f"${tax['taxable'] / 100:,.2f}"
        assert f"{tax['name']} {float(tax['rate']) * 100:g}% on {taxable}" in html
        assert f"${tax['tax'] / 100:,.2f}" in html
    assert "New York State 4% on" in html
    assert "MCTD 0.375% on" in html
    assert "Spring ten" in html
    assert "Five off fifty" in html


def test_an_oversold_sale_reads_back_the_skus_it_drove_below_zero(client, store):
    lines = [{"sku": "LAMP", "quantity": 11}]
    sale = sell(client, store["cashier"], lines=lines, cash=300000).json()
    assert sale["stock_exceptions"] == ["LAMP"]
    read = client.get(f"/api/v1/sales/{sale['id']}", headers=store["cashier"]).json()
    assert read["stock_exceptions"] == ["LAMP"]


# --- coupons -------------------------------------------------------------------------------


def test_a_single_use_coupon_is_spent_by_the_sale_and_refused_after_writing_nothing(
    client, db, store
):
    first = sell(client, store["cashier"], coupons=["ONCE"])
    assert first.status_code == 201, first.text
    assert [p["coupon"] for p in first.json()["promotions"] if p["coupon"]] == ["ONCE"]
    before = written(db)
    second = sell(client, store["cashier"], coupons=["once"])
    assert_problem(second, 422, "promotion.coupon_already_used", "coupons.0")
    assert written(db) == before


def test_two_registers_spending_one_single_use_code_at_once_succeed_once(client, db, store):
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def ring_up(register: str) -> None:
        body = sale_body(register=register, coupons=["RACE"])
        barrier.wait(timeout=10)
        answers.append(client.post("/api/v1/sales", json=body, headers=store["cashier"]))

    threads = [threading.Thread(target=ring_up, args=(r,)) for r in ("S01-R1", "S01-R2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r.status_code for r in answers) == [201, 422], [r.text for r in answers]
    refused = next(r for r in answers if r.status_code == 422)
    assert refused.json()["code"] == "promotion.coupon_already_used"
    with db.uow(write=False) as uow:
        assert uow.session.scalar(select(Coupon.uses).where(Coupon.code == "RACE")) == 1
        assert uow.session.scalar(select(func.count()).select_from(Sale)) == 1
        assert uow.session.scalar(select(func.count()).select_from(PromotionRedemption)) == 2


# --- manual discounts ----------------------------------------------------------------------


def test_a_manual_order_discount_needs_permission_and_is_recorded_and_audited(client, db, store):
    discount = {"kind": "amount", "value": "1000", "reason": "loyal customer"}
    before = written(db)
    refused = sell(client, store["cashier"], discount=discount)
    assert_problem(refused, 403, "auth.permission_denied")
    assert written(db) == before
    r = sell(client, store["manager"], discount=discount)
    assert r.status_code == 201, r.text
    manual = [
        a for line in r.json()["lines"] for a in line["adjustments"] if a["source"] == "manual"
    ]
    assert {(a["name"], a["reason"]) for a in manual} == {("Order discount", "loyal customer")}
    assert sum(a["amount"] for a in manual) == 1000
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sale.completed")
        ).one()
    recorded = entry.details["manual_discounts"]
    assert {d["reason"] for d in recorded} == {"loyal customer"}
    assert sum(d["amount"] for d in recorded) == 1000
    assert entry.actor == "boss"


# --- payment -------------------------------------------------------------------------------


def test_cash_must_cover_the_discounted_total_and_exactly_that_leaves_no_change(client, db, store):
    total = quoted(client, store["cashier"])["total"]
    assert total < 26000  # the promotion took its ten percent before tax
    before = written(db)
    short = sell(client, store["cashier"], cash=total - 1)
    assert_problem(short, 422, "payment.insufficient", "payments")
    assert written(db) == before
    exact = sell(client, store["cashier"], cash=total)
    assert exact.status_code == 201, exact.text
    assert (exact.json()["total"], exact.json()["change_due"]) == (total, 0)
