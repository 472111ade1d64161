"""Request and response bodies for sign-in, tokens and overrides."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TokenCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "cashier1", "password": "demo-password-1"}]}
    )
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")


class MeRead(BaseModel):
    id: str
    username: str
    role: str
    permissions: list[str]
    locations: list[str] | None = Field(description="Location ids; null means every location.")


class OverrideCreate(BaseModel):
    """A manager at the register authorises one sensitive action for the signed-in cashier,
    with their username and password, or with their PIN at an enrolled register."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "manager_username": "manager1",
                    "manager_password": "demo-password-1",
                    "permission": "sales.price_override",
                    "reason": "damaged packaging",
                },
                {
                    "manager_pin": "2468",
                    "register": "S01-R1",
                    "device_key": "dk_...",
                    "permission": "sales.price_override",
                    "reason": "damaged packaging",
                },
            ]
        }
    )
    manager_username: str | None = Field(default=None, min_length=1, max_length=64)
    manager_password: str | None = Field(default=None, min_length=1, max_length=1024)
    manager_pin: str | None = Field(default=None, max_length=16)
    register: str | None = Field(default=None, max_length=40, description="With manager_pin.")
    device_key: str | None = Field(default=None, max_length=200, description="With manager_pin.")
    permission: str = Field(description="One of the overridable permissions.")
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_proof(self) -> OverrideCreate:
        by_password = self.manager_username is not None and self.manager_password is not None
        by_pin = None not in (self.manager_pin, self.register, self.device_key)
        if by_password == by_pin:
            raise ValueError(
                "send manager_username and manager_password, or manager_pin, register and "
                "device_key"
            )
        return self


class OverrideRead(BaseModel):
    override_token: str = Field(description="Send as X-Manager-Override with the one action.")
    permission: str
    approved_by: str
    expires_at: datetime
