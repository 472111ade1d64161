from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import Customer, CustomerAddress
from tests.factories import token_for

PROBLEM = "application/problem+json"


@pytest.fixture
def clerk(db, settings) -> dict[str, str]:
    return token_for(db, settings, "cash1", "cashier")


def count(db, model: Any) -> int:
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def address(**fields: Any) -> dict[str, Any]:
    return {"line1": "1 Infinite Loop", "city": "Cupertino", "country": "US", **fields}


def ada(**fields: Any) -> dict[str, Any]:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "Ada@Example.COM",
        "phone": "(415) 555-2671",
        **fields,
    }


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == code
    named = {e["field"] for e in r.json().get("errors", [])}
    for field in fields:
        assert field in named, f"{field} not in {named}"


def test_a_customer_is_stored_with_lower_cased_email_and_e164_phone(client, clerk):
    body = ada(addresses=[address(label="work"), address(label="home", is_default=True)])
    r = client.post("/api/v1/customers", json=body, headers=clerk)
    assert r.status_code == 201, r.text
    customer = r.json()
    assert customer["email"] == "ada@example.com"
    assert customer["phone"] == "+14155552671"
    assert [a["label"] for a in customer["addresses"]] == ["home", "work"]
    assert customer["addresses"][0]["is_default"] is True
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=clerk).json() == customer


def test_a_national_number_is_read_in_the_requests_country(client, clerk):
    r = client.post(
        "/api/v1/customers",
        json=ada(email=None, phone="020 7946 0958", country="gb"),
        headers=clerk,
    )
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+442079460958"


def test_an_international_number_ignores_the_default_region(client, clerk):
    r = client.post("/api/v1/customers", json=ada(phone="+49 30 123456"), headers=clerk)
    assert r.json()["phone"] == "+4930123456"


@pytest.mark.parametrize("phone", ["12345", "415 555 267", "call me", "+999 123"])
def test_an_invalid_phone_is_refused_and_nothing_is_written(client, db, clerk, phone):
    r = client.post("/api/v1/customers", json=ada(phone=phone), headers=clerk)
    assert_problem(r, 422, "customer.invalid_phone", "phone")
    assert count(db, Customer) == 0


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@@b.com"]
)
def test_a_malformed_email_is_refused(client, db, clerk, email):
    r = client.post("/api/v1/customers", json=ada(email=email), headers=clerk)
    assert_problem(r, 422, "customer.invalid_email", "email")
    assert count(db, Customer) == 0


def test_every_invalid_field_is_reported_at_once(client, db, clerk):
    body = ada(
        email="nope",
        phone="123",
        addresses=[
            address(country="XX", is_default=True),
            address(is_default=True),
        ],
    )
    r = client.post("/api/v1/customers", json=body, headers=clerk)
    assert r.status_code == 422
    errors = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert errors == {
        ("email", "customer.invalid_email"),
        ("phone", "customer.invalid_phone"),
        ("addresses.0.country", "customer.invalid_country"),
        ("addresses.1.is_default", "customer.multiple_default_addresses"),
    }
    assert count(db, Customer) == 0
    assert count(db, CustomerAddress) == 0


def test_an_unknown_phone_country_is_refused(client, clerk):
    r = client.post("/api/v1/customers", json=ada(country="ZZ"), headers=clerk)
    assert_problem(r, 422, "customer.invalid_country", "country")


def test_a_customer_needs_a_name_an_email_or_a_phone(client, clerk):
    r = client.post("/api/v1/customers", json={"addresses": [address()]}, headers=clerk)
    assert_problem(r, 422, "customer.identity_required")


def test_an_email_in_use_is_refused_whatever_its_case(client, db, clerk):
    client.post("/api/v1/customers", json=ada(), headers=clerk)
    r = client.post(
        "/api/v1/customers", json=ada(email=" ADA@example.com ", phone=None), headers=clerk
    )
    assert_problem(r, 409, "customer.email_taken", "email")
    assert count(db, Customer) == 1


def test_analysts_may_read_customers_but_not_create_them(client, db, settings):
    analyst = token_for(db, settings, "ana1", "analyst")
    assert_problem(
        client.post("/api/v1/customers", json=ada(), headers=analyst), 403, "auth.permission_denied"
    )
    assert client.get("/api/v1/customers", headers=analyst).status_code == 200
    inventory = token_for(db, settings, "inv1", "inventory")
    assert_problem(
        client.get("/api/v1/customers", headers=inventory), 403, "auth.permission_denied"
    )


# --- finding customers ---------------------------------------------------------------------


@pytest.fixture
def people(client, clerk) -> dict[str, str]:
    ids = {}
    for first, last, email, phone in [
        ("Ada", "Lovelace", "ada@example.com", "+1 415 555 2671"),
        ("Alan", "Turing", "alan@bletchley.uk", "(201) 555-0123"),
        ("Grace", "Hopper", "amazing.grace@navy.mil", None),
    ]:
        body = {"first_name": first, "last_name": last, "email": email, "phone": phone}
        ids[first] = client.post("/api/v1/customers", json=body, headers=clerk).json()["id"]
    return ids


