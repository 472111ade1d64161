"""A sale past zero opens an exception; a manager closes it by a shelf count or an
acknowledgement, in the ledger and the audit trail, and never twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from omnitill.adapters.db.models import AuditEntry
from omnitill.services import stock
from tests.factories import make_location, make_register, make_variant, token_for


@pytest.fixture
def oversold(client, db, settings):
    """BELT at S01: 1 on hand, then two sales of 2 and 1: on hand -2, two open exceptions."""
    store = make_location(db, "S01")
    make_register(db, store, "S01-R1")
    make_variant(db, sku="BELT", price=3900)
    manager = token_for(db, settings, "boss", "manager", ["S01"])
    cashier = token_for(db, settings, "c1", "cashier", ["S01"])
    client.post(
        "/api/v1/stock/receipts",
        headers=manager,
        json={"location": "S01", "reference": "PO-1", "lines": [{"sku": "BELT", "quantity": 1}]},
    )
    for quantity in (2, 1):
        r = client.post(
            "/api/v1/sales",
            headers=cashier,
            json={
                "location": "S01",
                "register": "S01-R1",
                "lines": [{"sku": "BELT", "quantity": quantity}],
                "payments": [{"method": "cash", "amount": 20000}],
            },
        )
        assert r.status_code == 201, r.text
    items = client.get("/api/v1/stock/exceptions", headers=manager).json()["items"]
    assert [e["on_hand_after"] for e in items] == [-1, -2]
    return {"manager": manager, "cashier": cashier, "first": items[0]["id"]}


def resolve(client, headers, exception_id, **body):
    return client.post(
        f"/api/v1/stock/exceptions/{exception_id}/resolve", json=body, headers=headers
    )


def on_hand(client, headers):
    return client.get(
        "/api/v1/stock", params={"sku": "BELT", "location": "S01"}, headers=headers
    ).json()["items"][0]["on_hand"]


def test_a_shelf_count_sets_on_hand_and_closes_every_open_exception_of_the_sku(
    client, db, oversold
):
    r = resolve(client, oversold["manager"], oversold["first"], counted=3, reason="counted")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["resolution"], body["on_hand"], body["counted_change"]) == ("counted", 3, 5)
    assert len(body["resolved"]) == 2
    assert on_hand(client, oversold["manager"]) == 3
    assert client.get("/api/v1/stock/exceptions", headers=oversold["manager"]).json() == {
        "items": []
    }
    ledger = client.get(
        "/api/v1/stock/movements", params={"sku": "BELT"}, headers=oversold["manager"]
    ).json()["items"]
    assert (ledger[0]["kind"], ledger[0]["quantity"]) == ("count", 5)
    assert stock.verify(db=db) == []
    with db.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.exception_resolved")
        ).one()
    assert (entry.details["counted"], entry.details["change"], entry.actor) == (3, 5, "boss")


def test_an_acknowledged_exception_leaves_the_level_alone(client, oversold):
    r = resolve(client, oversold["manager"], oversold["first"], reason="adjusted on PO-2")
    assert r.status_code == 200, r.text
    assert (r.json()["resolution"], r.json()["counted_change"]) == ("acknowledged", 0)
    assert on_hand(client, oversold["manager"]) == -2


def test_an_exception_is_resolved_once(client, oversold):
    assert resolve(client, oversold["manager"], oversold["first"], reason="ok").status_code == 200
    again = resolve(client, oversold["manager"], oversold["first"], counted=9, reason="again")
    assert (again.status_code, again.json()["code"]) == (409, "stock_exception.already_resolved")
    assert on_hand(client, oversold["manager"]) == -2


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"counted": -1, "reason": "x"}, 422, "stock.count_negative", "counted"),
        ({"counted": 2, "reason": "  "}, 422, "stock.reason_required", "reason"),
    ],
)
def test_a_bad_resolution_is_refused_and_changes_nothing(
    client, db, oversold, body, status, code, field
):
    r = resolve(client, oversold["manager"], oversold["first"], **body)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert field in [e["field"] for e in r.json()["errors"]]
    assert on_hand(client, oversold["manager"]) == -2
    assert (
        len(client.get("/api/v1/stock/exceptions", headers=oversold["manager"]).json()["items"])
        == 2
    )


def test_a_cashier_needs_a_manager_to_resolve(client, oversold):
    r = resolve(client, oversold["cashier"], oversold["first"], counted=0, reason="gone")
    assert (r.status_code, r.json()["code"]) == (403, "auth.permission_denied")
    assert on_hand(client, oversold["manager"]) == -2


def test_an_unknown_exception_is_not_found(client, oversold):
    missing = "01a22b93-5d48-73e4-8a07-90bad3529641"
    r = resolve(client, oversold["manager"], missing, reason="x")
    assert (r.status_code, r.json()["code"]) == (404, "stock_exception.not_found")
