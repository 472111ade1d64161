"""Gift cards: issue, print batches, activate, reload, check balances, ledgers, void."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from omnitill.api.deps import DbDep, require
from omnitill.api.schemas.gift_cards import (
    GiftCardAmount,
    GiftCardBatchCreate,
    GiftCardEntryRead,
    GiftCardIssue,
    GiftCardLedger,
    GiftCardList,
    GiftCardNumber,
    GiftCardRead,
    GiftCardVoid,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import gift_cards as service

router = APIRouter(prefix="/api/v1", tags=["payments"])
Seller = Annotated[Actor, Depends(require(Permission.GIFT_CARDS_SELL))]
Manager = Annotated[Actor, Depends(require(Permission.GIFT_CARDS_MANAGE))]


def to_read(view: service.GiftCardView) -> GiftCardRead:
    return GiftCardRead(
        id=str(view.id),
        display=view.display,
        currency=view.currency,
        balance=view.balance,
        status=view.status,
        expires_on=view.expires_on,
        activated_at=view.activated_at,
        created_at=view.created_at,
        code=view.code,
    )


@router.post(
    "/gift-cards",
    response_model=GiftCardRead,
    status_code=status.HTTP_201_CREATED,
    summary="Issue a gift card (its number is shown in this answer only)",
)
def issue_gift_card(body: GiftCardIssue, actor: Seller, db: DbDep) -> GiftCardRead:
    """With `amount`, active with that balance; without, inactive until activated. 422
    `gift_card.invalid_amount`, `money.unknown_currency`."""
    return to_read(
        service.issue(
            db=db,
            actor=actor,
            currency=body.currency,
            amount=body.amount,
            expires_on=body.expires_on,
            reference=body.reference,
        )
    )


@router.post(
    "/gift-cards/batches",
    response_model=GiftCardList,
    status_code=status.HTTP_201_CREATED,
    summary="Generate inactive gift cards to print",
)
def generate_gift_cards(body: GiftCardBatchCreate, actor: Manager, db: DbDep) -> GiftCardList:
    """Up to 1,000 cards, each number in this answer only. 422 `gift_card.invalid_count`."""
    views = service.generate_batch(
        db=db, actor=actor, currency=body.currency, count=body.count, expires_on=body.expires_on
    )
    return GiftCardList(items=[to_read(v) for v in views])


@router.post("/gift-cards/activate", response_model=GiftCardRead, summary="Activate a card")
def activate_gift_card(body: GiftCardAmount, actor: Seller, db: DbDep) -> GiftCardRead:
    """A printed card gets its first balance. 404 `gift_card.not_found`, 422
    `gift_card.mistyped`, 409 `gift_card.already_active`."""
    return to_read(
        service.activate(
            db=db, actor=actor, code=body.code, amount=body.amount, reference=body.reference
        )
    )


@router.post("/gift-cards/reload", response_model=GiftCardRead, summary="Reload a card")
def reload_gift_card(body: GiftCardAmount, actor: Seller, db: DbDep) -> GiftCardRead:
    """Adds value to an active card. 409 `gift_card.not_active`."""
    return to_read(
        service.reload(
            db=db, actor=actor, code=body.code, amount=body.amount, reference=body.reference
        )
    )


@router.post(
    "/gift-cards/balance",
    response_model=GiftCardRead,
    summary="Check a card's balance (rate-limited)",
)
def gift_card_balance(
    body: GiftCardNumber, actor: Seller, db: DbDep, request: Request
) -> GiftCardRead:
    """POST so the number stays out of URLs and access logs. At most 10 checks a minute per
    staff member and per client address (429 `rate_limited` with Retry-After), found or
    not, so numbers cannot be guessed by asking."""
    host = request.client.host if request.client else "unknown"
    service.check_rate(db=db, clients=(f"user:{actor.user_id}", f"ip:{host}"))
    return to_read(service.balance(db=db, actor=actor, code=body.code))


@router.get(
    "/gift-cards/{card_id}",
    response_model=GiftCardLedger,
    summary="A gift card and its ledger",
)
def gift_card_ledger(card_id: uuid.UUID, actor: Manager, db: DbDep) -> GiftCardLedger:
    """Every activation, reload, redemption and refund, oldest first. 404
    `gift_card.not_found`."""
    card, entries = service.ledger(db=db, actor=actor, card_id=card_id)
    return GiftCardLedger(
        card=to_read(card),
        entries=[
            GiftCardEntryRead(
                id=str(e.id),
                kind=e.kind,
                amount=e.amount,
                balance_after=e.balance_after,
                reference_type=e.reference_type,
                reference_id=e.reference_id,
                location=e.location,
                actor=e.actor,
                created_at=e.created_at,
            )
            for e in entries
        ],
    )


@router.post("/gift-cards/{card_id}/void", response_model=GiftCardRead, summary="Void a card")
def void_gift_card(
    card_id: uuid.UUID, body: GiftCardVoid, actor: Manager, db: DbDep
) -> GiftCardRead:
    """Lost, stolen or fraudulent: the balance leaves by a `void` entry; audited. 409
    `gift_card.void`, 422 `gift_card.reason_required`."""
    return to_read(service.void(db=db, actor=actor, card_id=card_id, reason=body.reason))
