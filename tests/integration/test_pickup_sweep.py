"""Uncollected pickups: reminded once after the store's reminder days, cancelled after its
hold days with the stock released and the card authorization voided (SQLite, PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from omnitill.adapters.db.models import Notification, OrderEvent
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from omnitill.services import order_service, pickups, stock
from omnitill.services.auth import system_actor
from tests.factories import make_location, make_variant, token_for


def test_an_uncollected_pickup_is_reminded_then_cancelled(client, db, settings):
    s01 = make_location(db, "S01", ships=True, offers_pickup=True)
    make_variant(db, sku="LAMP", price=4500, stock={s01: 3})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    token = gateway.tokenize(
        SandboxTerminal(gateway.public_key_pem()).read_card("4242424242424242", 12, 2031)
    ).token
    web = token_for(db, settings, "web", "manager")
    order = client.post(
        "/api/v1/orders",
        headers=web,
        json={
            "channel": "web",
            "customer_name": "Ada",
            "phone": "+12125550123",
            "pickup_location": "S01",
            "lines": [{"sku": "LAMP", "quantity": 2, "method": "pickup"}],
            "card_token": token,
        },
    ).json()
    fid = order["fulfillments"][0]["id"]
    ready = client.post(f"/api/v1/orders/{order['id']}/fulfillments/{fid}/ready", headers=web)
    assert ready.status_code == 200, ready.text
    notifier = pickups.CustomerNotifier(settings)
    system = system_actor(db=db)
    assert system_actor(db=db).user_id == system.user_id  # made once

    def sweep(days):
        return pickups.sweep(db=db, notifier=notifier, now=utcnow() + timedelta(days=days))

    assert sweep(1) == (0, [])
    assert sweep(2.1) == (1, [])
    assert sweep(2.2) == (0, [])  # reminded once
    reminded, expired = sweep(7.1)
    assert reminded == 0
    assert expired == [uuid.UUID(order["id"])]
    for order_id in expired:
        order_service.order_payments.settle(db=db, actor=system, gateway=gateway, order_id=order_id)
    got = client.get(f"/api/v1/orders/{order['id']}", headers=web).json()
    assert got["status"] == "cancelled"
    assert got["fulfillments"][0]["status"] == "cancelled"
    assert got["payments"][0]["status"] == "voided"
    level = client.get(
        "/api/v1/stock", params={"sku": "LAMP", "location": "S01"}, headers=web
    ).json()["items"][0]
    assert level["reserved"] == 0
    assert stock.verify(db=db) == []
    with db.uow(write=False) as uow:
        kinds = uow.session.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == uuid.UUID(order["id"]))
        ).all()
        sms = uow.session.scalars(
            select(Notification.template).where(Notification.medium == "sms")
        ).all()
    assert "pickup_reminded" in kinds
    assert "pickup_expired" in kinds
    assert sms == ["ready_for_pickup", "pickup_reminder", "pickup_cancelled"]
