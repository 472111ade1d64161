from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from omnitill.adapters.db.models import AuditEntry, SalePayment, StockMovement
from omnitill.services import audit, stock
from tests.factories import make_location, make_register, make_user, make_variant, token_for
from tests.tamper import attacker


def test_every_audited_action_is_chained_and_verifies(db):
    for n in range(3):
        make_user(db, f"user{n}", "analyst")
    assert audit.verify(db=db) == []


def test_an_altered_entry_breaks_verification_naming_it(db):
    for n in range(3):
        make_user(db, f"user{n}", "analyst")
    with db.uow(write=False) as uow:
        target = uow.session.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
    with attacker(db.url) as conn:
        conn.execute(
            update(AuditEntry)
            .where(AuditEntry.id == target.id)
            .values(details={"username": "mallory"})
        )
    breaks = audit.verify(db=db)
    assert [(b.chain, b.seq, b.entry_id, b.reason) for b in breaks] == [
        ("main", 2, str(target.id), "altered")
    ]


def test_a_deleted_entry_breaks_verification(db):
    for n in range(3):
        make_user(db, f"user{n}", "analyst")
    with attacker(db.url) as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    assert [(b.seq, b.reason) for b in audit.verify(db=db)] == [(3, "missing")]


def run(db, statement):
    with db.uow() as uow:
        uow.session.execute(statement)
        uow.commit()


def test_the_database_refuses_to_rewrite_or_delete_ledger_rows(client, db, settings):
    s01 = make_location(db, "S01")
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="HAT", price=1000, stock={s01: 2})
    headers = token_for(db, settings, "c1", "cashier", ["S01"])
    sale = client.post(
        "/api/v1/sales",
        headers=headers,
        json={
            "location": "S01",
            "register": "S01-R1",
            "lines": [{"sku": "HAT", "quantity": 1}],
            "payments": [{"method": "cash", "amount": 2000}],
        },
    )
    assert sale.status_code == 201
    statements = [
        update(AuditEntry).values(actor="mallory"),
        delete(AuditEntry),
        update(StockMovement).values(quantity=0),
        delete(StockMovement),
        update(SalePayment).values(amount_minor=1),
        delete(SalePayment),
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            run(db, statement)
    assert audit.verify(db=db) == []
    assert stock.verify(db=db) == []
