"""Store credit: granted by hand under control, spent without overdraw, always its ledger."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, StoreCreditEntry
from omnitill.domain.errors import ValidationFailed
from omnitill.services import auth, store_credit
from tests.factories import PASSWORD, make_customer, make_user, token_for


def grant(client, headers, customer, amount=2500, reason="goodwill"):
    return client.post(
        f"/api/v1/customers/{customer.id}/store-credit",
        headers=headers,
        json={"currency": "USD", "amount": amount, "reason": reason},
    )


def test_a_manager_grants_credit_with_a_reason_and_it_is_audited(client, db, settings):
    customer = make_customer(db)
    manager = token_for(db, settings, "m1", "manager", [])
    r = grant(client, manager, customer)
    assert r.status_code == 201, r.text
    assert r.json() == {"currency": "USD", "balance": 2500}
    r = grant(client, manager, customer, amount=500)
    assert r.json()["balance"] == 3000
    account = client.get(f"/api/v1/customers/{customer.id}/store-credit", headers=manager).json()
    assert account["balances"] == [{"currency": "USD", "balance": 3000}]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in account["entries"]] == [
        ("issue", 500, 3000),
        ("issue", 2500, 2500),
    ]
    with db.uow(write=False) as uow:
        audited = uow.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "store_credit.issued")
        )
    assert audited == 2
    assert store_credit.verify(db=db) == []


def test_a_cashier_needs_a_manager_override_and_bad_input_writes_nothing(client, db, settings):
    customer = make_customer(db)
    make_user(db, "boss", "manager", [])
    cashier = token_for(db, settings, "c1", "cashier", [])
    r = grant(client, cashier, customer)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.permission_denied"
    r = client.post(
        f"/api/v1/customers/{customer.id}/store-credit",
        headers=cashier,
        json={"currency": "USD", "amount": 0, "reason": " "},
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["amount", "reason"]
    r = client.post(
        "/api/v1/overrides",
        headers=cashier,
        json={
            "manager_username": "boss",
            "manager_password": PASSWORD,
            "permission": "store_credit.issue",
            "reason": "price match",
        },
    )
    assert r.status_code == 201, r.text
    token = r.json()["override_token"]
    r = client.post(
        f"/api/v1/customers/{customer.id}/store-credit",
        headers={**cashier, "X-Manager-Override": token},
        json={"currency": "USD", "amount": 700, "reason": "price match"},
    )
    assert r.status_code == 201, r.text
    r = client.get(
        "/api/v1/customers/0190a7c4-0000-7000-8000-000000000000/store-credit", headers=cashier
    )
    assert r.status_code == 404
    with db.uow(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(StoreCreditEntry)) == 1


def test_credit_spent_from_several_registers_at_once_never_overdraws(db, settings):
    customer = make_customer(db)
    make_user(db, "m1", "manager", [])
    issued = auth.login(db=db, settings=settings, username="m1", password=PASSWORD)
    actor = auth.resolve_token(db=db, token=issued.access_token)
    store_credit.issue(
        db=db, actor=actor, customer_id=customer.id, currency="USD", amount=1000, reason="x"
    )
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def spend(n: int) -> None:
        barrier.wait()
        try:
            with db.uow() as uow:
                store_credit.redeem_in(
                    uow,
                    customer_id=customer.id,
                    currency="USD",
                    amount=400,
                    actor=actor,
                    reference_type="sale",
                    reference_id=f"s{n}",
                )
                uow.commit()
            outcomes.append("ok")
        except ValidationFailed as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert outcomes.count("ok") == 2
    assert outcomes.count("store_credit.insufficient_balance") == 6
    with db.uow() as uow, pytest.raises(ValidationFailed) as err:
        store_credit.redeem_in(
            uow,
            customer_id=customer.id,
            currency="USD",
            amount=201,
            actor=actor,
            reference_type="sale",
            reference_id="last",
        )
    assert err.value.details["balance"] == 200
    assert store_credit.verify(db=db) == []
