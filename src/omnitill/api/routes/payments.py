"""Card payments through the gateway: charge, resolve a lost answer, capture, void, read."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from omnitill.api.deps import CurrentActor, DbDep, GatewayDep, OverrideHeader, SettingsDep
from omnitill.api.schemas.payments import (
    CaptureCreate,
    CardPaymentCreate,
    CardRead,
    PaymentList,
    PaymentRead,
    QrNotification,
    QrPaymentCreate,
    QrPaymentRead,
    RefundCreate,
    RefundRead,
    SandboxKeyRead,
)
from omnitill.domain.errors import FieldError, NotFound, ValidationFailed
from omnitill.services import payments as service
from omnitill.services import qr_payments as qr_service
from omnitill.services import refunds as refund_service

router = APIRouter(prefix="/api/v1", tags=["payments"])


def to_read(p: service.PaymentView) -> PaymentRead:
    card = (
        CardRead(
            brand=p.card_brand,
            last4=p.card_last4,
            exp_month=p.card_exp_month,
            exp_year=p.card_exp_year,
            entry_mode=p.entry_mode,
        )
        if p.method == "card"
        else None
    )
    return PaymentRead(
        id=str(p.id),
        sale_id=None if p.sale_id is None else str(p.sale_id),
        order_id=None if p.order_id is None else str(p.order_id),
        method=p.method,
        status=p.status,
        amount=p.amount,
        currency=p.currency,
        refunded=p.refunded,
        card=card,
        auth_code=p.auth_code,
        decline_code=p.decline_code,
        message=p.message,
        created_at=p.created_at,
    )


@router.post(
    "/payments",
    response_model=PaymentRead,
    status_code=status.HTTP_201_CREATED,
    summary="Pay by card (chip, tap, wallet, keyed) through the gateway",
    responses={
        402: {"description": "`payment.declined`: recorded; the sale stays open."},
        504: {"description": "`payment.outcome_unknown`: resolve it before charging again."},
    },
)
def pay_by_card(
    body: CardPaymentCreate,
    actor: CurrentActor,
    db: DbDep,
    gateway: GatewayDep,
    settings: SettingsDep,
) -> PaymentRead:
    """The same `id` again answers the first outcome and never charges twice. A lost
    gateway answer is asked after by idempotency key and resent with the same key. 422
    `payment.invalid_entry_mode`, `payment.amount_not_positive`, `payment.id_reused`,
    `payment.failed` (the gateway could not read the card data)."""
    return to_read(
        service.pay_by_card(
            db=db,
            actor=actor,
            gateway=gateway,
            request=service.CardPaymentRequest(
                payment_id=body.id,
                register=body.register,
                amount=body.amount,
                payment_data=body.payment_data,
                entry_mode=body.entry_mode,
                sale_id=body.sale_id,
                order_id=body.order_id,
                currency=body.currency,
                capture=body.capture,
            ),
            attempts=settings.gateway_attempts,
        )
    )


@router.get("/payments", response_model=PaymentList, summary="Payment attempts of a sale")
def list_payments(
    actor: CurrentActor, db: DbDep, sale_id: uuid.UUID = Query(description="The sale's id.")
) -> PaymentList:
    """Every attempt, declines included, oldest first."""
    return PaymentList(
        items=[to_read(p) for p in service.for_sale(db=db, actor=actor, sale_id=sale_id)]
    )


@router.get("/payments/{payment_id}", response_model=PaymentRead, summary="A payment")
def get_payment(payment_id: uuid.UUID, actor: CurrentActor, db: DbDep) -> PaymentRead:
    """404 `payment.not_found`."""
    return to_read(service.get(db=db, actor=actor, payment_id=payment_id))


@router.post(
    "/payments/{payment_id}/resolve",
    response_model=PaymentRead,
    summary="Settle a payment whose gateway answer was lost",
)
def resolve_payment(
    payment_id: uuid.UUID, actor: CurrentActor, db: DbDep, gateway: GatewayDep
) -> PaymentRead:
    """Asks the gateway by idempotency key: captured, declined, or `failed` when the
    gateway never received it (nothing was charged). 504 while it still does not answer."""
    view = service.resolve(db=db, actor=actor, gateway=gateway, payment_id=payment_id)
    return to_read(view)


@router.post("/payments/{payment_id}/capture", response_model=PaymentRead, summary="Capture")
def capture_payment(
    payment_id: uuid.UUID, body: CaptureCreate, actor: CurrentActor, db: DbDep, gateway: GatewayDep
) -> PaymentRead:
    """An authorized card payment, all or part. 409 `payment.capture_after_void`,
    `payment.not_capturable`, `payment.capture_exceeds_authorization`."""
    return to_read(
        service.capture(
            db=db, actor=actor, gateway=gateway, payment_id=payment_id, amount=body.amount
        )
    )


@router.post("/payments/{payment_id}/void", response_model=PaymentRead, summary="Void")
def void_payment(
    payment_id: uuid.UUID, actor: CurrentActor, db: DbDep, gateway: GatewayDep
) -> PaymentRead:
    """Release an authorization never captured. 409 `payment.not_voidable` once captured
    (refund it instead)."""
    return to_read(service.void(db=db, actor=actor, gateway=gateway, payment_id=payment_id))


@router.get(
    "/payments/sandbox/public-key",
    response_model=SandboxKeyRead,
    summary="The sandbox processor's key, for a simulated P2PE terminal",
)
def sandbox_key(actor: CurrentActor, gateway: GatewayDep) -> SandboxKeyRead:
    """404 `payment.no_sandbox` when the configured gateway is not the sandbox."""
    public_key = getattr(gateway, "public_key_pem", None)
    if public_key is None:
        raise NotFound("payment.no_sandbox", "the configured gateway is not the sandbox")
    return SandboxKeyRead(public_key_pem=public_key())


@router.post(
    "/qr-payments",
    response_model=QrPaymentRead,
    status_code=status.HTTP_201_CREATED,
    summary="A QR payment link for the register or customer display",
)
def create_qr_payment(
    body: QrPaymentCreate, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> QrPaymentRead:
    """Pending until the provider's signed callback; poll GET /api/v1/qr-payments/{id}.
    422 `payment.amount_not_positive`, `payment.invalid_ttl`; 409 `payment.id_reused`."""
    link = qr_service.create(
        db=db,
        actor=actor,
        payment_id=body.id,
        register=body.register,
        amount=body.amount,
        sale_id=body.sale_id,
        order_id=body.order_id,
        base_url=settings.public_base_url,
        ttl=timedelta(seconds=body.ttl_seconds),
    )
    return QrPaymentRead(
        payment=to_read(link.payment), url=link.url, qr_svg=link.svg, expires_at=link.expires_at
    )


@router.get("/qr-payments/{payment_id}", response_model=PaymentRead, summary="Poll a QR payment")
def poll_qr_payment(payment_id: uuid.UUID, actor: CurrentActor, db: DbDep) -> PaymentRead:
    """pending, then captured (paid), failed, or expired once the link ran out."""
    return to_read(qr_service.poll(db=db, actor=actor, payment_id=payment_id))


@router.post(
    "/qr-payments/callback",
    response_model=PaymentRead,
    summary="The QR provider's signed notification",
)
async def qr_callback(request: Request, db: DbDep, settings: SettingsDep) -> PaymentRead:
    """No bearer token: the body is signed (hex HMAC-SHA256 of the raw body under the
    shared secret) in `X-Omnitill-Signature`. Repeated notifications answer the same. 401
    `qr.bad_signature`, 404 `qr.not_found`, 409 `qr.expired`."""
    raw = await request.body()
    try:
        note = QrNotification.model_validate_json(raw)
    except ValueError as exc:
        raise ValidationFailed(
            "qr.invalid_notification",
            "the notification is not valid JSON of the expected shape",
            errors=[FieldError("body", "qr.invalid_notification", "token, status, reference")],
        ) from exc
    return to_read(
        await run_in_threadpool(
            qr_service.callback,
            db=db,
            secret=settings.resolved_qr_callback_secret,
            body=raw,
            signature=request.headers.get("X-Omnitill-Signature"),
            token=note.token,
            status=note.status,
            provider_reference=note.provider_reference,
        )
    )


@router.post(
    "/payments/{payment_id}/refunds",
    response_model=RefundRead,
    status_code=status.HTTP_201_CREATED,
    summary="Refund a payment to its tender (audited)",
    responses={504: {"description": "`refund.outcome_unknown`: send the same refund again."}},
)
def refund_payment(
    payment_id: uuid.UUID,
    body: RefundCreate,
    actor: CurrentActor,
    db: DbDep,
    gateway: GatewayDep,
    override: OverrideHeader = None,
) -> Response:
    """Cards through the gateway, gift cards and store credit back to their ledgers; never
    more than the payment took, even when two refunds race. The same `id` again replays
    (200). Needs payments.refund or a manager override. 422 `refund.exceeds_payment` (with
    `refundable`), `refund.invalid_amount`, `refund.reason_required`, `refund.id_reused`;
    409 `refund.not_supported` (cash and QR are refunded at a register, in a return),
    `refund.not_refundable`, and the gateway's refusal codes."""
    view = refund_service.refund(
        db=db,
        actor=actor,
        gateway=gateway,
        payment_id=payment_id,
        refund_id=body.id,
        amount=body.amount,
        reason=body.reason,
        override_token=override,
    )
    read = RefundRead(
        id=str(view.id),
        payment_id=str(view.payment_id),
        method=view.method,
        amount=view.amount,
        currency=view.currency,
        status=view.status,
        refunded_total=view.refunded_total,
        refundable=view.refundable,
        gateway_reference=view.gateway_reference,
    )
    return Response(
        content=read.model_dump_json(),
        status_code=status.HTTP_200_OK if view.replayed else status.HTTP_201_CREATED,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if view.replayed else None,
    )
