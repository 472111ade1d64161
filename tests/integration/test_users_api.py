from __future__ import annotations

from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry
from omnitill.services import audit
from tests.factories import PASSWORD, make_location, make_user, token_for


def test_an_admin_adds_staff_and_changes_their_role_with_an_audit_entry(client, db, settings):
    make_location(db, "S01")
    admin = token_for(db, settings, "root", "admin")
    created = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "jo", "password": PASSWORD, "role": "cashier", "locations": ["S01"]},
    )
    assert created.status_code == 201, created.text
    jo = {
        "Authorization": "Bearer "
        + client.post("/api/v1/auth/token", json={"username": "jo", "password": PASSWORD}).json()[
            "access_token"
        ]
    }
    r = client.patch("/api/v1/users/jo", headers=admin, json={"role": "manager"})
    assert r.status_code == 200
    assert r.json()["role"] == "manager"
    # a role change signs the member out so the new rights apply at once
    assert client.get("/api/v1/auth/me", headers=jo).json()["code"] == "auth.token_revoked"
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.changed")
        ).one()
    assert entry.details["role"] == {"from": "cashier", "to": "manager"}
    assert entry.actor == "root"
    assert audit.verify(db=db) == []


def test_only_admins_manage_staff(client, db, settings):
    manager = token_for(db, settings, "boss", "manager")
    r = client.post(
        "/api/v1/users",
        headers=manager,
        json={"username": "x", "password": PASSWORD, "role": "admin"},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"
    assert client.get("/api/v1/users", headers=manager).status_code == 200


def test_staff_input_is_validated(client, db, settings):
    admin = token_for(db, settings, "root", "admin")
    make_user(db, "taken", "analyst")
    cases = [
        ({"username": "a", "password": "short", "role": "cashier"}, 422, "auth.password_too_short"),
        ({"username": "b", "password": PASSWORD, "role": "wizard"}, 422, "auth.unknown_role"),
        (
            {"username": "taken", "password": PASSWORD, "role": "cashier"},
            409,
            "auth.username_taken",
        ),
        (
            {"username": "c", "password": PASSWORD, "role": "cashier", "locations": ["ZZ"]},
            422,
            "location.not_found",
        ),
    ]
    for body, status, code in cases:
        r = client.post("/api/v1/users", headers=admin, json=body)
        assert (r.status_code, r.json()["code"]) == (status, code)
    assert [u["username"] for u in client.get("/api/v1/users", headers=admin).json()["items"]] == [
        "root",
        "taken",
    ]


def test_an_admin_cannot_demote_themselves(client, db, settings):
    admin = token_for(db, settings, "root", "admin")
    r = client.patch("/api/v1/users/root", headers=admin, json={"role": "cashier"})
    assert r.status_code == 403
    assert r.json()["code"] == "user.self_change_refused"
