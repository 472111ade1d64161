"""Shipping a fulfillment with a carrier label, and following the parcel.

`ship()` buys the label before anything is written (the carrier answers the same label for
the same key, so a retry never buys two), then takes the `ship` step and records the
shipment in one transaction; the label PDF is kept in the data directory for reprinting.
`refresh()` reads the carrier's tracking events, stores each once (by the carrier's event
id) and, when the parcel is delivered, takes the `deliver` step. The customer is told
(`shipped` email and text) after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    OrderFulfillment,
    Shipment,
    ShipmentEvent,
)
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.notifications.render import render, render_sms
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.fulfillment.carrier import (
    Address,
    Carrier,
    Label,
    Parcel,
    Rate,
    TrackingStatus,
    current_status,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.integrations.notifications import Shipped, Template
from omnitill.domain.orders.lifecycle import FulfillmentStatus, Step, check_step
from omnitill.services import notifications, order_steps
from omnitill.services.order_cancel import location_code
from omnitill.services.pickups import CustomerNotifier


@dataclass(frozen=True, slots=True)
class ParcelInput:
    service: str
    weight_grams: int
    dimensions_mm: tuple[int, int, int] | None = None


def _addresses(
    db: Database, actor: Actor, order_id: uuid.UUID, fid: uuid.UUID
) -> tuple[Address, Address, str]:
    with db.uow(write=False) as uow:
        order, f = order_steps.locked(uow, actor, order_id, fid)
        check_step(Step.SHIP, status=f.status, method=f.method)
        store = uow.session.get_one(Location, f.location_id)
        origin = Address(
            name=store.name,
            line1=store.address_line1,
            line2=store.address_line2,
            city=store.city,
            region=store.region,
            postal_code=store.postal_code,
            country=store.country,
        )
        destination = Address.from_dict(order.ship_to or {})
        return origin, destination, store.code


def rates(
    *,
    db: Database,
    actor: Actor,
    carrier: Carrier,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    parcel: Parcel,
) -> tuple[Rate, ...]:
    """What each of the carrier's services would cost for this parcel, cheapest first."""
    actor.require(Permission.ORDERS_FULFIL)
    origin, destination, _ = _addresses(db, actor, order_id, fulfillment_id)
    return carrier.rates(origin=origin, destination=destination, parcel=parcel)


def ship(
    *,
    db: Database,
    actor: Actor,
    carrier: Carrier,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    parcel: ParcelInput,
    labels_dir: Path,
    notifier: CustomerNotifier | None = None,
) -> order_steps.StepResult:
    """Buy the label, ship the fulfillment with it, tell the customer."""
    actor.require(Permission.ORDERS_FULFIL)
    origin, destination, _ = _addresses(db, actor, order_id, fulfillment_id)
    label = carrier.buy_label(
        origin=origin,
        destination=destination,
        parcel=Parcel(parcel.weight_grams, parcel.dimensions_mm),
        service=parcel.service,
        idempotency_key=f"label:{fulfillment_id}",
    )
    labels_dir.mkdir(parents=True, exist_ok=True)
    (labels_dir / f"{label.tracking_number}.pdf").write_bytes(label.label_pdf)
    result = order_steps.advance(
        db=db,
        actor=actor,
        order_id=order_id,
        fulfillment_id=fulfillment_id,
        step=Step.SHIP,
        shipment=lambda uow, order, f: _record(uow, order, f, label, parcel),
    )
    if notifier is not None:
        _tell_shipped(db, notifier, order_id, label)
    return result


def _record(
    uow: UnitOfWork, order: Order, f: OrderFulfillment, label: Label, parcel: ParcelInput
) -> dict[str, str]:
    uow.session.add(
        Shipment(
            id=uuid7(),
            order_id=order.id,
            fulfillment_id=f.id,
            carrier=label.carrier,
            service=label.service,
            tracking_number=label.tracking_number,
            label_reference=label.label_reference,
            rate_minor=label.rate.amount,
            currency=label.rate.currency,
            weight_grams=label.rate.billable_weight_grams or parcel.weight_grams,
            zone=label.rate.zone,
            status=TrackingStatus.LABEL_CREATED,
        )
    )
    return {
        "carrier": label.carrier,
        "service": label.service,
        "tracking_number": label.tracking_number,
        "tracking_url": label.tracking_url,
    }


