"""QR payments: a payment link shown as a QR code, paid through the provider's callback.

The register asks for a link for an amount; the customer scans the QR code (on the register
or the customer display) and pays in their wallet app; the provider then calls back with a
notification signed by HMAC-SHA256 under the shared secret. The register polls the payment
until it is `captured`, or gives up when the link expires (a late callback is refused, so an
expired link can never take money the register no longer waits for).

The link's token is a bearer secret: only its digest is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from sqlalchemy import select, update

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Payment, PaymentEvent, QrPayment
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, Unauthenticated, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.payments.tenders import EntryMode, Method
from omnitill.services.payments import PaymentView, register_and_location, view
from omnitill.services.shifts import open_shift_of

DEFAULT_TTL = timedelta(minutes=5)
MAX_TTL = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class QrLink:
    payment: PaymentView
    url: str
    svg: str
    expires_at: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, body: bytes) -> str:
    """The signature a provider sends with its notification (hex HMAC-SHA256)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def create(
    *,
    db: Database,
    actor: Actor,
    payment_id: uuid.UUID,
    register: str,
    amount: int,
    sale_id: uuid.UUID | None,
    order_id: uuid.UUID | None,
    base_url: str,
    ttl: timedelta = DEFAULT_TTL,
) -> QrLink:
    """A payment link for `amount`, pending until the provider's callback or its expiry."""
    actor.require(Permission.SALES_CREATE)
    errors: list[FieldError] = []
    if amount <= 0:
        errors.append(FieldError("amount", "payment.amount_not_positive", "must be > 0"))
    if not timedelta(seconds=30) <= ttl <= MAX_TTL:
        errors.append(FieldError("ttl_seconds", "payment.invalid_ttl", "30 s to 30 min"))
    if (sale_id is None) == (order_id is None):
        errors.append(FieldError("sale_id", "payment.target_required", "a sale or an order"))
    if errors:
        raise ValidationFailed(errors[0].code, "the QR payment is invalid", errors=errors)
    token = secrets.token_urlsafe(24)
    with db.uow() as uow:
        if uow.session.get(Payment, payment_id) is not None:
            raise Conflict(
                "payment.id_reused",
                "this payment id was used already: poll it, or make a new link",
                {"id": str(payment_id)},
            )
        reg, location = register_and_location(uow, actor, register)
        now = utcnow()
        payment = Payment(
            id=payment_id,
            sale_id=sale_id,
            order_id=order_id,
            location_id=location.id,
            register_id=reg.id,
            shift_id=open_shift_of(uow, reg.id),
            method=Method.QR,
            status="pending",
            amount_minor=amount,
            currency=location.currency,
            refunded_minor=0,
            idempotency_key=f"qr:{payment_id}",
            gateway="qr",
            entry_mode=EntryMode.QR,
            actor_id=actor.user_id,
            created_at=now,
        )
        uow.session.add(payment)
        uow.session.flush()
        link = QrPayment(
            id=uuid7(),
            payment_id=payment_id,
            token_hash=digest(token),
            status="pending",
            expires_at=now + ttl,
            created_at=now,
        )
        uow.session.add(link)
        uow.commit()
        url = f"{base_url.rstrip('/')}/pay/qr/{token}"
        svg = segno.make(url, error="m").svg_inline(scale=4, title="Scan to pay")
        return QrLink(view(payment), url, svg, link.expires_at)


def callback(
    *,
    db: Database,
    secret: str,
    body: bytes,
    signature: str | None,
    token: str,
    status: str,
    provider_reference: str,
) -> PaymentView:
    """The provider's notification: `paid` captures the payment (idempotently), `failed`
    leaves it failed. 401 `qr.bad_signature`; 404 `qr.not_found`; 409 `qr.expired` when
    the link ran out before the payment arrived (the provider must refund it)."""
    if signature is None or not hmac.compare_digest(sign(secret, body), signature):
        raise Unauthenticated("qr.bad_signature", "the notification's signature does not match")
    if status not in ("paid", "failed"):
        raise ValidationFailed(
            "qr.invalid_status",
            "a notification says paid or failed",
            errors=[FieldError("status", "qr.invalid_status", "paid | failed")],
        )
    with db.uow() as uow:
        link = uow.session.scalars(
            select(QrPayment).where(QrPayment.token_hash == digest(token)).with_for_update()
        ).one_or_none()
        if link is None:
            raise NotFound("qr.not_found", "no such payment link")
        payment = uow.session.get(Payment, link.payment_id, with_for_update=True)
        assert payment is not None
        now = utcnow()
        if link.status == "paid" or payment.status in ("captured", "failed"):
            return view(payment)  # a repeated notification
        if now > link.expires_at or link.status != "pending":
            _expire(uow, link, payment, now)
            uow.commit()
            raise Conflict(
                "qr.expired",
                "the payment link expired before it was paid",
                {"payment_id": str(payment.id)},
            )
        paid = status == "paid"
        link.status = "paid" if paid else "failed"
        link.paid_at = now if paid else None
        link.provider_reference = provider_reference[:100]
        payment.status = "captured" if paid else "failed"
        payment.gateway_reference = provider_reference[:100]
        uow.session.add(
            PaymentEvent(
                id=uuid7(),
                payment_id=payment.id,
                kind="capture" if paid else "fail",
                amount_minor=payment.amount_minor,
                status=payment.status,
                idempotency_key=f"{payment.idempotency_key}:{status}",
                gateway_reference=provider_reference[:100],
                created_at=now,
            )
        )
        uow.commit()
        return view(payment)


def poll(*, db: Database, actor: Actor, payment_id: uuid.UUID) -> PaymentView:
    """The payment as the register polls it; a link past its time is expired here."""
    actor.require(Permission.SALES_READ)
    with db.uow() as uow:
        payment = uow.session.get(Payment, payment_id)
        if payment is None or payment.method != Method.QR:
            raise NotFound("payment.not_found", "no such QR payment", {"id": str(payment_id)})
        actor.require_location(payment.location_id, str(payment.location_id))
        link = uow.session.scalars(
            select(QrPayment).where(QrPayment.payment_id == payment_id)
        ).one()
        now = utcnow()
        if link.status == "pending" and now > link.expires_at:
            _expire(uow, link, payment, now)
            uow.commit()
        return view(payment)


def _expire(uow: UnitOfWork, link: QrPayment, payment: Payment, now: datetime) -> None:
    """Pending -> expired, once (a conditional update: a racing callback cannot pay it)."""
    done = uow.session.execute(
        update(QrPayment)
        .where(QrPayment.id == link.id, QrPayment.status == "pending")
        .values(status="expired")
        .returning(QrPayment.id)
    ).first()
    if done is None:
        return
    payment.status = "expired"
    payment.message = "the payment link expired"
    uow.session.add(
        PaymentEvent(
            id=uuid7(),
            payment_id=payment.id,
            kind="expire",
            amount_minor=payment.amount_minor,
            status="expired",
            idempotency_key=f"{payment.idempotency_key}:expire",
            created_at=now,
        )
    )
