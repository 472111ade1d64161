"""Rows for return facts and KPI tests, written straight through the models so each figure the
tests expect can be computed by hand from what is inserted here."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.models import (
    Category,
    GiftCard,
    Order,
    OrderAllocation,
    OrderFulfillment,
    OrderLine,
    Payment,
    Product,
    Return,
    ReturnLine,
    ReturnRefund,
    Sale,
    SaleLine,
    User,
    Variant,
)
from omnitill.services.database import Database
from tests.factories import make_user

_n = itertools.count(1)


def user_id(db: Database, username: str, role: str = "cashier") -> uuid.UUID:
    make_user(db, username, role)
    with db.uow(write=False) as uow:
        return uow.session.scalars(select(User.id).where(User.username == username.lower())).one()


def category(db: Database, name: str) -> uuid.UUID:
    with db.uow() as uow:
        row = Category(name=name, slug=f"{name.lower()}-{next(_n)}")
        uow.session.add(row)
        uow.commit()
        return row.id


def variant(db: Database, category_id: uuid.UUID | None = None) -> uuid.UUID:
    n = next(_n)
    with db.uow() as uow:
        product = Product(name=f"Item {n}", category_id=category_id)
        uow.session.add(product)
        uow.session.flush()
        row = Variant(
            product_id=product.id, sku=f"RV-{n}", name=f"Item {n}", price_minor=1000, currency="USD"
        )
        uow.session.add(row)
        uow.commit()
        return row.id


def sale(
    db: Database,
    *,
    location_id: uuid.UUID,
    register_id: uuid.UUID,
    cashier_id: uuid.UUID,
    at: datetime,
    lines: list[tuple[uuid.UUID, int, int]],
    category_id: uuid.UUID | None = None,
    status: str = "completed",
    currency: str = "USD",
    gift_card_line: int | None = None,
) -> uuid.UUID:
    """A sale of `lines` (variant, quantity, paid total); `gift_card_line` adds one gift card
    line of that amount, on the first line's variant."""
    n = next(_n)
    total = sum(t for _, _, t in lines) + (gift_card_line or 0)
    with db.uow() as uow:
        row = Sale(
            id=uuid.uuid4(),
            receipt_number=f"T-{n}",
            register_id=register_id,
            location_id=location_id,
            cashier_id=cashier_id,
            status=status,
            currency=currency,
            subtotal_minor=total,
            discount_total_minor=0,
            tax_total_minor=0,
            total_minor=total,
            tendered_minor=total,
            change_due_minor=0,
            tax_inclusive=True,
            request_hash="0" * 64,
            business_date=at.date(),
            completed_at=at,
        )
        uow.session.add(row)
        uow.session.flush()
        for i, (vid, qty, paid) in enumerate(lines, start=1):
            uow.session.add(_sale_line(row.id, i, vid, qty, paid, category_id))
        if gift_card_line is not None:
            card = GiftCard(
                code_hash=f"{n:064d}", code_last4="0000", currency=currency, status="active"
            )
            uow.session.add(card)
            uow.session.flush()
            extra = _sale_line(row.id, len(lines) + 1, lines[0][0], 1, gift_card_line, None)
            extra.gift_card_id = card.id
            uow.session.add(extra)
        uow.commit()
        return row.id


def _sale_line(
    sale_id: uuid.UUID, no: int, vid: uuid.UUID, qty: int, paid: int, cat: uuid.UUID | None
) -> SaleLine:
    return SaleLine(
        sale_id=sale_id,
        line_no=no,
        variant_id=vid,
        sku=f"L{no}",
        name="Item",
        quantity=qty,
        unit_price_minor=paid // qty,
        list_price_minor=paid // qty,
        subtotal_minor=paid,
        discount_total_minor=0,
        tax_total_minor=0,
        total_minor=paid,
        category_id=cat,
    )


