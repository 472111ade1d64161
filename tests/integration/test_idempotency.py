from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select

from omnitill.adapters.db.models import IdempotencyKey, StockMovement
from omnitill.services import idempotency
from tests.factories import make_location, make_variant, token_for

BODY = {"location": "W01", "lines": [{"sku": "HAT", "quantity": 5}], "reference": "PO-1"}


def setup(db, settings):
    w01 = make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="HAT", price=1200, stock={w01: 0})
    return token_for(db, settings, "stocker", "inventory")


def movements(db):
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(StockMovement))


def test_a_repeated_key_replays_the_first_response_without_a_second_effect(client, db, settings):
    headers = {**setup(db, settings), "Idempotency-Key": "receipt-1"}
    first = client.post("/api/v1/stock/receipts", json=BODY, headers=headers)
    assert first.status_code == 201
    before = movements(db)
    second = client.post("/api/v1/stock/receipts", json=BODY, headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert movements(db) == before


def test_the_same_key_with_a_different_body_is_refused(client, db, settings):
    headers = {**setup(db, settings), "Idempotency-Key": "receipt-2"}
    client.post("/api/v1/stock/receipts", json=BODY, headers=headers)
    before = movements(db)
    other = dict(BODY, lines=[{"sku": "HAT", "quantity": 6}])
    r = client.post("/api/v1/stock/receipts", json=other, headers=headers)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency.key_reused"
    assert movements(db) == before


def test_a_request_still_in_flight_with_the_same_key_gets_409(client, db, settings):
    headers = setup(db, settings)
    me = client.get("/api/v1/auth/me", headers=headers).json()
    raw = json.dumps(BODY).encode()
    digest = hashlib.sha256(b"POST /api/v1/stock/receipts?\n" + raw).hexdigest()
    claimed = idempotency.begin(
        db=db,
        settings=settings,
        scope=f"user:{me['id']}",
        key="busy",
        method="POST",
        path="/api/v1/stock/receipts",
        request_hash=digest,
    )
    assert isinstance(claimed, idempotency.Proceed)
    r = client.post(
        "/api/v1/stock/receipts",
        content=raw,
        headers={**headers, "Idempotency-Key": "busy", "Content-Type": "application/json"},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency.request_in_flight"
    assert movements(db) == 1  # only the setup receipt


def test_keys_are_scoped_to_the_staff_member(client, db, settings):
    alice = {**setup(db, settings), "Idempotency-Key": "same-key"}
    bob = {**token_for(db, settings, "bob", "inventory"), "Idempotency-Key": "same-key"}
    assert client.post("/api/v1/stock/receipts", json=BODY, headers=alice).status_code == 201
    r = client.post("/api/v1/stock/receipts", json=BODY, headers=bob)
    assert r.status_code == 201
    assert "Idempotent-Replayed" not in r.headers
    assert movements(db) == 3


def test_refused_requests_are_replayed_too(client, db, settings):
    headers = {**setup(db, settings), "Idempotency-Key": "bad-1"}
    bad = {"location": "W01", "lines": [{"sku": "NOPE", "quantity": 1}]}
    first = client.post("/api/v1/stock/receipts", json=bad, headers=headers)
    second = client.post("/api/v1/stock/receipts", json=bad, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["Idempotent-Replayed"] == "true"


def test_keys_are_kept_at_least_a_day(client, db, settings):
    headers = {**setup(db, settings), "Idempotency-Key": "kept"}
    client.post("/api/v1/stock/receipts", json=BODY, headers=headers)
    with db.uow(write=False) as uow:
        key = uow.session.scalars(select(IdempotencyKey)).one()
    assert (key.expires_at - key.created_at).total_seconds() >= 24 * 3600
    assert key.state == "done"


def test_an_overlong_key_is_refused(client, db, settings):
    headers = {**setup(db, settings), "Idempotency-Key": "k" * 300}
    r = client.post("/api/v1/stock/receipts", json=BODY, headers=headers)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency.invalid_key"


def test_expired_keys_are_purged_and_the_key_can_be_used_again(client, db, settings):
    from datetime import timedelta

    from sqlalchemy import update

    from omnitill.adapters.db.types import utcnow

    headers = {**setup(db, settings), "Idempotency-Key": "old"}
    client.post("/api/v1/stock/receipts", json=BODY, headers=headers)
    with db.uow() as uow:
        uow.session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(1)))
        uow.commit()
    assert idempotency.purge_expired(db=db) == 1
    again = client.post("/api/v1/stock/receipts", json=BODY, headers=headers)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
