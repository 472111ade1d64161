"""The back office at /admin in a real Chromium, against a live server on SQLite and
PostgreSQL: sign-in, the dashboard, a price edit the register charges, an order's page and
a fulfillment step, the audit viewer, and the 403 page. Every page must load without console
errors or failed requests; a failing test leaves a screenshot in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnitill.domain.ids import uuid7
from tests.factories import PASSWORD, make_location, make_register, make_user, make_variant

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Watched:
    """A page, and every console error, page error and failed request it saw."""

    page: Any
    problems: list[str] = field(default_factory=list)
    allowed: tuple[str, ...] = ()

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a in p for a in self.allowed)]


@contextmanager
def watched(browser: Any, live_server: str, name: str, **options: Any) -> Iterator[Watched]:
    context = browser.new_context(base_url=live_server, **options)
    page = context.new_page()
    seen = Watched(page)
    page.on(
        "console",
        lambda m: seen.problems.append(f"console: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: seen.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: seen.problems.append(f"failed: {r.url} {r.failure}"))
    try:
        yield seen
        assert seen.unexpected() == []
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise
    finally:
        context.close()


def sign_in(page: Any, username: str, next_path: str = "/admin") -> None:
    page.goto(next_path)
    page.wait_for_url("**/admin/login**")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#who")


@pytest.fixture
def shop(db: Any, live_server: str) -> dict[str, Any]:
    s01 = make_location(db, "S01", offers_pickup=True)
    s02 = make_location(db, "S02")
    make_register(db, s01, "S01-R1")
    make_register(db, s02, "S02-R1")
    tote = make_variant(db, sku="TOTE", price=2400, stock={s01: 10, s02: 10})
    make_user(db, "boss", "admin")
    make_user(db, "clerk", "cashier", ["S01"])
    with httpx.Client(base_url=live_server) as http:
        tokens = {
            name: http.post(
                "/api/v1/auth/token", json={"username": name, "password": PASSWORD}
            ).json()["access_token"]
            for name in ("boss", "clerk")
        }
    return {
        "tote": tote,
        "boss": {"Authorization": f"Bearer {tokens['boss']}"},
        "clerk": {"Authorization": f"Bearer {tokens['clerk']}"},
    }


def sell(live_server: str, headers: dict[str, str], store: str, quantity: int) -> dict[str, Any]:
    with httpx.Client(base_url=live_server, headers=headers) as http:
        r = http.post(
            "/api/v1/sales",
            json={
                "id": str(uuid7()),
                "location": store,
                "register": f"{store}-R1",
                "lines": [{"sku": "TOTE", "quantity": quantity}],
                "payments": [{"method": "cash", "amount": 100_000}],
            },
        )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_manager_signs_in_and_the_dashboard_shows_todays_api_sales(
    live_server, db, browser, shop
):
    first = sell(live_server, shop["boss"], "S01", 1)
    second = sell(live_server, shop["boss"], "S01", 2)
    other = sell(live_server, shop["boss"], "S02", 1)
    with watched(browser, live_server, "admin-dashboard") as seen:
        page = seen.page
        sign_in(page, "boss")
        s01 = page.locator("#sales-by-store .bar[data-label='S01']")
        assert s01.get_attribute("data-count") == "2"
        assert s01.get_attribute("data-total") == str(first["total"] + second["total"])
        s02 = page.locator("#sales-by-store .bar[data-label='S02']")
        assert s02.get_attribute("data-total") == str(other["total"])
        in_store = page.locator("#sales-by-channel .bar[data-label='in_store']")
        assert in_store.get_attribute("data-count") == "3"
        assert "0" in page.text_content("#open-orders")
        # On a phone the sidebar folds away behind the menu button.
        page.set_viewport_size({"width": 390, "height": 800})
        assert not page.is_visible("#sidebar")
        page.click("#nav-toggle")
        assert page.is_visible("#sidebar a[href='/admin/audit']")


def test_a_price_edited_in_the_back_office_is_charged_by_the_register_and_audited(
    live_server, db, browser, shop
):
    with watched(browser, live_server, "admin-price-edit") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/products")
        page.fill("#product-search", "tote")
        page.press("#product-search", "Enter")
        page.click("#products a:has-text('Product TOTE')")
        row = page.locator("#variants tr[data-sku='TOTE']")
        assert row.locator("input[name=price]").input_value() == "24.00"
        row.locator("input[name=price]").fill("19.50")
        row.locator("button[type=submit]").click()
        page.wait_for_selector("#notice")
        assert "TOTE" in page.text_content("#notice")
        assert page.locator("#variants tr[data-sku='TOTE'] input[name=price]").input_value() == (
            "19.50"
        )

        with httpx.Client(base_url=live_server, headers=shop["clerk"]) as http:
            quote = http.post(
                "/api/v1/quotes",
                json={"location": "S01", "lines": [{"sku": "TOTE", "quantity": 1}]},
            )
        assert quote.status_code == 200, quote.text
        assert quote.json()["lines"][0]["unit_price"] == 1950

        page.goto("/admin/audit")
        page.fill("#filter-action", "catalog.price_changed")
        page.press("#filter-action", "Enter")
        entries = page.locator("#audit tr[data-action='catalog.price_changed']")
        assert entries.count() == 1
        text = entries.first.text_content() or ""
        assert "boss" in text
        assert "1950" in text
        page.click("#verify-chain")
        page.wait_for_selector("#notice")
        assert "intact" in page.text_content("#notice")


def test_an_orders_page_shows_its_timeline_and_accepting_it_works(live_server, db, browser, shop):
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        placed = http.post(
            "/api/v1/orders",
            json={
                "channel": "web",
                "customer_name": "Ada Lovelace",
                "email": "ada@example.com",
                "pickup_location": "S01",
                "lines": [{"sku": "TOTE", "quantity": 1, "method": "pickup"}],
            },
        )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    with watched(browser, live_server, "admin-order") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/orders?channel=web")
        page.click(f"#orders a:has-text('{order['number']}')")
        kinds = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.kind)")
        assert kinds[:2] == ["placed", "routed"]
        assert "S01" in page.text_content("#routing")
        fulfillment = page.locator(".fulfillment[data-location='S01']")
        assert fulfillment.locator(".fulfillment-status").text_content() == "assigned"
        fulfillment.locator("button[data-step='accept']").click()
        page.wait_for_selector("#notice")
        assert fulfillment.locator(".fulfillment-status").text_content() == "accepted"
        assert "accepted" in page.locator("#timeline li").evaluate_all(
            "els => els.map(e => e.dataset.kind)"
        )
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        again = http.get(f"/api/v1/orders/{order['id']}").json()
    assert again["fulfillments"][0]["status"] == "accepted"


def test_a_cashier_gets_the_403_page_on_catalog_edit(live_server, db, browser, shop):
    product_id = str(shop["tote"].product_id)
    with watched(browser, live_server, "admin-cashier-403") as seen:
        # The browser reports the 403 answer of the refused page itself as a console error.
        seen.allowed = ("status of 403",)
        page = seen.page
        sign_in(page, "clerk", "/admin/products")
        assert page.locator("#products a").count() == 0  # no edit links for a cashier
        assert page.locator("#sidebar a[href='/admin/audit']").count() == 0
        response = page.goto(f"/admin/products/{product_id}")
        assert response is not None
        assert response.status == 403
        assert page.is_visible("#denied")
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        unchanged = http.get(f"/api/v1/products/{product_id}").json()
    assert unchanged["variants"][0]["price"] == 2400


def test_every_section_in_the_sidebar_loads_cleanly_and_stock_shows_levels(
    live_server, db, browser, shop
):
    with watched(browser, live_server, "admin-sections") as seen:
        page = seen.page
        sign_in(page, "boss")
        links = page.locator("#sidebar a").evaluate_all("els => els.map(e => e.pathname)")
        assert "/admin/stock" in links
        assert "/admin/promotions" in links
        for link in links:
            response = page.goto(link)
            assert response is not None, link
            assert response.status == 200, link
            assert page.locator("h1").count() == 1, link
        page.goto("/admin/stock?sku=TOTE")
        assert page.text_content("#stock tr[data-location='S01'] .available") == "10"
