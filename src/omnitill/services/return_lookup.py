"""Finding the sale or order a customer brings back (issue 7), by receipt, order number,
scanned receipt code, the card that paid, or the customer's email or phone.

Returns are taken anywhere: staff bound to stores find sales and orders of every location,
deliberately (the listings of sales and orders stay scoped to their stores). Reading sales
needs `sales.read`, reading orders `orders.read`; a search that can find both shows what the
caller may read. Lookups by card, email or phone search a person's purchases and are audited
(`returns.lookup`), naming the kind of criterion only: never the email, the phone or the
card's fingerprint. Card numbers are refused before anything else (`refuse_card_numbers`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Customer, Order, OrderFulfillment, Payment, Sale
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, OutcomeUnknown, ValidationFailed
from omnitill.domain.payments.gateway import GatewayError, GatewayTimeout, PaymentGateway
from omnitill.domain.returns import lookup as rules
from omnitill.domain.returns.lookup import (
    ORDER,
    SALE,
    Criterion,
    DateRange,
    LookupKind,
    LookupParams,
)
from omnitill.services import audit
from omnitill.services.customers import normalize_phone
from omnitill.services.references import location_by_code
from omnitill.services.return_lookup_views import (
    PAID,
    LookupItem,
    LookupLine,
    LookupPayment,
    PurchaseRef,
    load_items,
)

__all__ = [
    "LookupItem",
    "LookupLine",
    "LookupParams",
    "LookupPayment",
    "find",
    "find_by_presented_card",
    "refuse_card_numbers",
]

_PERMISSION = {SALE: Permission.SALES_READ, ORDER: Permission.ORDERS_READ}
# Separators people type in phone numbers, removed in SQL before the digits are compared.
_PHONE_SEPARATORS = (" ", "-", ".", "(", ")", "/")


@dataclass(frozen=True, slots=True)
class _Search:
    criterion: Criterion
    phone: str | None  # E.164
    location_id: uuid.UUID | None
    limit: int


def refuse_card_numbers(items: Iterable[tuple[str, str]]) -> None:
    """422 `returns.card_number_refused` naming each field shaped like a card number."""
    rules.refuse_card_numbers(items)


def find(
    *,
    db: Database,
    actor: Actor,
    params: LookupParams,
    location: str | None = None,
    limit: int | None = None,
) -> tuple[LookupItem, ...]:
    """The sales and orders matching exactly one criterion, newest first."""
    criterion = rules.plan_lookup(params, today=utcnow().date())
    return _run(db=db, actor=actor, criterion=criterion, location=location, limit=limit)


def find_by_presented_card(
    *,
    db: Database,
    actor: Actor,
    gateway: PaymentGateway,
    payment_data: str,
    date_from: date | None = None,
    date_to: date | None = None,
    location: str | None = None,
    limit: int | None = None,
) -> tuple[LookupItem, ...]:
    """The purchases paid by the card presented on the terminal: the gateway answers its
    fingerprint without charging anything."""
    refuse_card_numbers([("payment_data", payment_data)])
    dates = rules.date_range(
        date_from, date_to, today=utcnow().date(), default_days=rules.CARD_DEFAULT_DAYS
    )
    rules.check_limit(limit)
    _readable(actor, frozenset({SALE, ORDER}))  # 403 before the card is read
    try:
        card = gateway.inspect_card(payment_data=payment_data)
    except GatewayError as exc:
        raise ValidationFailed(
            exc.code, str(exc), errors=[FieldError("payment_data", exc.code, str(exc))]
        ) from exc
    except GatewayTimeout as exc:
        raise OutcomeUnknown("gateway.timeout", "the gateway did not answer in time") from exc
    criterion = Criterion(LookupKind.CARD, fingerprint=card.fingerprint, dates=dates)
    return _run(
        db=db,
        actor=actor,
        criterion=criterion,
        location=location,
        limit=limit,
        audit_as="card_presented",
    )


def _run(
    *,
    db: Database,
    actor: Actor,
    criterion: Criterion,
    location: str | None,
    limit: int | None,
    audit_as: str | None = None,
) -> tuple[LookupItem, ...]:
    size = rules.check_limit(limit)
    kinds = _readable(actor, criterion.targets)
    phone = None
    if criterion.phone is not None:
        phone = normalize_phone(criterion.phone, country=criterion.country)
    with db.uow(write=False) as uow:
        loc = location_by_code(uow, location) if location else None
        search = _Search(criterion, phone, None if loc is None else loc.id, size)
        refs: list[PurchaseRef] = []
        if SALE in kinds:
            refs += _sales(uow, search)
        if ORDER in kinds:
            refs += _orders(uow, search)
        refs.sort(key=lambda r: (r.purchased_at, r.id), reverse=True)
        items = load_items(uow, refs[:size])
    if criterion.audited:
        _audit(db, actor, audit_as or criterion, kinds, len(items), location)
    return items


def _readable(actor: Actor, targets: frozenset[str]) -> frozenset[str]:
    """What of `targets` the actor may read; 403 when nothing."""
    kinds = frozenset(t for t in targets if actor.can(_PERMISSION[t]))
    if not kinds:
        actor.require(_PERMISSION[SALE if SALE in targets else ORDER])
    return kinds


# --- sales ---------------------------------------------------------------------------------


def _sales(uow: UnitOfWork, search: _Search) -> list[PurchaseRef]:
    c = search.criterion
    stmt = select(Sale.id, Sale.completed_at)
    if c.receipt_number is not None:
        stmt = stmt.where(Sale.receipt_number == c.receipt_number)
    elif c.order_number is not None:
        return []
    elif c.kind is LookupKind.CARD:
        stmt = stmt.where(Sale.id.in_(_card_payments(c, Payment.sale_id)))
    else:
        stmt = stmt.where(Sale.customer_id.in_(_customers(c, search.phone)))
    if c.dates is not None:
        stmt = stmt.where(Sale.business_date.between(c.dates.start, c.dates.end))
    if search.location_id is not None:
        stmt = stmt.where(Sale.location_id == search.location_id)
    stmt = stmt.order_by(Sale.completed_at.desc(), Sale.id.desc()).limit(search.limit)
    return [PurchaseRef(SALE, row.id, row.completed_at) for row in uow.session.execute(stmt)]


# --- orders --------------------------------------------------------------------------------


def _orders(uow: UnitOfWork, search: _Search) -> list[PurchaseRef]:
    c = search.criterion
    stmt = select(Order.id, Order.placed_at)
    if c.order_number is not None:
        stmt = stmt.where(Order.number == c.order_number)
    elif c.receipt_number is not None:
        return []
    elif c.kind is LookupKind.CARD:
        stmt = stmt.where(Order.id.in_(_card_payments(c, Payment.order_id)))
    elif c.email is not None:
        stmt = stmt.where(or_(Order.email == c.email, Order.customer_id.in_(_customers(c, None))))
    else:
        assert search.phone is not None
        typed = _orders_by_typed_phone(uow, search.phone, c.country)
        stmt = stmt.where(
            or_(Order.id.in_(typed), Order.customer_id.in_(_customers(c, search.phone)))
        )
    if c.dates is not None:
        start, end = _utc_bounds(c.dates)
        stmt = stmt.where(Order.placed_at >= start, Order.placed_at < end)
    if search.location_id is not None:
        stmt = stmt.where(_order_at(search.location_id))
    stmt = stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(search.limit)
    return [PurchaseRef(ORDER, row.id, row.placed_at) for row in uow.session.execute(stmt)]


def _order_at(location_id: uuid.UUID) -> Any:
    """The order was taken at the location, or (taken online) is fulfilled there."""
    fulfilled_there = exists().where(
        OrderFulfillment.order_id == Order.id,
        OrderFulfillment.location_id == location_id,
        OrderFulfillment.status != "rejected",
    )
    return or_(
        Order.origin_location_id == location_id,
        and_(Order.origin_location_id.is_(None), fulfilled_there),
    )


def _orders_by_typed_phone(uow: UnitOfWork, phone: str, country: str | None) -> list[uuid.UUID]:
    """Orders keep the phone as the customer typed it: narrowed in SQL by its last digits,
    each candidate is then read like the search (in the order's shipping country when the
    search names none) and compared in E.164."""
    digits: ColumnElement[str] = func.coalesce(Order.phone, "")
    for separator in _PHONE_SEPARATORS:
        digits = func.replace(digits, separator, "")
    stmt = select(Order.id, Order.phone, Order.ship_to).where(
        Order.phone.is_not(None), digits.like(f"%{phone[-7:]}")
    )
    found = []
    for row in uow.session.execute(stmt):
        region = country or ((row.ship_to or {}).get("country") or None)
        try:
            if normalize_phone(row.phone, country=region) == phone:
                found.append(row.id)
        except ValidationFailed:
            continue  # a number no one can dial matches nothing
    return found


# --- shared --------------------------------------------------------------------------------


def _card_payments(c: Criterion, owner: InstrumentedAttribute[uuid.UUID | None]) -> Select[Any]:
    """The sales or orders (`owner`) a card paid, by fingerprint and/or brand and last four."""
    stmt = select(owner).where(owner.is_not(None), Payment.status.in_(PAID))
    if c.fingerprint is not None:
        stmt = stmt.where(Payment.card_fingerprint == c.fingerprint)
    if c.card_brand is not None:
        stmt = stmt.where(
            func.lower(Payment.card_brand) == c.card_brand, Payment.card_last4 == c.card_last4
        )
    return stmt


def _customers(c: Criterion, phone: str | None) -> Select[Any]:
    if c.email is not None:
        return select(Customer.id).where(Customer.email == c.email)
    return select(Customer.id).where(Customer.phone == phone)


def _utc_bounds(dates: DateRange) -> tuple[datetime, datetime]:
    start = datetime.combine(dates.start, time(), UTC)
    return start, datetime.combine(dates.end + timedelta(days=1), time(), UTC)


def _audit(
    db: Database,
    actor: Actor,
    criterion: Criterion | str,
    kinds: frozenset[str],
    found: int,
    location: str | None,
) -> None:
    """`returns.lookup`: who searched a person's purchases, by what kind of criterion."""
    details: dict[str, Any] = {
        "criterion": criterion if isinstance(criterion, str) else criterion.kind.value,
        "searched": sorted(kinds),
        "found": found,
    }
    if isinstance(criterion, Criterion) and criterion.kind is LookupKind.CARD:
        details["by"] = [
            name
            for name, value in (
                ("fingerprint", criterion.fingerprint),
                ("brand_last4", criterion.card_last4),
            )
            if value is not None
        ]
    if location:
        details["location"] = location
    with db.uow() as uow:
        audit.record(
            uow,
            action="returns.lookup",
            actor=actor,
            subject_type="purchase",
            subject_id=None,
            details=details,
        )
        uow.commit()
