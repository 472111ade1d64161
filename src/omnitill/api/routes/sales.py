"""Register sales (contract in shared/DESIGN.md section 8) and their receipts."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from omnitill.api.deps import (
    CurrentActor,
    Cursor,
    DbDep,
    Limit,
    LocationFilter,
    OverrideHeader,
    PrincipalDep,
    TaxProviderDep,
)
from omnitill.api.routes.quotes import cart_line, manual_discount, taxes_read
from omnitill.api.schemas.quotes import AdjustmentRead, AppliedPromotionRead
from omnitill.api.schemas.sales import (
    GiftCardSoldRead,
    PaymentRead,
    SaleCreate,
    SaleLineCreate,
    SaleLineLotRead,
    SaleLineRead,
    SalePage,
    SaleRead,
)
from omnitill.services import receipts as receipt_service
from omnitill.services import sales as sale_service
from omnitill.services.sale_payments import TenderRequest

router = APIRouter(prefix="/api/v1", tags=["sales"])


def to_read(view: sale_service.SaleView) -> SaleRead:
    return SaleRead(
        id=view.id,
        receipt_number=view.receipt_number,
        status=view.status,
        location=view.location,
        register=view.register,
        cashier=view.cashier,
        customer=view.customer_id,
        currency=view.currency,
        subtotal=view.subtotal,
        discount_total=view.discount_total,
        tax_total=view.tax_total,
        total=view.total,
        tendered=view.tendered,
        change_due=view.change_due,
        cash_rounding=view.cash_rounding,
        tax_inclusive=view.tax_inclusive,
        channel=view.channel,
        taxes=taxes_read(view.taxes),
        promotions=[
            AppliedPromotionRead(
                promotion_id=p.promotion_id, name=p.name, amount=p.amount, coupon=p.coupon
            )
            for p in view.promotions
        ],
        tax_exempt_reason=view.tax_exempt_reason,
        exchange_rate=None if view.exchange_rate is None else str(view.exchange_rate),
        business_date=view.business_date,
        completed_at=view.completed_at,
        lines=[_line_read(x) for x in view.lines],
        payments=[
            PaymentRead(
                method=p.method,
                amount=p.amount,
                currency=p.currency,
                payment_id=None if p.payment_id is None else str(p.payment_id),
                tendered=p.tendered,
                tendered_currency=p.tendered_currency,
                change=p.change,
                card_brand=p.card_brand,
                card_last4=p.card_last4,
                entry_mode=p.entry_mode,
                auth_code=p.auth_code,
            )
            for p in view.payments
        ],
        stock_exceptions=list(view.stock_exceptions),
    )


def _line_read(x: sale_service.SaleLineView) -> SaleLineRead:
    return SaleLineRead(
        line_no=x.line_no,
        sku=x.sku,
        name=x.name,
        quantity=x.quantity,
        unit_price=x.unit_price,
        list_price=x.list_price,
        subtotal=x.subtotal,
        discount_total=x.discount_total,
        tax_total=x.tax_total,
        total=x.total,
        price_override_reason=x.price_override_reason,
        compare_at=x.compare_at,
        price_source=x.price_source,
        price_list_id=x.price_list_id,
        tax_inclusive=x.tax_inclusive,
        net=x.net,
        unit_discounts=list(x.unit_discounts),
        adjustments=[
            AdjustmentRead(
                source=a.source, name=a.name, amount=a.amount, coupon=a.coupon, reason=a.reason
            )
            for a in x.adjustments
        ],
        taxes=taxes_read(x.taxes),
        lots=[
            SaleLineLotRead(lot=lot.lot, expires_on=lot.expires_on, quantity=lot.quantity)
            for lot in x.lots
        ],
        serials=list(x.serials),
        warranty_starts_on=x.warranty_starts_on,
        gift_card=None
        if x.gift_card is None
        else GiftCardSoldRead(
            id=str(x.gift_card.id), display=x.gift_card.display, code=x.gift_card.code
        ),
    )


def _sale_line(body: SaleLineCreate) -> sale_service.SaleLineRequest:
    priced = cart_line(body)
    return sale_service.SaleLineRequest(
        **{f.name: getattr(priced, f.name) for f in dataclasses.fields(priced)},
        lot=body.lot,
        serials=tuple(body.serials or ()),
        gift_card_code=None if body.gift_card is None else body.gift_card.code,
    )


def _request_hash(body: SaleCreate) -> str:
    canonical: Any = body.model_dump(mode="json", exclude_none=True)
    return hashlib.sha256(
        json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


@router.post(
    "/sales",
    response_model=SaleRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record a completed register sale",
    responses={
        422: {"description": "Invalid sale; `errors` names every bad field."},
        403: {"description": "Register of a store you are not assigned to."},
    },
)
def create_sale(
    body: SaleCreate,
    principal: PrincipalDep,
    db: DbDep,
    tax_provider: TaxProviderDep,
    override: OverrideHeader = None,
) -> Response:
    """Prices, takes cash, decrements stock and numbers the receipt in one transaction.
    Posting the same `id` again replays the first answer (header `Idempotent-Replayed`).

    Lot-tracked lines sell first expired first out, or from the named `lot` (422
    `inventory.lot_unknown`, `inventory.lot_expired`, `inventory.lot_insufficient`); each
    line records its `lots`. Serial-tracked lines need one serial per unit, in stock at
    this store (422 `inventory.serials_count_mismatch`, `inventory.serial_duplicate`,
    `inventory.serial_unknown`, `inventory.serial_wrong_location`,
    `inventory.serial_not_in_stock`); the line records them and `warranty_starts_on`.
    Lot or serials on an untracked variant: 422 `inventory.not_tracked`."""
    # The token is looked up here rather than in a dependency: on the checkout path that
    # saves one hand-off to the threadpool per sale.
    actor = principal.actor()
    request = sale_service.SaleRequest(
        id=body.id,
        location=body.location,
        register=body.register,
        customer=body.customer,
        coupons=tuple(body.coupons),
        discount=manual_discount(body.discount),
        lines=tuple(_sale_line(x) for x in body.lines),
        payments=tuple(
            TenderRequest(p.method, p.amount, p.currency, p.payment_id, p.code)
            for p in body.payments
        ),
    )
    view = sale_service.complete_sale(
        db=db,
        actor=actor,
        request=request,
        request_hash=_request_hash(body),
        override_token=override,
        tax_provider=tax_provider,
    )
    # Serialised once here: FastAPI would otherwise dump and re-validate the model it was
    # handed. `response_model` still documents the body.
    return Response(
        content=to_read(view).model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if view.replayed else None,
    )


@router.get("/sales", response_model=SalePage, summary="List or find sales")
def list_sales(
    actor: CurrentActor,
    db: DbDep,
    receipt_number: Annotated[str | None, Query(description="Exact receipt number.")] = None,
    location: LocationFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> SalePage:
    """Newest first; staff bound to stores see only their stores' sales."""
    views, next_cursor = sale_service.list_sales(
        db=db,
        actor=actor,
        receipt_number=receipt_number,
        location=location,
        cursor=cursor,
        limit=limit,
    )
    return SalePage(items=[to_read(v) for v in views], next_cursor=next_cursor)


