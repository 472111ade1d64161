"""Stock lookup, price check and the endless aisle in a real Chromium (SQLite and
PostgreSQL): the price the quote engine gives now, the units here and elsewhere, and an
order for an item the store lacks, shipped to the customer and paid in cash at the till."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.register_support import bearer, go_to, make_store, ready_register, scan
from tests.factories import make_location, make_variant

pytestmark = pytest.mark.browser


@pytest.fixture
def register_page(browser, live_server, db, settings, page_watch):
    store = make_store(db, settings, items=1)
    s02 = make_location(db, "S02", ships=True)
    make_variant(db, sku="BOOT", barcode="4006381333931", price=12000, stock={s02: 4})
    context = page_watch.context(browser, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page_watch.watch(page)
    ready_register(page, live_server)
    return page, store


def test_a_price_check_shows_the_price_now_and_the_stock_here_and_elsewhere(
    register_page, page_watch
):
    page, store = register_page
    go_to(page, "stock")
    page.wait_for_selector("#lookup:focus")
    scan(page, store.barcodes[0])
    page.wait_for_selector("#item:not([hidden])")
    assert page.text_content("#price-now") == "$12.50"
    assert page.text_content("#here-available") == "500"
    assert page.text_content("#levels tr[data-location=S01] td:nth-child(2)") == "500"
    scan(page, "4006381333931")
    page.wait_for_function("() => document.querySelector('#here-available').textContent === '0'")
    assert page.text_content("#levels tr[data-location=S02] td:nth-child(2)") == "4"
    page_watch.assert_clean()


def test_an_endless_aisle_order_ships_to_the_customer_and_is_paid_at_the_till(
    register_page, live_server, page_watch
):
    page, _ = register_page
    go_to(page, "aisle")
    page.wait_for_selector("#lookup:focus")
    scan(page, "BOOT")
    page.wait_for_selector("#item:not([hidden])")
    assert page.text_content("#levels tr[data-location=S02] td:nth-child(2)") == "4"
    page.fill("#order-name", "Grace Hopper")
    page.fill("#order-email", "grace@example.com")
    page.fill("#ship-line1", "1 Main St")
    page.fill("#ship-city", "New York")
    page.fill("#ship-region", "NY")
    page.fill("#ship-postal", "10001")
    page.click("#place-order")
    page.wait_for_selector("#placed:not([hidden])")
    number = page.text_content("#order-number")
    assert "from S02" in page.text_content("#order-summary")
    due = page.text_content("#order-due")
    assert due != "$0.00"
    page.fill("#pay-amount", "200.00")
    page.click("#pay-cash")
    page.wait_for_function("() => document.querySelector('#order-due').textContent === '$0.00'")
    assert "change" in page.text_content("#pay-message")

    with httpx.Client(base_url=live_server, headers=bearer(live_server)) as http:
        order = http.get("/api/v1/orders", params={"number": number}).json()["items"][0]
    assert order["balance_due"] == 0
    assert order["channel"] == "in_store"
    assert order["fulfillments"][0]["location"] == "S02"
    page_watch.assert_clean()
