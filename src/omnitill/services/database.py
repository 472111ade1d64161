"""The database handle the edges (API, CLI, web) pass to services, and its lifecycle."""

from __future__ import annotations

from omnitill.adapters.db import migrate
from omnitill.adapters.db.database import Database
from omnitill.config import Settings
from omnitill.domain.errors import Unavailable

__all__ = ["Database", "open_database", "upgrade_schema"]


def open_database(settings: Settings) -> Database:
    """A database handle for the configured URL, with the pool sized from settings."""
    return Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        pre_ping=settings.db_pool_pre_ping,
    )


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations up to `revision`."""
    migrate.upgrade(url, revision)


def readiness(db: Database) -> None:
    """Raise 503 `health.database_unavailable` if the database does not answer."""
    try:
        db.ping()
    except Exception as exc:
        raise Unavailable("health.database_unavailable", "the database does not answer") from exc
