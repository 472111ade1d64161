"""The back office's inventory actions in a real Chromium against a live server (SQLite and
PostgreSQL): a stock adjustment, a purchase order drafted, sent and received, a transfer
requested, shipped and received, a cycle count entered and approved, and every inventory
page loading with no console errors and no failed requests (a failure leaves a screenshot
in test-artifacts/)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.test_admin_back_office import sign_in, watched
from tests.factories import PASSWORD, make_location, make_user, make_variant


@pytest.fixture
def estate(db: Any, live_server: str) -> dict[str, Any]:
    s01 = make_location(db, "S01")
    s02 = make_location(db, "S02")
    make_variant(db, sku="TOTE", price=2400, stock={s01: 10, s02: 10})
    make_user(db, "boss", "admin")
    with httpx.Client(base_url=live_server) as http:
        token = http.post(
            "/api/v1/auth/token", json={"username": "boss", "password": PASSWORD}
        ).json()["access_token"]
    return {"headers": {"Authorization": f"Bearer {token}"}}


def on_hand(live_server: str, estate: dict[str, Any], location: str) -> int:
    with httpx.Client(base_url=live_server, headers=estate["headers"]) as http:
        rows = http.get("/api/v1/stock", params={"sku": "TOTE", "location": location}).json()
    return int(rows["items"][0]["on_hand"])


def test_a_stock_adjustment_books_signed_quantities_with_its_reason(
    live_server, db, browser, estate
):
    with watched(browser, live_server, "admin-adjustment") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/adjustments")
        page.select_option("select[name=location]", "S01")
        page.fill("#adjust-reason", "two damaged in the stockroom")
        page.fill("input[name=sku] >> nth=0", "TOTE")
        page.fill("input[name=quantity] >> nth=0", "-2")
        page.click("#adjust-submit")
        page.wait_for_selector("#notice")
        assert "TOTE -2" in page.text_content("#notice")
        assert page.text_content("#stock tr[data-location='S01'] .available") == "8"
        page.goto("/admin/audit?action=stock.adjusted")
        entries = page.locator("#audit tr[data-action='stock.adjusted']")
        assert entries.count() == 1
        assert "two damaged" in (entries.first.text_content() or "")
    assert on_hand(live_server, estate, "S01") == 8


def test_a_refused_adjustment_shows_the_field_and_writes_nothing(live_server, db, browser, estate):
    with watched(browser, live_server, "admin-adjustment-refused") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/adjustments")
        page.fill("#adjust-reason", "found")
        page.fill("input[name=sku] >> nth=0", "TOTE")
        page.fill("input[name=quantity] >> nth=0", "lots")
        page.click("#adjust-submit")
        page.wait_for_selector("#error")
        assert "lines.0.quantity" in page.text_content("#error")
        assert page.url.endswith("/admin/adjustments?error=" + page.url.split("error=")[1])
    assert on_hand(live_server, estate, "S01") == 10


def test_a_purchase_order_created_sent_and_received_raises_stock(live_server, db, browser, estate):
    with httpx.Client(base_url=live_server, headers=estate["headers"]) as http:
        r = http.post(
            "/api/v1/suppliers", json={"code": "ACME", "name": "Acme Bags", "currency": "USD"}
        )
        assert r.status_code == 201, r.text
        r = http.put(
            "/api/v1/suppliers/ACME/items",
            json={"items": [{"sku": "TOTE", "pack_size": 1, "pack_cost": 900}]},
        )
        assert r.status_code == 200, r.text
    with watched(browser, live_server, "admin-purchase-order") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/purchase-orders")
        page.select_option("#po-form select[name=supplier]", "ACME")
        page.select_option("#po-form select[name=location]", "S01")
        page.fill("#po-form input[name=sku] >> nth=0", "TOTE")
        page.fill("#po-form input[name=quantity] >> nth=0", "6")
        page.click("#po-submit")
        page.wait_for_selector("#notice")
        assert page.text_content("#po-status") == "draft"
        number = page.text_content("h1").split()[0]  # type: ignore[union-attr]
        page.click("#send-po")
        page.wait_for_selector("#notice")
        assert page.text_content("#po-status") == "sent"
        assert page.input_value("#po-lines tr[data-sku='TOTE'] input[name=quantity]") == "6"
        page.click("#receive-po")
        page.wait_for_selector("#notice")
        assert "Received 6 units" in page.text_content("#notice")
        assert page.text_content("#po-status") == "received"
        assert page.text_content("#po-lines tr[data-sku='TOTE'] .received") == "6"
        page.goto("/admin/purchase-orders")
        assert page.locator(f"#purchase-orders tr[data-number='{number}']").count() == 1
    assert on_hand(live_server, estate, "S01") == 16


def test_a_transfer_requested_shipped_and_received_moves_stock(live_server, db, browser, estate):
    with watched(browser, live_server, "admin-transfer") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/transfers")
        page.select_option("#transfer-form select[name=source]", "S01")
        page.select_option("#transfer-form select[name=destination]", "S02")
        page.fill("#transfer-form input[name=sku] >> nth=0", "TOTE")
        page.fill("#transfer-form input[name=quantity] >> nth=0", "3")
        page.click("#transfer-submit")
        page.wait_for_selector("#notice")
        assert page.text_content("#transfer-status") == "requested"
        page.click("#ship-transfer")
        page.wait_for_selector("#notice")
        assert page.text_content("#transfer-status") == "shipped"
        assert on_hand(live_server, estate, "S01") == 7
        page.click("#receive-transfer")
        page.wait_for_selector("#notice")
        assert page.text_content("#transfer-status") == "received"
    assert on_hand(live_server, estate, "S02") == 13


def test_a_cycle_count_entered_submitted_and_approved_books_the_variance(
    live_server, db, browser, estate
):
    with watched(browser, live_server, "admin-count") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/counts")
        page.select_option("#start-count select[name=location]", "S02")
        page.click("#start-count-submit")
        page.wait_for_selector("#notice")
        assert page.text_content("#count-status") == "open"
        page.fill("#count-lines tr[data-sku='TOTE'] input[name=counted]", "9")
        page.click("#save-counts")
        page.wait_for_selector("#notice")
        page.click("#submit-count")
        page.wait_for_selector("#notice")
        assert page.text_content("#count-status") == "submitted"
        assert page.text_content("#count-lines tr[data-sku='TOTE'] .variance") == "-1"
        page.click("#approve-count")
        page.wait_for_selector("#notice")
        assert page.text_content("#count-status") == "approved"
    assert on_hand(live_server, estate, "S02") == 9


def test_every_inventory_page_loads_cleanly(live_server, db, browser, estate):
    with watched(browser, live_server, "admin-inventory-pages") as seen:
        page = seen.page
        sign_in(page, "boss")
        links = page.locator("#sidebar a").evaluate_all("els => els.map(e => e.pathname)")
        for expected in (
            "/admin/adjustments",
            "/admin/purchase-orders",
            "/admin/transfers",
            "/admin/counts",
            "/admin/replenishment",
            "/admin/exceptions",
        ):
            assert expected in links
            response = page.goto(expected)
            assert response is not None
            assert response.status == 200, expected
            assert page.locator("h1").count() == 1, expected
        assert "No open exceptions" in (page.text_content("#exceptions") or "")
        page.goto("/admin/replenishment")
        assert "Nothing needs restocking" in page.text_content("#suggestions")  # type: ignore[operator]
