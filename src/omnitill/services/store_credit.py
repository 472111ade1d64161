"""Store credit per customer and currency, as an append-only ledger.

Credit is issued by a return refunded as store credit (`issue_in`, inside the return's
transaction) or by hand, which is sensitive (a manager's permission or override, a reason,
the audit trail); it is spent as a tender (`redeem_in`, one conditional UPDATE, so two
registers spending it at once never overdraw it). The balance of an account always equals the
sum of its ledger.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Customer,
    StoreCreditAccount,
    StoreCreditEntry,
    User,
    table,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.money import check_currency
from omnitill.services import audit
from omnitill.services.auth import authorise
from omnitill.services.retries import run_retrying

MAX_ISSUE = 1_000_000_00
_accounts = table(StoreCreditAccount)


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    balance: int


@dataclass(frozen=True, slots=True)
class Entry:
    id: uuid.UUID
    currency: str
    kind: str
    amount: int
    balance_after: int
    reason: str
    reference_type: str | None
    reference_id: str | None
    actor: str | None
    created_at: datetime


def _customer(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    if uow.session.get(Customer, customer_id) is None:
        raise NotFound("customer.not_found", "no such customer", {"id": str(customer_id)})


def issue(
    *,
    db: Database,
    actor: Actor,
    customer_id: uuid.UUID,
    currency: str,
    amount: int,
    reason: str,
    override_token: str | None = None,
) -> Balance:
    """Grant credit by hand (goodwill, a price adjustment): needs `store_credit.issue` or a
    manager override, a reason, and is audited."""
    currency = check_currency(currency)
    errors = []
    if not 0 < amount <= MAX_ISSUE:
        errors.append(FieldError("amount", "store_credit.invalid_amount", "out of range"))
    if not reason.strip():
        errors.append(FieldError("reason", "store_credit.reason_required", "required"))
    if errors:
        raise ValidationFailed(errors[0].code, "the store credit is invalid", errors=errors)

    def once() -> Balance:
        with db.uow() as uow:
            _customer(uow, customer_id)
            authorisation = authorise(
                uow,
                actor=actor,
                permission=Permission.STORE_CREDIT_ISSUE,
                override_token=override_token,
                used_for=f"store_credit:{customer_id}",
            )
            after = issue_in(
                uow,
                customer_id=customer_id,
                currency=currency,
                amount=amount,
                kind="issue",
                reason=reason.strip(),
                actor=actor,
                reference_type="manual",
                reference_id=None,
            )
            audit.record(
                uow,
                action="store_credit.issued",
                actor=actor,
                subject_type="customer",
                subject_id=str(customer_id),
                details={
                    "amount": amount,
                    "currency": currency,
                    "reason": reason.strip(),
                    **authorisation.as_details(),
                },
            )
            uow.commit()
            return Balance(currency, after)

    return run_retrying(once)


def issue_in(
    uow: UnitOfWork,
    *,
    customer_id: uuid.UUID,
    currency: str,
    amount: int,
    kind: str,
    reason: str,
    actor: Actor,
    reference_type: str | None,
    reference_id: str | None,
) -> int:
    """Add `amount` to the customer's credit in the caller's transaction; the new balance."""
    dialect: Any = postgresql if uow.connection.dialect.name == "postgresql" else sqlite
    now = utcnow()
    stmt = dialect.insert(_accounts).values(
        customer_id=customer_id, currency=currency, balance_minor=amount, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["customer_id", "currency"],
        set_={"balance_minor": _accounts.c.balance_minor + amount, "updated_at": now},
    ).returning(_accounts.c.balance_minor)
    after = int(uow.connection.execute(stmt).scalar_one())
    _entry(
        uow,
        customer_id,
        currency,
        kind,
        amount,
        after,
        reason,
        actor,
        reference_type,
        reference_id,
        now,
    )
    return after


def redeem_in(
    uow: UnitOfWork,
    *,
    customer_id: uuid.UUID,
    currency: str,
    amount: int,
    actor: Actor,
    reference_type: str,
    reference_id: str,
    field: str = "customer",
) -> int:
    """Spend `amount` of the customer's credit; 422 `store_credit.insufficient_balance`
    (with the balance) when it does not cover it. One conditional UPDATE."""
    now = utcnow()
    after = uow.connection.execute(
        update(_accounts)
        .where(
            _accounts.c.customer_id == customer_id,
            _accounts.c.currency == currency,
            _accounts.c.balance_minor >= amount,
        )
        .values(balance_minor=_accounts.c.balance_minor - amount, updated_at=now)
        .returning(_accounts.c.balance_minor)
    ).scalar_one_or_none()
    if after is None:
        held = uow.connection.execute(
            select(_accounts.c.balance_minor).where(
                _accounts.c.customer_id == customer_id, _accounts.c.currency == currency
            )
        ).scalar()
        raise ValidationFailed(
            "store_credit.insufficient_balance",
            "the customer's store credit does not cover the amount",
            {"balance": int(held or 0), "currency": currency, "requested": amount},
            errors=[FieldError(field, "store_credit.insufficient_balance", "not enough credit")],
        )
    _entry(
        uow,
        customer_id,
        currency,
        "redeem",
        -amount,
        int(after),
        "",
        actor,
        reference_type,
        reference_id,
        now,
    )
    return int(after)


def _entry(
    uow: UnitOfWork,
    customer_id: uuid.UUID,
    currency: str,
    kind: str,
    amount: int,
    after: int,
    reason: str,
    actor: Actor,
    reference_type: str | None,
    reference_id: str | None,
    now: datetime,
) -> None:
    uow.session.add(
        StoreCreditEntry(
            id=uuid7(),
            customer_id=customer_id,
            currency=currency,
            kind=kind,
            amount_minor=amount,
            balance_after_minor=after,
            reason=reason,
            reference_type=reference_type,
            reference_id=reference_id,
            actor_id=actor.user_id,
            created_at=now,
        )
    )


def account(
    *, db: Database, actor: Actor, customer_id: uuid.UUID
) -> tuple[list[Balance], list[Entry]]:
    """The customer's balances (one per currency) and ledger, newest first."""
    actor.require(Permission.CUSTOMERS_READ)
    with db.uow(write=False) as uow:
        _customer(uow, customer_id)
        balances = [
            Balance(currency, int(balance))
            for currency, balance in uow.session.execute(
                select(StoreCreditAccount.currency, StoreCreditAccount.balance_minor)
                .where(StoreCreditAccount.customer_id == customer_id)
                .order_by(StoreCreditAccount.currency)
            ).all()
        ]
        rows = uow.session.execute(
            select(StoreCreditEntry, User.username)
            .outerjoin(User, User.id == StoreCreditEntry.actor_id)
            .where(StoreCreditEntry.customer_id == customer_id)
            .order_by(StoreCreditEntry.id.desc())
            .limit(200)
        ).all()
        return balances, [
            Entry(
                e.id,
                e.currency,
                e.kind,
                e.amount_minor,
                e.balance_after_minor,
                e.reason,
                e.reference_type,
                e.reference_id,
                username,
                e.created_at,
            )
            for e, username in rows
        ]


def verify(*, db: Database) -> list[tuple[uuid.UUID, str, int, int]]:
    """Every account whose balance differs from its ledger: (customer, currency, balance, sum)."""
    with db.uow(write=False) as uow:
        sums = {
            (c, cur): int(total)
            for c, cur, total in uow.session.execute(
                select(
                    StoreCreditEntry.customer_id,
                    StoreCreditEntry.currency,
                    func.sum(StoreCreditEntry.amount_minor),
                ).group_by(StoreCreditEntry.customer_id, StoreCreditEntry.currency)
            ).all()
        }
        balances = {
            (c, cur): int(b)
            for c, cur, b in uow.session.execute(
                select(
                    StoreCreditAccount.customer_id,
                    StoreCreditAccount.currency,
                    StoreCreditAccount.balance_minor,
                )
            ).all()
        }
        return [
            (c, cur, balances.get((c, cur), 0), sums.get((c, cur), 0))
            for c, cur in sorted(set(sums) | set(balances), key=str)
            if balances.get((c, cur), 0) != sums.get((c, cur), 0)
        ]
