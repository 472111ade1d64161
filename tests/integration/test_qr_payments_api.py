"""QR payments: a link as a QR code, paid by the provider's signed callback, or expired."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from omnitill.adapters.db.models import QrPayment
from omnitill.adapters.db.types import utcnow
from omnitill.services.qr_payments import sign
from tests.factories import make_location, make_register, token_for


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    return token_for(db, settings, "c1", "cashier", ["S01"])


def create(client, headers, **extra):
    body = {
        "id": str(uuid.uuid4()),
        "register": "S01-R1",
        "sale_id": str(uuid.uuid4()),
        "amount": 1250,
        **extra,
    }
    return client.post("/api/v1/qr-payments", headers=headers, json=body)


def notify(client, settings, token, status="paid", *, signature=None):
    raw = json.dumps({"token": token, "status": status, "provider_reference": "prov_123"}).encode()
    sig = signature or sign(settings.resolved_qr_callback_secret, raw)
    return client.post(
        "/api/v1/qr-payments/callback",
        content=raw,
        headers={"Content-Type": "application/json", "X-Omnitill-Signature": sig},
    )


def test_a_link_is_shown_as_a_qr_code_and_paid_by_a_signed_callback(client, db, shop, settings):
    r = create(client, shop)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["payment"]["status"] == "pending"
    assert body["payment"]["method"] == "qr"
    assert body["qr_svg"].startswith("<svg")
    token = body["url"].rsplit("/", 1)[1]
    pid = body["payment"]["id"]
    forged = notify(client, settings, token, signature="0" * 64)
    assert forged.status_code == 401
    assert forged.json()["code"] == "qr.bad_signature"
    assert client.get(f"/api/v1/qr-payments/{pid}", headers=shop).json()["status"] == "pending"
    paid = notify(client, settings, token)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "captured"
    again = notify(client, settings, token)
    assert again.json()["status"] == "captured"
    assert client.get(f"/api/v1/qr-payments/{pid}", headers=shop).json()["status"] == "captured"


def test_an_expired_link_cannot_take_money(client, db, shop, settings):
    body = create(client, shop, ttl_seconds=30).json()
    token = body["url"].rsplit("/", 1)[1]
    with db.uow() as uow:
        uow.session.execute(update(QrPayment).values(expires_at=utcnow() - timedelta(seconds=1)))
        uow.commit()
    pid = body["payment"]["id"]
    assert client.get(f"/api/v1/qr-payments/{pid}", headers=shop).json()["status"] == "expired"
    late = notify(client, settings, token)
    assert late.status_code == 409
    assert late.json()["code"] == "qr.expired"


def test_bad_links_and_notifications_are_refused(client, db, shop, settings):
    r = create(client, shop, amount=0, ttl_seconds=5)
    assert [e["field"] for e in r.json()["errors"]] == ["amount", "ttl_seconds"]
    assert notify(client, settings, "no-such-token").status_code == 404
    r = client.post(
        "/api/v1/qr-payments/callback",
        content=b"not json",
        headers={"X-Omnitill-Signature": "x"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "qr.invalid_notification"
