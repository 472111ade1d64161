"""Request and response bodies for customers and their addresses."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

_EMAIL = "Stored lower-cased; unique across customers."
_PHONE = "Any common format; stored in E.164 (+14155552671)."
_GROUPS = "Group codes (vip, staff, wholesale) that scope price lists and promotions; lower-cased."
_CERTIFICATE = "Tax-exemption certificate number; with one, sales to the customer are tax exempt."
_COUNTRY = "ISO 3166-1 alpha-2 region a national phone number is read in (default US); not stored."


class AddressCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "home",
                    "line1": "1 Infinite Loop",
                    "city": "Cupertino",
                    "region": "CA",
                    "postal_code": "95014",
                    "country": "US",
                    "is_default": True,
                }
            ]
        }
    )
    label: str = Field("", max_length=40, description="home, work...")
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field("", max_length=100, description="State, province or county.")
    postal_code: str = Field("", max_length=20)
    country: str = Field(description="ISO 3166-1 alpha-2 code.")
    is_default: bool = Field(False, description="At most one address is the default.")


class AddressRead(BaseModel):
    id: uuid.UUID
    label: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str
    is_default: bool


class CustomerCreate(BaseModel):
    """A new customer: at least a name, an email or a phone."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "email": "Ada@Example.com",
                    "phone": "(415) 555-2671",
                    "country": "US",
                    "addresses": [
                        {
                            "line1": "1 Infinite Loop",
                            "city": "Cupertino",
                            "region": "CA",
                            "postal_code": "95014",
                            "country": "US",
                            "is_default": True,
                        }
                    ],
                }
            ]
        }
    )
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    email: str | None = Field(None, max_length=320, description=_EMAIL)
    phone: str | None = Field(None, max_length=40, description=_PHONE)
    country: str | None = Field(None, max_length=2, description=_COUNTRY)
    addresses: list[AddressCreate] = Field(default_factory=list, max_length=20)
    groups: list[str] = Field(default_factory=list, max_length=50, description=_GROUPS)
    tax_exempt_certificate: str | None = Field(None, max_length=64, description=_CERTIFICATE)


class CustomerUpdate(BaseModel):
    """Only the fields sent change; null clears `email` or `phone`; `addresses` replaces all."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+44 20 7946 0958", "country": "GB"}]}
    )
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=320, description=_EMAIL)
    phone: str | None = Field(None, max_length=40, description=_PHONE)
    country: str | None = Field(None, max_length=2, description=_COUNTRY)
    addresses: list[AddressCreate] | None = Field(None, max_length=20)
    groups: list[str] | None = Field(None, max_length=50, description=_GROUPS + " Replaces all.")
    tax_exempt_certificate: str | None = Field(
        None, max_length=64, description=_CERTIFICATE + " Null removes it."
    )


class CustomerRead(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None = Field(description="E.164.")
    addresses: list[AddressRead] = Field(description="The default address first.")
    groups: list[str] = Field(description=_GROUPS)
    tax_exempt_certificate: str | None = Field(description=_CERTIFICATE)
    created_at: datetime
    updated_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")
