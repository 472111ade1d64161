"""Cycle counts: sessions, counted lines and the variance report."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CountCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"location": "S01", "category": "shoes", "blind": True}]}
    )
    location: str = Field(description="Code of the location counted, e.g. S01.")
    category: str | None = Field(
        default=None,
        description="Count only this category (id or slug) and its subcategories; "
        "omitted: the whole location.",
    )
    blind: bool = Field(
        default=True,
        description="Hide expected quantities from counters without stock.adjust while open.",
    )


class CountEntryIn(BaseModel):
    sku: str = Field(max_length=64, description="The SKU counted.")
    counted: int = Field(description="Units found, in the variant's base unit (0 or more).")


class CountLinesUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lines": [{"sku": "OXF-NVY-M", "counted": 7}]}]}
    )
    lines: list[CountEntryIn] = Field(
        description="Counts to record; a later count of a SKU replaces the earlier one."
    )


class CountApprove(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"uncounted": "skip", "reason": "monthly shoe count"}]}
    )
    uncounted: Literal["skip", "zero"] = Field(
        default="skip",
        description="Lines nobody counted: leave their stock alone (skip) or set it to 0.",
    )
    reason: str | None = Field(
        default=None, max_length=200, description="Why; on each count movement and the audit."
    )


class CountLineRead(BaseModel):
    sku: str
    name: str
    tracking: str = Field(
        description="none, lot or serial; a tracked variance is booked without a lot."
    )
    status: str = Field(description="counted or uncounted.")
    counted: int | None
    counted_at: datetime | None
    counted_by: str | None
    expected_at_start: int | None = Field(
        description="On hand when the session started (null when the count is blind to you)."
    )
    movements_during: int | None = Field(
        description="On-hand movements (sales, receipts, ...; not counts) between the start "
        "and the count (up to now while uncounted)."
    )
    expected_at_count: int | None = Field(description="expected_at_start + movements_during.")
    variance: int | None = Field(description="counted - expected_at_count.")
    variance_value: int | None = Field(
        description="variance x unit_cost, in minor units of `currency`; null without a cost."
    )
    unit_cost: int | None = Field(description="The variant's cost, minor units.")
    currency: str


class CountTotalsRead(BaseModel):
    lines: int
    counted: int
    uncounted: int
    units_over: int
    units_short: int
    net_units: int
    value_over: int = Field(description="Minor units, at cost.")
    value_short: int = Field(description="Minor units, at cost.")
    net_value: int
    lines_without_cost: int = Field(description="Variances whose value is unknown (no cost).")


class CountRead(BaseModel):
    number: str = Field(description="CC-000123.")
    id: str
    location: str
    category: str | None = Field(description="Slug of the category counted, if any.")
    blind: bool
    status: str = Field(description="open, submitted, approved or cancelled.")
    expected_visible: bool = Field(
        description="False while the count is blind to you: expected figures are null."
    )
    started_by: str | None
    started_at: datetime
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    cancelled_at: datetime | None
    lines: list[CountLineRead] = Field(description="Empty in lists.")
    totals: CountTotalsRead | None = Field(description="Null when blind to you, and in lists.")


class CountPage(BaseModel):
    items: list[CountRead]
    next_cursor: str | None
