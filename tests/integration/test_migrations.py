"""Alembic stays honest: every revision upgrades, downgrades and upgrades again (the
"stairway"), and head matches the models exactly.

Each test migrates a database of its own: a fresh SQLite file, or on PostgreSQL a fresh
database created beside the shared test database (which tests/conftest.py resets) and dropped
afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from omnitill.adapters.db import migrate
from omnitill.adapters.db.models import Base


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on `backend`, dropped after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'stairway.db'}"
        return
    pg_url = make_url(os.environ["OMNITILL_TEST_DATABASE_URL"])
    name = f"omnitill_stairway_{uuid.uuid4().hex[:12]}"
    server = create_engine(pg_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema_diffs(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_there_is_one_linear_history_of_revisions() -> None:
    revisions = migrate.revisions()
    assert revisions
    assert len(set(revisions)) == len(revisions)
    assert revisions[0] == "0001"


def test_every_revision_upgrades_downgrades_and_upgrades_again(fresh_url: str) -> None:
    for revision in migrate.revisions():
        migrate.upgrade(fresh_url, revision)
        migrate.downgrade(fresh_url, "-1")
        migrate.upgrade(fresh_url, revision)
    migrate.upgrade(fresh_url, "head")
    assert _schema_diffs(fresh_url) == []


def test_head_schema_matches_the_models(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "head")
    assert _tables(fresh_url) == set(Base.metadata.tables) | {"alembic_version"}
    assert _schema_diffs(fresh_url) == []


def test_downgrading_to_base_removes_every_table(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "head")
    migrate.downgrade(fresh_url, "base")
    assert _tables(fresh_url) <= {"alembic_version"}
    migrate.upgrade(fresh_url, "head")
    assert _schema_diffs(fresh_url) == []
