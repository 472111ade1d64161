from __future__ import annotations

import threading

from sqlalchemy import text


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_a_write_unit_of_work_takes_the_write_lock_up_front_on_sqlite(sqlite_db):
    """BEGIN IMMEDIATE: a second writer waits at BEGIN instead of failing at its first
    write with 'database is locked' after reading under a shared lock."""
    db = sqlite_db
    order: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def first() -> None:
        with db.uow() as uow:
            uow.connection.execute(text("SELECT 1"))
            order.append("first began")
            first_in.set()
            release.wait(5)
            order.append("first commits")
            uow.commit()

    def second() -> None:
        first_in.wait(5)
        with db.uow() as uow:
            uow.connection.execute(text("SELECT 1"))
            order.append("second began")
            uow.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_in.wait(5)
    threading.Timer(0.3, release.set).start()
    for t in threads:
        t.join(10)
    assert order == ["first began", "first commits", "second began"]


def test_a_foreign_key_violation_is_refused_on_both_databases(db):
    import uuid

    import pytest
    from sqlalchemy.exc import IntegrityError

    from omnitill.adapters.db.models import Register

    with pytest.raises(IntegrityError), db.uow() as uow:  # noqa: PT012
        uow.session.add(Register(code="X-R1", location_id=uuid.uuid4(), name="orphan"))
        uow.commit()
