"""Price lists, their entries, exchange rates, rounding and customer pricing fields over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry
from tests.factories import make_location, make_variant, token_for

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(db, settings) -> dict[str, str]:
    return token_for(db, settings, "admin1", "admin")


@pytest.fixture
def cashier(db, settings) -> dict[str, str]:
    make_location(db, "S01")
    return token_for(db, settings, "till1", "cashier", ["S01"])


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == code, r.json()
    named = {e["field"] for e in r.json().get("errors", [])}
    for field in fields:
        assert field in named, f"{field} not in {named}"


def audited(db, action: str) -> list[AuditEntry]:
    with db.uow(write=False) as uow:
        return list(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def price_list(name: str = "Wholesale EUR", **fields: Any) -> dict[str, Any]:
    return {"name": name, "currency": "EUR", "priority": 10, "tax_inclusive": True, **fields}


def create(client, headers, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/v1/price-lists", json=price_list(**fields), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


# --- price lists ---------------------------------------------------------------------------


def test_a_price_list_is_created_read_and_listed(client, db, admin):
    make_location(db, "S01")
    body = create(
        client,
        admin,
        channels=["in_store", "web"],
        locations=["S01"],
        customer_groups=["Wholesale"],
        starts_at="2027-01-01T00:00:00Z",
    )
    assert body["currency"] == "EUR"
    assert body["priority"] == 10
    assert body["tax_inclusive"]
    assert body["customer_groups"] == ["wholesale"]
    assert body["locations"] == ["S01"]
    assert body["channels"] == ["in_store", "web"]
    assert body["starts_at"].startswith("2027-01-01T00:00:00")
    assert body["ends_at"] is None
    assert client.get(f"/api/v1/price-lists/{body['id']}", headers=admin).json() == body
    listed = client.get("/api/v1/price-lists?currency=eur", headers=admin).json()
    assert [x["id"] for x in listed["items"]] == [body["id"]]
    assert len(audited(db, "price_list.created")) == 1


def test_price_lists_page_in_name_order(client, admin):
    for name in ("C", "A", "B"):
        create(client, admin, name=name)
    first = client.get("/api/v1/price-lists?limit=2", headers=admin).json()
    assert [x["name"] for x in first["items"]] == ["A", "B"]
    rest = client.get(f"/api/v1/price-lists?cursor={first['next_cursor']}", headers=admin).json()
    assert [x["name"] for x in rest["items"]] == ["C"]
    assert rest["next_cursor"] is None


def test_a_taken_name_is_refused(client, admin):
    create(client, admin)
    r = client.post("/api/v1/price-lists", json=price_list(), headers=admin)
    assert_problem(r, 409, "price_list.name_taken", "name")


def test_invalid_price_lists_name_every_bad_field(client, admin):
    r = client.post(
        "/api/v1/price-lists",
        json=price_list(
            currency="EUX",
            starts_at="2027-02-01T00:00:00Z",
            ends_at="2027-01-01T00:00:00Z",
            channels=["telepathy"],
            locations=["NOPE"],
            customer_groups=["not a group"],
        ),
        headers=admin,
    )
    assert_problem(
        r,
        422,
        "money.unknown_currency",
        "currency",
        "ends_at",
        "channels.0",
        "locations.0",
        "customer_groups.0",
    )


def test_a_naive_timestamp_is_refused(client, admin):
    r = client.post(
        "/api/v1/price-lists", json=price_list(starts_at="2027-01-01T00:00:00"), headers=admin
    )
    assert_problem(r, 422, "request.validation_failed", "starts_at")


def test_a_price_list_is_changed_and_its_window_cleared(client, db, admin):
    body = create(client, admin, ends_at="2027-01-01T00:00:00Z")
    r = client.patch(
        f"/api/v1/price-lists/{body['id']}",
        json={"priority": 3, "active": False, "ends_at": None, "customer_groups": ["vip"]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["priority"], changed["active"], changed["ends_at"]) == (3, False, None)
    assert changed["customer_groups"] == ["vip"]
    assert changed["currency"] == "EUR"
    assert audited(db, "price_list.updated")[0].details["fields"] == [
        "active",
        "customer_groups",
        "ends_at",
        "priority",
    ]
    r = client.patch(f"/api/v1/price-lists/{body['id']}", json={"name": None}, headers=admin)
    assert_problem(r, 422, "price_list.not_nullable", "name")


def test_an_unknown_price_list_is_404(client, admin):
    r = client.get("/api/v1/price-lists/0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e8f", headers=admin)
    assert_problem(r, 404, "price_list.not_found")


# --- entries -------------------------------------------------------------------------------


def test_a_sku_is_priced_with_tiers_then_repriced_and_removed(client, db, admin):
    variant = make_variant(db, sku="TEE-M")
    body = create(client, admin)
    url = f"/api/v1/price-lists/{body['id']}/entries/TEE-M"
    tiers = [{"min_quantity": 6, "unit_price": 1600}, {"min_quantity": 12, "unit_price": 1500}]
    r = client.put(
        url, json={"unit_price": 1800, "compare_at": 2000, "tiers": tiers}, headers=admin
    )
    assert r.status_code == 200, r.text
    entry = r.json()
    assert entry["variant_id"] == str(variant.id)
    assert entry["currency"] == "EUR"
    assert (entry["unit_price"], entry["compare_at"], entry["tiers"]) == (1800, 2000, tiers)

    r = client.put(url, json={"unit_price": 1700}, headers=admin)
    assert (r.json()["unit_price"], r.json()["tiers"]) == (1700, [])
    page = client.get(f"/api/v1/price-lists/{body['id']}/entries", headers=admin).json()
    assert [e["sku"] for e in page["items"]] == ["TEE-M"]
    assert [e.details["unit_price_before"] for e in audited(db, "price_list.entry_set")] == [
        None,
        1800,
    ]

    assert client.delete(url, headers=admin).status_code == 204
    assert_problem(client.delete(url, headers=admin), 404, "price_list.entry_not_found")
    page = client.get(f"/api/v1/price-lists/{body['id']}/entries", headers=admin).json()
    assert page["items"] == []


def test_entries_page_in_sku_order(client, db, admin):
    body = create(client, admin)
    for sku in ("B-1", "A-1", "C-1"):
        make_variant(db, sku=sku)
        client.put(
            f"/api/v1/price-lists/{body['id']}/entries/{sku}",
            json={"unit_price": 100},
            headers=admin,
        )
    url = f"/api/v1/price-lists/{body['id']}/entries"
    first = client.get(f"{url}?limit=2", headers=admin).json()
    assert [e["sku"] for e in first["items"]] == ["A-1", "B-1"]
    rest = client.get(f"{url}?cursor={first['next_cursor']}", headers=admin).json()
    assert [e["sku"] for e in rest["items"]] == ["C-1"]


def test_an_entry_for_an_unknown_sku_is_refused(client, admin):
    body = create(client, admin)
    r = client.put(
        f"/api/v1/price-lists/{body['id']}/entries/NOPE", json={"unit_price": 1}, headers=admin
    )
    assert_problem(r, 422, "catalog.unknown_sku", "sku")


def test_tiers_must_ascend_start_at_two_and_prices_be_positive(client, db, admin):
    make_variant(db, sku="TEE-M")
    body = create(client, admin)
    url = f"/api/v1/price-lists/{body['id']}/entries/TEE-M"
    descending = [{"min_quantity": 12, "unit_price": 1500}, {"min_quantity": 6, "unit_price": 1600}]
    r = client.put(url, json={"unit_price": 1800, "tiers": descending}, headers=admin)
    assert_problem(r, 422, "pricing.tiers_not_ascending", "tiers.1.min_quantity")
    r = client.put(
        url,
        json={"unit_price": -1, "tiers": [{"min_quantity": 1, "unit_price": 5}]},
        headers=admin,
    )
    assert_problem(r, 422, "pricing.price_negative", "unit_price", "tiers.0.min_quantity")


# --- exchange rates and rounding -----------------------------------------------------------


def test_exchange_rates_are_added_and_listed_by_pair(client, db, admin):
    today = datetime.now(UTC).date()
    for quote, rate in (("EUR", "0.92150000"), ("GBP", "0.79")):
        r = client.post(
            "/api/v1/exchange-rates",
            json={"base": "usd", "quote": quote, "rate": rate, "valid_from": str(today)},
            headers=admin,
        )
        assert r.status_code == 201, r.text
    later = str(today + timedelta(days=7))
    r = client.post(
        "/api/v1/exchange-rates",
        json={"base": "USD", "quote": "EUR", "rate": "0.95", "valid_from": later},
        headers=admin,
    )
    assert r.json()["rate"] == "0.95"
    eur = client.get("/api/v1/exchange-rates?base=USD&quote=EUR", headers=admin).json()["items"]
    assert [(x["rate"], x["valid_from"]) for x in eur] == [
        ("0.95", later),
        ("0.9215", str(today)),
    ]
    assert len(audited(db, "exchange_rate.created")) == 3


def test_past_rates_are_never_rewritten(client, admin):
    today = datetime.now(UTC).date()
    body = {"base": "USD", "quote": "EUR", "rate": "0.9", "valid_from": str(today)}
    assert client.post("/api/v1/exchange-rates", json=body, headers=admin).status_code == 201
    again = client.post("/api/v1/exchange-rates", json=body | {"rate": "0.8"}, headers=admin)
    assert_problem(again, 409, "exchange_rate.exists", "valid_from")
    old = body | {"valid_from": str(date(2020, 1, 1))}
    assert_problem(
        client.post("/api/v1/exchange-rates", json=old, headers=admin),
        422,
        "exchange_rate.backdated",
        "valid_from",
    )
    assert client.get("/api/v1/exchange-rates", headers=admin).json()["items"][0]["rate"] == "0.9"


def test_an_invalid_rate_names_its_fields(client, admin):
    today = str(datetime.now(UTC).date())
    r = client.post(
        "/api/v1/exchange-rates",
        json={"base": "USD", "quote": "USD", "rate": "0", "valid_from": today},
        headers=admin,
    )
    assert_problem(r, 422, "pricing.same_currency", "quote", "rate")


def test_a_currencys_rounding_is_set_and_read(client, db, admin):
    assert_problem(
        client.get("/api/v1/price-roundings/CHF", headers=admin), 404, "price_rounding.not_found"
    )
    r = client.put("/api/v1/price-roundings/chf", json={"increment": 5}, headers=admin)
    assert r.json() == {"currency": "CHF", "increment": 5, "charm_ending": None}
    client.put(
        "/api/v1/price-roundings/CHF", json={"increment": 100, "charm_ending": 90}, headers=admin
    )
    assert client.get("/api/v1/price-roundings/CHF", headers=admin).json()["charm_ending"] == 90
    assert [
        x["currency"] for x in client.get("/api/v1/price-roundings", headers=admin).json()["items"]
    ] == ["CHF"]
    r = client.put(
        "/api/v1/price-roundings/CHF", json={"increment": 0, "charm_ending": 100}, headers=admin
    )
    assert_problem(r, 422, "pricing.invalid_rounding", "increment", "charm_ending")
    r = client.put("/api/v1/price-roundings/XXQ", json={"increment": 5}, headers=admin)
    assert_problem(r, 422, "money.unknown_currency", "currency")
    assert len(audited(db, "price_rounding.set")) == 2


# --- permissions ---------------------------------------------------------------------------


def test_a_cashier_reads_prices_but_cannot_change_them(client, admin, cashier):
    body = create(client, admin)
    assert client.get(f"/api/v1/price-lists/{body['id']}", headers=cashier).status_code == 200
    r = client.post("/api/v1/price-lists", json=price_list("Mine"), headers=cashier)
    assert_problem(r, 403, "auth.permission_denied")
    r = client.put("/api/v1/price-roundings/EUR", json={"increment": 5}, headers=cashier)
    assert_problem(r, 403, "auth.permission_denied")


def test_pricing_needs_a_token(client):
    assert_problem(client.get("/api/v1/price-lists"), 401, "auth.required")


# --- customers' pricing fields -------------------------------------------------------------


def test_a_customers_groups_and_exemption_certificate_are_kept(client, db, admin):
    r = client.post(
        "/api/v1/customers",
        json={
            "first_name": "Ada",
            "groups": ["VIP", "staff", "vip"],
            "tax_exempt_certificate": "EX-1",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    customer = r.json()
    assert (customer["groups"], customer["tax_exempt_certificate"]) == (["staff", "vip"], "EX-1")
    url = f"/api/v1/customers/{customer['id']}"
    r = client.patch(
        url, json={"groups": ["wholesale"], "tax_exempt_certificate": None}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert (r.json()["groups"], r.json()["tax_exempt_certificate"]) == (["wholesale"], None)
    assert client.patch(url, json={"first_name": "Ada B"}, headers=admin).json()["groups"] == [
        "wholesale"
    ]
    assert len(audited(db, "customer.pricing_changed")) == 2
    r = client.patch(url, json={"groups": ["no spaces please"]}, headers=admin)
    assert_problem(r, 422, "customer.invalid_group", "groups.0")
