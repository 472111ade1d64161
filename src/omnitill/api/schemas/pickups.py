"""The customer's pickup link: what it shows and the curbside "I'm here"."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PickupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    customer_name: str
    store_name: str
    store_address: str
    status: str = Field(description="assigned | accepted | picking | ready | picked_up | ...")
    method: str
    curbside: bool
    arrived_at: datetime | None
    arrival_bay: str | None
    items: list[tuple[str, int]]


class ArrivalIn(BaseModel):
    bay: str = Field(description="The curbside bay number, or 'in store'.", max_length=20)
    car: str = Field(default="", description="Colour, make, plate: how staff find you.")
