"""Gift cards: issue, activate, reload, redeem, refund, check, expire; every change a ledger entry.

The balance is a projection of the card's append-only ledger, changed in the same
transaction as the entry, by one conditional UPDATE: a redemption takes the amount only while
the balance covers it, so two registers spending one card at the same moment can never take
it below zero (the second is refused with the balance left). `redeem_in`, `refund_in` and
`activate_in` work inside a caller's unit of work (a sale paying with a card, a return
refunding to it, a sale of a gift card activating it); the rest are use cases of their own.

Numbers are bearer secrets: only their digest is kept (domain/payments/gift_cards.py); the
number is shown once, when it is issued. Balance checks are rate-limited per client.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import GiftCard, GiftCardEntry, Location, User
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.money import check_currency
from omnitill.domain.payments import gift_cards as rules
from omnitill.domain.payments.gift_cards import GiftCardStatus
from omnitill.services import audit, rate_limits
from omnitill.services.retries import run_retrying

MAX_BATCH = 1000
MAX_BALANCE = 1_000_000_00  # minor units; a card above it is almost surely a typo
BALANCE_CHECKS_PER_MINUTE = 10


@dataclass(frozen=True, slots=True)
class GiftCardView:
    id: uuid.UUID
    display: str
    currency: str
    balance: int
    status: str
    expires_on: date | None
    activated_at: datetime | None
    created_at: datetime
    code: str | None = None  # only when just issued


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: uuid.UUID
    kind: str
    amount: int
    balance_after: int
    reference_type: str | None
    reference_id: str | None
    location: str | None
    actor: str | None
    created_at: datetime


def _view(card: GiftCard, code: str | None = None) -> GiftCardView:
    return GiftCardView(
        card.id,
        rules.display(card.code_last4),
        card.currency,
        card.balance_minor,
        card.status,
        card.expires_on,
        card.activated_at,
        card.created_at,
        code,
    )


def _check_amount(amount: int, field: str = "amount") -> None:
    if not 0 < amount <= MAX_BALANCE:
        raise ValidationFailed(
            "gift_card.invalid_amount",
            f"an amount is between 1 and {MAX_BALANCE} minor units",
            errors=[FieldError(field, "gift_card.invalid_amount", "out of range")],
        )


# --- issuing --------------------------------------------------------------------------------


def issue(
    *,
    db: Database,
    actor: Actor,
    currency: str,
    amount: int | None,
    expires_on: date | None = None,
    reference: str | None = None,
) -> GiftCardView:
    """A new card; with `amount`, active with that balance (an `activate` entry), else
    inactive, to be activated when sold. The number is in the answer, and nowhere after."""
    actor.require(Permission.GIFT_CARDS_SELL)
    currency = check_currency(currency)
    if amount is not None:
        _check_amount(amount)
    with db.uow() as uow:
        card, code = new_card(uow, currency, expires_on)
        if amount is not None:
            activate_in(
                uow,
                card=card,
                amount=amount,
                actor=actor,
                reference_type="manual" if reference is None else "reference",
                reference_id=reference,
            )
        audit.record(
            uow,
            action="gift_card.issued",
            actor=actor,
            subject_type="gift_card",
            subject_id=str(card.id),
            details={"last4": card.code_last4, "amount": amount, "currency": currency},
        )
        uow.commit()
        return _view(card, code)


def generate_batch(
    *, db: Database, actor: Actor, currency: str, count: int, expires_on: date | None = None
) -> list[GiftCardView]:
    """`count` inactive cards to print; their numbers are in this answer only."""
    actor.require(Permission.GIFT_CARDS_MANAGE)
    currency = check_currency(currency)
    if not 1 <= count <= MAX_BATCH:
        raise ValidationFailed(
            "gift_card.invalid_count",
            f"a batch holds 1 to {MAX_BATCH} cards",
            errors=[FieldError("count", "gift_card.invalid_count", "out of range")],
        )
    with db.uow() as uow:
        made = [new_card(uow, currency, expires_on) for _ in range(count)]
        audit.record(
            uow,
            action="gift_card.batch_generated",
            actor=actor,
            subject_type="gift_card",
            subject_id=str(made[0][0].id),
            details={"count": count, "currency": currency},
        )
        uow.commit()
        return [_view(card, code) for card, code in made]


def new_card(uow: UnitOfWork, currency: str, expires_on: date | None) -> tuple[GiftCard, str]:
    """An inactive card and its number (shown once, never stored)."""
    code = rules.new_code()
    chars = rules.canonical(code)
    assert chars is not None
    card = GiftCard(
        id=uuid7(),
        code_hash=rules.digest(chars),
        code_last4=chars[-4:],
        currency=currency,
        balance_minor=0,
        status=GiftCardStatus.INACTIVE,
        expires_on=expires_on,
    )
    uow.session.add(card)
    uow.session.flush()
    return card, code


# --- finding a card by its number ------------------------------------------------------------


def find(uow: UnitOfWork, code: str, *, field: str = "code", lock: bool = False) -> GiftCard:
    """The card with this number; 422 `gift_card.mistyped` when its check character is wrong
    (a typo, told apart from an unknown card), 404 `gift_card.not_found` otherwise."""
    chars = rules.canonical(code)
    if chars is not None and rules.is_mistyped(chars):
        raise ValidationFailed(
            "gift_card.mistyped",
            "the gift card number's check character does not match: a character was mistyped",
            errors=[FieldError(field, "gift_card.mistyped", "check the number")],
        )
    card = None
    if chars is not None:
        stmt = select(GiftCard).where(GiftCard.code_hash == rules.digest(chars))
        if lock:
            stmt = stmt.with_for_update()
        card = uow.session.scalars(stmt).one_or_none()
    if card is None:
        raise NotFound("gift_card.not_found", "no gift card with this number")
    return card


def check_rate(*, db: Database, clients: tuple[str, ...]) -> None:
    """Count a balance check for each client key (staff member, address); 429
    `rate_limited` past BALANCE_CHECKS_PER_MINUTE a minute for any of them."""
    now = utcnow()
    for client in clients:
        rate_limits.hit(
            db,
            key=f"gift_card_balance:{client}",
            limit=BALANCE_CHECKS_PER_MINUTE,
            window=timedelta(minutes=1),
            now=now,
            what="gift card balance checks",
        )


def balance(*, db: Database, actor: Actor, code: str) -> GiftCardView:
    """The card with this number (its balance), for the customer at the till or online;
    callers check the rate first (`check_rate`), found or not, so numbers cannot be
    guessed by asking."""
    actor.require(Permission.GIFT_CARDS_SELL)
    with db.uow(write=False) as uow:
        return _view(find(uow, code))


# --- money in and out -------------------------------------------------------------------------


def activate(
    *, db: Database, actor: Actor, code: str, amount: int, reference: str | None = None
) -> GiftCardView:
    """Activate a printed (inactive) card with its first balance."""
    actor.require(Permission.GIFT_CARDS_SELL)
    _check_amount(amount)

    def once() -> GiftCardView:
        with db.uow() as uow:
            card = find(uow, code, lock=True)
            activate_in(
                uow,
                card=card,
                amount=amount,
                actor=actor,
                reference_type="reference" if reference else "manual",
                reference_id=reference,
            )
            uow.commit()
            return _view(card)

    return run_retrying(once)


def activate_in(
    uow: UnitOfWork,
    *,
    card: GiftCard,
    amount: int,
    actor: Actor,
    reference_type: str | None,
    reference_id: str | None,
    location_id: uuid.UUID | None = None,
) -> int:
    """Inactive -> active with `amount` (409 `gift_card.already_active` otherwise)."""
    now = utcnow()
    done = uow.session.execute(
        update(GiftCard)
        .where(GiftCard.id == card.id, GiftCard.status == GiftCardStatus.INACTIVE)
        .values(
            status=GiftCardStatus.ACTIVE,
            balance_minor=GiftCard.balance_minor + amount,
            activated_at=now,
            updated_at=now,
        )
        .returning(GiftCard.balance_minor)
        .execution_options(synchronize_session="fetch")
    ).scalar_one_or_none()
    if done is None:
        raise Conflict(
            "gift_card.already_active",
            "this gift card was activated already: reload it instead",
            {"status": card.status},
        )
    _entry(
        uow,
        card.id,
        "activate",
        amount,
        int(done),
        reference_type,
        reference_id,
        actor,
        now,
        location_id,
    )
    return int(done)


def reload(
    *, db: Database, actor: Actor, code: str, amount: int, reference: str | None = None
) -> GiftCardView:
    """Add value to an active card."""
    actor.require(Permission.GIFT_CARDS_SELL)
    _check_amount(amount)

    def once() -> GiftCardView:
        with db.uow() as uow:
            card = find(uow, code)
            if card.status != GiftCardStatus.ACTIVE:
                raise Conflict(
                    "gift_card.not_active", f"the card is {card.status}", {"status": card.status}
                )
            _credit(
                uow,
                card,
                amount,
                "reload",
                "reference" if reference else "manual",
                reference,
                actor,
            )
            uow.commit()
            uow.session.refresh(card)
            return _view(card)

    return run_retrying(once)


def redeem_in(
    uow: UnitOfWork,
    *,
    code: str,
    amount: int,
    currency: str,
    today: date,
    actor: Actor,
    reference_type: str,
    reference_id: str,
    location_id: uuid.UUID | None = None,
    field: str = "code",
) -> tuple[GiftCard, int]:
    """Spend `amount` of a card inside the caller's transaction; (card, balance after).

    One conditional UPDATE: the balance is taken only while it covers `amount`, so
    concurrent redemptions never overdraw; a refusal is 422 with a stable code
    (`gift_card.insufficient_balance` with the balance, `gift_card.expired`, ...).
    """
    card = find(uow, code, field=field)
    refused = rules.refusal(
        rules.CardState(card.status, card.currency, card.balance_minor, card.expires_on),
        amount=amount,
        currency=currency,
        today=today,
    )
    after = None
    if refused is None:
        now = utcnow()
        after = uow.session.execute(
            update(GiftCard)
            .where(
                GiftCard.id == card.id,
                GiftCard.status == GiftCardStatus.ACTIVE,
                GiftCard.balance_minor >= amount,
            )
            .values(balance_minor=GiftCard.balance_minor - amount, updated_at=now)
            .returning(GiftCard.balance_minor)
            .execution_options(synchronize_session="fetch")
        ).scalar_one_or_none()
        if after is None:  # another register spent it a moment ago
            uow.session.refresh(card)
            refused = "gift_card.insufficient_balance"
        else:
            _entry(
                uow,
                card.id,
                "redeem",
                -amount,
                int(after),
                reference_type,
                reference_id,
                actor,
                now,
                location_id,
            )
    if refused is not None:
        raise ValidationFailed(
            refused,
            _REFUSALS.get(refused, refused),
            {"balance": card.balance_minor, "currency": card.currency, "requested": amount},
            errors=[FieldError(field, refused, _REFUSALS.get(refused, refused))],
        )
    assert after is not None
    return card, int(after)


_REFUSALS = {
    "gift_card.inactive": "the card has not been activated",
    "gift_card.void": "the card was voided",
    "gift_card.expired": "the card has expired",
    "gift_card.currency_mismatch": "the card holds another currency",
    "gift_card.insufficient_balance": "the card's balance does not cover the amount",
}


def refund_in(
    uow: UnitOfWork,
    *,
    card_id: uuid.UUID,
    amount: int,
    actor: Actor,
    reference_type: str,
    reference_id: str,
) -> int:
    """Put `amount` back on a card (a return refunded to the card it was paid with)."""
    card = uow.session.get(GiftCard, card_id)
    if card is None:
        raise NotFound("gift_card.not_found", "no such gift card")
    return _credit(uow, card, amount, "refund", reference_type, reference_id, actor)


def _credit(
    uow: UnitOfWork,
    card: GiftCard,
    amount: int,
    kind: str,
    reference_type: str | None,
    reference_id: str | None,
    actor: Actor,
) -> int:
    now = utcnow()
    after = uow.session.execute(
        update(GiftCard)
        .where(GiftCard.id == card.id)
        .values(balance_minor=GiftCard.balance_minor + amount, updated_at=now)
        .returning(GiftCard.balance_minor)
        .execution_options(synchronize_session="fetch")
    ).scalar_one()
    _entry(uow, card.id, kind, amount, int(after), reference_type, reference_id, actor, now, None)
    return int(after)


def _entry(
    uow: UnitOfWork,
    card_id: uuid.UUID,
    kind: str,
    amount: int,
    after: int,
    reference_type: str | None,
    reference_id: str | None,
    actor: Actor,
    now: datetime,
    location_id: uuid.UUID | None,
) -> None:
    uow.session.add(
        GiftCardEntry(
            id=uuid7(),
            gift_card_id=card_id,
            kind=kind,
            amount_minor=amount,
            balance_after_minor=after,
            reference_type=reference_type,
            reference_id=reference_id,
            location_id=location_id,
            actor_id=actor.user_id,
            created_at=now,
        )
    )


# --- managing ---------------------------------------------------------------------------------


def ledger(
    *, db: Database, actor: Actor, card_id: uuid.UUID
) -> tuple[GiftCardView, list[LedgerEntry]]:
    """A card and its ledger, oldest first (staff with gift_cards.manage)."""
    actor.require(Permission.GIFT_CARDS_MANAGE)
    with db.uow(write=False) as uow:
        card = uow.session.get(GiftCard, card_id)
        if card is None:
            raise NotFound("gift_card.not_found", "no such gift card")
        rows = uow.session.execute(
            select(GiftCardEntry, Location.code, User.username)
            .outerjoin(Location, Location.id == GiftCardEntry.location_id)
            .outerjoin(User, User.id == GiftCardEntry.actor_id)
            .where(GiftCardEntry.gift_card_id == card_id)
            .order_by(GiftCardEntry.id)
        ).all()
        return _view(card), [
            LedgerEntry(
                e.id,
                e.kind,
                e.amount_minor,
                e.balance_after_minor,
                e.reference_type,
                e.reference_id,
                code,
                username,
                e.created_at,
            )
            for e, code, username in rows
        ]


def void(*, db: Database, actor: Actor, card_id: uuid.UUID, reason: str) -> GiftCardView:
    """Void a card (lost, stolen, fraud): its balance leaves by a `void` entry; audited."""
    actor.require(Permission.GIFT_CARDS_MANAGE)
    if not reason.strip():
        raise ValidationFailed(
            "gift_card.reason_required",
            "voiding a card needs a reason",
            errors=[FieldError("reason", "gift_card.reason_required", "required")],
        )

    def once() -> GiftCardView:
        with db.uow() as uow:
            card = uow.session.get(GiftCard, card_id, with_for_update=True)
            if card is None:
                raise NotFound("gift_card.not_found", "no such gift card")
            if card.status == GiftCardStatus.VOID:
                raise Conflict("gift_card.void", "the card is void already")
            balance = card.balance_minor
            now = utcnow()
            card.status = GiftCardStatus.VOID
            card.balance_minor = 0
            card.updated_at = now
            _entry(uow, card.id, "void", -balance, 0, "manual", None, actor, now, None)
            audit.record(
                uow,
                action="gift_card.voided",
                actor=actor,
                subject_type="gift_card",
                subject_id=str(card.id),
                details={"balance": balance, "currency": card.currency, "reason": reason.strip()},
            )
            uow.commit()
            return _view(card)

    return run_retrying(once)


def verify(*, db: Database) -> list[tuple[uuid.UUID, int, int]]:
    """Every card whose balance differs from the sum of its ledger: (id, balance, sum)."""
    from sqlalchemy import func

    with db.uow(write=False) as uow:
        sums = dict(
            uow.session.execute(
                select(GiftCardEntry.gift_card_id, func.sum(GiftCardEntry.amount_minor)).group_by(
                    GiftCardEntry.gift_card_id
                )
            ).all()
        )
        return [
            (card_id, int(balance), int(sums.get(card_id) or 0))
            for card_id, balance in uow.session.execute(
                select(GiftCard.id, GiftCard.balance_minor)
            ).all()
            if int(balance) != int(sums.get(card_id) or 0)
        ]
