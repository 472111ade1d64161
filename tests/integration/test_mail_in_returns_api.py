"""Mail-in returns (RMA) over HTTP on SQLite and PostgreSQL: a web order shipped and paid by
card, its return authorised, the carrier label bought once (even across a timeout), the
parcel received with a disposition per line where it arrived, the card refunded; or the
return cancelled and its units given back to the order."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from omnitill.adapters.carriers.sandbox import SandboxCarrier
from omnitill.adapters.db.models import (
    AuditEntry,
    Notification,
    OrderLine,
    OutboxEvent,
    Payment,
    ReturnRefund,
    StockLevel,
    StockMovement,
    Variant,
)
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.services import stock
from omnitill.services.pickups import CustomerNotifier
from tests.factories import make_location, make_variant, token_for

VISA = "4242424242424242"
BOSTON = {
    "latitude": Decimal("42.3601"),
    "longitude": Decimal("-71.0589"),
    "address_line1": "1 Harbor Way",
    "city": "Boston",
    "region": "MA",
    "postal_code": "02110",
}
MANHATTAN = {
    "latitude": Decimal("40.7580"),
    "longitude": Decimal("-73.9855"),
    "address_line1": "1 Broadway",
    "city": "New York",
    "region": "NY",
    "postal_code": "10004",
}
HOME = {
    "name": "Ada Lovelace",
    "line1": "12 Elm St",
    "city": "Albany",
    "region": "NY",
    "postal_code": "12207",
    "country": "US",
    "latitude": 42.65,
    "longitude": -73.75,
}


class Outbox:
    """An email sender that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list = []

    def send(self, message) -> str:
        self.sent.append(message)
        return f"<{len(self.sent)}@test>"


@pytest.fixture
def shop(client, db, settings):
    w01 = make_location(db, "W01", kind="warehouse", ships=True, tax_rate="0", **BOSTON)
    make_location(db, "S01", tax_rate="0", **MANHATTAN)
    make_location(db, "W09", kind="warehouse", tax_rate="0", **{**BOSTON, "postal_code": "99999"})
    make_variant(db, sku="TEE", price=2000, stock={w01: 10})
    make_variant(db, sku="MUG", price=1200, stock={w01: 10})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    carrier = SandboxCarrier(settings.data_dir / "carrier.db")
    client.app.state.carrier = carrier
    notifier = CustomerNotifier(settings)
    outbox = Outbox()
    notifier.email = outbox
    client.app.state.notifier = notifier
    terminal = SandboxTerminal(gateway.public_key_pem())
    return {
        "web": token_for(db, settings, "web", "manager"),
        "w01": token_for(db, settings, "w01", "cashier", ["W01"]),
        "token": lambda: gateway.tokenize(terminal.read_card(VISA, 12, 2031)).token,
        "carrier": carrier,
        "outbox": outbox,
    }


def shipped_order(client, shop, ship_to=HOME):
    """A web order of 2 TEE and 1 MUG, shipped from W01; the card is captured at shipping."""
    order = client.post(
        "/api/v1/orders",
        headers=shop["web"],
        json={
            "channel": "web",
            "customer_name": "Ada Lovelace",
            "email": "ada@example.com",
            "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
            "ship_to": ship_to,
            "card_token": shop["token"](),
        },
    )
    assert order.status_code == 201, order.text
    body = order.json()
    [f] = body["fulfillments"]
    for action in ("accept", "pick", "pack", "ship"):
        r = client.post(
            f"/api/v1/orders/{body['id']}/fulfillments/{f['id']}/{action}",
            headers=shop["web"],
            json={},
        )
        assert r.status_code == 200, r.text
    shipped = r.json()
    assert shipped["payments"][0]["status"] == "captured"
    return shipped


def authorise(client, shop, order, *, location="W01", tee=1, mug=1):
    lines = {x["sku"]: x["id"] for x in order["lines"]}
    wanted = [("TEE", tee, "wrong_size"), ("MUG", mug, "defective")]
    r = client.post(
        "/api/v1/returns",
        headers=shop["web"],
        json={
            "id": str(uuid.uuid4()),
            "kind": "mail_in",
            "location": location,
            "order_id": order["id"],
            "lines": [
                {"line_id": lines[sku], "quantity": n, "reason": reason, "condition": "unopened"}
                for sku, n, reason in wanted
                if n
            ],
        },
    )
    assert r.status_code == 201, r.text
    rma = r.json()
    assert rma["status"] == "authorized"
    assert rma["number"].startswith("RMA-")
    return rma


def receive(client, headers, rma, lines=None, **extra):
    lines = lines or [
        {"line_no": 1, "disposition": "resalable", "condition": "opened"},
        {"line_no": 2, "disposition": "defective"},
    ]
    return client.post(
        f"/api/v1/returns/{rma['id']}/receive", headers=headers, json={"lines": lines, **extra}
    )


