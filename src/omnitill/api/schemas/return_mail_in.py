"""Mail-in returns over HTTP: the return label, receiving the parcel, cancelling."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ReturnLabelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field("ground", description="The carrier's service: ground, express, overnight.")
    weight_grams: int | None = Field(
        None,
        gt=0,
        description="The parcel's weight (default: what the order's parcels weighed when they "
        "went out, else 1000 g).",
    )
    dimensions_mm: tuple[int, int, int] | None = Field(
        None, description="Length, width, height of the box (dimensional weight)."
    )


class ReturnLabelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    return_id: uuid.UUID
    number: str = Field(description="The RMA number.")
    carrier: str
    tracking_number: str
    label: dict[str, Any] = Field(
        description="`label_id`, `service`, `rate` {amount, currency, zone, "
        "billable_weight_grams}, `pdf` (file in the labels directory), `tracking_url`, "
        "`bought_at`."
    )
    label_url: str = Field(description="Where the PDF is served: GET .../label.pdf.")


class ReturnReceiveLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: int = Field(description="The return line's number (1, 2, ...).")
    disposition: str = Field(
        description="resalable, quarantine, damaged, defective (for return to vendor) or write_off."
    )
    condition: str | None = Field(None, description="unopened, opened or damaged, as found.")


class ReturnReceive(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str | None = Field(
        None,
        description="Code of the store or warehouse where the parcel arrived (default: the "
        "RMA's); the stock lands there.",
    )
    register: str | None = Field(None, description="Only if cash is given back.")
    lines: list[ReturnReceiveLine] = Field(description="Every line of the return, once.")


class ReturnCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=200, description="Why (the parcel never came).")
