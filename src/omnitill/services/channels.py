"""Channels orders come from, and the fulfillment settings of each location.

A channel's code scopes price lists and promotions (their `channels` lists), so a web price
can differ from the store's; its `fulfillment_methods` are what its orders may ask for, and
`allows_backorder` whether units no location has may wait for stock. The standard five are
seeded by migration 0009; others may be added (a second marketplace).

A location's fulfillment settings feed the order router (services/order_routing.py): its
rank, daily order capacity, opening hours and order cut-off, local delivery radius, market,
curbside, and how long uncollected pickups wait before a reminder and a cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Channel, Location
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.fulfillment import hours
from omnitill.domain.fulfillment.routing_model import FulfillmentMethod
from omnitill.domain.ids import uuid7
from omnitill.services import audit
from omnitill.services.references import accessible_location

METHODS = frozenset(m.value for m in FulfillmentMethod)


@dataclass(frozen=True, slots=True)
class ChannelView:
    code: str
    name: str
    fulfillment_methods: tuple[str, ...]
    allows_backorder: bool
    active: bool


def _view(c: Channel) -> ChannelView:
    return ChannelView(c.code, c.name, tuple(c.fulfillment_methods), c.allows_backorder, c.active)


def list_channels(*, db: Database, actor: Actor) -> list[ChannelView]:
    actor.require(Permission.ORDERS_READ)
    with db.uow(write=False) as uow:
        return [_view(c) for c in uow.session.scalars(select(Channel).order_by(Channel.code))]


def _check(code: str | None, methods: list[str] | None) -> None:
    errors: list[FieldError] = []
    if code is not None and not (
        1 <= len(code) <= 16 and code.replace("_", "").isalnum() and code == code.lower()
    ):
        errors.append(FieldError("code", "channel.invalid_code", "lower case, a-z 0-9 _"))
    for i, m in enumerate(methods or []):
        if m not in METHODS:
            errors.append(
                FieldError(
                    f"fulfillment_methods.{i}", "channel.unknown_method", ", ".join(sorted(METHODS))
                )
            )
    if errors:
        raise ValidationFailed(errors[0].code, "the channel is invalid", errors=errors)


def save_channel(
    *,
    db: Database,
    actor: Actor,
    code: str,
    name: str | None = None,
    fulfillment_methods: list[str] | None = None,
    allows_backorder: bool | None = None,
    active: bool | None = None,
) -> tuple[ChannelView, bool]:
    """Create the channel `code` or change the fields given; (the channel, created)."""
    actor.require(Permission.CHANNELS_WRITE)
    _check(code, fulfillment_methods)
    with db.uow() as uow:
        channel = uow.session.scalars(
            select(Channel).where(Channel.code == code).with_for_update()
        ).one_or_none()
        created = channel is None
        if channel is None:
            channel = Channel(
                id=uuid7(),
                code=code,
                name=name or code,
                fulfillment_methods=sorted(set(fulfillment_methods or ["ship"])),
                allows_backorder=bool(allows_backorder),
                active=True if active is None else active,
            )
            uow.session.add(channel)
        else:
            if name is not None:
                channel.name = name
            if fulfillment_methods is not None:
                channel.fulfillment_methods = sorted(set(fulfillment_methods))
            if allows_backorder is not None:
                channel.allows_backorder = allows_backorder
            if active is not None:
                channel.active = active
        audit.record(
            uow,
            action="channel.created" if created else "channel.updated",
            actor=actor,
            subject_type="channel",
            subject_id=code,
            details={
                "fulfillment_methods": list(channel.fulfillment_methods),
                "allows_backorder": channel.allows_backorder,
                "active": channel.active,
            },
        )
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Conflict("channel.code_taken", f"channel {code} exists") from exc
        return _view(channel), created


@dataclass(frozen=True, slots=True)
class FulfillmentSettings:
    routing_rank: int = 0
    daily_order_capacity: int | None = None
    local_delivery_radius_km: Decimal | None = None
    opening_hours: dict[str, list[list[str]]] | None = None
    order_cutoff: str | None = None
    market: str | None = None
    ships: bool = False
    offers_pickup: bool = False
    offers_curbside: bool = False
    pickup_reminder_days: int = 2
    pickup_hold_days: int = 7


def fulfillment_settings(*, db: Database, actor: Actor, code: str) -> FulfillmentSettings:
    actor.require(Permission.LOCATIONS_READ)
    with db.uow(write=False) as uow:
        return _settings(accessible_location(uow, actor, code))


def _settings(loc: Location) -> FulfillmentSettings:
    return FulfillmentSettings(
        **{f.name: getattr(loc, f.name) for f in fields(FulfillmentSettings)}
    )


def set_fulfillment_settings(
    *, db: Database, actor: Actor, code: str, settings: FulfillmentSettings
) -> FulfillmentSettings:
    """Replace the location's fulfillment settings (every field: PUT semantics)."""
    actor.require(Permission.LOCATIONS_WRITE)
    errors = hours.check_hours(settings.opening_hours) + hours.check_cutoff(settings.order_cutoff)
    if settings.daily_order_capacity is not None and settings.daily_order_capacity < 0:
        errors.append(FieldError("daily_order_capacity", "location.invalid_capacity", ">= 0"))
    radius = settings.local_delivery_radius_km
    if radius is not None and radius < 0:
        errors.append(FieldError("local_delivery_radius_km", "location.invalid_radius", ">= 0"))
    if (
        settings.pickup_reminder_days < 1
        or settings.pickup_hold_days <= settings.pickup_reminder_days
    ):
        errors.append(
            FieldError(
                "pickup_hold_days",
                "location.invalid_pickup_days",
                "reminder after at least 1 day, cancellation after the reminder",
            )
        )
    if settings.offers_curbside and not settings.offers_pickup:
        errors.append(
            FieldError("offers_curbside", "location.curbside_needs_pickup", "offer pickup too")
        )
    if errors:
        raise ValidationFailed(
            errors[0].code, "the fulfillment settings are invalid", errors=errors
        )
    with db.uow() as uow:
        loc = accessible_location(uow, actor, code)
        if loc.kind == "warehouse" and (settings.offers_pickup or radius is not None):
            raise ValidationFailed(
                "location.warehouse_no_pickup",
                "a warehouse neither hands over pickups nor delivers locally",
                errors=[FieldError("offers_pickup", "location.warehouse_no_pickup", "store only")],
            )
        for f in fields(FulfillmentSettings):
            setattr(loc, f.name, getattr(settings, f.name))
        audit.record(
            uow,
            action="location.fulfillment_updated",
            actor=actor,
            subject_type="location",
            subject_id=str(loc.id),
            details={"code": code},
        )
        uow.commit()
        return _settings(loc)
