"""Promotions, coupons, collections and products sold by weight over HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, Coupon
from omnitill.domain.codes import ALPHABET, check_character
from omnitill.services import pricing_data
from tests.factories import make_variant, token_for

PROBLEM = "application/problem+json"
GENERATED = re.compile(
    r"^SPRING-([2-9A-HJ-NP-Z]{4})-([2-9A-HJ-NP-Z]{4})-([2-9A-HJ-NP-Z]{4})-([2-9A-HJ-NP-Z]{2})$"
)


@pytest.fixture
def admin(db, settings) -> dict[str, str]:
    return token_for(db, settings, "admin1", "admin")


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == code, r.json()
    named = {e["field"] for e in r.json().get("errors", [])}
    for field in fields:
        assert field in named, f"{field} not in {named}"


def count(db, model: Any, *where: Any) -> int:
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def percent_off(code: str = "shoes-15", **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": "15 % off", "kind": "item_percent", "percent": "15", **fields}


def welcome(code: str = "welcome-10", **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": "10 off 50",
        "kind": "order_amount",
        "stacking": "order",
        "amount": 1000,
        "min_spend": 5000,
        "currency": "USD",
        "requires_coupon": True,
        **fields,
    }


def create(client, headers, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/v1/promotions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


# --- promotions ----------------------------------------------------------------------------


def test_a_promotion_is_created_read_and_listed(client, db, admin):
    category = client.post("/api/v1/categories", json={"name": "Shoes"}, headers=admin).json()
    body = create(
        client,
        admin,
        percent_off(
            target={"category_ids": [category["id"]]},
            channels=["in_store"],
            customer_groups=["VIP"],
            hours=[{"weekdays": [4, 5], "start": "17:00", "end": "19:00"}],
        ),
    )
    assert (body["kind"], body["stacking"], body["percent"]) == ("item_percent", "product", "15")
    assert body["target"]["category_ids"] == [category["id"]]
    assert body["target"]["all_items"] is False
    assert body["customer_groups"] == ["vip"]
    assert body["hours"] == [{"weekdays": [4, 5], "start": "17:00:00", "end": "19:00:00"}]
    assert client.get(f"/api/v1/promotions/{body['id']}", headers=admin).json() == body
    listed = client.get("/api/v1/promotions?active=true&kind=item_percent", headers=admin).json()
    assert [p["code"] for p in listed["items"]] == ["shoes-15"]
    assert count(db, AuditEntry, AuditEntry.action == "promotion.created") == 1
    with db.uow(write=False) as uow:
        catalog = pricing_data.promotion_catalog(uow)
    assert [p.id for p in catalog.promotions] == [body["id"]]


def test_a_percent_over_100_names_the_percent_field(client, admin):
    r = client.post("/api/v1/promotions", json=percent_off(percent="150"), headers=admin)
    assert_problem(r, 422, "promotion.invalid_percent")
    assert r.json()["errors"][0]["field"] == "percent"


def test_contradictory_rules_are_refused_naming_the_field(client, admin):
    tiers = [{"threshold": 10000, "percent": "10"}, {"threshold": 5000, "percent": "5"}]
    spend = {
        "code": "spend",
        "name": "Spend",
        "kind": "spend_tiers",
        "stacking": "order",
        "tiers": tiers,
        "currency": "USD",
    }
    r = client.post("/api/v1/promotions", json=spend, headers=admin)
    assert_problem(r, 422, "promotion.tiers_not_ascending", "tiers.1.threshold")
    r = client.post("/api/v1/promotions", json=welcome(currency=None), headers=admin)
    assert_problem(r, 422, "promotion.currency_required", "currency")
    r = client.post("/api/v1/promotions", json=percent_off(kind="order_percent"), headers=admin)
    assert_problem(r, 422, "promotion.invalid_stacking", "stacking")
    r = client.post("/api/v1/promotions", json=percent_off(kind="telepathy"), headers=admin)
    assert_problem(r, 422, "request.validation_failed", "kind")


def test_targets_and_scope_must_name_things_that_exist(client, admin):
    ghost = "0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e8f"
    r = client.post(
        "/api/v1/promotions",
        json=percent_off(
            target={"variant_ids": [ghost], "collection_ids": [ghost]}, locations=["S99"]
        ),
        headers=admin,
    )
    assert_problem(
        r,
        422,
        "location.not_found",
        "target.variant_ids",
        "target.collection_ids",
        "locations.0",
    )


def test_the_same_code_twice_and_the_same_rule_twice_are_conflicts(client, admin):
    create(client, admin, percent_off())
    r = client.post("/api/v1/promotions", json=percent_off(name="Again"), headers=admin)
    assert_problem(r, 409, "promotion.code_taken", "code")
    r = client.post("/api/v1/promotions", json=percent_off("shoes-15-copy"), headers=admin)
    assert_problem(r, 409, "promotion.duplicate")
    assert r.json()["details"] == {"promotion": "shoes-15"}
    inactive = percent_off("shoes-15-next", active=False)
    assert client.post("/api/v1/promotions", json=inactive, headers=admin).status_code == 201


def test_a_promotion_is_changed_and_checked_whole_again(client, db, admin):
    body = create(client, admin, percent_off())
    url = f"/api/v1/promotions/{body['id']}"
    r = client.patch(url, json={"percent": "20", "ends_at": "2027-01-01T00:00:00Z"}, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["percent"], r.json()["code"]) == ("20", "shoes-15")
    assert_problem(
        client.patch(url, json={"percent": "0"}, headers=admin),
        422,
        "promotion.invalid_percent",
        "percent",
    )
    assert_problem(
        client.patch(url, json={"priority": None}, headers=admin),
        422,
        "promotion.not_nullable",
        "priority",
    )
    assert client.patch(url, json={"active": False}, headers=admin).json()["active"] is False
    with db.uow(write=False) as uow:
        assert pricing_data.promotion_catalog(uow).promotions == ()
    assert count(db, AuditEntry, AuditEntry.action == "promotion.updated") == 2
    assert_problem(
        client.get("/api/v1/promotions/0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e8f", headers=admin),
        404,
        "promotion.not_found",
    )


def test_a_cashier_cannot_create_promotions(client, db, settings, admin):
    cashier = token_for(db, settings, "till", "cashier")
    r = client.post("/api/v1/promotions", json=percent_off(), headers=cashier)
    assert_problem(r, 403, "auth.permission_denied")
    assert client.get("/api/v1/promotions", headers=cashier).status_code == 200


# --- coupons -------------------------------------------------------------------------------


def test_a_named_shared_coupon_is_created_found_and_deactivated(client, db, admin):
    promo = create(client, admin, welcome())
    url = f"/api/v1/promotions/{promo['id']}/coupons"
    r = client.post(url, json={"code": "welcome10", "usage_limit": 500}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "promotion_id": promo["id"],
        "batch_id": None,
        "count": 1,
        "codes": ["WELCOME10"],
    }
    assert_problem(
        client.post(url, json={"code": "WELCOME10"}, headers=admin),
        409,
        "coupon.code_taken",
        "code",
    )
    found = client.get("/api/v1/coupons/Welcome10", headers=admin).json()
    assert (found["single_use"], found["usage_limit"], found["uses"]) == (False, 500, 0)
    r = client.patch("/api/v1/coupons/welcome10", json={"active": False}, headers=admin)
    assert r.json()["active"] is False
    with db.uow(write=False) as uow:
        assert pricing_data.coupons_by_code(uow, ["WELCOME10"])["WELCOME10"].active is False
    assert_problem(client.get("/api/v1/coupons/NOPE", headers=admin), 404, "coupon.not_found")


def test_a_batch_of_single_use_codes_is_generated_unguessable_and_checkable(client, db, admin):
    promo = create(client, admin, welcome())
    r = client.post(
        f"/api/v1/promotions/{promo['id']}/coupons",
        json={"count": 1000, "prefix": "spring"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    codes = body["codes"]
    assert body["count"] == 1000
    assert body["batch_id"] is not None
    assert len(set(codes)) == 1000
    for code in codes:
        groups = GENERATED.match(code)
        assert groups, code
        chars = "".join(groups.groups())
        assert check_character(chars[:-1]) == chars[-1]
    assert not set("01OI") & set(ALPHABET)
    assert len(ALPHABET) == 32
    assert count(db, Coupon, Coupon.single_use.is_(True)) == 1000

    first = client.get(f"/api/v1/promotions/{promo['id']}/coupons?limit=2", headers=admin).json()
    assert [c["code"] for c in first["items"]] == sorted(codes)[:2]
    assert first["next_cursor"]

    code = codes[0]
    last = code[-1]
    typo = code[:-1] + (ALPHABET[(ALPHABET.index(last) + 1) % 32])
    assert_problem(
        client.get(f"/api/v1/coupons/{typo}", headers=admin), 422, "coupon.mistyped", "code"
    )
    assert client.get(f"/api/v1/coupons/{code.lower()}", headers=admin).status_code == 200


def test_ten_thousand_codes_are_generated_in_one_request(client, db, admin):
    promo = create(client, admin, welcome())
    url = f"/api/v1/promotions/{promo['id']}/coupons"
    r = client.post(url, json={"count": 10_000}, headers=admin)
    assert r.status_code == 201, r.text
    assert len(set(r.json()["codes"])) == 10_000
    assert count(db, Coupon) == 10_000
    assert count(db, AuditEntry, AuditEntry.action == "promotion.coupons_generated") == 1
    assert_problem(
        client.post(url, json={"count": 10_001}, headers=admin),
        422,
        "coupon.invalid_count",
        "count",
    )


def test_coupons_are_refused_for_a_promotion_that_needs_none(client, admin):
    promo = create(client, admin, percent_off())
    url = f"/api/v1/promotions/{promo['id']}/coupons"
    r = client.post(url, json={"count": 10, "prefix": "SPRING"}, headers=admin)
    assert_problem(r, 422, "promotion.coupon_not_required")
    assert_problem(
        client.post(url, json={"code": "X1", "count": 2}, headers=admin),
        422,
        "coupon.code_or_count",
        "code",
    )


# --- collections and weighed products ------------------------------------------------------


def test_products_are_put_in_and_taken_out_of_collections(client, db, admin):
    variant = make_variant(db)
    r = client.post("/api/v1/collections", json={"name": "Summer picks"}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == "summer-picks"
    collection_id = r.json()["id"]
    assert_problem(
        client.post("/api/v1/collections", json={"name": "Summer picks"}, headers=admin),
        409,
        "collection.slug_taken",
        "slug",
    )
    url = f"/api/v1/collections/summer-picks/products/{variant.product_id}"
    assert client.put(url, headers=admin).status_code == 204
    assert client.put(url, headers=admin).status_code == 204  # safe to repeat
    listed = client.get("/api/v1/collections", headers=admin).json()["items"]
    assert [(c["slug"], c["product_count"]) for c in listed] == [("summer-picks", 1)]
    members = client.get("/api/v1/collections/summer-picks/products", headers=admin).json()
    assert members["items"] == [str(variant.product_id)]
    with db.uow(write=False) as uow:
        found = pricing_data.collection_ids_for(uow, product_ids=[variant.product_id])
    assert found == {variant.product_id: frozenset({collection_id})}
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get("/api/v1/collections", headers=admin).json()["items"][0]["product_count"] == 0
    ghost = "/api/v1/collections/summer-picks/products/0192f5e2-7c1a-7b3e-9d2f-3a4b5c6d7e8f"
    assert_problem(client.put(ghost, headers=admin), 404, "catalog.product_not_found")
    assert_problem(
        client.put(f"/api/v1/collections/winter/products/{variant.product_id}", headers=admin),
        404,
        "collection.not_found",
    )


def test_a_product_is_sold_by_weight(client, admin):
    r = client.post(
        "/api/v1/products",
        json={
            "name": "Gruyere",
            "sold_by_weight": True,
            "variants": [{"sku": "CHEESE-GRU", "price": 3200, "currency": "CHF"}],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["sold_by_weight"] is True
    url = f"/api/v1/products/{r.json()['id']}"
    assert (
        client.patch(url, json={"sold_by_weight": False}, headers=admin).json()["sold_by_weight"]
        is False
    )
    assert client.get(url, headers=admin).json()["sold_by_weight"] is False