@router.get("/sales/{sale_id}", response_model=SaleRead, summary="One sale as charged")
def get_sale(sale_id: UUID, actor: CurrentActor, db: DbDep) -> SaleRead:
    """404 `sale.not_found`; 403 `auth.location_forbidden` for another store's sale."""
    return to_read(sale_service.get_sale(db=db, actor=actor, sale_id=sale_id))


@router.get("/sales/{sale_id}/receipt", summary="The receipt as JSON")
def get_receipt(sale_id: UUID, actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    """Amounts in minor units plus the strings a receipt prints."""
    r = receipt_service.build_receipt(db=db, actor=actor, sale_id=sale_id)
    return {
        "sale": to_read(r.sale).model_dump(mode="json"),
        "store": {"name": r.store_name, "address": r.store_address},
        "cashier": r.cashier_name,
        "local_time": r.local_time,
        "timezone": r.timezone,
        "lines": [
            {
                "name": x.name,
                "sku": x.sku,
                "quantity": x.quantity,
                "unit_price": x.unit_price,
                "total": x.total,
                "note": x.note,
                "discounts": [{"label": label, "amount": amount} for label, amount in x.discounts],
            }
            for x in r.lines
        ],
        "totals": {
            "subtotal": r.subtotal,
            "discount_total": r.discount_total,
            "tax_label": r.tax_label,
            "tax_total": r.tax_total,
            "taxes": [{"label": t.label, "taxable": t.taxable, "tax": t.tax} for t in r.taxes],
            "total": r.total,
            "change_due": r.change_due,
        },
        "payments": [{"method": m, "amount": a} for m, a in r.payments],
    }
