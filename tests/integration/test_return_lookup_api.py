"""Finding the sale or order to return, over HTTP on SQLite and PostgreSQL: by receipt,
order number, scanned code, the card that paid (fingerprint, brand and last four, or the
card presented on the terminal), email and phone; every refusal; the audit; no card number
in the logs."""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from omnitill.adapters.db.models import AuditEntry, OrderLine, Payment, SaleLine
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.adapters.payments.stripe_gateway import StripeGateway
from omnitill.domain.payments.cards import find_pans
from omnitill.domain.payments.gateway import GatewayError
from tests.factories import make_location, make_register, make_variant, token_for
from tests.integration.test_stripe_gateway import API_KEY, FakeStripe

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
LOOKUP = "/api/v1/returns/lookup"
NYC = {"latitude": Decimal("40.7580"), "longitude": Decimal("-73.9855")}
CUSTOMER_ADDRESS = {"country": "US", "region": "NY", "latitude": 40.7306, "longitude": -73.9866}


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", tax_rate="0", ships=True, **NYC)
    s02 = make_location(db, "S02", tax_rate="0")
    make_register(db, s01, "S01-R1")
    make_register(db, s02, "S02-R1")
    make_variant(db, sku="MUG", price=1000, stock={s01: 50, s02: 50})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    terminal = SandboxTerminal(gateway.public_key_pem())
    return {
        "s01": token_for(db, settings, "c1", "cashier", ["S01"]),
        "s02": token_for(db, settings, "c2", "cashier", ["S02"]),
        "manager": token_for(db, settings, "m1", "manager"),
        "gateway": gateway,
        "terminal": terminal,
        "token": lambda pan=VISA: gateway.tokenize(terminal.read_card(pan, 12, 2031)).token,
    }


