"""Receipts printed on a network ESC/POS printer (a real TCP listener on 127.0.0.1), the
ESC/POS download, the printer setting and the cash drawer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry, CashMovement
from tests.integration.receipt_support import (
    FakePrinter,
    card_and_cash_sale,
    card_only_sale,
    closed_port,
    make_shop,
    set_printer,
)

GS_K = b"\x1dk"  # GS k: print a barcode
CODE128_B = b"\x1dkI"  # GS k m=73 (CODE128), then n and the data
QR_STORE = b"\x1d(k"  # GS ( k: the 2D code functions
DRAWER_KICK = b"\x1bp\x00"  # ESC p 0: pulse on pin 2
CUT = b"\x1dV"


@pytest.fixture
def shop(client, db, settings):
    return make_shop(client, db, settings)


@pytest.fixture
def printer():
    fake = FakePrinter()
    yield fake
    fake.close()


def money(amount: int) -> bytes:
    return f"${amount / 100:,.2f}".encode()


def print_receipt(client, headers, sale_id, **body):
    return client.post(f"/api/v1/sales/{sale_id}/receipt/print", headers=headers, json=body)


def audit_actions(db, action):
    with db.uow(write=False) as uow:
        return uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_the_printer_receives_the_receipt_its_lines_taxes_tenders_codes_and_drawer_kick(
    client, db, shop, printer
):
    assert set_printer(client, shop["admin"], printer.port).status_code == 200
    sale = card_and_cash_sale(client, shop)
    number = sale["receipt_number"].encode()

    r = print_receipt(client, shop["cashier"], sale["id"], kick_drawer=True)
    assert r.status_code == 202, r.text
    job = printer.job()
    assert r.json() == {
        "printed": True,
        "bytes": len(job),
        "receipt_number": sale["receipt_number"],
        "register": "S01-R1",
    }
    assert job.startswith(DRAWER_KICK)  # the drawer opens while the receipt prints
    for text in (b"Store S01", b"12 Spring St", b"Open 9-9 every day", number):
        assert text in job
    assert b"Product TOTE" in job
    assert b"Product MUG" in job
    assert b"2 x $10.00" in job
    assert re.search(rb"\x1bE\x01[^\n]*TOTAL +" + re.escape(money(sale["total"])), job)
    tax = sale["taxes"][0]
    assert f"Tax 8.875% on {money(tax['taxable']).decode()}".encode() in job
    assert money(tax["tax"]) in job
    assert re.search(rb"Visa \*\*\*\*4242 +\$20\.00", job)
    assert b"424242424242" not in job  # never more than the last four
    assert re.search(rb"Change +\$5\.00", job)
    assert CODE128_B + bytes([len(number) + 2]) + b"{B" + number in job
    qr = b"OT1:R:" + number
    assert QR_STORE + bytes([len(qr) + 3, 0]) + b"1P0" + qr in job
    assert b"Returns within 30 days" in job
    assert job.rstrip(b"\x00").endswith(CUT)
    [entry] = audit_actions(db, "receipt.printed")
    assert entry.details["kick_drawer"] is True


def test_a_gift_receipt_prints_no_price_and_no_tender_but_the_same_codes(client, shop, printer):
    set_printer(client, shop["admin"], printer.port)
    sale = card_and_cash_sale(client, shop)
    r = print_receipt(client, shop["cashier"], sale["id"], gift=True)
    assert r.status_code == 202, r.text
    job = printer.job()
    assert b"GIFT RECEIPT" in job
    assert b"Product TOTE" in job
    assert b"Product MUG" in job
    assert b"$" not in job
    assert b"Visa" not in job
    assert b"Tax" not in job
    assert DRAWER_KICK not in job
    number = sale["receipt_number"].encode()
    assert b"{B" + number in job
    assert b"OT1:R:" + number in job


def test_the_escpos_download_is_the_same_job_for_a_usb_printer(client, shop):
    sale = card_and_cash_sale(client, shop)
    r = client.get(f"/api/v1/sales/{sale['id']}/receipt.escpos", headers=shop["cashier"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert GS_K in r.content
    assert QR_STORE in r.content
    assert money(sale["total"]) in r.content
    gift = client.get(
        f"/api/v1/sales/{sale['id']}/receipt.escpos",
        params={"gift": 1},
        headers=shop["cashier"],
    )
    assert b"$" not in gift.content
    assert b"Product TOTE" in gift.content


def test_an_offline_printer_answers_503_and_nothing_is_recorded(client, db, shop):
    set_printer(client, shop["admin"], closed_port())
    sale = card_and_cash_sale(client, shop)
    r = print_receipt(client, shop["cashier"], sale["id"])
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "printer.unreachable"
    assert audit_actions(db, "receipt.printed") == []


def test_a_register_without_a_printer_answers_409(client, shop):
    sale = card_and_cash_sale(client, shop)
    r = print_receipt(client, shop["cashier"], sale["id"])
    assert r.status_code == 409
    assert r.json()["code"] == "printer.not_configured"
    unknown = print_receipt(client, shop["cashier"], sale["id"], register="S01-R9")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "register.not_found")
    assert [e["field"] for e in unknown.json()["errors"]] == ["register"]


def test_a_receipt_opens_the_drawer_only_for_a_cash_sale(client, shop, printer):
    set_printer(client, shop["admin"], printer.port)
    sale = card_only_sale(client, shop)
    r = print_receipt(client, shop["cashier"], sale["id"], kick_drawer=True)
    assert r.status_code == 409
    assert r.json()["code"] == "drawer.kick_refused"
    assert printer.jobs == []


def test_the_printer_setting_needs_locations_write_and_a_valid_address(client, shop):
    assert set_printer(client, shop["cashier"], 9100).status_code == 403
    assert set_printer(client, shop["manager"], 9100).status_code == 403
    bad = client.put(
        "/api/v1/registers/S01-R1/printer",
        headers=shop["admin"],
        json={"host": "not a host", "port": 70000},
    )
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["host", "port"]
    ok = set_printer(client, shop["admin"], 9100, host="printer-1.store.lan")
    assert ok.json() == {"register": "S01-R1", "host": "printer-1.store.lan", "port": 9100}
    read = client.get("/api/v1/registers/S01-R1/printer", headers=shop["cashier"])
    assert read.json()["host"] == "printer-1.store.lan"


def test_the_drawer_opens_as_a_recorded_no_sale_through_the_printer(client, db, shop, printer):
    set_printer(client, shop["admin"], printer.port)
    drawer = "/api/v1/registers/S01-R1/drawer"
    no_shift = client.post(drawer, headers=shop["manager"], json={"reason": "change"})
    assert (no_shift.status_code, no_shift.json()["code"]) == (409, "shift.not_open")
    shift = client.post(
        "/api/v1/shifts",
        headers=shop["cashier"],
        json={"register": "S01-R1", "denominations": {"2000": 5}},
    )
    assert shift.status_code == 201, shift.text

    refused = client.post(drawer, headers=shop["cashier"], json={"reason": "change"})
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.permission_denied")
    assert printer.jobs == []

    opened = client.post(drawer, headers=shop["manager"], json={"reason": "change for a 50"})
    assert opened.status_code == 202, opened.text
    assert opened.json()["shift_id"] == shift.json()["id"]
    assert printer.job() == DRAWER_KICK + b"22"  # ESC p 0, 100 ms on, 100 ms off
    with db.uow(write=False) as uow:
        kinds = uow.session.scalars(select(CashMovement.kind)).all()
    assert "no_sale" in kinds
    [entry] = audit_actions(db, "cash.no_sale")
    assert entry.details["reason"] == "change for a 50"


def test_a_drawer_kick_to_an_offline_printer_is_503_with_the_no_sale_recorded(client, db, shop):
    set_printer(client, shop["admin"], closed_port())
    client.post(
        "/api/v1/shifts",
        headers=shop["cashier"],
        json={"register": "S01-R1", "denominations": {"2000": 5}},
    )
    r = client.post(
        "/api/v1/registers/S01-R1/drawer", headers=shop["manager"], json={"reason": "jam"}
    )
    assert (r.status_code, r.json()["code"]) == (503, "printer.unreachable")
    assert len(audit_actions(db, "cash.no_sale")) == 1
