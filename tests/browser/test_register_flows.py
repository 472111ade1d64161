"""The register's other flows in a real Chromium (SQLite and PostgreSQL): a card sale
returned from its receipt scan with the refund to the card, an exchange, closing the shift
with a blind count and the Z report, and a back-office price edit the register charges."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.register_support import (
    MANAGER_PIN,
    bearer,
    go_to,
    make_store,
    ready_register,
    scan,
    wait_priced,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def register_page(browser, live_server, db, settings, page_watch):
    store = make_store(db, settings)
    context = page_watch.context(browser, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page_watch.watch(page)
    ready_register(page, live_server)
    return page, store


def pay_by_card(page) -> str:
    """Pay all that is due on the terminal panel (chip, Visa 4242); answers the receipt."""
    page.click("#pay-btn")
    page.click("#tender .tab[data-method=card]")
    page.click("#card-start")
    page.wait_for_selector("#terminal:not([hidden])")
    page.click("#terminal-present")
    page.wait_for_selector("#receipt:not([hidden])")
    return str(page.text_content("#receipt-number"))


def test_a_card_sale_is_returned_from_its_receipt_scan_and_refunded_to_the_card(
    register_page, live_server, page_watch
):
    page, store = register_page
    scan(page, store.barcodes[0])
    wait_priced(page)
    assert page.text_content("#total") == "$13.61"  # 12.50 + 8.875 % tax
    receipt = pay_by_card(page)

    page.click("#new-sale")
    go_to(page, "returns")
    page.wait_for_selector("#lookup:focus")
    scan(page, f"OT1:R:{receipt}")  # the receipt's QR code, read by the scanner
    page.wait_for_selector("#pick:not([hidden])")
    assert receipt in page.text_content("#purchase-title")
    page.fill("#return-lines input[name=quantity]", "1")
    page.select_option("#return-lines select[name=reason]", "defective")
    page.select_option("#return-lines select[name=disposition]", "defective")
    page.click("#preview-btn")
    page.wait_for_selector("#decision:not([hidden])")
    assert page.text_content("#decision-verdict") == "Allowed"
    assert page.text_content("#refund-total") == "$13.61"
    plan = page.text_content("#refund-plan")
    assert "••4242" in plan
    assert "$13.61" in plan
    page.click("#confirm-return")
    page.wait_for_selector("#done:not([hidden])")
    refunds = page.text_content("#refunds")
    assert "Card" in refunds
    assert "••4242" in refunds
    assert "$13.61" in refunds
    number = page.text_content("#return-number")
    assert number.startswith("RET-")

    with httpx.Client(base_url=live_server, headers=bearer(live_server)) as http:
        sale = http.get(f"/api/v1/sales?receipt_number={receipt}").json()["items"][0]
        returned = http.get(f"/api/v1/returns?sale_id={sale['id']}").json()["items"]
    assert [r["number"] for r in returned] == [number]
    assert returned[0]["lines"][0]["disposition"] == "defective"
    assert [(r["method"], r["amount"], r["card_last4"]) for r in returned[0]["refunds"]] == [
        ("card", 1361, "4242")
    ]
    page_watch.assert_clean()


def test_an_exchange_pays_the_new_sale_and_refunds_the_rest(register_page, live_server, page_watch):
    page, store = register_page
    scan(page, store.barcodes[2])  # 17.50
    wait_priced(page)
    receipt = pay_by_card(page)
    page.click("#new-sale")
    go_to(page, "returns")
    page.wait_for_selector("#lookup:focus")
    page.fill("#lookup", receipt)
    page.select_option("#lookup-kind", "receipt")
    page.click("#lookup-go")
    page.fill("#return-lines input[name=quantity]", "1")
    page.check("input[name=return-kind][value=exchange]")
    page.click("#preview-btn")
    page.wait_for_selector("#decision:not([hidden])")
    page.click("#confirm-return")
    page.wait_for_selector("#exchange-sale:not([hidden])")
    number = page.text_content("#return-number")
    assert "$19.05" in page.text_content("#exchange-credit")  # 17.50 + tax

    page.click("#exchange-sale")
    page.wait_for_url("**/register")
    page.wait_for_selector("#exchange-note:not([hidden])")
    page.wait_for_selector("#scan:focus")
    scan(page, store.barcodes[0])  # 12.50 + tax = 13.61
    wait_priced(page)
    page.click("#pay-btn")
    assert page.input_value("#exchange-code") == number
    assert page.input_value("#exchange-amount") == "13.61"
    page.click("#exchange-take")
    page.wait_for_selector("#receipt:not([hidden])")
    page.wait_for_function(
        "() => document.querySelector('#receipt-message').textContent.includes('settled')"
    )
    assert "$5.44 refunded" in page.text_content("#receipt-message")  # 19.05 - 13.61

    with httpx.Client(base_url=live_server, headers=bearer(live_server)) as http:
        sale = http.get(
            f"/api/v1/sales?receipt_number={page.text_content('#receipt-number')}"
        ).json()["items"][0]
        bought = http.get(f"/api/v1/sales?receipt_number={receipt}").json()["items"][0]
        ret = http.get(f"/api/v1/returns?sale_id={bought['id']}").json()["items"][0]
    assert [p["method"] for p in sale["payments"]] == ["exchange"]
    assert ret["number"] == number
    assert ret["status"] == "completed"
    assert ret["exchange_applied"] == 1361
    assert [(r["method"], r["amount"]) for r in ret["refunds"]] == [("card", 544)]
    page_watch.assert_clean()


def test_closing_the_shift_takes_a_blind_count_and_shows_the_z_report(
    register_page, live_server, page_watch
):
    page, store = register_page
    scan(page, store.barcodes[0])
    wait_priced(page)
    page.click("#pay-btn")
    page.click("#quick-cash .quick >> nth=0")  # exact cash: 13.61
    page.wait_for_selector("#receipt:not([hidden])")
    page.click("#new-sale")

    go_to(page, "close")
    page.wait_for_selector("#count-form:not([hidden])")
    page.click("#x-report-btn")  # the cashier may not: a manager's PIN shows it
    page.wait_for_selector("#x-manager-dialog[open]")
    page.keyboard.type(MANAGER_PIN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#x-report:not([hidden])")
    assert "X REPORT" in page.text_content("#x-text")

    page.fill("input[name=d2000]", "5")  # the float; the sale's cash is missing
    page.click("#close-shift")
    page.wait_for_selector("#reason-field:not([hidden])")
    assert page.is_disabled("input[name=d2000]")  # the first count is frozen
    page.fill("#variance-reason", "cash bag in the safe")
    page.click("#close-shift")
    page.wait_for_selector("#z-report:not([hidden])")
    z = page.text_content("#z-text")
    assert "Z REPORT" in z
    assert "Reason: cash bag in the safe" in z
    assert page.text_content("#z-number") == "1"

    with httpx.Client(base_url=live_server, headers=bearer(live_server)) as http:
        report = http.get("/api/v1/registers/S01-R1/z-reports/1").json()
        current = http.get("/api/v1/shifts/current?register=S01-R1")
    assert report["variance"] == -1361
    assert current.status_code == 404
    page_watch.assert_clean()


def test_a_back_office_price_edit_is_what_the_register_charges(
    register_page, live_server, page_watch
):
    page, store = register_page
    admin = bearer(live_server)
    with httpx.Client(base_url=live_server, headers=admin) as http:
        variant = http.get(f"/api/v1/variants?barcode={store.barcodes[0]}").json()["items"][0]
        edited = http.patch(f"/api/v1/variants/{variant['id']}", json={"price": 1999})
    assert edited.status_code == 200, edited.text
    scan(page, store.barcodes[0])
    wait_priced(page)
    assert page.text_content("#lines .price") == "$19.99"
    assert page.text_content("#subtotal") == "$19.99"
    page_watch.assert_clean()
