"""Fixtures shared by every layer of tests.

Tests that take the `db` fixture run once on SQLite and, when OMNITILL_TEST_DATABASE_URL is
set, once more on PostgreSQL (test ids end in ``[sqlite]`` / ``[postgres]``). The PostgreSQL
variant is generated, never skipped: without the variable it does not exist, and `.ci/run`
refuses a run in which no ``[postgres]`` test ran.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import create_engine, text

from omnitill.adapters.db.models import Base
from omnitill.config import Settings
from omnitill.services.database import Database, upgrade_schema

PG_URL = os.environ.get("OMNITILL_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, scope="session")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "omnitill.db"
    upgrade_schema(f"sqlite:///{path}")
    return path


_pg_migrated = False
# Rows the migrations seed (the standard channels), restored after each truncation so every
# PostgreSQL test starts from the same database as a fresh SQLite copy.
_pg_seeded: dict[str, list[dict[str, object]]] = {}
SEEDED_TABLES = ("channels",)


def _pg_reset() -> None:
    global _pg_migrated
    assert PG_URL
    if not _pg_migrated:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade_schema(PG_URL)
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            for name in SEEDED_TABLES:
                table = Base.metadata.tables[name]
                _pg_seeded[name] = [dict(r._mapping) for r in conn.execute(table.select())]
        engine.dispose()
        _pg_migrated = True
        return
    engine = create_engine(PG_URL)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
        for name, rows in _pg_seeded.items():
            if rows:
                conn.execute(Base.metadata.tables[name].insert(), rows)
    engine.dispose()


@pytest.fixture
def db_url(backend: str, sqlite_template: Path, tmp_path: Path) -> str:
    if backend == "sqlite":
        target = tmp_path / "omnitill.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite:///{target}"
    _pg_reset()
    assert PG_URL
    return PG_URL


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database, for tests of SQLite-specific behaviour only."""
    target = tmp_path / "sqlite-only.db"
    shutil.copyfile(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        data_dir=tmp_path,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.resolved_database_url, pool_size=20, max_overflow=10)
    yield database
    database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    from omnitill.api.app import create_app

    return create_app(settings, db)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
