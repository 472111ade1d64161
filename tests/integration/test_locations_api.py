from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, Location, Register
from tests.factories import make_location, make_register, token_for

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(db, settings) -> dict[str, str]:
    return token_for(db, settings, "admin1", "admin")


def count(db, model: Any) -> int:
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def store(code: str = "S01", **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": "Union Square",
        "kind": "store",
        "address_line1": "1 Union Sq W",
        "city": "New York",
        "region": "NY",
        "postal_code": "10003",
        "country": "US",
        "timezone": "America/New_York",
        "latitude": "40.735863",
        "longitude": "-73.991084",
        "currency": "USD",
        "tax_rate": "0.08875",
        **fields,
    }


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == code
    named = {e["field"] for e in r.json().get("errors", [])}
    for field in fields:
        assert field in named, f"{field} not in {named}"


def test_a_store_is_created_with_its_address_tax_and_capabilities(client, admin):
    r = client.post("/api/v1/locations", json=store(offers_pickup=True), headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["code"] == "S01"
    assert body["tax_rate"] == "0.08875"
    assert (body["latitude"], body["longitude"]) == ("40.735863", "-73.991084")
    assert body["offers_pickup"] is True
    assert body["sells_in_store"] is True
    assert body["ships"] is False
    assert body["active"] is True
    assert client.get("/api/v1/locations/S01", headers=admin).json() == body


def test_a_warehouse_needs_no_address_or_coordinates(client, admin):
    body = {"code": "W01", "name": "Depot", "kind": "warehouse", "currency": "USD"}
    r = client.post("/api/v1/locations", json=body, headers=admin)
    assert r.status_code == 201
    assert r.json()["timezone"] == "UTC"
    assert r.json()["tax_rate"] == "0"
    assert r.json()["latitude"] is None


def test_a_taken_code_is_refused_and_the_first_location_is_unchanged(client, db, admin):
    client.post("/api/v1/locations", json=store(), headers=admin)
    r = client.post("/api/v1/locations", json=store(name="Impostor"), headers=admin)
    assert_problem(r, 409, "location.code_taken", "code")
    assert count(db, Location) == 1
    assert client.get("/api/v1/locations/S01", headers=admin).json()["name"] == "Union Square"


def test_an_unknown_timezone_is_refused(client, db, admin):
    r = client.post("/api/v1/locations", json=store(timezone="America/Gotham"), headers=admin)
    assert_problem(r, 422, "location.invalid_timezone", "timezone")
    assert count(db, Location) == 0


def test_every_invalid_setting_is_reported_at_once(client, db, admin):
    body = store(
        code="S 01",
        country="USA",
        timezone="Mars/Olympus",
        latitude="91",
        longitude="-181",
        currency="XYZ",
        tax_rate="1.5",
    )
    r = client.post("/api/v1/locations", json=body, headers=admin)
    assert r.status_code == 422
    errors = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert errors == {
        ("code", "location.invalid_code"),
        ("country", "location.invalid_country"),
        ("timezone", "location.invalid_timezone"),
        ("latitude", "location.invalid_latitude"),
        ("longitude", "location.invalid_longitude"),
        ("currency", "money.unknown_currency"),
        ("tax_rate", "location.invalid_tax_rate"),
    }
    assert count(db, Location) == 0


@pytest.mark.parametrize("rate", ["-0.01", "1.0000001", "0.0000001"])
def test_tax_rates_outside_0_to_1_or_finer_than_six_decimals_are_refused(client, admin, rate):
    r = client.post("/api/v1/locations", json=store(tax_rate=rate), headers=admin)
    assert_problem(r, 422, "location.invalid_tax_rate", "tax_rate")


def test_latitude_without_longitude_is_refused(client, admin):
    r = client.post("/api/v1/locations", json=store(longitude=None), headers=admin)
    assert_problem(r, 422, "location.incomplete_coordinates", "longitude")


def test_patch_changes_only_the_fields_sent(client, admin):
    client.post("/api/v1/locations", json=store(), headers=admin)
    r = client.patch(
        "/api/v1/locations/S01",
        json={"tax_rate": "0.0925", "ships": True, "latitude": None, "longitude": None},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["tax_rate"], body["ships"], body["latitude"]) == ("0.0925", True, None)
    assert body["timezone"] == "America/New_York"
    assert body["name"] == "Union Square"


def test_a_refused_patch_changes_nothing(client, admin):
    client.post("/api/v1/locations", json=store(), headers=admin)
    r = client.patch(
        "/api/v1/locations/S01",
        json={"timezone": "Nowhere/Land", "name": "Renamed", "tax_rate": "2"},
        headers=admin,
    )
    assert_problem(r, 422, "location.invalid_timezone", "timezone", "tax_rate")
    r = client.patch("/api/v1/locations/S01", json={"name": None}, headers=admin)
    assert_problem(r, 422, "location.not_nullable", "name")
    assert client.get("/api/v1/locations/S01", headers=admin).json()["name"] == "Union Square"


def test_an_unknown_location_is_404(client, admin):
    assert_problem(client.get("/api/v1/locations/S99", headers=admin), 404, "location.not_found")
    r = client.patch("/api/v1/locations/S99", json={"name": "x"}, headers=admin)
    assert_problem(r, 404, "location.not_found")


def test_only_admins_may_change_locations(client, db, settings):
    manager = token_for(db, settings, "mgr1", "manager")
    r = client.post("/api/v1/locations", json=store(), headers=manager)
    assert_problem(r, 403, "auth.permission_denied")
    assert count(db, Location) == 0


def test_locations_page_through_in_code_order(client, db, admin):
    for code in ["S03", "W01", "S01", "S02"]:
        make_location(db, code)
    first = client.get("/api/v1/locations?limit=3", headers=admin).json()
    assert [x["code"] for x in first["items"]] == ["S01", "S02", "S03"]
    rest = client.get(f"/api/v1/locations?cursor={first['next_cursor']}", headers=admin).json()
    assert [x["code"] for x in rest["items"]] == ["W01"]
    assert rest["next_cursor"] is None


def test_staff_bound_to_a_store_see_only_their_store(client, db, settings):
    s01, s02 = make_location(db, "S01"), make_location(db, "S02")
    make_register(db, s01)
    make_register(db, s02)
    cashier = token_for(db, settings, "cash1", "cashier", ["S01"])
    listed = client.get("/api/v1/locations", headers=cashier).json()["items"]
    assert [x["code"] for x in listed] == ["S01"]
    assert_problem(client.get("/api/v1/locations/S02", headers=cashier), 404, "location.not_found")
    registers = client.get("/api/v1/registers", headers=cashier).json()["items"]
    assert [r["code"] for r in registers] == ["S01-R1"]
    r = client.get("/api/v1/registers?location=S02", headers=cashier)
    assert_problem(r, 404, "location.not_found")


def test_estate_wide_roles_see_every_location(client, db, settings):
    make_location(db, "S01")
    make_location(db, "S02")
    analyst = token_for(db, settings, "ana1", "analyst", ["S01"])
    listed = client.get("/api/v1/locations", headers=analyst).json()["items"]
    assert [x["code"] for x in listed] == ["S01", "S02"]


# --- registers -----------------------------------------------------------------------------


def test_enrolling_a_register_is_audited(client, db, admin):
    make_location(db, "S01")
    r = client.post(
        "/api/v1/locations/S01/registers", json={"code": "S01-R1", "name": "Front"}, headers=admin
    )
    assert r.status_code == 201, r.text
    assert r.json()["location"] == "S01"
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "register.enrolled")
        ).one()
    assert entry.subject_id == r.json()["id"]
    assert entry.details == {"code": "S01-R1", "name": "Front", "location": "S01"}
    listed = client.get("/api/v1/registers?location=S01", headers=admin).json()
    assert [x["code"] for x in listed["items"]] == ["S01-R1"]


