"""Webhooks over HTTP (and the dispatch command), on SQLite and PostgreSQL: subscriptions,
bad input refused with nothing written, permissions, the delivery log, replay and recover."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, WebhookSubscription
from omnitill.adapters.db.types import utcnow
from omnitill.api.app import create_app
from omnitill.config import Settings
from omnitill.services import event_relay, events, webhook_delivery
from omnitill.services.database import Database
from tests.factories import make_location, make_variant, token_for
from tests.integration.webhook_receiver import Receiver, receiving

API = "/api/v1/webhooks"
PROBLEM = "application/problem+json"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No background dispatcher: each test dispatches when it means to."""
    return settings.model_copy(update={"webhook_dispatch_seconds": 0})


@pytest.fixture
def admin(db: Database, settings: Settings) -> dict[str, str]:
    return token_for(db, settings, "hookadmin", "admin")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def webhook_rows(db: Database) -> int:
    with db.uow(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(WebhookSubscription)))


def webhook_audit(db: Database) -> list[AuditEntry]:
    with db.uow(write=False) as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.startswith("webhook."))
                .order_by(AuditEntry.seq)
            )
        )


def test_an_admin_manages_a_subscription(client, db, admin, receiver):
    created = client.post(
        API,
        headers=admin,
        json={
            "url": receiver.url,
            "description": "web shop",
            "event_types": ["sale.completed", "order.*", "sale.completed"],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret, hook = body["secret"], body["id"]
    assert secret.startswith("whsec_")
    assert body["event_types"] == ["order.*", "sale.completed"]  # deduplicated, sorted
    assert (body["status"], body["consecutive_failures"]) == ("enabled", 0)

    one = client.get(f"{API}/{hook}", headers=admin).json()
    assert "secret" not in one
    assert one["url"] == receiver.url
    listed = client.get(API, headers=admin).json()
    assert [w["id"] for w in listed["items"]] == [hook]
    assert "secret" not in listed["items"][0]

    paused = client.patch(
        f"{API}/{hook}", headers=admin, json={"status": "disabled", "description": "paused"}
    ).json()
    assert (paused["status"], paused["disabled_reason"], paused["description"]) == (
        "disabled",
        "disabled by hookadmin",
        "paused",
    )
    assert [
        w["id"] for w in client.get(f"{API}?status=enabled", headers=admin).json()["items"]
    ] == []
    resumed = client.patch(
        f"{API}/{hook}", headers=admin, json={"status": "enabled", "event_types": []}
    ).json()
    assert (resumed["status"], resumed["disabled_reason"], resumed["event_types"]) == (
        "enabled",
        None,
        [],
    )

    rotated = client.post(f"{API}/{hook}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != secret

    assert client.delete(f"{API}/{hook}", headers=admin).status_code == 204
    gone = client.get(f"{API}/{hook}", headers=admin)
    assert gone.status_code == 404
    assert gone.json()["code"] == "webhook.not_found"
    assert client.get(API, headers=admin).json()["items"] == []
    assert client.delete(f"{API}/{hook}", headers=admin).status_code == 404

    trail = webhook_audit(db)
    assert [e.action for e in trail] == [
        "webhook.created",
        "webhook.changed",
        "webhook.changed",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    assert trail[1].details["status"] == {"from": "enabled", "to": "disabled"}
    for entry in trail:  # the secret never lands in the audit trail
        assert "whsec_" not in str(entry.details)


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example/in", "javascript:alert(1)", "hooks.example/in", "https://"]
)
def test_a_url_that_is_not_http_is_refused_and_nothing_is_written(client, db, admin, url):
    answer = client.post(API, headers=admin, json={"url": url, "event_types": ["sale.completed"]})

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith(PROBLEM)
    problem = answer.json()
    assert problem["code"] == "webhook.invalid_url"
    assert problem["status"] == 422
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("url", "webhook.invalid_url")]
    assert webhook_rows(db) == 0
    assert webhook_audit(db) == []


def test_a_bad_change_leaves_the_subscription_as_it_was(client, db, admin, receiver):
    hook = client.post(API, headers=admin, json={"url": receiver.url}).json()["id"]
    for change, code, field in [
        ({"url": "file:///etc/passwd", "description": "x"}, "webhook.invalid_url", "url"),
        (
            {"event_types": ["sale.completed", "sale.refunded"], "description": "y"},
            "webhook.unknown_event_type",
            "event_types.1",
        ),
        ({"event_types": ["Sale.*"]}, "webhook.invalid_event_type", "event_types.0"),
    ]:
        answer = client.patch(f"{API}/{hook}", headers=admin, json=change)
        assert answer.status_code == 422, change
        assert answer.json()["code"] == code
        assert answer.json()["errors"][0]["field"] == field
    after = client.get(f"{API}/{hook}", headers=admin).json()
    assert (after["url"], after["description"], after["event_types"]) == (receiver.url, "", [])
    assert [e.action for e in webhook_audit(db)] == ["webhook.created"]


def test_event_types_must_be_topics_omnitill_emits(client, db, admin, receiver):
    unknown = client.post(
        API, headers=admin, json={"url": receiver.url, "event_types": ["loyalty.*"]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "webhook.unknown_event_type"
    assert "sale.completed" in unknown.json()["details"]["known"]
    # a topic the catalogue does not list yet is accepted once the outbox has seen it
    with db.uow() as uow:
        events.emit(
            uow,
            topic="loyalty.points_earned",
            aggregate_type="loyalty",
            aggregate_id="1",
            payload={},
        )
        uow.commit()
    for types in (["loyalty.*"], ["loyalty.points_earned"]):
        answer = client.post(API, headers=admin, json={"url": receiver.url, "event_types": types})
        assert answer.status_code == 201, answer.text


def test_private_addresses_are_refused_when_the_hub_faces_the_internet(settings, db):
    public = settings.model_copy(update={"webhook_allow_private_urls": False})
    with TestClient(create_app(public, db)) as client:
        headers = token_for(db, public, "hookadmin", "admin")
        answer = client.post(API, headers=headers, json={"url": "http://127.0.0.1:9/hooks"})
    assert answer.status_code == 422
    assert answer.json()["code"] == "webhook.private_url"
    assert answer.json()["errors"][0]["field"] == "url"
    assert webhook_rows(db) == 0


def test_staff_without_the_webhook_permission_get_403(client, db, settings, admin, receiver):
    hook = client.post(API, headers=admin, json={"url": receiver.url}).json()["id"]
    make_location(db, "S01")
    for role in ("cashier", "manager"):
        staff = token_for(db, settings, f"{role}1", role, ["S01"])
        some = "01900000-0000-7000-8000-000000000000"
        for method, path, body in [
            ("POST", API, {"url": receiver.url}),
            ("GET", API, None),
            ("GET", f"{API}/{hook}", None),
            ("PATCH", f"{API}/{hook}", {"status": "disabled"}),
            ("DELETE", f"{API}/{hook}", None),
            ("POST", f"{API}/{hook}/rotate-secret", None),
            ("GET", f"{API}/{hook}/deliveries", None),
            ("GET", f"{API}/{hook}/deliveries/{some}", None),
            ("POST", f"{API}/{hook}/deliveries/{some}/replay", None),
            ("POST", f"{API}/{hook}/recover", {"since": "2026-01-01T00:00:00Z"}),
        ]:
            answer = client.request(method, path, headers=staff, json=body)
            assert answer.status_code == 403, (role, method, path)
            assert answer.json()["code"] == "auth.permission_denied"
    assert client.get(f"{API}/{hook}", headers=admin).json()["status"] == "enabled"
    assert webhook_rows(db) == 1


def test_a_reservation_reaches_the_endpoint_and_the_log_shows_and_replays_it(
    client, db, settings, admin, receiver
):
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 10})
    created = client.post(
        API, headers=admin, json={"url": receiver.url, "event_types": ["reservation.*"]}
    ).json()
    hook = created["id"]
    rotated = client.post(f"{API}/{hook}/rotate-secret", headers=admin).json()["secret"]
    receiver.secret = rotated  # attempts are signed with the new secret only
    for ref in ("W-1", "W-2", "W-3"):
        reserved = client.post(
            "/api/v1/reservations",
            headers=admin,
            json={
                "reference": {"type": "order", "id": ref},
                "location": "S01",
                "lines": [{"sku": "TEE", "quantity": 1}],
            },
        )
        assert reserved.status_code == 201, reserved.text
    receiver.fail_next = 1  # the first attempt of the first delivery fails
    event_relay.publish_pending(db)
    report = webhook_delivery.dispatch_once(db=db, settings=settings, now=utcnow())
    assert (report.deliveries, report.attempts, report.succeeded) == (3, 3, 2)
    assert all(r.signature_ok for r in receiver.received)
    assert {r.json["type"] for r in receiver.received} == {"reservation.created"}

    first = client.get(f"{API}/{hook}/deliveries?limit=2", headers=admin).json()
    second = client.get(
        f"{API}/{hook}/deliveries?limit=2&cursor={first['next_cursor']}", headers=admin
    ).json()
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    pending = client.get(f"{API}/{hook}/deliveries?status=pending", headers=admin).json()
    [failed] = pending["items"]
    assert (failed["attempts"], failed["last_status_code"]) == (1, 503)
    assert failed["next_attempt_at"] is not None
    succeeded = client.get(f"{API}/{hook}/deliveries?status=succeeded", headers=admin).json()
    assert len(succeeded["items"]) == 2
    bad = client.get(f"{API}/{hook}/deliveries?status=lost", headers=admin)
    assert bad.status_code == 422
    assert bad.json()["code"] == "webhook.invalid_delivery_status"

    detail = client.get(f"{API}/{hook}/deliveries/{failed['id']}", headers=admin).json()
    assert detail["payload"]["id"] == failed["event_id"]
    assert detail["payload"]["type"] == "reservation.created"
    assert [(a["attempt"], a["trigger"], a["status_code"]) for a in detail["attempt_log"]] == [
        (1, "schedule", 503)
    ]

    replayed = client.post(f"{API}/{hook}/deliveries/{failed['id']}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "succeeded"
    assert [(a["trigger"], a["status_code"]) for a in replayed.json()["attempt_log"]] == [
        ("schedule", 503),
        ("replay", 200),
    ]
    assert receiver.received[-1].id == failed["event_id"]

    recovered = client.post(
        f"{API}/{hook}/recover", headers=admin, json={"since": "2020-01-01T00:00:00Z"}
    )
    assert recovered.status_code == 202
    assert recovered.json() == {"queued": 0}
    naive = client.post(f"{API}/{hook}/recover", headers=admin, json={"since": "2020-01-01T00:00"})
    assert naive.status_code == 422
    unknown = client.get(f"{API}/{hook}/deliveries/{created['id']}", headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "webhook.delivery_not_found"
    assert [e.action for e in webhook_audit(db)][-2:] == [
        "webhook.delivery_replayed",
        "webhook.recovered",
    ]


def test_the_dispatch_command_publishes_and_delivers(
    db, settings, admin, client, receiver, tmp_path: Path
):
    hook = client.post(API, headers=admin, json={"url": receiver.url}).json()
    receiver.secret = hook["secret"]
    with db.uow() as uow:  # committed but not yet published: the command publishes it
        events.emit(
            uow, topic="sale.completed", aggregate_type="sale", aggregate_id="1", payload={}
        )
        uow.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNITILL_")}
    env.update(
        OMNITILL_DATABASE_URL=settings.resolved_database_url,
        OMNITILL_ENVIRONMENT="test",
        OMNITILL_LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, "-m", "omnitill.cli.main", "webhooks", "dispatch", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 event(s), 1 new deliveries, 1 attempt(s), 1 succeeded" in done.stdout
    [got] = receiver.received
    assert got.signature_ok
    assert got.json["type"] == "sale.completed"
