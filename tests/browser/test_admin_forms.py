"""Back-office forms over plain HTTP (no browser needed): the session and CSRF guards, a
refused form going back with its reason and nothing written, promotions and coupons."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.factories import PASSWORD, make_location, make_user, make_variant


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def signed_in(client: Any, username: str) -> str:
    token = csrf_of(client.get("/admin/login").text)
    r = client.post(
        "/admin/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/admin"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/admin").text)


@pytest.fixture
def tote(db: Any) -> Any:
    s01 = make_location(db, "S01")
    make_user(db, "boss", "admin")
    return make_variant(db, sku="TOTE", price=2400, stock={s01: 1})


def test_pages_without_a_session_send_to_sign_in_and_a_wrong_password_is_refused(client, tote):
    r = client.get("/admin/products?q=tote", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/login?next=%2Fadmin%2Fproducts%3Fq%3Dtote"
    token = csrf_of(client.get("/admin/login").text)
    r = client.post(
        "/admin/login",
        data={"csrf_token": token, "username": "boss", "password": "wrong"},
        follow_redirects=False,
    )
    assert r.status_code == 401
    assert "wrong username or password" in r.text
    assert "ot_session" not in client.cookies


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(client, db, tote):
    signed_in(client, "boss")
    r = client.post(f"/admin/variants/{tote.id}", data={"sku": "TOTE", "price": "1.00"})
    assert r.status_code == 403
    assert 'id="denied"' in r.text
    assert client.get(f"/api/v1/variants/{tote.id}").json()["price"] == 2400


def test_a_refused_price_goes_back_with_the_reason_and_nothing_written(client, tote):
    token = signed_in(client, "boss")
    page = f"http://testserver/admin/products/{tote.product_id}"
    r = client.post(
        f"/admin/variants/{tote.id}",
        data={"csrf_token": token, "sku": "TOTE", "price": "19.999"},
        headers={"referer": page},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/admin/products/{tote.product_id}?error=")
    shown = client.get(r.headers["location"]).text
    assert "price: enter an amount like 19.99" in shown
    assert client.get(f"/api/v1/variants/{tote.id}").json()["price"] == 2400


def test_a_promotion_and_its_coupon_are_created_through_the_forms(client, tote):
    token = signed_in(client, "boss")
    r = client.post(
        "/admin/promotions",
        data={
            "csrf_token": token,
            "code": "SPRING",
            "name": "Spring sale",
            "kind": "item_percent",
            "percent": "15",
            "requires_coupon": "on",
            "active": "on",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    promotion_page = r.headers["location"].split("?")[0]
    promotion_id = promotion_page.rsplit("/", 1)[1]
    r = client.post(f"{promotion_page}/coupons", data={"csrf_token": token, "code": "SPRING15"})
    assert r.status_code == 200
    assert "SPRING15" in r.text
    promotion = client.get(f"/api/v1/promotions/{promotion_id}").json()
    assert (promotion["kind"], promotion["percent"], promotion["requires_coupon"]) == (
        "item_percent",
        "15",
        True,
    )
    r = client.post(
        promotion_page,
        data={"csrf_token": token, "name": "Spring sale", "percent": "20", "active": "on"},
    )
    assert r.status_code == 200
    assert client.get(f"/api/v1/promotions/{promotion_id}").json()["percent"] == "20"
