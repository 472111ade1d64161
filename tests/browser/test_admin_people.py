"""The back office's people and settings pages in a real Chromium against a live server
(SQLite and PostgreSQL): a staff member added and their role changed, a webhook
subscription created and disabled, a return's page showing its reasons, a customer's page
showing their sale and return, a refused policy edit, and every new page loading with no
console errors and no failed requests (a failure leaves a screenshot in test-artifacts/)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import SaleLine
from tests.browser.test_admin_back_office import sign_in, watched
from tests.factories import (
    PASSWORD,
    make_customer,
    make_location,
    make_register,
    make_user,
    make_variant,
)


def bearer(live_server: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    with httpx.Client(base_url=live_server) as http:
        r = http.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def shop(db: Any, live_server: str) -> dict[str, Any]:
    s01 = make_location(db, "S01", tax_rate="0")
    make_location(db, "S02")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="MUG", price=1000, stock={s01: 20})
    make_user(db, "boss", "admin")
    return {"boss": bearer(live_server, "boss"), "customer": make_customer(db)}


def sell_and_return(live_server: str, db: Any, shop: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        sale = http.post(
            "/api/v1/sales",
            json={
                "id": str(uuid.uuid4()),
                "location": "S01",
                "register": "S01-R1",
                "customer": str(shop["customer"].id),
                "lines": [{"sku": "MUG", "quantity": 2}],
                "payments": [{"method": "cash", "amount": 2000}],
            },
        )
        assert sale.status_code == 201, sale.text
        with db.uow(write=False) as uow:
            line = uow.session.scalars(
                select(SaleLine.id).where(SaleLine.sale_id == uuid.UUID(sale.json()["id"]))
            ).one()
        returned = http.post(
            "/api/v1/returns",
            json={
                "id": str(uuid.uuid4()),
                "location": "S01",
                "register": "S01-R1",
                "sale_id": sale.json()["id"],
                "lines": [
                    {
                        "line_id": str(line),
                        "quantity": 1,
                        "reason": "defective",
                        "condition": "opened",
                        "disposition": "damaged",
                    }
                ],
            },
        )
    assert returned.status_code == 201, returned.text
    return {"sale": sale.json(), "return": returned.json()}


def test_a_staff_member_is_added_and_their_role_changed(live_server, db, browser, shop):
    with watched(browser, live_server, "admin-staff") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/users")
        page.fill("#new-username", "dana")
        page.fill("#new-password", "a-long-enough-password-1")
        page.select_option("#new-role", "cashier")
        page.select_option("#new-locations", ["S01"])
        page.click("#add-user-submit")
        page.wait_for_selector("#notice")
        assert "dana added as cashier" in page.text_content("#notice")
        row = page.locator("#users tr[data-username='dana']")
        assert row.locator("select[name=role]").input_value() == "cashier"
        row.locator("select[name=role]").select_option("manager")
        row.locator("button:has-text('Save')").click()
        page.wait_for_selector("#notice")
        assert "dana: manager, active" in page.text_content("#notice")
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        users = {u["username"]: u for u in http.get("/api/v1/users").json()["items"]}
    assert users["dana"]["role"] == "manager"
    assert users["dana"]["locations"] == ["S01"]
    bearer(live_server, "dana", "a-long-enough-password-1")  # the new member can sign in


def test_a_webhook_subscription_is_created_and_disabled(live_server, db, browser, shop):
    with watched(browser, live_server, "admin-webhooks") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/webhooks")
        page.fill("#webhook-url", "https://hooks.example.com/omnitill")
        page.fill("#webhook-events", "sale.completed")
        page.click("#webhook-submit")
        page.wait_for_selector("#notice")
        assert "Signing secret" in page.text_content("#notice")
        assert page.text_content("#webhook-status") == "enabled"
        assert page.text_content("#webhook-target") == "https://hooks.example.com/omnitill"
        page.click("#disable-webhook")
        page.wait_for_selector("#notice")
        assert page.text_content("#webhook-status") == "disabled"
        page.goto("/admin/webhooks")
        assert page.locator("#webhooks tr[data-url='https://hooks.example.com/omnitill']").count()
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        hooks = http.get("/api/v1/webhooks").json()["items"]
    assert [(h["url"], h["status"]) for h in hooks] == [
        ("https://hooks.example.com/omnitill", "disabled")
    ]


def test_a_returns_page_shows_its_reasons_and_the_customer_page_lists_it(
    live_server, db, browser, shop
):
    done = sell_and_return(live_server, db, shop)
    number = done["return"]["number"]
    with watched(browser, live_server, "admin-returns") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/returns")
        page.click(f"#returns a:has-text('{number}')")
        reason = page.locator("#return-lines tr[data-sku='MUG'] .reason")
        assert reason.get_attribute("data-reason") == "defective"
        assert "defective" in (reason.text_content() or "")
        assert "cash" in page.text_content("#return-refunds")  # type: ignore[operator]
        page.goto("/admin/customers?q=ada")
        page.click("#customers a:has-text('Ada')")
        assert page.locator(
            f"#customer-sales tr[data-receipt='{done['sale']['receipt_number']}']"
        ).count()
        assert number in (page.text_content("#customer-returns") or "")
        page.goto("/admin/returns/report")
        assert page.locator("#report-reasons tr[data-reason='defective']").count() == 1


def test_a_policy_that_does_not_parse_is_refused_and_nothing_is_saved(
    live_server, db, browser, shop
):
    with watched(browser, live_server, "admin-policy") as seen:
        page = seen.page
        sign_in(page, "boss", "/admin/returns/policy")
        original = page.input_value("#policy-document")
        page.fill("#policy-document", '{"policy": {"default_window_days": "soon"}}')
        page.click("#save-policy")
        page.wait_for_selector("#error")
        assert "default_window_days" in page.text_content("#error")  # type: ignore[operator]
        assert page.input_value("#policy-document") == original
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        policy = http.get("/api/v1/returns/policy").json()
    assert policy["updated_at"] is None


def test_every_people_and_settings_page_loads_cleanly(live_server, db, browser, shop):
    sell_and_return(live_server, db, shop)
    with watched(browser, live_server, "admin-people-pages") as seen:
        page = seen.page
        sign_in(page, "boss")
        links = page.locator("#sidebar a").evaluate_all("els => els.map(e => e.pathname)")
        for expected in (
            "/admin/returns",
            "/admin/customers",
            "/admin/users",
            "/admin/registers",
            "/admin/tax",
            "/admin/webhooks",
        ):
            assert expected in links
            response = page.goto(expected)
            assert response is not None
            assert response.status == 200, expected
            assert page.locator("h1").count() == 1, expected
        page.goto("/admin/registers")
        assert "not enrolled" in (page.text_content("#registers tr[data-code='S01-R1']") or "")
        page.fill("#registers tr[data-code='S01-R1'] input[name=host]", "10.0.0.50")
        page.click("#registers tr[data-code='S01-R1'] button")
        page.wait_for_selector("#notice")
    with httpx.Client(base_url=live_server, headers=shop["boss"]) as http:
        printer = http.get("/api/v1/registers/S01-R1/printer").json()
    assert (printer["host"], printer["port"]) == ("10.0.0.50", 9100)