def _tell_shipped(
    db: Database, notifier: CustomerNotifier, order_id: uuid.UUID, label: Label
) -> None:
    with db.uow(write=False) as uow:
        order = uow.session.get_one(Order, order_id)
    context = Shipped(
        order_number=order.number,
        customer_name=order.customer_name or "there",
        carrier=label.carrier,
        service=label.service,
        tracking_number=label.tracking_number,
        tracking_url=label.tracking_url,
    )
    if order.email:
        notifications.send(
            db,
            order_id=order.id,
            template=Template.SHIPPED.value,
            message=render(Template.SHIPPED.value, context, to=order.email),
            sender=notifier.email,
        )
    if order.phone:
        notifications.send(
            db,
            order_id=order.id,
            template=Template.SHIPPED.value,
            message=render_sms(Template.SHIPPED.value, context, to=order.phone),
            sender=notifier.sms,
        )


def label_pdf(*, db: Database, actor: Actor, tracking_number: str, labels_dir: Path) -> bytes:
    """The label of a shipment, to print again."""
    actor.require(Permission.ORDERS_FULFIL)
    with db.uow(write=False) as uow:
        shipment = uow.session.scalars(
            select(Shipment).where(Shipment.tracking_number == tracking_number)
        ).one_or_none()
        if shipment is None:
            raise NotFound("shipment.not_found", "no such shipment")
        f = uow.session.get_one(OrderFulfillment, shipment.fulfillment_id)
        actor.require_location(f.location_id, location_code(uow, f.location_id))
    path = labels_dir / f"{tracking_number}.pdf"
    if not path.exists():
        raise NotFound("shipment.label_missing", "the label file is not in the data directory")
    return path.read_bytes()


def refresh(
    *,
    db: Database,
    actor: Actor,
    carrier: Carrier,
    tracking_number: str,
    now: datetime | None = None,
) -> str:
    """Store the parcel's new tracking events; delivered parcels deliver their fulfillment.
    Returns the shipment's status."""
    events = carrier.track(tracking_number)
    with db.uow() as uow:
        shipment = uow.session.scalars(
            select(Shipment).where(Shipment.tracking_number == tracking_number).with_for_update()
        ).one_or_none()
        if shipment is None:
            raise NotFound("shipment.not_found", "no such shipment")
        known = set(
            uow.session.scalars(
                select(ShipmentEvent.carrier_event_id).where(
                    ShipmentEvent.shipment_id == shipment.id
                )
            )
        )
        for e in events:
            if e.carrier_event_id not in known:
                uow.session.add(
                    ShipmentEvent(
                        id=uuid7(),
                        shipment_id=shipment.id,
                        carrier_event_id=e.carrier_event_id,
                        status=e.status,
                        description=e.description,
                        location=e.location,
                        occurred_at=e.occurred_at,
                    )
                )
        status = current_status(events)
        shipment.status = status
        order_id, fid = shipment.order_id, shipment.fulfillment_id
        f_status = uow.session.scalar(
            select(OrderFulfillment.status).where(OrderFulfillment.id == fid)
        )
        uow.commit()
    if status == TrackingStatus.DELIVERED and f_status == FulfillmentStatus.SHIPPED:
        order_steps.advance(
            db=db,
            actor=actor,
            order_id=order_id,
            fulfillment_id=fid,
            step=Step.DELIVER,
            note="delivered (carrier tracking)",
            now=now or utcnow(),
        )
    return str(status)


def in_transit(*, db: Database) -> list[str]:
    """Tracking numbers of parcels not yet delivered, for the tracking sweep."""
    with db.uow(write=False) as uow:
        return list(
            uow.session.scalars(
                select(Shipment.tracking_number).where(
                    Shipment.status.notin_([TrackingStatus.DELIVERED])
                )
            )
        )


def tracking(*, db: Database, tracking_number: str) -> tuple[str, list[ShipmentEvent]]:
    """A parcel's status and scans as stored (the public tracking page)."""
    with db.uow(write=False) as uow:
        shipment = uow.session.scalars(
            select(Shipment).where(Shipment.tracking_number == tracking_number)
        ).one_or_none()
        if shipment is None:
            raise NotFound("shipment.not_found", "no such shipment")
        events = list(
            uow.session.scalars(
                select(ShipmentEvent)
                .where(ShipmentEvent.shipment_id == shipment.id)
                .order_by(ShipmentEvent.occurred_at)
            )
        )
        return shipment.status, events