def sell(client, shop, *, qty=2, pan=None, store="S01", customer=None):
    """A register sale of `qty` mugs (10.00 each), by card when `pan` is given."""
    sale_id = uuid.uuid4()
    headers = shop[store.lower()]
    payment = {"method": "cash", "amount": qty * 1000}
    if pan is not None:
        paid = client.post(
            "/api/v1/payments",
            headers=headers,
            json={
                "id": str(uuid.uuid4()),
                "register": f"{store}-R1",
                "sale_id": str(sale_id),
                "amount": qty * 1000,
                "payment_data": shop["terminal"].read_card(pan, 12, 2031),
                "entry_mode": "emv_chip",
            },
        )
        assert paid.status_code == 201, paid.text
        payment = {"method": "card", "amount": qty * 1000, "payment_id": paid.json()["id"]}
    body = {
        "id": str(sale_id),
        "location": store,
        "register": f"{store}-R1",
        "lines": [{"sku": "MUG", "quantity": qty}],
        "payments": [payment],
    }
    if customer is not None:
        body["customer"] = customer
    r = client.post("/api/v1/sales", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def place_order(client, shop, **extra):
    body = {
        "channel": "web",
        "customer_name": "Ada Lovelace",
        "email": "ada@example.com",
        "lines": [{"sku": "MUG", "quantity": 3}],
        "ship_to": CUSTOMER_ADDRESS,
        **extra,
    }
    r = client.post("/api/v1/orders", headers=shop["manager"], json=body)
    assert r.status_code == 201, r.text
    return r.json()


def find(client, headers, **params):
    r = client.get(LOOKUP, headers=headers, params=params)
    assert r.status_code == 200, r.text
    return [(x["type"], x["number"]) for x in r.json()["items"]]


def refused(client, headers, **params):
    r = client.get(LOOKUP, headers=headers, params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    return body["code"], sorted({e["field"] for e in body.get("errors", [])})


def fingerprint_of(db, payment_id):
    with db.uow(write=False) as uow:
        return uow.session.get(Payment, uuid.UUID(payment_id)).card_fingerprint


def test_a_receipt_finds_its_sale_as_charged_and_nothing_else(client, db, shop):
    sale = sell(client, shop, qty=2, pan=VISA)
    other = sell(client, shop, qty=1)
    r = client.get(LOOKUP, headers=shop["s01"], params={"receipt": sale["receipt_number"]})
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["type"] == "sale"
    assert (item["id"], item["number"]) == (sale["id"], sale["receipt_number"])
    assert (item["channel"], item["location"], item["currency"]) == ("in_store", "S01", "USD")
    assert item["total"] == 2000
    assert item["customer"] is None
    [line] = item["lines"]
    assert (line["line_no"], line["sku"], line["quantity"], line["returnable"]) == (1, "MUG", 2, 2)
    assert (line["unit_price"], line["total"], line["serials"]) == (1000, 2000, [])
    [payment] = item["payments"]
    assert payment["payment_id"] == sale["payments"][0]["payment_id"]
    assert (payment["method"], payment["amount"], payment["refundable"]) == ("card", 2000, 2000)
    assert (payment["card_brand"], payment["card_last4"]) == ("visa", "4242")
    assert find(client, shop["s01"], receipt=other["receipt_number"]) == [
        ("sale", other["receipt_number"])
    ]
    assert find(client, shop["s01"], receipt="S01-R1-999999") == []


def test_an_order_is_found_by_its_number_with_or_without_the_hash(client, db, shop):
    order = place_order(client, shop, card_token=shop["token"]())
    place_order(client, shop, email="someone@example.com")
    number = order["number"]
    assert find(client, shop["s01"], order=number) == [("order", number)]
    assert find(client, shop["s01"], order=number.removeprefix("#")) == [("order", number)]
    [item] = client.get(LOOKUP, headers=shop["s01"], params={"order": number}).json()["items"]
    assert (item["id"], item["channel"], item["location"]) == (order["id"], "web", "S01")
    assert item["customer"] == {"id": None, "name": "Ada Lovelace"}
    assert [(x["quantity"], x["returnable"]) for x in item["lines"]] == [(3, 0)]  # not shipped
    [payment] = item["payments"]
    assert (payment["method"], payment["amount"], payment["refundable"]) == ("card", 3000, 0)
    assert find(client, shop["s01"], order="#1") == []


def test_a_scanned_receipt_or_order_code_is_read_in_every_accepted_form(client, db, shop):
    sale = sell(client, shop)
    order = place_order(client, shop)
    receipt, number = sale["receipt_number"], order["number"]
    digits = number.removeprefix("#")
    for scanned, expected in [
        (receipt, ("sale", receipt)),
        (f"OT1:R:{receipt}", ("sale", receipt)),
        (f"  ot1:r:{receipt.lower()}\r\n", ("sale", receipt)),
        (f"]Q1OT1:R:{receipt}", ("sale", receipt)),  # a scanner's AIM symbology identifier
        (f"]C0{receipt}", ("sale", receipt)),
        (f"OT1:O:{digits}", ("order", number)),
        (number, ("order", number)),
        (f" {digits}\t", ("order", number)),
    ]:
        assert find(client, shop["s01"], scan=scanned) == [expected], scanned
    for unreadable in ["hello", "OT1:X:123", "OT2:R:" + receipt, "OT1:R:", "OT1:O:#abc"]:
        assert refused(client, shop["s01"], scan=unreadable) == (
            "returns.scan_unreadable",
            ["scan"],
        ), unreadable


def test_the_card_that_paid_finds_its_sales_and_orders(client, db, shop):
    by_visa = sell(client, shop, pan=VISA)
    by_mastercard = sell(client, shop, pan=MASTERCARD)
    sell(client, shop)  # cash
    order = place_order(client, shop, card_token=shop["token"](VISA))
    visa = fingerprint_of(db, by_visa["payments"][0]["payment_id"])
    expected = [("order", order["number"]), ("sale", by_visa["receipt_number"])]
    assert find(client, shop["s01"], card_fingerprint=visa) == expected
    today = date.today()
    window = {"from": str(today - timedelta(days=7)), "to": str(today + timedelta(days=1))}
    assert find(client, shop["s01"], card_brand="Visa", card_last4="4242", **window) == expected
    assert find(client, shop["s01"], card_brand="mastercard", card_last4="4444", **window) == [
        ("sale", by_mastercard["receipt_number"])
    ]
    assert find(client, shop["s01"], card_brand="visa", card_last4="1111", **window) == []
    last_year = {"from": str(today - timedelta(days=400)), "to": str(today - timedelta(days=40))}
    assert find(client, shop["s01"], card_fingerprint=visa, **last_year) == []


def test_the_card_presented_on_the_terminal_is_read_without_any_charge(client, db, shop):
    sale = sell(client, shop, pan=VISA)
    order = place_order(client, shop, card_token=shop["token"](VISA))
    sell(client, shop, pan=MASTERCARD)
    charges = shop["gateway"].calls.count("authorize")
    r = client.post(
        f"{LOOKUP}/card",
        headers=shop["s01"],
        json={"payment_data": shop["terminal"].read_card(VISA, 12, 2031)},
    )
    assert r.status_code == 200, r.text
    assert [(x["type"], x["number"]) for x in r.json()["items"]] == [
        ("order", order["number"]),
        ("sale", sale["receipt_number"]),
    ]
    assert shop["gateway"].calls.count("inspect_card") == 1
    assert shop["gateway"].calls.count("authorize") == charges  # nothing charged or held
    elsewhere = client.post(
        f"{LOOKUP}/card",
        headers=shop["s01"],
        params={"location": "S02"},
        json={"payment_data": shop["terminal"].read_card(VISA, 12, 2031)},
    )
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["items"] == []
    bad = client.post(f"{LOOKUP}/card", headers=shop["s01"], json={"payment_data": "garbage"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "gateway.invalid_payment_data"
    assert bad.json()["errors"][0]["field"] == "payment_data"


def test_an_email_or_phone_finds_the_customers_sales_and_the_orders_placed_with_it(
    client, db, shop
):
    ada = client.post(
        "/api/v1/customers",
        headers=shop["manager"],
        json={
            "first_name": "Ada",
            "last_name": "Byron",
            "email": "ada@example.com",
            "phone": "+1 415 555 2671",
        },
    ).json()
    bob = client.post(
        "/api/v1/customers",
        headers=shop["manager"],
        json={"first_name": "Bob", "email": "bob@example.com", "phone": "+1 415 555 0100"},
    ).json()
    ada_sale = sell(client, shop, customer=ada["id"])
    sell(client, shop, customer=bob["id"])
    sell(client, shop)
    guest_order = place_order(client, shop, email="ADA@example.com", phone="(415) 555-2671")
    place_order(client, shop, email="bob@example.com", phone="415.555.0100")
    known_order = place_order(client, shop, email="other@example.com", customer=ada["id"])
    expected = [
        ("order", known_order["number"]),
        ("order", guest_order["number"]),
        ("sale", ada_sale["receipt_number"]),
    ]
    assert find(client, shop["s01"], email=" Ada@Example.COM ") == expected
    assert find(client, shop["s01"], phone="415-555-2671") == expected
    assert find(client, shop["s01"], phone="4155552671", country="US") == expected
    assert find(client, shop["s01"], email="nobody@example.com") == []
    [sale] = [
        x
        for x in client.get(
            LOOKUP, headers=shop["s01"], params={"email": "ada@example.com"}
        ).json()["items"]
        if x["type"] == "sale"
    ]
    assert sale["customer"] == {"id": ada["id"], "name": "Ada Byron"}


def test_staff_of_one_store_find_a_sale_made_at_another(client, db, shop):
    sale = sell(client, shop, store="S02")
    receipt = sale["receipt_number"]
    assert find(client, shop["s01"], receipt=receipt) == [("sale", receipt)]
    [item] = client.get(LOOKUP, headers=shop["s01"], params={"receipt": receipt}).json()["items"]
    assert item["location"] == "S02"
    assert find(client, shop["s01"], receipt=receipt, location="S02") == [("sale", receipt)]
    assert find(client, shop["s01"], receipt=receipt, location="S01") == []


def test_results_are_newest_first_and_limited(client, db, shop):
    ada = client.post(
        "/api/v1/customers", headers=shop["manager"], json={"email": "ada@example.com"}
    ).json()
    receipts = [sell(client, shop, qty=1, customer=ada["id"])["receipt_number"] for _ in range(3)]
    found = find(client, shop["s01"], email="ada@example.com", limit=2)
    assert found == [("sale", receipts[2]), ("sale", receipts[1])]


def test_returnable_and_refundable_count_what_was_returned_and_refunded(client, db, shop):
    sale = sell(client, shop, qty=3, pan=VISA)
    order = place_order(client, shop, card_token=shop["token"]())
    pay_id = uuid.UUID(sale["payments"][0]["payment_id"])
    with db.uow() as uow:
        uow.session.execute(
            update(SaleLine)
            .where(SaleLine.sale_id == uuid.UUID(sale["id"]))
            .values(quantity_returned=1)
        )
        uow.session.execute(update(Payment).where(Payment.id == pay_id).values(refunded_minor=1000))
        uow.session.execute(
            update(OrderLine)
            .where(OrderLine.order_id == uuid.UUID(order["id"]))
            .values(quantity_fulfilled=3, quantity_returned=2)
        )
        uow.session.execute(
            update(Payment)
            .where(Payment.order_id == uuid.UUID(order["id"]))
            .values(status="captured", refunded_minor=2000)
        )
        uow.commit()
    [item] = client.get(
        LOOKUP, headers=shop["s01"], params={"receipt": sale["receipt_number"]}
    ).json()["items"]
    assert [(x["quantity"], x["returnable"]) for x in item["lines"]] == [(3, 2)]
    assert [(x["amount"], x["refundable"]) for x in item["payments"]] == [(3000, 2000)]
    [item] = client.get(LOOKUP, headers=shop["s01"], params={"order": order["number"]}).json()[
        "items"
    ]
    assert [(x["quantity"], x["returnable"]) for x in item["lines"]] == [(3, 1)]
    assert [(x["amount"], x["refundable"]) for x in item["payments"]] == [(3000, 1000)]


def test_each_refusal_names_its_code_and_fields(client, db, shop):
    today = date.today()
    h = shop["s01"]
    cases = [
        (
            {},
            (
                "returns.lookup_criteria",
                ["card_fingerprint", "email", "order", "phone", "receipt", "scan"],
            ),
        ),
        (
            {"receipt": "S01-R1-000001", "email": "a@b.co"},
            ("returns.lookup_criteria", ["email", "receipt"]),
        ),
        (
            {"order": "100001", "card_last4": "4242", "card_brand": "visa"},
            ("returns.lookup_criteria", ["card_brand", "card_last4", "order"]),
        ),
        ({"card_brand": "visa"}, ("returns.lookup_criteria", ["card_last4"])),
        ({"card_brand": "visa", "card_last4": "4242"}, ("returns.lookup_criteria", ["from", "to"])),
        ({"receipt": "S01-R1-000001", "from": str(today)}, ("returns.lookup_criteria", ["from"])),
        ({"email": "a@b.co", "country": "US"}, ("returns.lookup_criteria", ["country"])),
        (
            {"card_fingerprint": "abc", "from": str(today - timedelta(days=367)), "to": str(today)},
            ("returns.lookup_range_too_long", ["from", "to"]),
        ),
        (
            {"card_fingerprint": "abc", "from": str(today), "to": str(today - timedelta(days=1))},
            ("returns.lookup_range_invalid", ["from"]),
        ),
        (
            {"card_brand": "visa", "card_last4": "42a2", "from": str(today), "to": str(today)},
            ("returns.invalid_card_last4", ["card_last4"]),
        ),
        ({"scan": "not a receipt"}, ("returns.scan_unreadable", ["scan"])),
        ({"receipt": "12"}, ("returns.invalid_receipt_number", ["receipt"])),
        ({"order": "#12a"}, ("returns.invalid_order_number", ["order"])),
        ({"phone": "12"}, ("customer.invalid_phone", ["phone"])),
        ({"receipt": "S01-R1-000001", "limit": "101"}, ("pagination.invalid_limit", ["limit"])),
        ({"receipt": "S01-R1-000001", "location": "NOPE"}, ("location.not_found", ["location"])),
        ({"card_number": VISA}, ("returns.card_number_refused", ["card_number"])),
        ({"email": "4242 4242 4242 4242"}, ("returns.card_number_refused", ["email"])),
        ({"scan": "4242-4242-4242-4242"}, ("returns.card_number_refused", ["scan"])),
        ({"receipt": "S01-R1-000001", "pan": "1"}, ("returns.card_number_refused", ["pan"])),
        (
            {"card_fingerprint": "378282246310005"},
            ("returns.card_number_refused", ["card_fingerprint"]),
        ),
    ]
    for params, expected in cases:
        assert refused(client, h, **params) == expected, params
    card = client.post(f"{LOOKUP}/card", headers=h, json={"payment_data": VISA})
    assert card.status_code == 422
    assert card.json()["code"] == "returns.card_number_refused"
    assert VISA not in card.text
    # an international phone number is not taken for a card number
    assert find(client, h, phone="+86 138 0013 8000") == []


def test_sales_need_sales_read_and_orders_orders_read(client, db, settings, shop):
    ada = client.post(
        "/api/v1/customers", headers=shop["manager"], json={"email": "ada@example.com"}
    ).json()
    sale = sell(client, shop, customer=ada["id"])
    order = place_order(client, shop)
    stock_clerk = token_for(db, settings, "inv1", "inventory", ["S01"])  # orders.read only
    r = client.get(LOOKUP, headers=stock_clerk, params={"receipt": sale["receipt_number"]})
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"
    assert find(client, stock_clerk, email="ada@example.com") == [("order", order["number"])]
    assert find(client, shop["s01"], email="ada@example.com") == [
        ("order", order["number"]),
        ("sale", sale["receipt_number"]),
    ]
    assert client.get(LOOKUP, params={"receipt": sale["receipt_number"]}).status_code == 401


def test_card_and_contact_lookups_are_audited_by_kind_only(client, db, shop):
    sale = sell(client, shop, pan=VISA)
    visa = fingerprint_of(db, sale["payments"][0]["payment_id"])
    find(client, shop["s01"], receipt=sale["receipt_number"])
    find(client, shop["s01"], order="100000")
    find(client, shop["s01"], card_fingerprint=visa)
    find(client, shop["s01"], email="secret.person@example.com")
    find(client, shop["s01"], phone="+1 415 555 2671", location="S01")
    client.post(
        f"{LOOKUP}/card",
        headers=shop["s01"],
        json={"payment_data": shop["terminal"].read_card(VISA, 12, 2031)},
    )
    with db.uow(write=False) as uow:
        entries = uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "returns.lookup")
            .order_by(AuditEntry.chain, AuditEntry.seq)
        ).all()
    assert [(e.actor, e.details["criterion"], e.details["found"]) for e in entries] == [
        ("c1", "card", 1),
        ("c1", "email", 0),
        ("c1", "phone", 0),
        ("c1", "card_presented", 1),
    ]
    assert entries[0].details["by"] == ["fingerprint"]
    assert entries[2].details["location"] == "S01"
    text = repr([e.details for e in entries])
    for secret in (visa, "secret.person", "4155552671", "415 555"):
        assert secret not in text


def test_no_card_number_reaches_the_logs(client, db, shop, caplog):
    omnitill_log = logging.getLogger("omnitill")
    omnitill_log.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="omnitill")
    try:
        for params in (
            {"card_number": VISA},
            {"scan": "4242 4242 4242 4242"},
            {"email": MASTERCARD, "limit": "5000"},
            {"receipt": VISA, "from": "x"},
        ):
            r = client.get(LOOKUP, headers=shop["s01"], params=params)
            assert r.json()["code"] == "returns.card_number_refused"
            assert VISA not in r.text
            assert MASTERCARD not in r.text
        anonymous = client.get(LOOKUP, params={"card_number": VISA})  # refused before 401
        assert anonymous.json()["code"] == "returns.card_number_refused"
        r = client.post(
            f"{LOOKUP}/card", headers=shop["s01"], json={"payment_data": f"pan={MASTERCARD}"}
        )
        assert r.json()["code"] == "returns.card_number_refused"
    finally:
        omnitill_log.removeHandler(caplog.handler)
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    paths = [getattr(r, "fields", {}).get("path") for r in server_side]
    assert paths.count(LOOKUP) == 5  # the access log was captured: it names only the path
    # Everything a record carries that a handler could write, less the numbers the logging
    # module adds itself (a thread id of 15 digits can pass the Luhn check by chance).
    own = ("thread", "process", "created", "msecs", "relativeCreated", "lineno", "taskName")
    dumped = "\n".join(
        repr({k: v for k, v in r.__dict__.items() if k not in own}) + r.getMessage()
        for r in server_side
    )
    assert find_pans(dumped) == []


# --- the gateway's side ---------------------------------------------------------------------


def test_stripe_reads_a_payment_method_card_and_refuses_a_reader():
    fake = FakeStripe()
    try:
        fake.on(
            "GET",
            "/v1/payment_methods/pm_card_visa",
            {
                "id": "pm_card_visa",
                "object": "payment_method",
                "type": "card",
                "card": {
                    "brand": "visa",
                    "last4": "4242",
                    "exp_month": 12,
                    "exp_year": 2031,
                    "fingerprint": "Xt5EWLLDS7FJjR1c",
                },
            },
        )
        gateway = StripeGateway(API_KEY, api_base=fake.url, timeout_seconds=5)
        card = gateway.inspect_card(payment_data="pm_card_visa")
        assert (card.brand, card.last4, card.fingerprint) == ("visa", "4242", "Xt5EWLLDS7FJjR1c")
        assert [r.method for r in fake.requests] == ["GET"]  # nothing created, nothing charged
        with pytest.raises(GatewayError) as refused_reader:
            gateway.inspect_card(payment_data="reader:tmr_FDOt2wlRZEdpd7")
        assert refused_reader.value.code == "gateway.not_supported"
        fake.on("GET", "/v1/payment_methods/pm_unknown", "error_resource_missing.json", status=404)
        with pytest.raises(GatewayError) as missing:
            gateway.inspect_card(payment_data="pm_unknown")
        assert missing.value.code == "gateway.invalid_payment_data"
    finally:
        fake.close()
