"""Every reservation change and its outbox event commit together (DESIGN invariant 7)."""

from __future__ import annotations

from sqlalchemy import select

from omnitill.adapters.db.models import OutboxEvent
from tests.factories import make_location, make_variant, token_for


def test_each_reservation_change_writes_its_event(client, db, settings):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 10})
    headers = token_for(db, settings, "m1", "manager", ["S01"])

    def reserve(ref, qty):
        return client.post(
            "/api/v1/reservations",
            headers=headers,
            json={
                "reference": {"type": "order", "id": ref},
                "location": "S01",
                "lines": [{"sku": "TEE", "quantity": qty}],
            },
        )

    first = reserve("W-1", 2).json()["id"]
    second = reserve("W-2", 1).json()["id"]
    assert reserve("W-3", 99).status_code == 409  # refused: no event
    client.post(f"/api/v1/reservations/{first}/release", headers=headers)
    client.post(f"/api/v1/reservations/{second}/fulfil", headers=headers)
    client.post(f"/api/v1/reservations/{first}/release", headers=headers)  # replay: no event
    with db.uow(write=False) as uow:
        events = uow.session.execute(
            select(OutboxEvent.topic, OutboxEvent.aggregate_id, OutboxEvent.payload)
            .where(OutboxEvent.aggregate_type == "reservation")
            .order_by(OutboxEvent.id)
        ).all()
    assert [(topic, agg) for topic, agg, _ in events] == [
        ("reservation.created", first),
        ("reservation.created", second),
        ("reservation.released", first),
        ("reservation.fulfilled", second),
    ]
    assert events[0][2]["lines"] == [{"sku": "TEE", "quantity": 2}]
    assert events[0][2]["reference"] == {"type": "order", "id": "W-1"}
