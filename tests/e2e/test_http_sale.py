"""A register sale over real HTTP, from sign-in to printed receipt."""

from __future__ import annotations

import httpx

from omnitill.domain.ids import uuid7
from omnitill.services import audit, stock
from tests.factories import PASSWORD, make_location, make_register, make_user, make_variant


def test_a_cashier_signs_in_scans_sells_and_prints_over_http(live_server, db):
    s01 = make_location(db, "S01", address_line1="12 Spring St", city="New York")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="OXF-NVY-M", price=5900, barcode="4006381333931", stock={s01: 4})
    make_user(db, "cashier1", "cashier", ["S01"])
    with httpx.Client(base_url=live_server, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").status_code == 200
        token = http.post(
            "/api/v1/auth/token", json={"username": "cashier1", "password": PASSWORD}
        ).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}

        sale = {
            "id": str(uuid7()),
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"barcode": "4006381333931", "quantity": 2}],
            "payments": [{"method": "cash", "amount": 13000}],
        }
        created = http.post("/api/v1/sales", json=sale, headers=auth)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["receipt_number"] == "S01-R1-000001"
        assert body["total"] == 11800 + 1047  # 8.875 % on 118.00, rounded half-up
        assert body["change_due"] == 13000 - body["total"]
        assert created.headers["X-Request-ID"]

        # the register retries after a timeout: same id, one sale
        again = http.post("/api/v1/sales", json=sale, headers=auth)
        assert again.json() == body
        assert again.headers["Idempotent-Replayed"] == "true"

        level = http.get(
            "/api/v1/stock", params={"sku": "OXF-NVY-M", "location": "S01"}, headers=auth
        ).json()["items"][0]
        assert level["on_hand"] == 2

        found = http.get(
            "/api/v1/sales", params={"receipt_number": "S01-R1-000001"}, headers=auth
        ).json()["items"]
        assert [s["id"] for s in found] == [body["id"]]
        html = http.get(f"/api/v1/sales/{body['id']}/receipt.html", headers=auth)
        assert "12 Spring St" in html.text
        assert "$128.47" in html.text

        assert http.post("/api/v1/auth/logout", headers=auth).status_code == 204
        assert http.get("/api/v1/sales", headers=auth).status_code == 401
    assert stock.verify(db=db) == []
    assert audit.verify(db=db) == []


def test_unknown_routes_and_bad_json_answer_problem_json(live_server):
    with httpx.Client(base_url=live_server, timeout=10) as http:
        missing = http.get("/api/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["code"] == "http.not_found"
        broken = http.post(
            "/api/v1/auth/token", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 422
        assert broken.json()["code"] == "request.validation_failed"


def test_openapi_documents_every_operation_and_the_contract_paths(live_server):
    with httpx.Client(base_url=live_server, timeout=10) as http:
        spec = http.get("/openapi.json").json()
        assert http.get("/docs").status_code == 200
    for path in (
        "/api/v1/auth/token",
        "/api/v1/variants",
        "/api/v1/stock",
        "/api/v1/sales",
        "/api/v1/sales/{sale_id}",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"], path
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"
            assert op.get("description"), f"{method.upper()} {path} has no description"
    sale_body = spec["components"]["schemas"]["SaleCreate"]
    assert sale_body.get("examples")
