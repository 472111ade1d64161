"""Card payments through the gateway: charge, resolve a lost answer, capture, void, read."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from omnitill.api.deps import CurrentActor, DbDep, GatewayDep, SettingsDep
from omnitill.api.schemas.payments import (
    CaptureCreate,
    CardPaymentCreate,
    CardRead,
    PaymentList,
    PaymentRead,
    SandboxKeyRead,
)
from omnitill.domain.errors import NotFound
from omnitill.services import payments as service

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
