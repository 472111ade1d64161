"""Gift card bodies. Numbers travel in bodies only, never in URLs (which end up in logs)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class GiftCardIssue(BaseModel):
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code.")
    amount: int | None = Field(
        default=None,
        description="First balance in minor units; omit to issue an inactive card.",
    )
    expires_on: date | None = Field(
        default=None, description="Last day it may be spent; omit where the law forbids expiry."
    )
    reference: str | None = Field(default=None, max_length=64)


class GiftCardBatchCreate(BaseModel):
    currency: str = Field(min_length=3, max_length=3)
    count: int = Field(description="1 to 1,000 inactive cards to print.")
    expires_on: date | None = None


class GiftCardNumber(BaseModel):
    code: str = Field(max_length=40, description="The card number, as typed or scanned.")


class GiftCardAmount(GiftCardNumber):
    amount: int = Field(description="Minor units of the card's currency.")
    reference: str | None = Field(default=None, max_length=64)


class GiftCardVoid(BaseModel):
    reason: str = Field(max_length=200)


class GiftCardRead(BaseModel):
    id: str
    display: str = Field(description="The number masked but its last four characters.")
    currency: str
    balance: int
    status: str = Field(description="inactive | active | void")
    expires_on: date | None
    activated_at: datetime | None
    created_at: datetime
    code: str | None = Field(
        default=None, description="The full number: only in the answer that issued the card."
    )


class GiftCardList(BaseModel):
    items: list[GiftCardRead]


class GiftCardEntryRead(BaseModel):
    id: str
    kind: str = Field(description="activate | reload | redeem | refund | void")
    amount: int = Field(description="Signed change of the balance.")
    balance_after: int
    reference_type: str | None
    reference_id: str | None
    location: str | None
    actor: str | None
    created_at: datetime


class GiftCardLedger(BaseModel):
    card: GiftCardRead
    entries: list[GiftCardEntryRead]
