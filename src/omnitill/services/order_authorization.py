"""Authorizing an online order's card, and what the gateway's answer does to the order.

The order is committed as `pending_payment` before the gateway is asked (services/orders.py),
so an answer that never comes is never money taken without a record: sending the same order
again asks again with the same payment id, and the gateway answers the first request. An
approval places the order and tells its stores (`order.placed`); a decline or a refusal
cancels it and releases its stock (402 `payment.declined`, the attempt kept on the order).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Order, OrderFulfillment, OrderLine, Payment
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import OutcomeUnknown, PaymentDeclined, ValidationFailed
from omnitill.domain.orders.lifecycle import OrderStatus
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.payments.tenders import EntryMode
from omnitill.services import order_timeline, payments
from omnitill.services.order_cancel import release_and_cancel
from omnitill.services.order_views import OrderView, load_view


def announce_placed(
    uow: UnitOfWork, order: Order, locations: Iterable[str], actor: Actor | None, now: datetime
) -> None:
    """Tell the stores: `order.placed` to every location with a part of the order."""
    order_timeline.record(
        uow,
        order,
        "announced",
        actor=actor,
        now=now,
        publish="order.placed",
        locations=sorted(set(locations)),
        data={"total": order.total_minor, "currency": order.currency},
    )


def authorize(
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    card_token: str,
) -> OrderView:
    """Authorize the order's total on the card token; place or cancel the order by the
    answer. An answer still unknown leaves it pending_payment (see resolve_payment)."""
    with db.uow(write=False) as uow:
        order = uow.session.get_one(Order, order_id)
        total, currency = order.total_minor, order.currency
        location = _booking_location(uow, order)
    pay = partial(
        payments.pay_by_card,
        db=db,
        actor=actor,
        gateway=gateway,
        request=payments.CardPaymentRequest(
            payment_id=uuid.uuid5(order_id, "authorization"),
            register=None,
            location=location,
            amount=total,
            payment_data=card_token,
            entry_mode=EntryMode.ONLINE,
            order_id=order_id,
            currency=currency,
            capture=False,
        ),
        permission=Permission.ORDERS_CREATE,
    )
    try:
        payment = pay()
    except (PaymentDeclined, ValidationFailed) as refused:
        if "payment_id" not in refused.details:
            raise
        with db.uow(write=False) as uow:
            paid = uow.session.get_one(Payment, uuid.UUID(str(refused.details["payment_id"])))
            payment = payments.view(paid)
    except OutcomeUnknown as lost:
        raise OutcomeUnknown(
            lost.code,
            "the gateway did not answer: send the same order again to learn the outcome",
            {**lost.details, "order_id": str(order_id)},
        ) from lost
    return settle_authorization(db, actor, order_id, payment)


def _booking_location(uow: UnitOfWork, order: Order) -> str:
    """The location an online payment is booked to: the first one fulfilling the order,
    else the pickup store, else the first store."""
    code = uow.session.scalar(
        select(Location.code)
        .join(OrderFulfillment, OrderFulfillment.location_id == Location.id)
        .where(OrderFulfillment.order_id == order.id)
        .order_by(OrderFulfillment.created_at, OrderFulfillment.id)
        .limit(1)
    ) or uow.session.scalar(select(Location.code).order_by(Location.code).limit(1))
    assert code is not None
    return code


def settle_authorization(
    db: Database, actor: Actor, order_id: uuid.UUID, payment: payments.PaymentView
) -> OrderView:
    """Apply the gateway's answer to a pending order: placed, or cancelled with its stock
    released (402 `payment.declined`)."""
    with db.uow() as uow:
        order = uow.session.get_one(Order, order_id, with_for_update=True)
        if order.status != OrderStatus.PENDING_PAYMENT:
            return load_view(uow, order)
        now = utcnow()
        data = {"payment_id": str(payment.id), "status": payment.status, "amount": payment.amount}
        if payment.status == "authorized":
            order.authorized_minor = payment.amount
            order.status = (
                OrderStatus.BACKORDERED if _has_backorders(uow, order) else OrderStatus.PLACED
            )
            order_timeline.record(uow, order, "payment_authorized", actor=actor, now=now, data=data)
            announce_placed(uow, order, _order_locations(uow, order), actor, now)
            uow.commit()
            return load_view(uow, order)
        if payment.status in {"pending", "unknown"}:
            return load_view(uow, order)
        order_timeline.record(
            uow,
            order,
            "payment_declined",
            actor=actor,
            now=now,
            data={**data, "decline_code": payment.decline_code},
        )
        order.status = OrderStatus.PLACED  # no longer waiting: derived from here on
        release_and_cancel(uow, order, actor=actor, now=now, reason="payment_declined")
        uow.commit()
    raise PaymentDeclined(
        "payment.declined" if payment.status == "declined" else "payment.failed",
        f"the card was refused ({payment.decline_code or payment.message})",
        {
            "order_id": str(order_id),
            "payment_id": str(payment.id),
            "decline_code": payment.decline_code,
        },
    )


def _has_backorders(uow: UnitOfWork, order: Order) -> bool:
    return any(
        line.quantity_backordered
        for line in uow.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
    )


def _order_locations(uow: UnitOfWork, order: Order) -> list[str]:
    return list(
        uow.session.scalars(
            select(Location.code)
            .join(OrderFulfillment, OrderFulfillment.location_id == Location.id)
            .where(OrderFulfillment.order_id == order.id)
        )
    )
