"""The register app in a real Chromium: the full cashier flow, coupons, a manager PIN
override, the lock screen and the customer display (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.register_support import (
    MANAGER_PIN,
    make_store,
    ready_register,
    scan,
    wait_priced,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def register_page(browser, live_server, db, settings, page_watch):
    store = make_store(db, settings)
    context = page_watch.context(browser, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page_watch.watch(page)
    ready_register(page, live_server)
    return page, store


def test_a_cashier_scans_applies_a_coupon_splits_card_and_cash_and_sees_the_receipt(
    register_page, live_server, page_watch
):
    page, store = register_page
    for barcode in store.barcodes:
        scan(page, barcode)
    page.wait_for_function("() => document.querySelectorAll('#lines tr').length === 3")
    wait_priced(page)
    assert page.text_content("#subtotal") == "$45.00"  # 12.50 + 15.00 + 17.50
    page.fill("#coupon", "SAVE10")
    page.click("#coupon-apply")
    page.wait_for_function(
        "() => document.querySelector('#discount-total').textContent === '$4.50'"
    )
    assert page.text_content("#total") == "$44.10"  # 40.50 + 8.875 % tax, rounded per line

    page.click("#pay-btn")
    page.click("#tender .tab[data-method=card]")
    page.fill("#card-amount", "20.00")
    page.click("#card-start")
    page.wait_for_selector("#terminal:not([hidden])")
    page.check("input[name=entry-mode][value=nfc_tap]")
    page.click("#terminal-present")
    page.wait_for_selector("#terminal", state="hidden")
    assert page.text_content("#tender-due") == "$24.10"
    assert "4242" in page.text_content("#tenders")
    page.click("#tender .tab[data-method=cash]")
    page.click("#quick-cash .quick >> nth=1")  # the next note up: $50.00
    page.wait_for_selector("#receipt:not([hidden])")
    assert page.text_content("#receipt-number") == "S01-R1-000001"
    assert page.text_content("#receipt-change") == "$25.90"
    frame = page.frame_locator("#receipt-frame")
    assert frame.locator("#total").text_content() == "$44.10"

    with httpx.Client(base_url=live_server) as http:
        token = http.post(
            "/api/v1/auth/token", json={"username": "admin1", "password": PASSWORD}
        ).json()["access_token"]
        sale = http.get(
            "/api/v1/sales?receipt_number=S01-R1-000001",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["items"][0]
    assert [p["method"] for p in sale["payments"]] == ["card", "cash"]
    assert sale["payments"][0]["entry_mode"] == "nfc_tap"
    assert sale["payments"][0]["card_last4"] == "4242"
    assert sale["promotions"][0]["coupon"] == "SAVE10"
    page_watch.assert_clean()


def test_a_refused_coupon_shows_why(register_page, page_watch):
    page, store = register_page
    scan(page, store.barcodes[0])
    wait_priced(page)
    page.fill("#coupon", "NOPE")
    page.click("#coupon-apply")
    page.wait_for_selector("#coupon-message:not([hidden])")
    message = page.text_content("#coupon-message")
    assert message.startswith("NOPE:")
    assert "coupon" in message.lower()
    assert page.text_content("#discount-total") == "$0.00"
    page_watch.assert_clean()


def test_a_price_override_asks_for_the_manager_pin(register_page, page_watch):
    page, store = register_page
    scan(page, store.barcodes[0])
    wait_priced(page)
    page.click("#lines button.edit")
    page.fill("#line-price", "5.00")
    page.fill("#line-price-reason", "damaged box")
    page.click("#line-save")
    page.wait_for_selector("#manager-dialog[open]")
    page.keyboard.type("0000")
    page.keyboard.press("Enter")
    page.wait_for_selector("#manager-error:not([hidden])")
    page.keyboard.type(MANAGER_PIN)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#lines .price').textContent === '$5.00'")
    wait_priced(page)
    assert page.text_content("#subtotal") == "$5.00"
    page.click("#pay-btn")
    page.click("#quick-cash .quick >> nth=0")  # exact cash
    page.wait_for_selector("#receipt:not([hidden])")
    assert page.text_content("#receipt-number") == "S01-R1-000001"
    page_watch.assert_clean()


def test_the_lock_screen_needs_the_cashiers_pin(register_page, page_watch):
    page, store = register_page
    scan(page, store.barcodes[0])
    wait_priced(page)
    page.click("#lock-btn")
    page.wait_for_selector("#lock:not([hidden])")
    page.reload()
    page.wait_for_selector("#lock:not([hidden])")  # a reload does not unlock
    page.wait_for_load_state("networkidle")
    page.focus("#lock .pin-display")
    page.keyboard.type(MANAGER_PIN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#lock-error:not([hidden])")
    page.keyboard.type("2468")
    page.keyboard.press("Enter")
    page.wait_for_selector("#lock", state="hidden")
    page_watch.assert_clean()


def test_the_customer_display_mirrors_the_cart(register_page, page_watch):
    page, store = register_page
    display = page.context.new_page()
    page_watch.watch(display)
    display.goto(page.url.replace("/register", "/register/display"))
    display.wait_for_selector("#display-title")
    page.bring_to_front()
    page.focus("#scan")
    scan(page, store.barcodes[1])
    wait_priced(page)
    display.wait_for_function(
        "() => document.querySelector('#display-total').textContent === '$16.33'"
    )
    assert store.names[1] in display.text_content("#display-lines")
    page_watch.assert_clean()


@pytest.mark.parametrize(
    ("width", "height"), [(1280, 800), (768, 1024), (390, 844)], ids=["counter", "tablet", "phone"]
)
def test_the_pages_fit_counter_tablet_and_phone_screens(
    browser, live_server, db, settings, page_watch, width, height
):
    store = make_store(db, settings, items=1)
    context = page_watch.context(browser, viewport={"width": width, "height": height})
    page = context.new_page()
    page_watch.watch(page)
    ready_register(page, live_server)
    scan(page, store.barcodes[0])
    wait_priced(page)
    page.wait_for_load_state("networkidle")
    fits = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(fits)
    for path in ["/register/login", "/register/display", "/register/shift"]:
        page.goto(f"{live_server}{path}", wait_until="networkidle")
        assert page.evaluate(fits), path
    page.goto(f"{live_server}/register/login", wait_until="networkidle")
    sizes = page.eval_on_selector_all(
        ".pin-key", "keys => keys.map(k => Math.min(k.offsetWidth, k.offsetHeight))"
    )
    assert len(sizes) == 12
    assert min(sizes) >= 44
    page_watch.assert_clean()


def test_the_receipt_prints_on_the_registers_thermal_printer(
    register_page, live_server, page_watch
):
    from tests.integration.receipt_support import FakePrinter

    page, store = register_page
    printer = FakePrinter()
    try:
        with httpx.Client(base_url=live_server) as http:
            token = http.post(
                "/api/v1/auth/token", json={"username": "admin1", "password": PASSWORD}
            ).json()["access_token"]
            r = http.put(
                "/api/v1/registers/S01-R1/printer",
                headers={"Authorization": f"Bearer {token}"},
                json={"host": "127.0.0.1", "port": printer.port},
            )
            assert r.status_code == 200, r.text
        scan(page, store.barcodes[0])
        wait_priced(page)
        page.click("#pay-btn")
        page.click("#tender .tab[data-method=cash]")
        page.click("#quick-cash .quick >> nth=0")
        page.wait_for_selector("#receipt:not([hidden])")
        number = page.text_content("#receipt-number")
        page.click("#receipt-print")
        job = printer.job()
        page.wait_for_function(
            "() => document.querySelector('#receipt-message').textContent.includes('printed')"
        )
    finally:
        printer.close()
    assert number.encode() in job
    assert store.names[0].encode() in job
    assert b"\x1dk" in job  # the receipt number as a barcode, for returns
    page_watch.assert_clean()
