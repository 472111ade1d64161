"""Tax classes, jurisdictions, rate versions and store assignment over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry
from omnitill.services import pricing_data
from tests.factories import make_location, token_for

PROBLEM = "application/problem+json"
BASE = "/api/v1/tax/jurisdictions"


@pytest.fixture
def admin(db, settings) -> dict[str, str]:
    return token_for(db, settings, "admin1", "admin")


@pytest.fixture
def manager(db, settings) -> dict[str, str]:
    return token_for(db, settings, "boss", "manager")


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == code, r.json()
    named = {e["field"] for e in r.json().get("errors", [])}
    for field in fields:
        assert field in named, f"{field} not in {named}"


def nyc(**fields: Any) -> dict[str, Any]:
    return {
        "code": "US-NY-NYC",
        "name": "New York City",
        "country": "US",
        "region": "NY",
        "postal_prefixes": ["100", "112"],
        "components": [
            {
                "code": "NYS",
                "name": "New York State",
                "rates": {"standard": "0.04", "clothing": "0.04"},
                "rounding_group": "NYC",
                "exempt_below": [{"tax_class": "clothing", "unit_price": 11000}],
            },
            {"code": "NYC", "name": "New York City", "rates": {"standard": "0.045"}},
            {"code": "MCTD", "name": "MCTD", "rates": {"standard": "0.00375"}},
        ],
        **fields,
    }


def create(client, headers, **fields: Any) -> dict[str, Any]:
    client.post(
        "/api/v1/tax/classes", json={"code": "clothing", "name": "Clothing"}, headers=headers
    )
    r = client.post(BASE, json=nyc(**fields), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_tax_classes_are_defined_and_listed(client, admin):
    r = client.post(
        "/api/v1/tax/classes",
        json={"code": "Books", "name": "Books", "description": "Printed books"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "books"
    again = client.post("/api/v1/tax/classes", json={"code": "books", "name": "B"}, headers=admin)
    assert_problem(again, 409, "tax_class.code_taken", "code")
    listed = client.get("/api/v1/tax/classes", headers=admin).json()["items"]
    assert [c["code"] for c in listed] == ["books"]


def test_a_jurisdiction_is_created_with_its_stacked_components(client, db, admin):
    body = create(client, admin)
    assert body["postal_prefixes"] == ["100", "112"]
    assert [c["code"] for c in body["components"]] == ["NYS", "NYC", "MCTD"]
    assert [c["position"] for c in body["components"]] == [0, 1, 2]
    assert body["components"][0]["exempt_below"] == [{"tax_class": "clothing", "unit_price": 11000}]
    assert body["components"][2]["rates"] == {"standard": "0.00375"}
    assert client.get(f"{BASE}/US-NY-NYC", headers=admin).json() == body
    assert [j["code"] for j in client.get(f"{BASE}?country=us", headers=admin).json()["items"]] == [
        "US-NY-NYC"
    ]
    with db.uow(write=False) as uow:
        found = pricing_data.jurisdiction_for_address(
            uow, country="US", region="NY", postal_code="10003"
        )
    assert found is not None
    assert found.group_of(found.components[0]) == "NYC"


def test_a_taken_code_is_refused(client, admin):
    create(client, admin)
    assert_problem(
        client.post(BASE, json=nyc(), headers=admin), 409, "tax_jurisdiction.code_taken", "code"
    )


def test_domain_rules_answer_422_naming_each_component_field(client, admin):
    bad = nyc(country="XX", postal_prefixes=["1 0"])
    bad["components"][0]["rates"] = {"standard": "1.5", "luxury": "0.1"}
    bad["components"][1]["valid_from"] = "2027-02-01"
    bad["components"][1]["valid_to"] = "2027-01-01"
    r = client.post(BASE, json=bad, headers=admin)
    assert_problem(
        r,
        422,
        "tax.invalid_country",
        "country",
        "components.0.rates.standard",
        "components.0.rates.luxury",
        "components.1.valid_to",
    )
    assert {e["code"] for e in r.json()["errors"]} >= {"tax.invalid_rate", "tax.unknown_class"}


def test_two_versions_of_a_component_may_not_overlap(client, admin):
    client.post("/api/v1/tax/classes", json={"code": "clothing", "name": "Clothing"}, headers=admin)
    bad = nyc()
    bad["components"].append(
        {
            "code": "NYC",
            "name": "NYC again",
            "rates": {"standard": "0.05"},
            "valid_from": "2027-01-01",
        }
    )
    r = client.post(BASE, json=bad, headers=admin)
    assert_problem(r, 422, "tax.overlapping_versions", "components.3.valid_from")


def test_a_new_rate_is_a_new_version_and_closes_the_old_one(client, db, admin):
    create(client, admin)
    start = datetime.now(UTC).date() + timedelta(days=30)
    r = client.post(
        f"{BASE}/US-NY-NYC/components",
        json={
            "code": "NYC",
            "name": "New York City",
            "rates": {"standard": "0.05"},
            "valid_from": str(start),
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    versions = [c for c in r.json()["components"] if c["code"] == "NYC"]
    assert [(c["rates"]["standard"], c["valid_from"], c["valid_to"]) for c in versions] == [
        ("0.045", None, str(start - timedelta(days=1))),
        ("0.05", str(start), None),
    ]
    assert {c["position"] for c in versions} == {1}
    with db.uow(write=False) as uow:
        entries = list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "tax_jurisdiction.component_added")
            )
        )
    assert entries[0].details["rates"] == {"standard": "0.05"}


def test_a_rate_version_cannot_be_backdated_or_left_undated(client, admin):
    create(client, admin)
    url = f"{BASE}/US-NY-NYC/components"
    component = {"code": "NYC", "name": "NYC", "rates": {"standard": "0.05"}}
    assert_problem(
        client.post(url, json=component, headers=admin),
        422,
        "tax.valid_from_required",
        "valid_from",
    )
    old = component | {"valid_from": str(date(2020, 1, 1))}
    assert_problem(client.post(url, json=old, headers=admin), 422, "tax.backdated", "valid_from")
    new = {"code": "BED", "name": "Hotel tax", "rates": {"standard": "0.0587"}}
    r = client.post(url, json=new, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["components"][-1]["position"] == 3


def test_a_jurisdiction_is_changed_without_touching_its_rates(client, admin):
    create(client, admin)
    r = client.patch(
        f"{BASE}/US-NY-NYC",
        json={
            "rounding": "document",
            "postal_prefixes": ["100", "101"],
            "exempt_channels": ["marketplace"],
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rounding"], body["postal_prefixes"]) == ("document", ["100", "101"])
    assert len(body["components"]) == 3
    r = client.patch(f"{BASE}/US-NY-NYC", json={"exempt_channels": ["ether"]}, headers=admin)
    assert_problem(r, 422, "pricing.unknown_channel", "exempt_channels.0")
    assert_problem(client.get(f"{BASE}/NOPE", headers=admin), 404, "tax_jurisdiction.not_found")


def test_a_store_is_taxed_by_its_assigned_jurisdiction(client, db, admin):
    store = make_location(db, "S01")
    create(client, admin)
    r = client.put(f"{BASE}/US-NY-NYC/locations/S01", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["locations"] == ["S01"]
    with db.uow(write=False) as uow:
        found = pricing_data.jurisdiction_for_location(uow, location_id=store.id)
    assert found is not None
    assert found.code == "US-NY-NYC"
    assert_problem(
        client.put(f"{BASE}/US-NY-NYC/locations/S99", headers=admin), 404, "location.not_found"
    )
    assert client.delete(f"{BASE}/US-NY-NYC/locations/S01", headers=admin).status_code == 204
    assert_problem(
        client.delete(f"{BASE}/US-NY-NYC/locations/S01", headers=admin),
        404,
        "tax_jurisdiction.location_not_assigned",
    )
    with db.uow(write=False) as uow:
        assert pricing_data.jurisdiction_for_location(uow, location_id=store.id) is None


def test_tax_is_read_with_pricing_read_and_written_with_tax_write(client, admin, manager):
    create(client, admin)
    assert client.get(f"{BASE}/US-NY-NYC", headers=manager).status_code == 200
    r = client.post(BASE, json=nyc(code="US-NJ"), headers=manager)
    assert_problem(r, 403, "auth.permission_denied")