def order(
    db: Database,
    *,
    placed_at: datetime,
    lines: list[tuple[uuid.UUID, int, int]],
    channel: str = "web",
    status: str = "completed",
    currency: str = "USD",
) -> list[uuid.UUID]:
    """An order of `lines` (variant, quantity, paid total); returns its line ids."""
    n = next(_n)
    total = sum(t for _, _, t in lines)
    with db.uow() as uow:
        row = Order(
            number=100000 + n,
            channel=channel,
            status=status,
            currency=currency,
            subtotal_minor=total,
            discount_total_minor=0,
            tax_total_minor=0,
            total_minor=total,
            pricing={},
            request_hash="0" * 64,
            placed_at=placed_at,
        )
        uow.session.add(row)
        uow.session.flush()
        ids = []
        for i, (vid, qty, paid) in enumerate(lines, start=1):
            line = OrderLine(
                order_id=row.id,
                line_no=i,
                variant_id=vid,
                sku=f"L{i}",
                name="Item",
                quantity=qty,
                method="ship",
                unit_price_minor=paid // qty,
                discount_total_minor=0,
                tax_total_minor=0,
                total_minor=paid,
            )
            uow.session.add(line)
            uow.session.flush()
            ids.append(line.id)
        uow.commit()
        return ids


def fulfil(
    db: Database,
    *,
    order_line_id: uuid.UUID,
    location_id: uuid.UUID,
    status: str,
    quantity: int,
    cancelled: int = 0,
    method: str = "ship",
) -> None:
    """One fulfillment of `quantity` units of an order line at a location, in `status`."""
    with db.uow() as uow:
        line = uow.session.get_one(OrderLine, order_line_id)
        f = OrderFulfillment(
            order_id=line.order_id, location_id=location_id, method=method, status=status
        )
        uow.session.add(f)
        uow.session.flush()
        uow.session.add(
            OrderAllocation(
                fulfillment_id=f.id,
                order_line_id=order_line_id,
                quantity=quantity,
                quantity_cancelled=cancelled,
            )
        )
        uow.commit()


def payment(db: Database, *, location_id: uuid.UUID, fingerprint: str) -> uuid.UUID:
    with db.uow() as uow:
        row = Payment(
            location_id=location_id,
            method="card",
            status="captured",
            amount_minor=5000,
            currency="USD",
            idempotency_key=f"pay-{next(_n)}",
            card_fingerprint=fingerprint,
        )
        uow.session.add(row)
        uow.commit()
        return row.id


def add_return(
    db: Database,
    *,
    location_id: uuid.UUID,
    at: datetime,
    lines: list[dict[str, Any]] | None = None,
    refunds: list[tuple[uuid.UUID | None, str]] | None = None,
    refunded_after: timedelta | None = None,
    **fields: Any,
) -> uuid.UUID:
    """A return initiated `at`; each line a dict of ReturnLine fields over defaults (one unit
    of `variant_id`, reason `defective`); each refund (payment id, status) of 100."""
    values: dict[str, Any] = {
        "kind": "return",
        "status": "completed",
        "channel": "in_store",
        "currency": "USD",
        "refund_total_minor": 0,
        "fee_total_minor": 0,
        "shipping_refund_minor": 0,
        "refunded_minor": 0,
        "exchange_credit_minor": 0,
        "exchange_applied_minor": 0,
        "no_receipt": False,
        "risk_score": 0,
        "risk": [],
        "decision": {},
        "request_hash": "0" * 64,
        "note": "",
        **fields,
    }
    with db.uow() as uow:
        row = Return(
            id=uuid.uuid4(),
            number=f"RET-{next(_n):06d}",
            location_id=location_id,
            initiated_at=at,
            refunded_at=at + refunded_after if refunded_after is not None else None,
            **values,
        )
        uow.session.add(row)
        uow.session.flush()
        for i, line in enumerate(lines or [], start=1):
            data = {
                "sku": "X",
                "name": "Item",
                "quantity": 1,
                "condition": "unopened",
                "reason_code": "defective",
                "refund_minor": 0,
                "refund_to": "original_tenders",
                **line,
            }
            uow.session.add(ReturnLine(return_id=row.id, line_no=i, **data))
        for seq, (payment_id, status) in enumerate(refunds or [], start=1):
            uow.session.add(
                ReturnRefund(
                    return_id=row.id,
                    seq=seq,
                    payment_id=payment_id,
                    method="card",
                    given_as="card",
                    amount_minor=100,
                    currency="USD",
                    status=status,
                )
            )
        uow.commit()
        return row.id
