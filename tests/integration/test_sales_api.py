from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, OutboxEvent, Sale, StockLevel, StockMovement
from omnitill.domain.ids import uuid7
from tests.factories import make_location, make_register, make_variant, token_for


@pytest.fixture
def store(db, settings):
    s01 = make_location(db, "S01", tax_rate="0.08875")
    s02 = make_location(db, "S02", tax_rate="0.0625")
    make_register(db, s01, "S01-R1")
    make_register(db, s02, "S02-R1")
    shirt = make_variant(db, sku="SHIRT-M", price=2999, stock={s01: 10, s02: 5})
    socks = make_variant(
        db, sku="SOCKS", price=850, barcode="4006381333931", stock={s01: 3, s02: 3}
    )
    headers = token_for(db, settings, "cashier1", "cashier", ["S01"])
    return {"s01": s01, "s02": s02, "shirt": shirt, "socks": socks, "headers": headers}


def sale_body(**overrides):
    body = {
        "id": str(uuid7()),
        "location": "S01",
        "register": "S01-R1",
        "lines": [{"sku": "SHIRT-M", "quantity": 2}, {"barcode": "4006381333931", "quantity": 1}],
        "payments": [{"method": "cash", "amount": 10000}],
    }
    body.update(overrides)
    return body


def counts(db):
    with db.uow(write=False) as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (Sale, StockMovement, AuditEntry, OutboxEvent)
        )


def on_hand(db, variant, location):
    with db.uow(write=False) as uow:
        return uow.session.get(StockLevel, (variant.id, location.id)).on_hand


def test_a_cash_sale_is_priced_taxed_paid_and_numbered(client, db, store):
    r = client.post("/api/v1/sales", json=sale_body(), headers=store["headers"])
    assert r.status_code == 201, r.text
    sale = r.json()
    # 2 x 29.99 + 8.50 = 68.48; tax per line half-up: 5.32 + 0.75 = 6.07
    assert sale["subtotal"] == 6848
    assert sale["tax_total"] == 532 + 75
    assert sale["total"] == 6848 + 607
    assert sale["change_due"] == 10000 - sale["total"]
    assert sale["receipt_number"] == "S01-R1-000001"
    assert sale["status"] == "completed"
    assert [line["sku"] for line in sale["lines"]] == ["SHIRT-M", "SOCKS"]
    assert on_hand(db, store["shirt"], store["s01"]) == 8
    assert on_hand(db, store["socks"], store["s01"]) == 2
    assert counts(db)[1:] == (6, 2, 1)  # movements: 4 setup + 2 sold; audit: user + sale


def test_the_same_sale_posted_twice_has_one_effect(client, db, store):
    body = sale_body()
    first = client.post("/api/v1/sales", json=body, headers=store["headers"])
    before = counts(db)
    second = client.post("/api/v1/sales", json=body, headers=store["headers"])
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert counts(db) == before
    assert on_hand(db, store["shirt"], store["s01"]) == 8


def test_reusing_a_sale_id_for_another_sale_is_refused(client, db, store):
    body = sale_body()
    client.post("/api/v1/sales", json=body, headers=store["headers"])
    before = counts(db)
    other = dict(body, lines=[{"sku": "SHIRT-M", "quantity": 1}])
    r = client.post("/api/v1/sales", json=other, headers=store["headers"])
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency.key_reused"
    assert counts(db) == before


def test_receipt_numbers_follow_on_per_register(client, store):
    numbers = [
        client.post("/api/v1/sales", json=sale_body(), headers=store["headers"]).json()[
            "receipt_number"
        ]
        for _ in range(3)
    ]
    assert numbers == ["S01-R1-000001", "S01-R1-000002", "S01-R1-000003"]


def test_a_sale_can_be_found_by_id_and_by_receipt_number(client, store):
    sale = client.post("/api/v1/sales", json=sale_body(), headers=store["headers"]).json()
    by_id = client.get(f"/api/v1/sales/{sale['id']}", headers=store["headers"])
    assert by_id.json() == sale
    found = client.get(
        "/api/v1/sales", params={"receipt_number": sale["receipt_number"]}, headers=store["headers"]
    ).json()
    assert [s["id"] for s in found["items"]] == [sale["id"]]


def test_selling_more_than_on_hand_is_recorded_and_flagged(client, db, store):
    body = sale_body(
        lines=[{"sku": "SOCKS", "quantity": 5}], payments=[{"method": "cash", "amount": 5000}]
    )
    r = client.post("/api/v1/sales", json=body, headers=store["headers"])
    assert r.status_code == 201
    assert r.json()["stock_exceptions"]
    assert on_hand(db, store["socks"], store["s01"]) == -2


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 422, "catalog.unknown_sku", "lines.0.sku"),
        (
            {"lines": [{"barcode": "96385074", "quantity": 1}]},
            422,
            "catalog.unknown_barcode",
            "lines.0.barcode",
        ),
        (
            {"lines": [{"sku": "SHIRT-M", "quantity": 0}]},
            422,
            "pricing.quantity_not_positive",
            "lines.0.quantity",
        ),
        (
            {"lines": [{"sku": "SHIRT-M", "quantity": -3}]},
            422,
            "pricing.quantity_not_positive",
            "lines.0.quantity",
        ),
        ({"lines": []}, 422, "sale.no_lines", "lines"),
        ({"register": "S09-R9"}, 422, "register.not_found", "register"),
        ({"register": "S02-R1"}, 422, "register.wrong_location", "register"),
        (
            {"payments": [{"method": "cash", "amount": 100}]},
            422,
            "payment.insufficient",
            "payments",
        ),
        (
            {"payments": [{"method": "bitcoin", "amount": 10000}]},
            422,
            "payment.method_unsupported",
            "payments.0.method",
        ),
        ({"lines": [{"sku": "SHIRT-M"}]}, 422, "request.validation_failed", "lines.0.quantity"),
        (
            {"lines": [{"sku": "SHIRT-M", "barcode": "4006381333931", "quantity": 1}]},
            422,
            "sale.invalid_lines",
            "lines.0",
        ),
        ({"coupons": ["SAVE10"]}, 422, "promotion.coupon_unknown", "coupons.0"),
        ({"customer": str(uuid.uuid4())}, 422, "customer.not_found", "customer"),
    ],
)
def test_bad_sales_are_refused_naming_the_field_and_write_nothing(
    client, db, store, change, status, code, field
):
    before = counts(db)
    r = client.post("/api/v1/sales", json=sale_body(**change), headers=store["headers"])
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == code
    assert field in [e["field"] for e in problem["errors"]]
    assert counts(db) == before
    assert on_hand(db, store["shirt"], store["s01"]) == 10


