from __future__ import annotations

from sqlalchemy import delete, select, update

from omnitill.adapters.db.models import AuditEntry
from omnitill.services import audit
from tests.factories import make_user


def test_every_audited_action_is_chained_and_verifies(db):
    for n in range(3):
        make_user(db, f"user{n}", "analyst")
    assert audit.verify(db=db) == []


def test_an_altered_entry_breaks_verification_naming_it(db):
    for n in range(3):
        make_user(db, f"user{n}", "analyst")
    with db.uow() as uow:
        target = uow.session.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        uow.session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == target.id)
            .values(details={"username": "mallory"})
        )
        uow.commit()
    breaks = audit.verify(db=db)
    assert [(b.chain, b.seq, b.entry_id, b.reason) for b in breaks] == [
        ("main", 2, str(target.id), "altered")
    ]


def test_a_deleted_entry_breaks_verification(db):
    for n in range(3):
        make_user(db, f"user{n}", "analyst")
    with db.uow() as uow:
        uow.session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
        uow.commit()
    assert [(b.seq, b.reason) for b in audit.verify(db=db)] == [(3, "missing")]
