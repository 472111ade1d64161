"""The printable receipt, rendered and printed to PDF by a real Chromium."""

from __future__ import annotations

import httpx

from omnitill.domain.ids import uuid7
from tests.factories import PASSWORD, make_location, make_register, make_user, make_variant

MM_80_IN_CSS_PX = 80 / 25.4 * 96


def test_the_receipt_renders_for_an_80mm_printer_and_prints(live_server, db, browser):
    s01 = make_location(db, "S01", address_line1="12 Spring St", city="New York")
    sale, auth = tote_sale(db, live_server, s01)

    context = browser.new_context(extra_http_headers=auth)
    page = context.new_page()
    response = page.goto(f"{live_server}/api/v1/sales/{sale['id']}/receipt.html")
    assert response.status == 200
    assert page.text_content("#receipt-number") == "S01-R1-000001"
    assert page.text_content("#total") == "$26.13"
    width = page.evaluate("document.body.getBoundingClientRect().width")
    assert width <= MM_80_IN_CSS_PX
    pdf = page.pdf(width="80mm", print_background=False)
    assert pdf.startswith(b"%PDF")
    context.close()


def test_the_receipt_shows_its_barcode_and_qr_code_and_the_gift_receipt_no_prices(
    live_server, db, browser
):
    s01 = make_location(db, "S01", receipt_footer="Returns within 30 days")
    sale, auth = tote_sale(db, live_server, s01)

    context = browser.new_context(extra_http_headers=auth)
    page = context.new_page()
    url = f"{live_server}/api/v1/sales/{sale['id']}/receipt.html"
    page.goto(url)
    barcode = page.locator("svg#receipt-barcode")
    assert barcode.get_attribute("data-content") == "S01-R1-000001"
    assert barcode.locator("rect.bar").count() == 3 * 13 + 4  # 13 symbols of 3 bars, stop 4
    box = barcode.bounding_box()
    assert box is not None
    assert box["width"] > 150  # drawn across the roll, wide enough to scan
    qr = page.locator("#receipt-qr svg")
    assert qr.count() == 1
    assert page.locator("#receipt-qr").get_attribute("data-content") == "OT1:R:S01-R1-000001"
    assert qr.bounding_box()["width"] > 60
    assert page.text_content("#return-policy") == "Returns within 30 days"

    page.goto(url + "?gift=1")
    assert page.text_content("#gift-title") == "GIFT RECEIPT"
    assert "Product TOTE" in page.text_content("body")
    assert "$" not in page.text_content("body")
    assert page.locator("#total").count() == 0
    assert page.locator("svg#receipt-barcode rect.bar").count() == 3 * 13 + 4
    assert page.pdf(width="80mm").startswith(b"%PDF")
    context.close()


def tote_sale(db, live_server, s01):
    """A cashier at S01 sells one tote for cash; (the sale, the cashier's auth header)."""
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="TOTE", price=2400, stock={s01: 3})
    make_user(db, "cashier1", "cashier", ["S01"])
    with httpx.Client(base_url=live_server) as http:
        token = http.post(
            "/api/v1/auth/token", json={"username": "cashier1", "password": PASSWORD}
        ).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        sale = http.post(
            "/api/v1/sales",
            headers=auth,
            json={
                "id": str(uuid7()),
                "location": "S01",
                "register": "S01-R1",
                "lines": [{"sku": "TOTE", "quantity": 1}],
                "payments": [{"method": "cash", "amount": 3000}],
            },
        ).json()
    return sale, auth
