"""The web apps' session cookie stands in for the bearer token; a write made with it must
carry the double-submit CSRF header."""

from __future__ import annotations

from omnitill.api import web_session
from tests.factories import PASSWORD, make_location, make_user


def sign_in(client, db):
    make_location(db, "S01")
    make_user(db, "clerk", "admin")
    token = client.post(
        "/api/v1/auth/token", json={"username": "clerk", "password": PASSWORD}
    ).json()["access_token"]
    client.cookies.set(web_session.SESSION_COOKIE, token)
    client.cookies.set(web_session.CSRF_COOKIE, "csrf-value")


def test_the_session_cookie_reads_and_a_write_needs_the_csrf_header(client, db):
    assert client.get("/api/v1/auth/me").status_code == 401
    sign_in(client, db)
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "clerk"
    body = {"code": "S09", "name": "Pop-up", "kind": "store", "currency": "USD"}
    refused = client.post("/api/v1/locations", json=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.csrf_failed"
    wrong = client.post("/api/v1/locations", json=body, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    made = client.post("/api/v1/locations", json=body, headers={"X-CSRF-Token": "csrf-value"})
    assert made.status_code == 201, made.text


def test_a_bearer_token_needs_no_csrf_header(client, db):
    sign_in(client, db)
    token = client.cookies.get(web_session.SESSION_COOKIE)
    client.cookies.clear()
    body = {"code": "S08", "name": "Pop-up", "kind": "store", "currency": "USD"}
    made = client.post("/api/v1/locations", json=body, headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201, made.text
