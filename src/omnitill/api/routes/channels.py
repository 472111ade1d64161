"""Channels, and how each location takes part in fulfilling orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from omnitill.api.deps import DbDep, require
from omnitill.api.schemas.channels import (
    ChannelList,
    ChannelRead,
    ChannelWrite,
    FulfillmentSettingsIO,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import channels as channel_service

router = APIRouter(prefix="/api/v1", tags=["orders"])
Reader = Annotated[Actor, Depends(require(Permission.ORDERS_READ))]
Writer = Annotated[Actor, Depends(require(Permission.CHANNELS_WRITE))]
LocationReader = Annotated[Actor, Depends(require(Permission.LOCATIONS_READ))]
LocationWriter = Annotated[Actor, Depends(require(Permission.LOCATIONS_WRITE))]


@router.get("/channels", response_model=ChannelList, summary="Channels orders come from")
def list_channels(actor: Reader, db: DbDep) -> ChannelList:
    """Each with the fulfillment methods its orders may use and whether units may wait
    for stock. A channel's code scopes price lists and promotions."""
    return ChannelList(
        items=[
            ChannelRead.model_validate(c, from_attributes=True)
            for c in channel_service.list_channels(db=db, actor=actor)
        ]
    )


@router.put(
    "/channels/{code}",
    response_model=ChannelRead,
    summary="Create a channel or change it",
    responses={201: {"description": "Created."}, 422: {"description": "`channel.*`"}},
)
def put_channel(code: str, body: ChannelWrite, actor: Writer, db: DbDep) -> Response:
    """Create the channel `code`, or change the fields given (methods, backorders,
    active). An inactive channel takes no orders (422 `order.unknown_channel`)."""
    view, created = channel_service.save_channel(
        db=db,
        actor=actor,
        code=code,
        name=body.name,
        fulfillment_methods=body.fulfillment_methods,
        allows_backorder=body.allows_backorder,
        active=body.active,
    )
    return Response(
        ChannelRead.model_validate(view, from_attributes=True).model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


@router.get(
    "/locations/{code}/fulfillment",
    response_model=FulfillmentSettingsIO,
    tags=["locations"],
    summary="How the location takes part in order routing",
)
def get_fulfillment(code: str, actor: LocationReader, db: DbDep) -> FulfillmentSettingsIO:
    """Rank, daily capacity, opening hours, cut-off, local delivery radius, market, ships,
    pickup and curbside, and the days before uncollected pickups are reminded and cancelled."""
    settings = channel_service.fulfillment_settings(db=db, actor=actor, code=code)
    return FulfillmentSettingsIO.model_validate(settings, from_attributes=True)


@router.put(
    "/locations/{code}/fulfillment",
    response_model=FulfillmentSettingsIO,
    tags=["locations"],
    summary="Set rank, capacity, hours, cut-off, delivery radius, pickup and curbside",
    responses={422: {"description": "`location.invalid_hours` and kin, naming the field."}},
)
def put_fulfillment(
    code: str, body: FulfillmentSettingsIO, actor: LocationWriter, db: DbDep
) -> FulfillmentSettingsIO:
    """Replaces every setting (PUT). Hours are local times per day; a warehouse neither
    hands over pickups nor delivers locally."""
    settings = channel_service.set_fulfillment_settings(
        db=db,
        actor=actor,
        code=code,
        settings=channel_service.FulfillmentSettings(**body.model_dump()),
    )
    return FulfillmentSettingsIO.model_validate(settings, from_attributes=True)
