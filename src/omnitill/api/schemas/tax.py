"""Request and response bodies for tax classes, jurisdictions and their components.

Rates are fractions sent as decimal strings ("0.04" is 4 %); thresholds are minor units.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_RATES = 'Tax class -> rate as a fraction string, e.g. {"standard": "0.04"}; unlisted: 0.'
_PREFIXES = "Postal code prefixes this jurisdiction covers (100, H2X); empty: region or country."
_ROUNDING = "Round each line's tax (line) or only the document's (document)."


class TaxClassCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": "clothing", "name": "Clothing", "description": "Apparel"}]
        }
    )
    code: str = Field(max_length=40, description="Lower-case; products name it as tax_class.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class TaxClassRead(BaseModel):
    code: str
    name: str
    description: str
    created_at: datetime


class TaxClassPage(BaseModel):
    items: list[TaxClassRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class ExemptBelowBody(BaseModel):
    tax_class: str = Field(max_length=40)
    unit_price: int = Field(description="Units priced below this (minor units) are exempt.")


class ComponentCreate(BaseModel):
    """One levy, or a new version of one: same code, a later `valid_from`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "NYS",
                    "name": "New York State",
                    "rates": {"standard": "0.04", "clothing": "0.04"},
                    "rounding_group": "NYC",
                    "exempt_below": [{"tax_class": "clothing", "unit_price": 11000}],
                    "valid_from": "2027-03-01",
                }
            ]
        }
    )
    code: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=200)
    rates: dict[str, Decimal] = Field(description=_RATES)
    compound: bool = Field(False, description="Taxed on the net plus the other components' tax.")
    applies_to_shipping: bool = True
    rounding_group: str | None = Field(
        None, max_length=40, description="Components of one group are rounded together."
    )
    valid_from: date | None = Field(None, description="First day in force; null: always.")
    valid_to: date | None = Field(None, description="Last day in force (inclusive); null: open.")
    exempt_below: list[ExemptBelowBody] = Field(default_factory=list, max_length=20)


class ComponentRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    rates: dict[str, str]
    compound: bool
    applies_to_shipping: bool
    rounding_group: str | None
    valid_from: date | None
    valid_to: date | None
    exempt_below: list[ExemptBelowBody]
    position: int


class JurisdictionCreate(BaseModel):
    """A place's tax: where it applies, how it rounds, and its components."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "US-NY-NYC",
                    "name": "New York City",
                    "country": "US",
                    "region": "NY",
                    "postal_prefixes": ["100", "101", "102", "103", "104", "111", "112"],
                    "components": [
                        {"code": "NYS", "name": "New York State", "rates": {"standard": "0.04"}},
                        {"code": "NYC", "name": "New York City", "rates": {"standard": "0.045"}},
                        {"code": "MCTD", "name": "MCTD", "rates": {"standard": "0.00375"}},
                    ],
                }
            ]
        }
    )
    code: str = Field(max_length=40, description="Unique, e.g. US-NY-NYC or DE.")
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2.")
    region: str = Field("", max_length=100, description="State or province code, e.g. NY.")
    postal_prefixes: list[str] = Field(default_factory=list, max_length=2000, description=_PREFIXES)
    inclusive: bool = Field(False, description="Shelf prices include the tax (VAT).")
    rounding: Literal["line", "document"] = Field("line", description=_ROUNDING)
    rounding_mode: Literal["half_up", "half_even"] = "half_up"
    exempt_channels: list[str] = Field(default_factory=list, max_length=10)
    components: list[ComponentCreate] = Field(default_factory=list, max_length=50)


class JurisdictionUpdate(BaseModel):
    """Only the fields sent change. Rates change by adding a component version."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"rounding": "document"}]})
    name: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=2)
    region: str | None = Field(None, max_length=100)
    postal_prefixes: list[str] | None = Field(None, max_length=2000, description=_PREFIXES)
    inclusive: bool | None = None
    rounding: Literal["line", "document"] | None = Field(None, description=_ROUNDING)
    rounding_mode: Literal["half_up", "half_even"] | None = None
    exempt_channels: list[str] | None = Field(None, max_length=10)


class JurisdictionRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    country: str
    region: str
    postal_prefixes: list[str]
    inclusive: bool
    rounding: str
    rounding_mode: str
    exempt_channels: list[str]
    components: list[ComponentRead] = Field(description="Every version, oldest first per code.")
    locations: list[str] = Field(description="Codes of the locations it taxes in store.")
    created_at: datetime
    updated_at: datetime


class JurisdictionPage(BaseModel):
    items: list[JurisdictionRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")
