"""Settling a return over HTTP: the unspent exchange credit, or declined card refunds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE: dict[str, Any] = {"register": "S01-R1", "fallback": "store_credit"}


class ReturnSettleCreate(BaseModel):
    """What settling may need: a register for cash, and how to give declined card refunds."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    register: str | None = Field(
        default=None, max_length=40, description="Where cash is given back, e.g. S01-R1."
    )
    fallback: Literal["store_credit", "cash"] | None = Field(
        default=None,
        description="Give card refunds the gateway declined as this instead: store credit to "
        "the return's customer, or cash from the register's drawer. Needs `returns.approve` "
        "or a manager's `override_token`.",
    )
    override_token: str | None = Field(
        default=None, max_length=200, description="A manager's override for the fallback."
    )
