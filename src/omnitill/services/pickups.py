"""Buy online, pick up in store, and curbside: telling the customer, their arrival, and
pickups nobody collects.

When a store marks a pickup ready, the customer gets an email (with a QR code of their
pickup link, which the register scans to hand the order over) and a text message; a curbside
order's message carries an "I'm here" link. Opening it says which bay and which car, and
the store's registers hear `order.customer_arrived` at once. Pickups still waiting after the
store's `pickup_reminder_days` are reminded once; after `pickup_hold_days` they are cancelled,
their stock released and the card charged that much less (the sweep, every few minutes).

Messages are sent after the change commits and their outcome is recorded
(services/notifications.py); a message that fails never undoes the step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Order, OrderFulfillment, OrderLine
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.notifications.render import render, render_sms
from omnitill.config import Settings
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.fulfillment import hours
from omnitill.domain.integrations.notifications import (
    PickupCancelled,
    PickupReminder,
    ReadyForPickup,
    Template,
)
from omnitill.domain.orders.lifecycle import FulfillmentStatus, format_number
from omnitill.services import notifications, order_timeline
from omnitill.services.order_cancel import allocations_of, location_code, refresh_status, release
from omnitill.services.order_steps import token_hash

PICKUP_WAITING = frozenset({FulfillmentStatus.READY})
ARRIVAL_OPEN = frozenset(
    {
        FulfillmentStatus.ASSIGNED,
        FulfillmentStatus.ACCEPTED,
        FulfillmentStatus.PICKING,
        FulfillmentStatus.READY,
    }
)


@dataclass(frozen=True, slots=True)
class PickupPage:
    """What the customer's pickup link shows."""

    number: str
    customer_name: str
    store_name: str
    store_address: str
    status: str
    method: str
    curbside: bool
    arrived_at: datetime | None
    arrival_bay: str | None
    items: tuple[tuple[str, int], ...]


class CustomerNotifier:
    """Sends the pickup messages through the configured email and SMS providers."""

    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.public_base_url.rstrip("/")
        self.email = notifications.email_sender_for(settings)
        self.sms = notifications.sms_sender_for(settings)

    def pickup_url(self, code: str) -> str:
        return f"{self.base_url}/pickup/{code}"

    def send(
        self,
        db: Database,
        order: Order,
        template: Template,
        context: ReadyForPickup | PickupReminder | PickupCancelled,
    ) -> None:
        if order.email:
            notifications.send(
                db,
                order_id=order.id,
                template=template.value,
                message=render(template.value, context, to=order.email),
                sender=self.email,
            )
        if order.phone:
            notifications.send(
                db,
                order_id=order.id,
                template=template.value,
                message=render_sms(template.value, context, to=order.phone),
                sender=self.sms,
            )


def notify_ready(
    db: Database,
    notifier: CustomerNotifier,
    *,
    order_id: uuid.UUID,
    fulfillment_id: uuid.UUID,
    code: str,
) -> None:
    """Tell the customer their pickup is ready, with its QR code and, for curbside, the
    "I'm here" link."""
    with db.uow(write=False) as uow:
        order = uow.session.get_one(Order, order_id)
        f = uow.session.get_one(OrderFulfillment, fulfillment_id)
        store = uow.session.get_one(Location, f.location_id)
        url = notifier.pickup_url(code)
        context = ReadyForPickup(
            order_number=order.number,
            customer_name=order.customer_name or "there",
            store_name=store.name,
            store_address=_address(store),
            items=_items(uow, f),
            hold_until=_hold_until(store, f),
            pickup_url=url,
            pickup_qr_payload=url,
            arrival_url=f"{url}#arrived" if f.method == "curbside" else None,
            store_hours=_hours_text(store),
        )
    notifier.send(db, order, Template.READY_FOR_PICKUP, context)


def page(*, db: Database, code: str) -> PickupPage:
    """The customer's view of their pickup, by the secret code in their link."""
    with db.uow(write=False) as uow:
        f = _by_code(uow, code)
        order = uow.session.get_one(Order, f.order_id)
        store = uow.session.get_one(Location, f.location_id)
        return PickupPage(
            number=format_number(order.number),
            customer_name=order.customer_name,
            store_name=store.name,
            store_address=_address(store),
            status=f.status,
            method=f.method,
            curbside=f.method == "curbside",
            arrived_at=f.arrived_at,
            arrival_bay=f.arrival_bay,
            items=_items(uow, f),
        )


def arrive(
    *, db: Database, code: str, bay: str, car: str, now: datetime | None = None
) -> PickupPage:
    """The customer is here (curbside: in `bay`, in the car described): the store's
    registers hear `order.customer_arrived`. Saying it again updates bay and car."""
    errors = []
    if not bay.strip() or len(bay) > 20:
        errors.append(FieldError("bay", "pickup.bay_required", "the bay number, 20 characters"))
    if len(car) > 120:
        errors.append(FieldError("car", "pickup.car_too_long", "120 characters at most"))
    if errors:
        raise ValidationFailed(errors[0].code, "say where you are parked", errors=errors)
    at = now or utcnow()
    with db.uow() as uow:
        f = _by_code(uow, code, lock=True)
        if f.status not in ARRIVAL_OPEN:
            raise Conflict("pickup.not_waiting", f"this pickup is {f.status}", {"status": f.status})
        order = uow.session.get_one(Order, f.order_id)
        f.arrived_at = at
        f.arrival_bay = bay.strip()
        f.arrival_car = car.strip()
        store = location_code(uow, f.location_id)
        order_timeline.record(
            uow,
            order,
            "customer_arrived",
            actor=None,
            now=at,
            fulfillment_id=f.id,
            location_id=f.location_id,
            data={
                "location": store,
                "bay": f.arrival_bay,
                "car": f.arrival_car,
                "customer_name": order.customer_name,
                "ready": f.status == FulfillmentStatus.READY,
            },
            publish="order.customer_arrived",
            locations=[store],
        )
        uow.commit()
    return page(db=db, code=code)