def test_a_taken_register_code_is_refused(client, db, admin):
    make_register(db, make_location(db, "S01"))
    make_location(db, "S02")
    r = client.post("/api/v1/locations/S02/registers", json={"code": "S01-R1"}, headers=admin)
    assert_problem(r, 409, "register.code_taken", "code")
    assert count(db, Register) == 1


def test_warehouses_cannot_have_registers(client, db, admin):
    make_location(db, "W01", kind="warehouse")
    r = client.post("/api/v1/locations/W01/registers", json={"code": "W01-R1"}, headers=admin)
    assert_problem(r, 409, "location.not_a_store")
    assert count(db, Register) == 0
    assert count(db, AuditEntry) == 1  # user.created only


def test_a_register_needs_a_known_store_and_a_clean_code(client, db, admin):
    r = client.post("/api/v1/locations/S99/registers", json={"code": "S99-R1"}, headers=admin)
    assert_problem(r, 404, "location.not_found")
    make_location(db, "S01")
    r = client.post("/api/v1/locations/S01/registers", json={"code": "R 1"}, headers=admin)
    assert_problem(r, 422, "location.invalid_code", "code")


def test_a_store_with_registers_cannot_become_a_warehouse(client, db, admin):
    make_register(db, make_location(db, "S01"))
    r = client.patch("/api/v1/locations/S01", json={"kind": "warehouse"}, headers=admin)
    assert_problem(r, 409, "location.has_registers", "kind")
    assert client.get("/api/v1/locations/S01", headers=admin).json()["kind"] == "store"


def test_registers_page_through_in_code_order(client, db, admin):
    s01 = make_location(db, "S01")
    for n in range(1, 6):
        make_register(db, s01, f"S01-R{n}")
    first = client.get("/api/v1/registers?limit=2", headers=admin).json()
    second = client.get(
        f"/api/v1/registers?limit=2&cursor={first['next_cursor']}", headers=admin
    ).json()
    third = client.get(
        f"/api/v1/registers?limit=2&cursor={second['next_cursor']}", headers=admin
    ).json()
    codes = [r["code"] for page in (first, second, third) for r in page["items"]]
    assert codes == [f"S01-R{n}" for n in range(1, 6)]
    assert third["next_cursor"] is None
