"""Bodies for printing and emailing receipts, and a register's printer and drawer."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class ReceiptPrint(BaseModel):
    """Print a sale's receipt on a register's network printer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"gift": False, "kick_drawer": True}]},
    )
    register: str | None = Field(
        None, max_length=40, description="Register code; default: the register of the sale."
    )
    gift: bool = Field(False, description="A gift receipt: no prices, no tenders.")
    kick_drawer: bool = Field(
        False,
        description="Open the cash drawer too: only for a cash sale of the last 15 minutes.",
    )


class ReceiptPrinted(BaseModel):
    printed: bool
    bytes: int = Field(description="Size of the ESC/POS job the printer took.")
    receipt_number: str
    register: str = Field(description="Register code, e.g. S01-R1.")


class ReceiptEmail(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ada@example.com"}]}
    )
    email: str = Field(max_length=254)
    gift: bool = False


class ReceiptEmailed(BaseModel):
    sent: bool
    email: str
    notification_id: uuid.UUID
    message_id: str | None = Field(description="The Message-ID the mail server was given.")


class PrinterUpdate(BaseModel):
    """A network ESC/POS printer (raw TCP, usually port 9100); `host` null removes it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"host": "192.168.1.50", "port": 9100}]}
    )
    host: str | None = Field(max_length=253)
    port: int = 9100


class PrinterRead(BaseModel):
    register: str = Field(description="Register code, e.g. S01-R1.")
    host: str | None
    port: int


class DrawerOpen(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "change for the float"}]}
    )
    reason: str = Field(max_length=200, description="Why the drawer opens without a sale.")


class DrawerOpened(BaseModel):
    opened: bool
    register: str = Field(description="Register code, e.g. S01-R1.")
    shift_id: uuid.UUID
    bytes: int
