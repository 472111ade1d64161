"""Channels and the fulfillment settings of locations."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="Scopes price lists and promotions: web, marketplace, ...")
    name: str
    fulfillment_methods: list[str] = Field(description="ship, pickup, curbside, local_delivery")
    allows_backorder: bool = Field(description="Units no location has may wait for stock.")
    active: bool


class ChannelWrite(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    fulfillment_methods: list[str] | None = None
    allows_backorder: bool | None = None
    active: bool | None = None


class ChannelList(BaseModel):
    items: list[ChannelRead]


class FulfillmentSettingsIO(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "routing_rank": 1,
                    "daily_order_capacity": 40,
                    "local_delivery_radius_km": "8",
                    "opening_hours": {"mon": [["09:00", "18:00"]], "sat": [["10:00", "16:00"]]},
                    "order_cutoff": "17:00",
                    "ships": True,
                    "offers_pickup": True,
                    "offers_curbside": True,
                    "pickup_reminder_days": 2,
                    "pickup_hold_days": 7,
                }
            ]
        },
    )
    routing_rank: int = Field(default=0, description="The merchant's order: lower first.")
    daily_order_capacity: int | None = Field(
        default=None, description="Orders it can take per business day; none: no limit."
    )
    local_delivery_radius_km: Decimal | None = Field(
        default=None, description="Delivers locally within this distance; none: it does not."
    )
    opening_hours: dict[str, list[list[str]]] | None = Field(
        default=None, description='Local times per day, {"mon": [["09:00", "18:00"]]}.'
    )
    order_cutoff: str | None = Field(
        default=None, description="HH:MM local; later orders count for the next day."
    )
    market: str | None = Field(default=None, description="The market it serves; none: country.")
    ships: bool = False
    offers_pickup: bool = False
    offers_curbside: bool = False
    pickup_reminder_days: int = Field(default=2, description="Remind uncollected pickups after.")
    pickup_hold_days: int = Field(default=7, description="Cancel them, releasing stock, after.")
