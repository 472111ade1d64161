"""Register shifts: float, drawer movements, X report, blind close and gapless Z reports."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from omnitill.adapters.db.models import AuditEntry, CashMovement, Shift, ZReport
from tests.factories import PASSWORD, make_location, make_register, make_user, token_for

FLOAT = {"2000": 5, "500": 10, "100": 20, "25": 40}  # 100 + 50 + 20 + 10 = 180.00


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    make_register(db, s01, "S01-R2")
    make_user(db, "boss", "manager", ["S01"])
    return {
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
        "manager": token_for(db, settings, "m1", "manager", ["S01"]),
    }


def open_shift(client, headers, register="S01-R1", **extra):
    return client.post(
        "/api/v1/shifts",
        headers=headers,
        json={"register": register, "denominations": FLOAT, **extra},
    )


def override(client, headers, permission):
    r = client.post(
        "/api/v1/overrides",
        headers=headers,
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": permission,
            "reason": "test",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["override_token"]


def move(client, headers, shift_id, kind, amount, reason=""):
    return client.post(
        f"/api/v1/shifts/{shift_id}/cash-movements",
        headers=headers,
        json={"kind": kind, "amount": amount, "reason": reason},
    )


def count(db, model, *where):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_shift_opens_with_a_counted_float_once_per_register(client, db, shop):
    sid = str(uuid.uuid4())
    r = open_shift(client, shop["cashier"], id=sid)
    assert r.status_code == 201, r.text
    assert (r.json()["float"], r.json()["status"], r.json()["id"]) == (18000, "open", sid)
    again = open_shift(client, shop["cashier"], id=sid)
    assert again.status_code == 201
    assert again.json()["id"] == sid
    other = open_shift(client, shop["cashier"])
    assert other.status_code == 409
    assert other.json()["code"] == "shift.already_open"
    assert open_shift(client, shop["cashier"], register="S01-R2").status_code == 201
    current = client.get(
        "/api/v1/shifts/current", params={"register": "S01-R1"}, headers=shop["cashier"]
    )
    assert current.json()["id"] == sid
    assert count(db, CashMovement) == 2  # one float each


def test_a_float_with_a_coin_that_does_not_exist_is_refused(client, db, shop):
    r = client.post(
        "/api/v1/shifts",
        headers=shop["cashier"],
        json={"register": "S01-R1", "denominations": {"300": 1, "100": -2}},
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("denominations.300", "cash.unknown_denomination"),
        ("denominations.100", "cash.negative_count"),
    ]
    r = open_shift(client, shop["cashier"], register="S09-R1")
    assert r.json()["code"] == "register.unknown"
    assert count(db, Shift) == 0


def test_drawer_movements_their_rules_and_the_x_report(client, db, shop):
    sid = open_shift(client, shop["cashier"]).json()["id"]
    assert move(client, shop["cashier"], sid, "paid_in", 500).json()["code"] == (
        "cash.reason_required"
    )
    assert move(client, shop["cashier"], sid, "paid_in", 500, "float top-up").status_code == 201
    assert move(client, shop["cashier"], sid, "drop", 10000).status_code == 201
    too_much = move(client, shop["cashier"], sid, "drop", 9000)
    assert too_much.json()["code"] == "cash.exceeds_drawer"
    assert "expected" not in too_much.text  # the close is blind: no figure leaks
    refused = move(client, shop["cashier"], sid, "paid_out", 1200, "window cleaner")
    assert refused.status_code == 403
    token = override(client, shop["cashier"], "cash.pay_out")
    r = client.post(
        f"/api/v1/shifts/{sid}/cash-movements",
        headers={**shop["cashier"], "X-Manager-Override": token},
        json={"kind": "paid_out", "amount": 1200, "reason": "window cleaner"},
    )
    assert r.status_code == 201, r.text
    assert move(client, shop["cashier"], sid, "refund", 100, "x").json()["code"] == (
        "cash.invalid_kind"
    )
    assert client.get(f"/api/v1/shifts/{sid}/x-report", headers=shop["cashier"]).status_code == 403
    x = client.get(f"/api/v1/shifts/{sid}/x-report", headers=shop["manager"]).json()
    assert x["cash_movements"] == {
        "drop": -10000,
        "float": 18000,
        "paid_in": 500,
        "paid_out": -1200,
    }
    assert x["expected"] == {"cash": 7300}
    assert "X REPORT" in x["text"]
    assert "73.00" in x["text"]


def test_a_no_sale_needs_permission_and_a_reason_and_is_audited(client, db, shop):
    sid = open_shift(client, shop["cashier"]).json()["id"]
    path = f"/api/v1/shifts/{sid}/no-sale"
    assert client.post(path, headers=shop["cashier"], json={"reason": "change"}).status_code == 403
    assert client.post(path, headers=shop["manager"], json={"reason": " "}).json()["code"] == (
        "cash.reason_required"
    )
    assert client.post(path, headers=shop["manager"], json={"reason": "change"}).status_code == 201
    assert count(db, AuditEntry, AuditEntry.action == "cash.no_sale") == 1
    x = client.get(f"/api/v1/shifts/{sid}/x-report", headers=shop["manager"]).json()
    assert x["no_sales"] == 1


def test_a_blind_close_within_the_threshold_writes_z_reports_numbered_without_gaps(
    client, db, shop
):
    first = open_shift(client, shop["cashier"]).json()["id"]
    move(client, shop["cashier"], first, "drop", 5000)
    z = client.post(
        f"/api/v1/shifts/{first}/close",
        headers=shop["cashier"],
        json={"counted": {"cash": 12800}},  # expected 13000: 2.00 short, within 5.00
    )
    assert z.status_code == 200, z.text
    body = z.json()
    assert (body["z_number"], body["variance"], body["variance_reason"]) == (1, -200, None)
    assert body["totals"]["tenders"] == [
        {"method": "cash", "expected": 13000, "counted": 12800, "variance": -200}
    ]
    assert "Z REPORT" in body["text"]
    with db.uow(write=False) as uow:
        ledger = uow.session.scalar(
            select(func.sum(CashMovement.amount_minor)).where(
                CashMovement.shift_id == uuid.UUID(first)
            )
        )
    assert ledger == body["totals"]["tenders"][0]["expected"]
    again = client.post(
        f"/api/v1/shifts/{first}/close", headers=shop["cashier"], json={"counted": {"cash": 1}}
    )
    assert again.json()["code"] == "shift.closed"
    second = open_shift(client, shop["cashier"]).json()["id"]
    z2 = client.post(
        f"/api/v1/shifts/{second}/close",
        headers=shop["cashier"],
        json={"cash_denominations": FLOAT},
    )
    assert (z2.json()["z_number"], z2.json()["variance"]) == (2, 0)
    got = client.get("/api/v1/registers/S01-R1/z-reports/1", headers=shop["manager"])
    assert got.json()["variance"] == -200
    assert (
        client.get("/api/v1/registers/S01-R1/z-reports/1", headers=shop["cashier"]).status_code
        == 403
    )


def test_a_variance_beyond_the_threshold_freezes_the_count_until_it_is_explained(client, db, shop):
    sid = open_shift(client, shop["cashier"]).json()["id"]
    path = f"/api/v1/shifts/{sid}/close"
    r = client.post(path, headers=shop["cashier"], json={"counted": {"cash": 17000}})
    assert r.status_code == 422
    assert r.json()["code"] == "shift.variance_reason_required"
    assert r.json()["errors"][0]["field"] == "reason"
    current = client.get(
        "/api/v1/shifts/current", params={"register": "S01-R1"}, headers=shop["cashier"]
    ).json()
    assert current["status"] == "counted"
    assert move(client, shop["cashier"], sid, "paid_in", 1000, "x").json()["code"] == (
        "shift.not_open"
    )
    recount = client.post(
        path, headers=shop["cashier"], json={"counted": {"cash": 18000}, "reason": "recounted"}
    )
    assert recount.status_code == 409
    assert recount.json()["code"] == "shift.count_frozen"
    done = client.post(path, headers=shop["cashier"], json={"reason": "a 10.00 note missing"})
    assert done.status_code == 200, done.text
    assert (done.json()["variance"], done.json()["variance_reason"]) == (
        -1000,
        "a 10.00 note missing",
    )
    assert count(db, ZReport) == 1


def test_a_z_report_can_never_be_edited(client, db, shop):
    sid = open_shift(client, shop["cashier"]).json()["id"]
    client.post(
        f"/api/v1/shifts/{sid}/close", headers=shop["cashier"], json={"counted": {"cash": 18000}}
    )
    for statement in (
        update(ZReport).values(variance_minor=0),
        update(CashMovement).values(amount_minor=0),
    ):
        with db.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
            uow.session.execute(statement)


def test_cash_management_is_a_store_setting(client, db, shop):
    r = client.put(
        "/api/v1/locations/S01/cash-management", headers=shop["cashier"], json={"enabled": True}
    )
    assert r.status_code == 403
    admin = token_for(db, client.app.state.settings, "a1", "admin", [])
    r = client.put("/api/v1/locations/S01/cash-management", headers=admin, json={"enabled": True})
    assert r.json() == {"location": "S01", "enabled": True, "previous": False}
