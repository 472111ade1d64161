"""Staff administration bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "cashier3",
                    "password": "a-long-passphrase",
                    "role": "cashier",
                    "locations": ["S01"],
                    "display_name": "Jo Cashier",
                }
            ]
        },
    )
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(description="At least 12 characters.", max_length=1024)
    role: str = Field(description="admin, manager, cashier, inventory or analyst.")
    locations: list[str] = Field(
        default_factory=list, description="Location codes; a cashier acts only at these."
    )
    display_name: str = Field(default="", max_length=200)


class UserUpdate(BaseModel):
    """Only the fields sent change. A role change, deactivation or password reset signs the
    member out everywhere."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "manager", "locations": ["S01", "S02"]}]},
    )
    role: str | None = None
    active: bool | None = None
    locations: list[str] | None = None
    password: str | None = Field(default=None, max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)


class UserRead(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    active: bool
    locations: list[str]


class UserList(BaseModel):
    items: list[UserRead]
