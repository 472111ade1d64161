"""Register enrolment, staff PINs, PIN sign-in (API and browser session) and manager PINs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry
from tests.factories import PASSWORD, make_location, make_register, make_user, token_for


def _store(db: Any, settings: Any) -> dict[str, str]:
    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    make_location(db, "S02")
    return token_for(db, settings, "admin1", "admin")


def _audited(db: Any, action: str) -> int:
    with db.uow(write=False) as uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
        )


def _enrol(client: Any, admin: dict[str, str], code: str = "S01-R1") -> str:
    answer = client.post(f"/api/v1/registers/{code}/enrollment", headers=admin)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["device_key"])


def _set_pin(client: Any, admin: dict[str, str], username: str, pin: str) -> None:
    answer = client.put(f"/api/v1/users/{username}/pin", headers=admin, json={"pin": pin})
    assert answer.status_code == 204, answer.text


def test_enrolment_shows_the_device_key_once_and_re_enrolling_replaces_it(client, db, settings):
    admin = _store(db, settings)
    first = client.post("/api/v1/registers/S01-R1/enrollment", headers=admin).json()
    assert first["register"] == "S01-R1"
    assert first["location"] == "S01"
    assert first["currency"] == "USD"
    assert first["device_key"].startswith("dk_")
    make_user(db, "cashier1", "cashier", ["S01"])
    _set_pin(client, admin, "cashier1", "1357")
    second = _enrol(client, admin)
    old = client.post(
        "/api/v1/auth/pin",
        json={"register": "S01-R1", "device_key": first["device_key"], "pin": "1357"},
    )
    assert old.status_code == 401
    assert old.json()["code"] == "register.not_enrolled"
    new = client.post(
        "/api/v1/auth/pin", json={"register": "S01-R1", "device_key": second, "pin": "1357"}
    )
    assert new.status_code == 200
    assert _audited(db, "register.enrolled") == 2


def test_enrolment_needs_locations_write_and_a_known_register(client, db, settings):
    admin = _store(db, settings)
    cashier = token_for(db, settings, "cashier1", "cashier", ["S01"])
    refused = client.post("/api/v1/registers/S01-R1/enrollment", headers=cashier)
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.permission_denied"
    missing = client.post("/api/v1/registers/NOPE/enrollment", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["code"] == "register.not_found"


def test_pin_sign_in_answers_a_token_that_works_like_a_password_token(client, db, settings):
    admin = _store(db, settings)
    key = _enrol(client, admin)
    make_user(db, "cashier1", "cashier", ["S01"])
    _set_pin(client, admin, "cashier1", "2468")
    answer = client.post(
        "/api/v1/auth/pin", json={"register": "S01-R1", "device_key": key, "pin": "2468"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["username"] == "cashier1"
    assert body["location"] == "S01"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "cashier1"


def test_a_pin_is_refused_at_a_store_the_user_is_not_bound_to(client, db, settings):
    admin = _store(db, settings)
    key = _enrol(client, admin)
    make_user(db, "cashier2", "cashier", ["S02"])
    _set_pin(client, admin, "cashier2", "8642")
    answer = client.post(
        "/api/v1/auth/pin", json={"register": "S01-R1", "device_key": key, "pin": "8642"}
    )
    assert answer.status_code == 401
    assert answer.json()["code"] == "auth.invalid_pin"


def test_wrong_pins_are_throttled_per_register(client, db, settings):
    admin = _store(db, settings)
    key = _enrol(client, admin)
    make_user(db, "cashier1", "cashier", ["S01"])
    _set_pin(client, admin, "cashier1", "2468")
    codes = [
        client.post(
            "/api/v1/auth/pin", json={"register": "S01-R1", "device_key": key, "pin": "0000"}
        ).status_code
        for _ in range(settings.login_max_failures)
    ]
    assert codes == [401] * settings.login_max_failures
    locked = client.post(
        "/api/v1/auth/pin", json={"register": "S01-R1", "device_key": key, "pin": "2468"}
    )
    assert locked.status_code == 429
    assert locked.json()["code"] == "auth.too_many_attempts"
    assert "Retry-After" in locked.headers


def test_pins_are_digits_and_unique_without_saying_whose(client, db, settings):
    admin = _store(db, settings)
    make_user(db, "cashier1", "cashier", ["S01"])
    make_user(db, "cashier2", "cashier", ["S01"])
    for bad in ["12", "123456789", "12a4"]:
        answer = client.put("/api/v1/users/cashier1/pin", headers=admin, json={"pin": bad})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["code"] == "auth.pin_invalid"
    _set_pin(client, admin, "cashier1", "4321")
    taken = client.put("/api/v1/users/cashier2/pin", headers=admin, json={"pin": "4321"})
    assert taken.status_code == 422
    assert taken.json()["code"] == "auth.pin_taken"
    assert "cashier1" not in taken.text
    _set_pin(client, admin, "cashier1", "4321")  # one's own PIN again is fine


def test_staff_set_their_own_pin_with_their_password_only(client, db, settings):
    _store(db, settings)
    cashier = token_for(db, settings, "cashier1", "cashier", ["S01"])
    make_user(db, "cashier2", "cashier", ["S01"])
    other = client.put("/api/v1/users/cashier2/pin", headers=cashier, json={"pin": "1111"})
    assert other.status_code == 403
    no_password = client.put("/api/v1/users/cashier1/pin", headers=cashier, json={"pin": "1111"})
    assert no_password.status_code == 422
    assert no_password.json()["code"] == "auth.password_required"
    ok = client.put(
        "/api/v1/users/cashier1/pin", headers=cashier, json={"pin": "1111", "password": PASSWORD}
    )
    assert ok.status_code == 204


def test_a_manager_pin_grants_a_single_use_override(client, db, settings):
    admin = _store(db, settings)
    key = _enrol(client, admin)
    cashier = token_for(db, settings, "cashier1", "cashier", ["S01"])
    make_user(db, "manager1", "manager", ["S01"])
    _set_pin(client, admin, "manager1", "9753")
    _set_pin(client, admin, "cashier1", "1357")
    body = {
        "manager_pin": "9753",
        "register": "S01-R1",
        "device_key": key,
        "permission": "sales.price_override",
        "reason": "damaged box",
    }
    grant = client.post("/api/v1/overrides", headers=cashier, json=body)
    assert grant.status_code == 201, grant.text
    assert grant.json()["approved_by"] == "manager1"
    cashier_pin = client.post(
        "/api/v1/overrides", headers=cashier, json={**body, "manager_pin": "1357"}
    )
    assert cashier_pin.status_code == 403
    assert cashier_pin.json()["code"] == "override.not_a_manager"
    wrong = client.post("/api/v1/overrides", headers=cashier, json={**body, "manager_pin": "0000"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "override.invalid_manager"
    no_device = client.post(
        "/api/v1/overrides", headers=cashier, json={**body, "device_key": "dk_wrong"}
    )
    assert no_device.status_code == 401
    assert no_device.json()["code"] == "register.not_enrolled"
    neither = client.post(
        "/api/v1/overrides",
        headers=cashier,
        json={"permission": "sales.price_override", "reason": "x"},
    )
    assert neither.status_code == 422


def test_the_web_login_sets_the_session_cookies_and_logout_ends_the_session(client, db, settings):
    admin = _store(db, settings)
    key = _enrol(client, admin)
    make_user(db, "cashier1", "cashier", ["S01"])
    _set_pin(client, admin, "cashier1", "2468")
    client.cookies.clear()
    login = client.post(
        "/register/login", json={"register": "S01-R1", "device_key": key, "pin": "2468"}
    )
    assert login.status_code == 200
    assert login.json()["username"] == "cashier1"
    assert "access_token" not in login.json()
    assert "ot_session" in client.cookies
    csrf = client.cookies["ot_csrf"]
    assert client.get("/api/v1/auth/me").json()["username"] == "cashier1"
    assert client.get("/register", follow_redirects=False).status_code == 200
    bad_unlock = client.post(
        "/register/unlock",
        headers={"X-CSRF-Token": csrf},
        json={"register": "S01-R1", "device_key": key, "pin": "1111"},
    )
    assert bad_unlock.status_code == 401
    unlock = client.post(
        "/register/unlock",
        headers={"X-CSRF-Token": csrf},
        json={"register": "S01-R1", "device_key": key, "pin": "2468"},
    )
    assert unlock.status_code == 204
    assert client.post("/register/logout").status_code == 403  # no CSRF header
    out = client.post("/register/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    client.cookies.clear()
    page = client.get("/register", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/register/login"


def test_the_register_app_shell_is_served(client, db, settings):
    make_location(db, "S01")
    for path in ["/register/login", "/register/enroll", "/register/display"]:
        page = client.get(path)
        assert page.status_code == 200
        assert "/static/register/app.css" in page.text
    manifest = client.get("/register/manifest.webmanifest").json()
    assert manifest["scope"] == "/register/"
    worker = client.get("/register/sw.js")
    assert worker.headers["service-worker-allowed"] == "/register/"
    assert "/static/register/sale.js" in worker.text
    assert "/api/" not in worker.text.split("function isShell")[0]
    assert client.get("/static/register/icon-192.png").content.startswith(b"\x89PNG")
    assert client.get("/static/shared/api.js").status_code == 200
