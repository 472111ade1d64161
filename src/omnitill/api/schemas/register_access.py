"""Bodies of register enrolment, staff PINs and PIN sign-in."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from omnitill.api.schemas.auth import TokenRead


class EnrollmentRead(BaseModel):
    register: str = Field(description="The register code, e.g. S01-R1.")
    location: str
    currency: str
    locale: str = Field(description="The store's Babel locale, for formatting on the device.")
    device_key: str = Field(
        description="Shown once: the device keeps it (localStorage) and sends it with PINs."
    )
    enrolled_at: datetime


class PinUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"pin": "2468"}]})
    pin: str = Field(max_length=16, description="4 to 8 digits, unique among staff.")
    password: str | None = Field(
        default=None,
        max_length=1024,
        description="Your own password, when you set your own PIN without users.write.",
    )


class PinLogin(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"register": "S01-R1", "device_key": "dk_...", "pin": "2468"}]
        }
    )
    register: str = Field(max_length=40)
    device_key: str = Field(max_length=200)
    pin: str = Field(max_length=16)


class PinTokenRead(TokenRead):
    username: str
    display_name: str
    register: str = Field(description="The register code, e.g. S01-R1.")
    location: str
