"""Request and response bodies for stores, warehouses and registers."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_TAX_RATE = (
    "Sales tax as a fraction from 0 to 1 with at most six decimals, sent as a string "
    '("0.08875" is 8.875 %).'
)
_COORD = "Degrees, WGS 84; give latitude and longitude together."
_LOCALE = "Babel locale for money, dates and numbers on receipts and tags (en_US, fr_FR)."
_HEADER = "Printed under the address on receipts (line breaks kept)."
_FOOTER = "Printed at the foot of receipts: the store's return policy."


class LocationCreate(BaseModel):
    """A new store or warehouse."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "S01",
                    "name": "Union Square",
                    "kind": "store",
                    "address_line1": "1 Union Sq W",
                    "city": "New York",
                    "region": "NY",
                    "postal_code": "10003",
                    "country": "US",
                    "timezone": "America/New_York",
                    "latitude": "40.735863",
                    "longitude": "-73.991084",
                    "currency": "USD",
                    "tax_rate": "0.08875",
                    "prices_include_tax": False,
                    "offers_pickup": True,
                }
            ]
        }
    )
    code: str = Field(
        max_length=32, description="Unique short code it is addressed by, e.g. S01 or W01."
    )
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["store", "warehouse"] = Field(description="Only stores have registers.")
    currency: str = Field(description="ISO 4217 currency the location trades in.")
    tax_rate: Decimal = Field(Decimal(0), description=_TAX_RATE)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100, description="State, province or county.")
    postal_code: str = Field("", max_length=20)
    country: str = Field("US", description="ISO 3166-1 alpha-2 code.")
    timezone: str = Field("UTC", description="IANA time zone, for business days and shifts.")
    latitude: Decimal | None = Field(None, description=_COORD)
    longitude: Decimal | None = Field(None, description=_COORD)
    prices_include_tax: bool = Field(
        False, description="True where shelf prices include tax (VAT countries)."
    )
    sells_in_store: bool = Field(True, description="Rings up sales at registers.")
    ships: bool = Field(False, description="Ships online orders from its stock.")
    offers_pickup: bool = Field(False, description="Hands over orders bought online.")
    accepts_returns: bool = Field(True, description="Takes returns over the counter.")
    locale: str = Field("en_US", max_length=16, description=_LOCALE)
    receipt_header: str = Field("", max_length=500, description=_HEADER)
    receipt_footer: str = Field("", max_length=1000, description=_FOOTER)


class LocationUpdate(BaseModel):
    """Only the fields sent change; null clears the coordinates. The code cannot change."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"tax_rate": "0.0925", "offers_pickup": True}]}
    )
    name: str | None = Field(None, max_length=200)
    kind: Literal["store", "warehouse"] | None = None
    currency: str | None = None
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = None
    timezone: str | None = None
    latitude: Decimal | None = Field(None, description=_COORD)
    longitude: Decimal | None = Field(None, description=_COORD)
    tax_rate: Decimal | None = Field(None, description=_TAX_RATE)
    prices_include_tax: bool | None = None
    sells_in_store: bool | None = None
    ships: bool | None = None
    offers_pickup: bool | None = None
    accepts_returns: bool | None = None
    active: bool | None = Field(None, description="Inactive locations stop trading.")
    locale: str | None = Field(None, max_length=16, description=_LOCALE)
    receipt_header: str | None = Field(None, max_length=500, description=_HEADER)
    receipt_footer: str | None = Field(None, max_length=1000, description=_FOOTER)


class LocationRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    timezone: str
    latitude: str | None = Field(description=_COORD)
    longitude: str | None = Field(description=_COORD)
    currency: str
    tax_rate: str = Field(description=_TAX_RATE)
    prices_include_tax: bool
    sells_in_store: bool
    ships: bool
    offers_pickup: bool
    accepts_returns: bool
    locale: str = Field(description=_LOCALE)
    receipt_header: str = Field(description=_HEADER)
    receipt_footer: str = Field(description=_FOOTER)
    active: bool
    created_at: datetime
    updated_at: datetime


class LocationPage(BaseModel):
    items: list[LocationRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class RegisterCreate(BaseModel):
    """Enrol a till in this store."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "S01-R1", "name": "Front counter"}]}
    )
    code: str = Field(max_length=40, description="Unique code, by convention STORE-R<n>.")
    name: str = Field("", max_length=200)


class RegisterRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    location: str = Field(description="Code of the store the register belongs to.")
    active: bool
    created_at: datetime


class RegisterPage(BaseModel):
    items: list[RegisterRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")