def names(client, headers, **params: Any) -> list[str]:
    page = client.get("/api/v1/customers", params=params, headers=headers).json()
    return [c["first_name"] for c in page["items"]]


def test_search_by_email_ignores_case(client, clerk, people):
    assert names(client, clerk, email="ALAN@Bletchley.uk") == ["Alan"]
    assert names(client, clerk, email="nobody@example.com") == []


def test_search_by_phone_normalises_the_number_first(client, clerk, people):
    assert names(client, clerk, phone="415-555-2671") == ["Ada"]
    assert names(client, clerk, phone="+1 (201) 555 0123") == ["Alan"]
    r = client.get("/api/v1/customers", params={"phone": "555"}, headers=clerk)
    assert_problem(r, 422, "customer.invalid_phone", "phone")


def test_q_matches_a_prefix_of_a_name_the_full_name_or_the_email(client, clerk, people):
    assert names(client, clerk, q="a") == ["Ada", "Alan", "Grace"]
    assert names(client, clerk, q="AL") == ["Alan"]
    assert names(client, clerk, q="hop") == ["Grace"]
    assert names(client, clerk, q="ada love") == ["Ada"]
    assert names(client, clerk, q="amazing.") == ["Grace"]
    assert names(client, clerk, q="ring") == []
    assert names(client, clerk, q="%") == []


def test_customers_page_through_oldest_first(client, clerk, people):
    first = client.get("/api/v1/customers?limit=2", headers=clerk).json()
    rest = client.get(
        f"/api/v1/customers?limit=2&cursor={first['next_cursor']}", headers=clerk
    ).json()
    assert [c["first_name"] for c in first["items"] + rest["items"]] == ["Ada", "Alan", "Grace"]
    assert rest["next_cursor"] is None


def test_an_unknown_customer_is_404(client, clerk):
    missing = "01890000-0000-7000-8000-000000000000"
    assert_problem(
        client.get(f"/api/v1/customers/{missing}", headers=clerk), 404, "customer.not_found"
    )


# --- changing customers --------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, clerk, people):
    url = f"/api/v1/customers/{people['Ada']}"
    r = client.patch(
        url, json={"last_name": "King", "phone": "07400 123456", "country": "GB"}, headers=clerk
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["first_name"], body["last_name"]) == ("Ada", "King")
    assert body["phone"] == "+447400123456"
    assert body["email"] == "ada@example.com"


def test_patch_can_clear_email_and_replace_addresses(client, clerk, people):
    url = f"/api/v1/customers/{people['Ada']}"
    client.patch(url, json={"addresses": [address(label="old")]}, headers=clerk)
    r = client.patch(
        url,
        json={"email": None, "addresses": [address(label="new", is_default=True)]},
        headers=clerk,
    )
    assert r.json()["email"] is None
    assert [a["label"] for a in r.json()["addresses"]] == ["new"]
    assert client.get(url, headers=clerk).json()["addresses"][0]["label"] == "new"


def test_patch_refuses_an_email_in_use_and_keeps_the_old_one(client, clerk, people):
    url = f"/api/v1/customers/{people['Ada']}"
    r = client.patch(url, json={"email": "ALAN@bletchley.uk"}, headers=clerk)
    assert_problem(r, 409, "customer.email_taken", "email")
    assert client.get(url, headers=clerk).json()["email"] == "ada@example.com"
    r = client.patch(url, json={"email": "ADA@example.com"}, headers=clerk)
    assert r.status_code == 200  # the customer's own email is not "taken"


def test_a_refused_patch_changes_nothing(client, clerk, people):
    url = f"/api/v1/customers/{people['Ada']}"
    r = client.patch(
        url,
        json={
            "first_name": "Augusta",
            "phone": "nope",
            "addresses": [address(is_default=True), address(is_default=True)],
        },
        headers=clerk,
    )
    assert_problem(r, 422, "customer.invalid_phone", "phone", "addresses.1.is_default")
    r = client.patch(url, json={"first_name": None}, headers=clerk)
    assert_problem(r, 422, "customer.not_nullable", "first_name")
    body = client.get(url, headers=clerk).json()
    assert (body["first_name"], body["phone"]) == ("Ada", "+14155552671")


def test_an_email_taken_by_a_concurrent_writer_is_still_a_409(client, db, clerk, monkeypatch):
    from omnitill.services import customers

    client.post("/api/v1/customers", json=ada(), headers=clerk)
    monkeypatch.setattr(customers, "_refuse_taken_email", lambda uow, email, exclude: None)
    r = client.post("/api/v1/customers", json=ada(phone=None), headers=clerk)
    assert_problem(r, 409, "customer.email_taken", "email")
    assert count(db, Customer) == 1
