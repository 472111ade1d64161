"""Request and response bodies for price lists, their entries, exchange rates and rounding.

Prices are integers in minor units of the list's `currency`. Rates are decimal strings.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

_CHANNELS = "Channels it applies on (in_store, web, marketplace, social, phone); empty: all."
_LOCATIONS = "Location codes it applies at; empty: all."
_GROUPS = "Customer group codes it applies to; empty: every customer, anonymous ones too."
_WINDOW = "UTC; `ends_at` is exclusive. Null: open-ended."
_PRIORITY = "Among lists that apply, the highest priority pricing a variant wins."


class PriceListCreate(BaseModel):
    """A new price list; its currency is fixed for life (entries are priced in it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Wholesale EUR",
                    "currency": "EUR",
                    "priority": 10,
                    "tax_inclusive": True,
                    "channels": ["in_store"],
                    "customer_groups": ["wholesale"],
                }
            ]
        }
    )
    name: str = Field(min_length=1, max_length=200, description="Unique.")
    currency: str = Field(max_length=3, description="ISO 4217.")
    priority: int = Field(0, ge=-1_000_000, le=1_000_000, description=_PRIORITY)
    tax_inclusive: bool = Field(False, description="Its prices include tax (VAT).")
    channels: list[str] = Field(default_factory=list, max_length=10, description=_CHANNELS)
    locations: list[str] = Field(default_factory=list, max_length=500, description=_LOCATIONS)
    customer_groups: list[str] = Field(default_factory=list, max_length=50, description=_GROUPS)
    starts_at: AwareDatetime | None = Field(None, description=_WINDOW)
    ends_at: AwareDatetime | None = Field(None, description=_WINDOW)
    active: bool = True


class PriceListUpdate(BaseModel):
    """Only the fields sent change; null clears `starts_at` or `ends_at`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    name: str | None = Field(None, max_length=200)
    priority: int | None = Field(None, ge=-1_000_000, le=1_000_000, description=_PRIORITY)
    tax_inclusive: bool | None = None
    channels: list[str] | None = Field(None, max_length=10, description=_CHANNELS)
    locations: list[str] | None = Field(None, max_length=500, description=_LOCATIONS)
    customer_groups: list[str] | None = Field(None, max_length=50, description=_GROUPS)
    starts_at: AwareDatetime | None = Field(None, description=_WINDOW)
    ends_at: AwareDatetime | None = Field(None, description=_WINDOW)
    active: bool | None = None


class PriceListRead(BaseModel):
    id: uuid.UUID
    name: str
    currency: str
    priority: int
    tax_inclusive: bool
    channels: list[str]
    locations: list[str]
    customer_groups: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool
    created_at: datetime
    updated_at: datetime


class PriceListPage(BaseModel):
    items: list[PriceListRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class PriceTierBody(BaseModel):
    min_quantity: int = Field(description="From this many base units on (2 or more).")
    unit_price: int = Field(description="Each unit's price, minor units of the list currency.")


class PriceEntryUpdate(BaseModel):
    """A variant's price in this list (replaces any earlier one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_price": 1799,
                    "compare_at": 1999,
                    "tiers": [
                        {"min_quantity": 6, "unit_price": 1599},
                        {"min_quantity": 12, "unit_price": 1499},
                    ],
                }
            ]
        }
    )
    unit_price: int = Field(description="Minor units of the list's currency.")
    compare_at: int | None = Field(None, description="A 'was' price to show, same units.")
    tiers: list[PriceTierBody] = Field(
        default_factory=list, max_length=20, description="Quantity breaks, ascending minimums."
    )


class PriceEntrySet(PriceEntryUpdate):
    sku: str = Field(max_length=64)


class PriceEntriesUpdate(BaseModel):
    """Many prices at once (an import): all are set, or none when any is invalid."""

    entries: list[PriceEntrySet] = Field(min_length=1, max_length=5000)


class PriceEntryRead(BaseModel):
    sku: str
    variant_id: uuid.UUID
    unit_price: int
    compare_at: int | None
    tiers: list[PriceTierBody]
    currency: str = Field(description="The list's currency.")
    updated_at: datetime


class PriceEntryPage(BaseModel):
    items: list[PriceEntryRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class ExchangeRateCreate(BaseModel):
    """From `valid_from` on, one `base` buys `rate` of `quote`. Rates are never edited."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"base": "USD", "quote": "EUR", "rate": "0.92150000", "valid_from": "2026-12-01"}
            ]
        }
    )
    base: str = Field(max_length=3, description="ISO 4217; the catalog's base currency.")
    quote: str = Field(max_length=3, description="ISO 4217; the currency converted to.")
    rate: Decimal = Field(description="Positive, at most 8 decimals, sent as a string.")
    valid_from: date = Field(description="First day it applies; today or later.")


class ExchangeRateRead(BaseModel):
    id: uuid.UUID
    base: str
    quote: str
    rate: str
    valid_from: date
    created_at: datetime


class ExchangeRatePage(BaseModel):
    items: list[ExchangeRateRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class PriceRoundingUpdate(BaseModel):
    """How converted prices land in this currency."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"increment": 5}]})
    increment: int = Field(1, description="Round to a multiple of this many minor units.")
    charm_ending: int | None = Field(
        None, description="Then up to the next price ending in this (0-99), e.g. 99."
    )


class PriceRoundingRead(BaseModel):
    currency: str
    increment: int
    charm_ending: int | None


class PriceRoundingPage(BaseModel):
    items: list[PriceRoundingRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")
