"""Engines and the unit of work.

SQLite (embedded default): WAL journal, foreign keys on, a busy timeout, and ``BEGIN
IMMEDIATE`` for every write transaction so writers queue on the database lock up front instead
of failing on upgrade from a read lock. PostgreSQL: psycopg 3 with a pooled engine.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session

_engines: dict[str, Engine] = {}


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    busy_timeout_ms: int = 15_000,
    pre_ping: bool = False,
) -> Engine:
    """A new engine for `url` with omnitill's connection settings.

    PostgreSQL connections are recycled hourly. `pre_ping` (a round trip on every checkout)
    is off by default because every request checks out a connection; a connection that died
    is invalidated on first use, that request fails, and the pool reconnects.
    """
    if url.startswith("sqlite"):
        return _sqlite_engine(url, busy_timeout_ms)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=3600,
    )


class UnitOfWork:
    """One database transaction. Rolls back on exit unless `commit()` was called.

    ``with db.uow() as uow: ...; uow.commit()`` — only services open and commit these.
    """

    def __init__(self, bind: Engine, *, write: bool) -> None:
        self._engine = bind
        self._write = write
        self._committed = False
        # What a service read once for this transaction (the cached reference data), so the
        # loaders it calls do not read it again.
        self.memo: dict[str, object] = {}

    def __enter__(self) -> UnitOfWork:
        self.session = Session(bind=self._engine, expire_on_commit=False, autoflush=True)
        self.session.begin()
        return self

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for Core statements on hot paths."""
        return self.session.connection()

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def rollback(self) -> None:
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._write and not self._committed:
                self.session.rollback()
        finally:
            # close() ends a read transaction without expiring what it loaded, so a service
            # may return ORM objects read in a `write=False` unit of work.
            self.session.close()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def database_key(self) -> str:
        """Which database this is, for per-database caches (the URL, password masked)."""
        return str(self._engine.url)


class Database:
    """The database of one process: its engine and the units of work it hands out."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        busy_timeout_ms: int = 15_000,
        pre_ping: bool = False,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            busy_timeout_ms=busy_timeout_ms,
            pre_ping=pre_ping,
        )
        sqlite_db = self.engine.dialect.name == "sqlite"
        self._writer = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if sqlite_db else self.engine
        )
        self._reader = (
            self.engine
            if sqlite_db
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self, *, write: bool = True) -> UnitOfWork:
        """A unit of work; `write=False` for reads.

        Writes on SQLite begin IMMEDIATE (take the write lock up front). Reads on PostgreSQL
        run without BEGIN/ROLLBACK round trips: under READ COMMITTED every statement takes its
        own snapshot anyway, so an explicit read transaction would only add latency. Reads on
        SQLite keep a deferred transaction, which gives them one consistent WAL snapshot.
        """
        return UnitOfWork(self._writer if write else self._reader, write=write)

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
