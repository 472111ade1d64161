"""Alembic environment: runs against the URL the caller put in the config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from omnitill.adapters.db.database import make_engine
from omnitill.adapters.db.models import Base
from omnitill.adapters.db.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render our column types as their plain SQLAlchemy equivalent in migration files."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    """Run the migrations; on SQLite with foreign keys off while they run.

    SQLite alters a table by copying it into a new one and dropping the old, and with foreign
    keys enforced that drop fails as soon as another table's rows refer to it. So enforcement
    is off during the migration (SQLite ignores the pragma inside a transaction, hence on the
    driver connection first), every reference is checked afterwards, and enforcement is back on.
    """
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    try:
        _migrate(connection)
    finally:
        if sqlite:
            raw = connection.connection.driver_connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()  # type: ignore[union-attr]
            raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
            if broken:
                raise RuntimeError(f"migration left broken references: {broken[:5]}")


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
