"""The register's pickup queue in a real Chromium (SQLite and PostgreSQL): an order placed
online appears live from the event stream and is handed over; a curbside customer's "I'm
here" raises the banner and the audible alert."""

from __future__ import annotations

import types
from decimal import Decimal

import httpx
import pytest

from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.services import order_steps
from tests.browser.register_support import bearer, go_to, make_store, ready_register

pytestmark = pytest.mark.browser

VISA = "4242424242424242"
STORE = {
    "ships": True,
    "offers_pickup": True,
    "offers_curbside": True,
    "latitude": Decimal("40.7580"),
    "longitude": Decimal("-73.9855"),
}
# Records every WebAudio call the page makes, in place of the real AudioContext.
AUDIO_STUB = """
window.__audio = [];
class FakeNode { connect() { window.__audio.push("connect"); } }
class FakeOscillator extends FakeNode {
  constructor() { super(); this.frequency = { value: 0 }; }
  start() { window.__audio.push("start:" + this.frequency.value); }
  stop() { window.__audio.push("stop"); }
}
window.AudioContext = class {
  constructor() { window.__audio.push("new"); this.currentTime = 0; this.destination = {}; }
  createOscillator() { return new FakeOscillator(); }
  createGain() { const g = new FakeNode(); g.gain = { value: 1 }; return g; }
  resume() { return Promise.resolve(); }
  close() { return Promise.resolve(); }
};
"""


@pytest.fixture
def queue_page(browser, app, live_server, db, settings, page_watch):
    make_store(db, settings, **STORE)
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    app.state.gateway = gateway
    context = page_watch.context(browser, viewport={"width": 1280, "height": 800})
    context.add_init_script(AUDIO_STUB)
    page = context.new_page()
    page_watch.watch(page)
    ready_register(page, live_server)
    go_to(page, "pickups")
    page.wait_for_function("() => document.querySelector('#live-status').textContent === 'Live'")
    page.evaluate("() => { window.__notReloaded = true; }")
    terminal = SandboxTerminal(gateway.public_key_pem())
    return page, lambda: gateway.tokenize(terminal.read_card(VISA, 12, 2031)).token


def place(base: str, method: str, card_token: str | None = None) -> dict:
    body = {
        "channel": "web",
        "customer_name": "Ada Lovelace",
        "email": "ada@example.com",
        "pickup_location": "S01",
        "lines": [{"sku": "ITEM-1", "quantity": 1, "method": method}],
    }
    if card_token:
        body["card_token"] = card_token
    with httpx.Client(base_url=base, headers=bearer(base)) as http:
        placed = http.post("/api/v1/orders", json=body)
    assert placed.status_code == 201, placed.text
    return placed.json()


def test_an_online_pickup_order_appears_live_and_is_handed_over(
    queue_page, live_server, page_watch
):
    page, card_token = queue_page
    order = place(live_server, "pickup", card_token())
    card = f"#queue li[data-order='{order['number']}']"
    page.wait_for_selector(card)  # from the event stream: the page was not reloaded
    assert page.evaluate("() => window.__notReloaded") is True
    assert "Ada Lovelace" in page.text_content(card)
    page.click(f"{card} button[data-step=pick]")
    page.wait_for_selector(f"{card}[data-status=picking]")
    page.click(f"{card} button[data-step=ready]")
    page.wait_for_selector(f"{card}[data-status=ready]")
    page.click(f"{card} button[data-step=pick_up]")
    page.wait_for_selector("#handover-dialog[open]")
    page.fill("#handover-order", order["number"])
    page.fill("#handover-name", "ada lovelace")
    page.click("#handover-confirm")
    page.wait_for_selector(card, state="detached")
    assert page.is_visible("#queue-empty")

    with httpx.Client(base_url=live_server, headers=bearer(live_server)) as http:
        done = http.get(f"/api/v1/orders/{order['id']}").json()
    assert done["fulfillments"][0]["status"] == "picked_up"
    page_watch.assert_clean()


def test_a_wrong_name_does_not_hand_the_order_over(queue_page, live_server, page_watch):
    page, card_token = queue_page
    order = place(live_server, "pickup", card_token())
    card = f"#queue li[data-order='{order['number']}']"
    page.wait_for_selector(card)
    page.click(f"{card} button[data-step=ready]")
    page.wait_for_selector(f"{card}[data-status=ready]")
    page.click(f"{card} button[data-step=pick_up]")
    page.fill("#handover-order", order["number"])
    page.fill("#handover-name", "Someone Else")
    page.click("#handover-confirm")
    page.wait_for_selector("#handover-error:not([hidden])")
    assert page.is_visible("#handover-dialog")
    page_watch.assert_clean()


def test_a_curbside_arrival_shows_the_banner_and_beeps(
    queue_page, live_server, page_watch, monkeypatch
):
    page, _ = queue_page
    # the pickup code the customer's notification would carry
    monkeypatch.setattr(
        order_steps, "secrets", types.SimpleNamespace(token_urlsafe=lambda n: "curbside-code")
    )
    order = place(live_server, "curbside")
    card = f"#queue li[data-order='{order['number']}']"
    page.wait_for_selector(card)
    page.click(f"{card} button[data-step=ready]")
    page.wait_for_selector(f"{card}[data-status=ready]")
    assert page.is_hidden("#arrival")

    with httpx.Client(base_url=live_server) as customer:  # no sign-in: the link's code
        arrived = customer.post(
            "/api/v1/pickups/curbside-code/arrival", json={"bay": "4", "car": "red Mini"}
        )
    assert arrived.status_code == 200, arrived.text
    page.wait_for_selector("#arrival:not([hidden])")
    banner = page.text_content("#arrival-text")
    assert "bay 4" in banner
    assert "red Mini" in banner
    assert order["number"] in banner
    calls = page.evaluate("() => window.__audio")
    assert calls[0] == "new"
    assert "start:880" in calls
    page.wait_for_selector(f"{card}.arrived")
    assert "bay 4" in page.text_content(card)
    page_watch.assert_clean()
