"""Receipts by email through a real SMTP server (aiosmtpd on a free local port), and the
store's locale, header and return policy on the HTML receipt."""

from __future__ import annotations

import email
import email.policy
import xml.etree.ElementTree as ET

import pytest
from aiosmtpd.controller import Controller

from omnitill.domain.labels.barcodes import code128
from tests.integration.receipt_support import POLICY, card_and_cash_sale, closed_port, make_shop


class Mailbox:
    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(message)
        return "250 Message accepted"


@pytest.fixture
def shop(client, db, settings):
    return make_shop(client, db, settings)


@pytest.fixture
def mailbox(client, settings):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=closed_port())
    controller.start()
    client.app.state.settings = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": controller.port}
    )
    yield box
    controller.stop()


def send(client, headers, sale_id, **body):
    return client.post(f"/api/v1/sales/{sale_id}/receipt/email", headers=headers, json=body)


def test_the_receipt_is_emailed_as_text_and_html_with_its_codes(client, shop, mailbox):
    sale = card_and_cash_sale(client, shop)
    r = send(client, shop["cashier"], sale["id"], email="ada@example.com")
    assert r.status_code == 202, r.text
    assert r.json()["sent"] is True
    (received,) = mailbox.received
    assert received["To"] == "ada@example.com"
    assert received["Subject"] == f"Receipt {sale['receipt_number']} from Store S01"
    assert received["Message-ID"] == r.json()["message_id"]
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Product TOTE" in part
        assert "$47.91" in part
        assert "Visa ****4242" in part
        assert "Returns within 30 days" in part
    assert "4242424242424242" not in text + html
    assert 'id="receipt-barcode"' in html
    assert 'data-content="OT1:R:' + sale["receipt_number"] + '"' in html


def test_a_gift_receipt_email_has_no_prices(client, shop, mailbox):
    sale = card_and_cash_sale(client, shop)
    r = send(client, shop["cashier"], sale["id"], email="bob@example.com", gift=True)
    assert r.status_code == 202, r.text
    (received,) = mailbox.received
    assert received["Subject"].startswith("Gift receipt ")
    text = received.get_body(("plain",)).get_content()
    assert "Product MUG" in text
    assert "$" not in text
    assert "Visa" not in text


def test_a_bad_address_is_422_and_no_smtp_server_is_503(client, shop, settings):
    sale = card_and_cash_sale(client, shop)
    bad = send(client, shop["cashier"], sale["id"], email="not-an-address")
    assert bad.status_code == 422
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("email", "notification.invalid_recipient")
    ]
    off = send(client, shop["cashier"], sale["id"], email="ada@example.com")
    assert (off.status_code, off.json()["code"]) == (503, "notification.not_configured")


def test_the_html_receipt_follows_the_store_locale_header_and_policy(client, shop):
    sale = card_and_cash_sale(client, shop)
    changed = client.patch(
        "/api/v1/locations/S01",
        headers=shop["admin"],
        json={"locale": "fr_FR", "receipt_footer": "Retours sous 30 jours"},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["locale"], changed.json()["receipt_header"]) == (
        "fr_FR",
        "Open 9-9 every day",
    )
    html = client.get(f"/api/v1/sales/{sale['id']}/receipt.html", headers=shop["cashier"]).text
    assert "47,91\u00a0$US" in html
    assert "Retours sous 30 jours" in html
    assert '<html lang="fr">' in html
    bad = client.patch("/api/v1/locations/S01", headers=shop["admin"], json={"locale": "xx_YY"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["locale"]


def test_the_html_receipt_carries_its_barcode_and_qr_code_as_svg(client, shop):
    sale = card_and_cash_sale(client, shop)
    url = f"/api/v1/sales/{sale['id']}/receipt.html"
    html = client.get(url, headers=shop["cashier"]).text
    assert POLICY.splitlines()[0] in html
    start = html.index('<svg id="receipt-barcode"')
    svg = ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])
    bars = [e for e in svg if e.get("class") == "bar"]
    assert len(bars) == len(code128(sale["receipt_number"]).bars())
    assert svg.get("data-content") == sale["receipt_number"]
    assert 'class="qr-code"' in html
    gift = client.get(url, params={"gift": 1}, headers=shop["cashier"]).text
    assert "GIFT RECEIPT" in gift
    assert "$" not in gift
    assert 'id="receipt-barcode"' in gift
    a4 = client.get(url, params={"paper": "a4"}, headers=shop["cashier"]).text
    assert "size: A4" in a4