def level(db, sku, location):
    with db.uow(write=False) as uow:
        row = uow.session.execute(
            select(StockLevel)
            .join(Variant, Variant.id == StockLevel.variant_id)
            .where(Variant.sku == sku, StockLevel.location_id == location_id(db, location))
        ).scalar_one_or_none()
        return (0, 0, 0) if row is None else (row.on_hand, row.quarantine, row.damaged)


def location_id(db, code):
    from omnitill.adapters.db.models import Location

    with db.uow(write=False) as uow:
        return uow.session.scalars(select(Location.id).where(Location.code == code)).one()


def returned_units(db, order):
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(OrderLine.sku, OrderLine.quantity_returned).where(
                OrderLine.order_id == uuid.UUID(order["id"])
            )
        )
        return dict(rows.all())


def count(db, model, *where):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_an_rma_is_labelled_received_with_mixed_dispositions_and_refunded_to_the_card(
    client, db, shop
):
    order = shipped_order(client, shop)
    rma = authorise(client, shop, order)
    assert returned_units(db, order) == {"TEE": 1, "MUG": 1}
    assert level(db, "TEE", "W01") == (8, 0, 0)  # nothing back in stock yet

    bought = client.post(f"/api/v1/returns/{rma['id']}/label", headers=shop["web"])
    assert bought.status_code == 201, bought.text
    label = bought.json()
    assert label["tracking_number"].startswith("OT1Z")
    assert label["carrier"] == "sandbox"
    assert label["label"]["rate"]["amount"] > 0
    again = client.post(f"/api/v1/returns/{rma['id']}/label", headers=shop["web"], json={})
    assert again.status_code == 200
    assert again.json()["tracking_number"] == label["tracking_number"]
    pdf = client.get(label["label_url"], headers=shop["web"])
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    got = client.get(f"/api/v1/returns/{rma['id']}", headers=shop["web"]).json()
    assert got["tracking_number"] == label["tracking_number"]
    assert got["label"]["label_id"] == label["label"]["label_id"]
    [mail] = shop["outbox"].sent
    assert mail.to == "ada@example.com"
    assert rma["number"] in mail.subject
    assert mail.attachments[0].content == pdf.content
    assert count(db, Notification, Notification.template == "return_label") == 1

    done = receive(client, shop["w01"], rma)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "completed"
    assert body["location"] == "W01"
    assert [(x["disposition"], x["condition"]) for x in body["lines"]] == [
        ("resalable", "opened"),
        ("defective", "unopened"),
    ]
    assert body["refund_total"] == 2000 + 1200
    assert body["refunded"] == body["refund_total"]
    [refund] = body["refunds"]
    assert (refund["method"], refund["status"], refund["amount"]) == ("card", "refunded", 3200)
    with db.uow(write=False) as uow:
        paid = uow.session.get_one(Payment, uuid.UUID(order["payments"][0]["id"]))
        assert paid.refunded_minor == 3200
    assert body["initiated_at"] <= body["received_at"] <= body["refunded_at"]
    assert body["completed_at"]
    assert level(db, "TEE", "W01") == (9, 0, 0)  # resalable: back on the shelf
    assert level(db, "MUG", "W01") == (10, 0, 1)  # defective: held for the vendor
    assert stock.verify(db=db) == []
    with db.uow(write=False) as uow:
        actions = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == rma["id"])
        ).all()
        topics = uow.session.scalars(
            select(OutboxEvent.topic).where(OutboxEvent.aggregate_id == rma["id"])
        ).all()
    assert {"return.created", "return.label_bought", "return.received"} <= set(actions)
    assert "return.received" in topics


def test_a_parcel_received_at_a_store_puts_the_stock_there_and_moves_the_rma(client, db, shop):
    order = shipped_order(client, shop)
    rma = authorise(client, shop, order)
    done = receive(
        client,
        shop["web"],
        rma,
        [{"line_no": 1, "disposition": "resalable"}, {"line_no": 2, "disposition": "quarantine"}],
        location="S01",
    )
    assert done.status_code == 200, done.text
    assert done.json()["location"] == "S01"
    assert level(db, "TEE", "S01") == (1, 0, 0)
    assert level(db, "MUG", "S01") == (1, 1, 0)
    assert level(db, "TEE", "W01") == (8, 0, 0)
    assert stock.verify(db=db) == []
    with db.uow(write=False) as uow:
        moved_to = set(
            uow.session.scalars(
                select(StockMovement.location_id).where(StockMovement.reference_id == rma["id"])
            )
        )
    assert moved_to == {location_id(db, "S01")}


def test_a_cashier_of_another_location_cannot_receive_there(client, db, shop):
    order = shipped_order(client, shop)
    rma = authorise(client, shop, order)
    r = receive(client, shop["w01"], rma, location="S01")
    assert r.status_code == 403
    assert client.get(f"/api/v1/returns/{rma['id']}", headers=shop["web"]).json()["status"] == (
        "authorized"
    )


