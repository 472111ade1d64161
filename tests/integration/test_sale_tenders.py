"""Register sales paid in any mix of tenders: cards taken before the sale, gift cards, store
credit, cash with rounding and change, foreign cash; and the drawer of the open shift."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    CashMovement,
    ExchangeRate,
    GiftCard,
    Payment,
    Sale,
    StockLevel,
)
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.services import gift_cards, stock, store_credit
from tests.factories import (
    make_customer,
    make_location,
    make_register,
    make_variant,
    token_for,
)


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="MUG", price=1000, stock={s01: 50})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    return {
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
        "manager": token_for(db, settings, "m1", "manager", ["S01"]),
        "terminal": SandboxTerminal(gateway.public_key_pem()),
        "location": s01,
    }


def card(client, shop, sale_id, amount, pan="4242424242424242"):
    r = client.post(
        "/api/v1/payments",
        headers=shop["cashier"],
        json={
            "id": str(uuid.uuid4()),
            "register": "S01-R1",
            "sale_id": str(sale_id),
            "amount": amount,
            "payment_data": shop["terminal"].read_card(pan, 12, 2031),
            "entry_mode": "nfc_tap",
        },
    )
    return r


def sell(client, headers, payments, *, qty=3, sale_id=None, customer=None, location="S01"):
    body = {
        "id": str(sale_id or uuid.uuid4()),
        "location": location,
        "register": f"{location}-R1",
        "lines": [{"sku": "MUG", "quantity": qty}],
        "payments": payments,
    }
    if customer is not None:
        body["customer"] = str(customer)
    return client.post("/api/v1/sales", headers=headers, json=body)


def rows(db, model, *where):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def on_hand(db):
    with db.uow(write=False) as uow:
        return uow.session.scalars(select(StockLevel.on_hand)).one()


def test_a_split_tender_of_card_gift_card_and_cash(client, db, shop, settings):
    gift = client.post(
        "/api/v1/gift-cards", headers=shop["cashier"], json={"currency": "USD", "amount": 700}
    ).json()
    sale_id = uuid.uuid4()
    paid = card(client, shop, sale_id, 1500)
    assert paid.status_code == 201, paid.text
    r = sell(
        client,
        shop["cashier"],
        [
            {"method": "card", "amount": 1500, "payment_id": paid.json()["id"]},
            {"method": "gift_card", "amount": 700, "code": gift["code"]},
            {"method": "cash", "amount": 1000},
        ],
        sale_id=sale_id,
    )
    assert r.status_code == 201, r.text
    sale = r.json()
    assert (sale["total"], sale["change_due"], sale["cash_rounding"]) == (3000, 200, 0)
    tenders = [(p["method"], p["amount"], p["change"]) for p in sale["payments"]]
    assert tenders == [("card", 1500, 0), ("gift_card", 700, 0), ("cash", 800, 200)]
    assert sale["payments"][0]["card_last4"] == "4242"
    assert sale["payments"][0]["entry_mode"] == "nfc_tap"
    assert sum(p["amount"] for p in sale["payments"]) == sale["total"] + sale["cash_rounding"]
    again = client.get(f"/api/v1/sales/{sale_id}", headers=shop["cashier"]).json()
    assert again["payments"] == sale["payments"]
    assert rows(db, Payment, Payment.sale_id == sale_id) == 3
    with db.uow(write=False) as uow:
        assert uow.session.scalars(select(GiftCard.balance_minor)).one() == 0
    assert gift_cards.verify(db=db) == []


def test_a_swiss_cash_sale_is_rounded_to_five_centimes_and_a_card_is_not(client, db, settings):
    zrh = make_location(db, "Z01", currency="CHF", tax_rate="0", timezone="Europe/Zurich")
    make_register(db, zrh, "Z01-R1")
    make_variant(db, sku="MUG", price=1001, currency="CHF", stock={zrh: 10})
    headers = token_for(db, settings, "z1", "cashier", ["Z01"])
    r = sell(client, headers, [{"method": "cash", "amount": 5000}], qty=2, location="Z01")
    assert r.status_code == 201, r.text
    sale = r.json()
    # 20.02 due: cash pays 20.00, the rounding (-0.02) recorded on its own
    assert (sale["total"], sale["cash_rounding"], sale["change_due"]) == (2002, -2, 3000)
    assert sale["payments"][0]["amount"] == 2000


def test_foreign_cash_counts_at_todays_rate_with_change_in_local_currency(client, db, shop):
    with db.uow() as uow:
        uow.session.add(
            ExchangeRate(base="EUR", quote="USD", rate=Decimal("1.1"), valid_from=date(2020, 1, 1))
        )
        uow.commit()
    r = sell(client, shop["cashier"], [{"method": "cash", "amount": 5000, "currency": "EUR"}])
    assert r.status_code == 201, r.text
    sale = r.json()
    # 50.00 EUR = 55.00 USD for a 30.00 sale: 25.00 USD change
    assert sale["change_due"] == 2500
    assert sale["payments"][0]["tendered"] == 5000
    assert sale["payments"][0]["tendered_currency"] == "EUR"
    no_rate = sell(client, shop["cashier"], [{"method": "cash", "amount": 5000, "currency": "GBP"}])
    assert no_rate.status_code == 422
    assert no_rate.json()["errors"][0]["field"] == "payments.0.currency"
    assert no_rate.json()["code"] == "payment.no_exchange_rate"
    unknown = sell(client, shop["cashier"], [{"method": "cash", "amount": 5000, "currency": "XXQ"}])
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "field": "payments.0.currency",
        "code": "money.unknown_currency",
        "message": "XXQ",
    }


def test_a_card_payment_must_be_this_sales_captured_exact_amount(client, db, shop):
    sale_id = uuid.uuid4()
    paid = card(client, shop, sale_id, 3000).json()["id"]
    other = sell(
        client,
        shop["cashier"],
        [{"method": "card", "amount": 3000, "payment_id": paid}],
    )
    assert other.status_code == 422
    assert other.json()["code"] == "payment.wrong_sale"
    short = sell(
        client,
        shop["cashier"],
        [
            {"method": "card", "amount": 2000, "payment_id": paid},
            {"method": "cash", "amount": 1000},
        ],
        sale_id=sale_id,
    )
    assert short.json()["code"] == "payment.amount_mismatch"
    declined = card(client, shop, sale_id, 3000, pan="4000000000009995")
    assert declined.status_code == 402
    refused = sell(
        client,
        shop["cashier"],
        [
            {
                "method": "card",
                "amount": 3000,
                "payment_id": declined.json()["details"]["payment_id"],
            }
        ],
        sale_id=sale_id,
    )
    assert refused.json()["code"] == "payment.not_captured"
    over = sell(
        client,
        shop["cashier"],
        [{"method": "card", "amount": 3500, "payment_id": paid}],
        sale_id=sale_id,
    )
    assert over.json()["code"] == "payment.over_tender"
    assert rows(db, Sale) == 0
    assert on_hand(db) == 50
    ok = sell(
        client,
        shop["cashier"],
        [{"method": "card", "amount": 3000, "payment_id": paid}],
        sale_id=sale_id,
    )
    assert ok.status_code == 201, ok.text


def test_a_refused_gift_card_leaves_nothing_half_written(client, db, shop):
    gift = client.post(
        "/api/v1/gift-cards", headers=shop["cashier"], json={"currency": "USD", "amount": 500}
    ).json()
    r = sell(
        client,
        shop["cashier"],
        [
            {"method": "gift_card", "amount": 1000, "code": gift["code"]},
            {"method": "cash", "amount": 2000},
        ],
    )
    assert r.status_code == 422
    assert r.json()["code"] == "gift_card.insufficient_balance"
    assert r.json()["errors"][0]["field"] == "payments.0.code"
    assert rows(db, Sale) == 0
    assert rows(db, Payment) == 0
    assert on_hand(db) == 50
    unknown = sell(
        client,
        shop["cashier"],
        [{"method": "gift_card", "amount": 3000, "code": gift_cards.rules.new_code()}],
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "field": "payments.0.code",
        "code": "gift_card.not_found",
        "message": "no gift card with this number",
    }


def test_store_credit_pays_for_an_identified_customer_only(client, db, shop, settings):
    customer = make_customer(db)
    r = client.post(
        f"/api/v1/customers/{customer.id}/store-credit",
        headers=shop["manager"],
        json={"currency": "USD", "amount": 1000, "reason": "goodwill"},
    )
    assert r.status_code == 201
    anonymous = sell(
        client,
        shop["cashier"],
        [{"method": "store_credit", "amount": 1000}, {"method": "cash", "amount": 2000}],
    )
    assert anonymous.json()["code"] == "payment.customer_required"
    r = sell(
        client,
        shop["cashier"],
        [{"method": "store_credit", "amount": 1000}, {"method": "cash", "amount": 2000}],
        customer=customer.id,
    )
    assert r.status_code == 201, r.text
    account = client.get(
        f"/api/v1/customers/{customer.id}/store-credit", headers=shop["manager"]
    ).json()
    assert account["balances"] == [{"currency": "USD", "balance": 0}]
    assert store_credit.verify(db=db) == []


def test_a_store_that_manages_cash_needs_an_open_shift_and_its_drawer_adds_up(
    client, db, shop, settings
):
    admin = token_for(db, settings, "a1", "admin", [])
    client.put("/api/v1/locations/S01/cash-management", headers=admin, json={"enabled": True})
    r = sell(client, shop["cashier"], [{"method": "cash", "amount": 3000}])
    assert r.status_code == 409
    assert r.json()["code"] == "shift.required"
    assert on_hand(db) == 50
    shift = client.post(
        "/api/v1/shifts",
        headers=shop["cashier"],
        json={"register": "S01-R1", "denominations": {"2000": 5}},
    ).json()["id"]
    assert sell(client, shop["cashier"], [{"method": "cash", "amount": 5000}]).status_code == 201
    sale_id = uuid.uuid4()
    paid = card(client, shop, sale_id, 3000).json()["id"]
    assert (
        sell(
            client,
            shop["cashier"],
            [{"method": "card", "amount": 3000, "payment_id": paid}],
            sale_id=sale_id,
        ).status_code
        == 201
    )
    x = client.get(f"/api/v1/shifts/{shift}/x-report", headers=shop["manager"]).json()
    assert x["expected"] == {"card": 3000, "cash": 13000}
    with db.uow(write=False) as uow:
        drawer = uow.session.scalar(
            select(func.sum(CashMovement.amount_minor)).where(
                CashMovement.shift_id == uuid.UUID(shift)
            )
        )
        cash_taken = uow.session.scalar(
            select(func.sum(Payment.amount_minor)).where(
                Payment.shift_id == uuid.UUID(shift), Payment.method == "cash"
            )
        )
    assert drawer == 10000 + cash_taken == x["expected"]["cash"]
    z = client.post(
        f"/api/v1/shifts/{shift}/close",
        headers=shop["cashier"],
        json={"counted": {"cash": 13000, "card": 3000}},
    )
    assert z.status_code == 200, z.text
    assert z.json()["variance"] == 0
    assert stock.verify(db=db) == []
