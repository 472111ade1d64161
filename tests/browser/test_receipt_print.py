"""The printable receipt, rendered and printed to PDF by a real Chromium."""

from __future__ import annotations

import httpx

from omnitill.domain.ids import uuid7
from tests.factories import PASSWORD, make_location, make_register, make_user, make_variant

MM_80_IN_CSS_PX = 80 / 25.4 * 96


def test_the_receipt_renders_for_an_80mm_printer_and_prints(live_server, db, browser):
    s01 = make_location(db, "S01", address_line1="12 Spring St", city="New York")
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