def sweep(
    *, db: Database, notifier: CustomerNotifier | None, now: datetime | None = None
) -> tuple[int, list[uuid.UUID]]:
    """Remind pickups waiting past their store's reminder days (once) and cancel those past
    its hold days. Returns (reminded, orders whose pickups were cancelled: the caller brings
    their payment in line)."""
    at = now or utcnow()
    with db.uow(write=False) as uow:
        waiting = uow.session.execute(
            select(OrderFulfillment.id, Location.pickup_reminder_days, Location.pickup_hold_days)
            .join(Location, Location.id == OrderFulfillment.location_id)
            .where(OrderFulfillment.status == FulfillmentStatus.READY)
        ).all()
    reminded, expired = 0, []
    for fid, remind_days, hold_days in waiting:
        outcome = _age_one(db, notifier, fid, remind_days, hold_days, at)
        if outcome == "reminded":
            reminded += 1
        elif isinstance(outcome, uuid.UUID):
            expired.append(outcome)
    return reminded, expired


def _age_one(
    db: Database,
    notifier: CustomerNotifier | None,
    fid: uuid.UUID,
    remind_days: int,
    hold_days: int,
    at: datetime,
) -> str | uuid.UUID | None:
    with db.uow() as uow:
        f = uow.session.get_one(OrderFulfillment, fid, with_for_update=True)
        if f.status != FulfillmentStatus.READY or f.ready_at is None:
            return None
        order = uow.session.get_one(Order, f.order_id, with_for_update=True)
        store = uow.session.get_one(Location, f.location_id)
        if at >= f.ready_at + timedelta(days=hold_days):
            release(uow, f, actor=None, now=at)
            f.status = FulfillmentStatus.CANCELLED
            f.cancelled_at = at
            for a in allocations_of(uow, f):
                left = a.quantity - a.quantity_cancelled
                a.quantity_cancelled = a.quantity
                line = uow.session.get_one(OrderLine, a.order_line_id, with_for_update=True)
                line.quantity_cancelled += left
            refresh_status(uow, order, at)
            order_timeline.record(
                uow,
                order,
                "pickup_expired",
                actor=None,
                now=at,
                fulfillment_id=f.id,
                location_id=f.location_id,
                data={"location": store.code, "held_days": hold_days},
                publish="order.pickup_expired",
                locations=[store.code],
            )
            uow.commit()
            if notifier is not None:
                notifier.send(
                    db,
                    order,
                    Template.PICKUP_CANCELLED,
                    PickupCancelled(order.number, order.customer_name or "there", store.name),
                )
            return order.id
        if f.reminded_at is None and at >= f.ready_at + timedelta(days=remind_days):
            f.reminded_at = at
            order_timeline.record(
                uow,
                order,
                "pickup_reminded",
                actor=None,
                now=at,
                fulfillment_id=f.id,
                location_id=f.location_id,
                data={"location": store.code},
            )
            uow.commit()
            if notifier is not None:
                notifier.send(
                    db,
                    order,
                    Template.PICKUP_REMINDER,
                    PickupReminder(
                        order_number=order.number,
                        customer_name=order.customer_name or "there",
                        store_name=store.name,
                        store_address=_address(store),
                        hold_until=_hold_until(store, f),
                        pickup_url=f"{notifier.base_url}/pickup",
                        store_hours=_hours_text(store),
                    ),
                )
            return "reminded"
    return None


def _by_code(uow: UnitOfWork, code: str, *, lock: bool = False) -> OrderFulfillment:
    stmt = select(OrderFulfillment).where(OrderFulfillment.pickup_token_hash == token_hash(code))
    if lock:
        stmt = stmt.with_for_update()
    f = uow.session.scalars(stmt).one_or_none()
    if f is None:
        raise NotFound("pickup.not_found", "no pickup with this code")
    return f


def _items(uow: UnitOfWork, f: OrderFulfillment) -> tuple[tuple[str, int], ...]:
    out = []
    for a in allocations_of(uow, f):
        line = uow.session.get_one(OrderLine, a.order_line_id)
        if a.quantity > a.quantity_cancelled:
            out.append((line.name, a.quantity - a.quantity_cancelled))
    return tuple(out)


def _address(store: Location) -> str:
    parts = [
        store.address_line1,
        store.address_line2,
        " ".join(p for p in (store.city, store.region, store.postal_code) if p),
    ]
    return "\n".join(p for p in parts if p)


def _hold_until(store: Location, f: OrderFulfillment) -> date:
    """The last local day the pickup waits."""
    ready = f.ready_at or utcnow()
    return hours.business_day(ready + timedelta(days=store.pickup_hold_days), store.timezone)


def _hours_text(store: Location) -> str:
    if not store.opening_hours:
        return ""
    return ", ".join(
        f"{day.capitalize()} {' & '.join(f'{a}-{b}' for a, b in spans)}"
        for day, spans in store.opening_hours.items()
        if spans
    )