def test_an_inactive_product_cannot_be_sold(client, db, store):
    make_variant(db, sku="OLD", price=100, status="archived")
    r = client.post(
        "/api/v1/sales",
        json=sale_body(lines=[{"sku": "OLD", "quantity": 1}]),
        headers=store["headers"],
    )
    assert r.status_code == 422
    assert r.json()["code"] == "catalog.variant_inactive"


def test_a_refused_sale_gives_its_receipt_number_back(client, store):
    client.post(
        "/api/v1/sales",
        json=sale_body(payments=[{"method": "cash", "amount": 1}]),
        headers=store["headers"],
    )
    ok = client.post("/api/v1/sales", json=sale_body(), headers=store["headers"])
    assert ok.json()["receipt_number"] == "S01-R1-000001"


def test_a_cashier_cannot_sell_at_or_read_another_store(client, db, settings, store):
    body = sale_body(location="S02", register="S02-R1")
    r = client.post("/api/v1/sales", json=body, headers=store["headers"])
    assert r.status_code == 403
    assert r.json()["code"] == "auth.location_forbidden"
    other = token_for(db, settings, "cashier2", "cashier", ["S02"])
    sale = client.post("/api/v1/sales", json=body, headers=other).json()
    assert client.get(f"/api/v1/sales/{sale['id']}", headers=store["headers"]).status_code == 403
    listed = client.get("/api/v1/sales", headers=store["headers"]).json()
    assert listed["items"] == []
    assert (
        client.get(f"/api/v1/sales/{sale['id']}/receipt.html", headers=store["headers"]).status_code
        == 403
    )


def test_an_analyst_cannot_sell(client, db, settings, store):
    headers = token_for(db, settings, "ana", "analyst")
    r = client.post("/api/v1/sales", json=sale_body(), headers=headers)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"


def test_price_override_needs_a_manager_and_is_audited(client, db, settings, store):
    token_for(db, settings, "manager1", "manager", ["S01"])
    lines = [
        {
            "sku": "SHIRT-M",
            "quantity": 1,
            "unit_price": 1999,
            "price_override_reason": "missing button",
        }
    ]
    body = sale_body(lines=lines)
    refused = client.post("/api/v1/sales", json=body, headers=store["headers"])
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.permission_denied"
    grant = client.post(
        "/api/v1/overrides",
        headers=store["headers"],
        json={
            "manager_username": "manager1",
            "manager_password": "correct-horse-battery",
            "permission": "sales.price_override",
            "reason": "missing button",
        },
    )
    assert grant.status_code == 201, grant.text
    token = grant.json()["override_token"]
    ok = client.post(
        "/api/v1/sales", json=body, headers={**store["headers"], "X-Manager-Override": token}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["lines"][0]["unit_price"] == 1999
    reused = client.post(
        "/api/v1/sales",
        json=sale_body(lines=lines),
        headers={**store["headers"], "X-Manager-Override": token},
    )
    assert reused.json()["code"] == "override.invalid"
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sale.completed")
        ).one()
    assert entry.details["approved_by"] == "manager1"
    assert entry.actor == "cashier1"


def test_receipts_print_the_sale_as_charged(client, store):
    sale = client.post("/api/v1/sales", json=sale_body(), headers=store["headers"]).json()
    receipt = client.get(f"/api/v1/sales/{sale['id']}/receipt", headers=store["headers"])
    assert receipt.status_code == 200
    assert receipt.json()["totals"]["total"] == "$74.55"
    html = client.get(f"/api/v1/sales/{sale['id']}/receipt.html", headers=store["headers"])
    assert html.headers["content-type"].startswith("text/html")
    assert "S01-R1-000001" in html.text
    assert "$74.55" in html.text
    assert "Tax 8.875% on $68.48" in html.text  # the breakdown line


def test_a_sale_without_a_valid_token_is_refused_and_writes_nothing(client, db, store):
    before = counts(db)
    missing = client.post("/api/v1/sales", json=sale_body())
    assert (missing.status_code, missing.json()["code"]) == (401, "auth.required")
    client.post("/api/v1/auth/logout", headers=store["headers"])
    revoked = client.post("/api/v1/sales", json=sale_body(), headers=store["headers"])
    assert (revoked.status_code, revoked.json()["code"]) == (401, "auth.token_revoked")
    assert counts(db) == before
