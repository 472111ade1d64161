from __future__ import annotations

from tests.factories import PASSWORD, make_location, make_user, token_for


def test_sign_in_returns_a_bearer_token_that_identifies_the_user(client, db, settings):
    make_location(db, "S01")
    make_user(db, "cashier1", "cashier", ["S01"])
    r = client.post("/api/v1/auth/token", json={"username": "cashier1", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "cashier1"
    assert "sales.create" in me.json()["permissions"]


def test_wrong_password_is_refused_with_a_stable_code(client, db):
    make_user(db, "ann", "manager")
    r = client.post("/api/v1/auth/token", json={"username": "ann", "password": "nope-nope-nope"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "auth.invalid_credentials"


def test_repeated_failures_lock_the_username_even_with_the_right_password(client, db, settings):
    make_user(db, "bob", "cashier")
    for _ in range(settings.login_max_failures):
        client.post("/api/v1/auth/token", json={"username": "bob", "password": "wrong-password"})
    r = client.post("/api/v1/auth/token", json={"username": "bob", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "auth.too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0


def test_logout_revokes_the_token(client, db, settings):
    headers = token_for(db, settings, "carol", "analyst")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "auth.token_revoked"


def test_expired_token_is_refused(client, db, settings):
    settings.token_ttl_seconds = -1
    headers = token_for(db, settings, "dave", "analyst")
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "auth.token_expired"


def test_missing_token_is_refused(client):
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.json()["code"] == "auth.required"


def test_short_passwords_are_refused(db):
    import pytest

    from omnitill.domain.errors import ValidationFailed
    from omnitill.services import auth

    with pytest.raises(ValidationFailed) as err:
        auth.create_user(db=db, username="eve", password="short", role="cashier")
    assert err.value.code == "auth.password_too_short"
