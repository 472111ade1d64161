"""The prepaid carrier label of a mail-in return (RMA), and its PDF.

From the order's ship-to address to the return's location (the store or warehouse that will
receive the parcel). Bought before anything is written, with the idempotency key
``return-label:<return id>``: a purchase whose answer was lost (`carrier.timeout`) is simply
asked again and the carrier answers the same label, never a second one; a label already on
the return is answered again without asking the carrier. The label (id, rate, tracking
number, PDF file in the labels directory) is kept on the return, audited
`return.label_bought`, and the customer is emailed the PDF after the commit (the order's
email; recorded in `notifications` as template `return_label`, sent or failed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Order, Return, Shipment
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.fulfillment.carrier import Address, Carrier, Label, Parcel
from omnitill.domain.integrations.notifications import Attachment, Message
from omnitill.domain.orders.lifecycle import format_number
from omnitill.services import audit, notifications
from omnitill.services.order_cancel import location_code
from omnitill.services.pickups import CustomerNotifier
from omnitill.services.return_mail_in import authorized, get_return

DEFAULT_WEIGHT_GRAMS = 1000  # a parcel of unknown weight: the order never shipped with a label
TEMPLATE = "return_label"


@dataclass(frozen=True, slots=True)
class LabelView:
    return_id: uuid.UUID
    number: str
    carrier: str
    tracking_number: str
    label: dict[str, Any]
    bought: bool  # False: the label bought earlier, answered again


def buy_label(
    *,
    db: Database,
    actor: Actor,
    carrier: Carrier,
    return_id: uuid.UUID,
    service: str = "ground",
    weight_grams: int | None = None,
    dimensions_mm: tuple[int, int, int] | None = None,
    labels_dir: Path,
    notifier: CustomerNotifier | None = None,
) -> LabelView:
    """Buy the return label once (see the module doc); the customer is emailed it. The
    parcel weighs `weight_grams`, by default what the order's parcels weighed going out."""
    actor.require(Permission.RETURNS_CREATE)
    with db.uow(write=False) as uow:
        ret = authorized(uow, actor, return_id)
        if ret.label is not None:
            return _label_view(ret, bought=False)
        order = uow.session.get_one(Order, ret.order_id)
        origin = Address.from_dict({"name": order.customer_name, **(order.ship_to or {})})
        destination = _address_of(uow.session.get_one(Location, ret.location_id))
        weight = weight_grams or _shipped_weight(uow, order.id)
    label = carrier.buy_label(
        origin=origin,
        destination=destination,
        parcel=Parcel(weight, dimensions_mm),
        service=service,
        idempotency_key=f"return-label:{return_id}",
    )
    labels_dir.mkdir(parents=True, exist_ok=True)
    (labels_dir / _pdf_name(label)).write_bytes(label.label_pdf)
    view = _store_label(db, actor, return_id, label)
    if view.bought and notifier is not None:
        _email_label(db, notifier, return_id, label)
    return view


def label_pdf(*, db: Database, actor: Actor, return_id: uuid.UUID, labels_dir: Path) -> bytes:
    """The return label's PDF, to print or send again."""
    actor.require(Permission.RETURNS_CREATE)
    with db.uow(write=False) as uow:
        ret = get_return(uow, return_id)
        actor.require_location(ret.location_id, location_code(uow, ret.location_id))
        if ret.label is None:
            raise NotFound("returns.no_label", "no label was bought for this return")
        path = labels_dir / str(ret.label["pdf"])
    if not path.exists():
        raise NotFound("returns.label_missing", "the label file is not in the data directory")
    return path.read_bytes()


def _store_label(db: Database, actor: Actor, return_id: uuid.UUID, label: Label) -> LabelView:
    with db.uow() as uow:
        ret = authorized(uow, actor, return_id, lock=True)
        if ret.label is not None:  # a concurrent request stored it first: the same label
            return _label_view(ret, bought=False)
        ret.carrier = label.carrier
        ret.tracking_number = label.tracking_number
        ret.label = {
            "label_id": label.label_reference,
            "service": label.service,
            "rate": {
                "amount": label.rate.amount,
                "currency": label.rate.currency,
                "zone": label.rate.zone,
                "billable_weight_grams": label.rate.billable_weight_grams,
            },
            "pdf": _pdf_name(label),
            "tracking_url": label.tracking_url,
            "bought_at": label.created_at.isoformat(),
        }
        audit.record(
            uow,
            action="return.label_bought",
            actor=actor,
            subject_type="return",
            subject_id=str(ret.id),
            details={
                "number": ret.number,
                "carrier": label.carrier,
                "tracking_number": label.tracking_number,
                "rate": label.rate.amount,
                "currency": label.rate.currency,
            },
        )
        uow.commit()
        return _label_view(ret, bought=True)


def _email_label(
    db: Database, notifier: CustomerNotifier, return_id: uuid.UUID, label: Label
) -> None:
    with db.uow(write=False) as uow:
        ret = uow.session.get_one(Return, return_id)
        order = uow.session.get_one(Order, ret.order_id)
        number, to, name = ret.number, order.email, order.customer_name or "there"
        order_id, order_number = order.id, format_number(order.number)
    if not to:
        return
    text = (
        f"Hello {name},\n\nyour return {number} of order {order_number} is authorised. "
        f"Print the attached {label.carrier} label, stick it on the parcel and hand it to "
        f"the carrier. Tracking number: {label.tracking_number} ({label.tracking_url}).\n"
        "Your refund goes back to how you paid once the parcel arrives.\n"
    )
    message = Message(
        to=to,
        subject=f"Your return label for {number}",
        text=text,
        attachments=(Attachment(f"{number}.pdf", "application/pdf", label.label_pdf),),
    )
    notifications.send(
        db, order_id=order_id, template=TEMPLATE, message=message, sender=notifier.email
    )


def _address_of(loc: Location) -> Address:
    return Address(
        name=loc.name,
        line1=loc.address_line1,
        line2=loc.address_line2,
        city=loc.city,
        region=loc.region,
        postal_code=loc.postal_code,
        country=loc.country,
    )


def _shipped_weight(uow: UnitOfWork, order_id: uuid.UUID) -> int:
    """What the order's parcels weighed when they went out (a return is at most that)."""
    weight = uow.session.scalar(
        select(func.sum(Shipment.weight_grams)).where(Shipment.order_id == order_id)
    )
    return int(weight or DEFAULT_WEIGHT_GRAMS)


def _pdf_name(label: Label) -> str:
    return f"{label.tracking_number}.pdf"


def _label_view(ret: Return, *, bought: bool) -> LabelView:
    assert ret.label is not None
    assert ret.carrier is not None
    assert ret.tracking_number is not None
    return LabelView(ret.id, ret.number, ret.carrier, ret.tracking_number, dict(ret.label), bought)
