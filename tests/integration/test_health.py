from __future__ import annotations

from fastapi.testclient import TestClient

from omnitill.api.app import create_app
from omnitill.config import Settings
from omnitill.services.database import Database


def test_health_answers_and_readiness_checks_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readiness_fails_when_the_database_is_down_but_liveness_does_not():
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    settings = Settings(database_url=url, environment="test", log_json=False)
    db = Database(url)
    with TestClient(create_app(settings, db)) as client:
        assert client.get("/healthz").status_code == 200
        down = client.get("/readyz")
    db.dispose()
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["code"] == "health.database_unavailable"