def test_receiving_twice_is_refused_and_refunds_once(client, db, shop):
    order = shipped_order(client, shop)
    rma = authorise(client, shop, order)
    assert receive(client, shop["web"], rma).status_code == 200
    twice = receive(client, shop["web"], rma)
    assert twice.status_code == 409
    assert twice.json()["code"] == "returns.not_authorized"
    assert count(db, ReturnRefund) == 1
    assert level(db, "TEE", "W01") == (9, 0, 0)
    late = client.post(f"/api/v1/returns/{rma['id']}/cancel", headers=shop["web"])
    assert late.status_code == 409


def test_a_line_without_a_disposition_is_named_and_nothing_is_written(client, db, shop):
    order = shipped_order(client, shop)
    rma = authorise(client, shop, order)
    r = receive(client, shop["web"], rma, [{"line_no": 1, "disposition": "resalable"}])
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "returns.disposition_required"
    assert [e["code"] for e in problem["errors"]] == ["returns.disposition_required"]
    assert "line 2 (MUG)" in problem["errors"][0]["message"]
    bad = receive(
        client,
        shop["web"],
        rma,
        [
            {"line_no": 1, "disposition": "resalable"},
            {"line_no": 1, "disposition": "damaged"},
            {"line_no": 2, "disposition": "lost"},
        ],
    )
    assert bad.status_code == 422
    fields = {(e["field"], e["code"]) for e in bad.json()["errors"]}
    assert ("lines.1.line_no", "returns.line_repeated") in fields
    assert ("lines.2.disposition", "returns.invalid_disposition") in fields
    assert count(db, StockMovement, StockMovement.reference_id == rma["id"]) == 0
    got = client.get(f"/api/v1/returns/{rma['id']}", headers=shop["web"]).json()
    assert got["status"] == "authorized"
    assert [x["disposition"] for x in got["lines"]] == [None, None]


def test_cancelling_gives_the_units_back_so_they_can_be_returned_again(client, db, shop):
    order = shipped_order(client, shop)
    rma = authorise(client, shop, order, tee=2)
    label = client.post(f"/api/v1/returns/{rma['id']}/label", headers=shop["web"]).json()
    assert returned_units(db, order) == {"TEE": 2, "MUG": 1}
    r = client.post(
        f"/api/v1/returns/{rma['id']}/cancel",
        headers=shop["web"],
        json={"note": "the parcel never came"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "cancelled"
    assert body["label"]["voided"] is True
    assert returned_units(db, order) == {"TEE": 0, "MUG": 0}
    events = shop["carrier"].track(label["tracking_number"])
    assert events[-1].description.lower().startswith("label voided")
    with db.uow(write=False) as uow:
        assert uow.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "return.cancelled", AuditEntry.subject_id == rma["id"]
            )
        )
    again = client.post(f"/api/v1/returns/{rma['id']}/cancel", headers=shop["web"])
    assert again.status_code == 409
    assert again.json()["code"] == "returns.not_authorized"
    assert receive(client, shop["web"], rma).status_code == 409
    second = authorise(client, shop, order, tee=2)
    assert second["id"] != rma["id"]
    assert returned_units(db, order) == {"TEE": 2, "MUG": 1}


def test_a_carrier_timeout_buys_one_label_and_the_retry_answers_it(client, db, shop, settings):
    order = shipped_order(client, shop)
    rma = authorise(client, shop, order, location="W09")  # the sandbox times out to 99999
    lost = client.post(f"/api/v1/returns/{rma['id']}/label", headers=shop["web"])
    assert lost.status_code == 504
    assert lost.json()["code"] == "carrier.timeout"
    got = client.get(f"/api/v1/returns/{rma['id']}", headers=shop["web"]).json()
    assert (got["tracking_number"], got["label"]) == (None, None)
    retry = client.post(f"/api/v1/returns/{rma['id']}/label", headers=shop["web"])
    assert retry.status_code == 201, retry.text
    with closing(sqlite3.connect(settings.data_dir / "carrier.db")) as carrier_records:
        labels = carrier_records.execute("SELECT tracking_number FROM carrier_labels").fetchall()
    assert labels == [(retry.json()["tracking_number"],)]


def test_an_undeliverable_customer_address_is_refused_clearly(client, db, shop):
    order = shipped_order(client, shop, ship_to={**HOME, "postal_code": "00000"})
    rma = authorise(client, shop, order)
    r = client.post(f"/api/v1/returns/{rma['id']}/label", headers=shop["web"])
    assert r.status_code == 422
    assert r.json()["code"] == "carrier.address_undeliverable"
    assert client.get(label_path(rma), headers=shop["web"]).json()["code"] == "returns.no_label"


def label_path(rma):
    return f"/api/v1/returns/{rma['id']}/label.pdf"
