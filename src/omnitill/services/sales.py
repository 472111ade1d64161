"""The register sale: priced, paid, stocked, numbered, audited and announced in one transaction.

A sale reaches the server complete (the cashier has already taken the money), so it must be
recorded whenever the request is valid: stock that goes negative is flagged as an exception to
resolve, never a refusal. The sale's UUID, born on the register, is its idempotency key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Customer,
    Sale,
)
from omnitill.adapters.db.repositories import sales as sales_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    ValidationFailed,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.sales.receipts import format_receipt_number
from omnitill.domain.sales.totals import (
    SaleLineInput,
    TaxRule,
    Tender,
    price_sale,
    settle_cash,
)
from omnitill.services import audit, events
from omnitill.services.auth import Authorisation, authorise
from omnitill.services.references import LineRef, resolve_lines
from omnitill.services.sale_views import (
    SaleLineView,
    SalePaymentView,
    SaleView,
    get_sale,
    list_sales,
    load_view,
    sale_payload,
    view_of_new_sale,
)


@dataclass(frozen=True, slots=True)
class SaleLineRequest:
    sku: str | None
    barcode: str | None
    quantity: int
    unit_price: int | None = None  # a price override; needs sales.price_override
    price_override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SaleRequest:
    location: str
    register: str
    lines: tuple[SaleLineRequest, ...]
    payments: tuple[Tender, ...]
    id: uuid.UUID | None = None
    customer: uuid.UUID | None = None
    coupons: tuple[str, ...] = ()


def complete_sale(
    *,
    db: Database,
    actor: Actor,
    request: SaleRequest,
    request_hash: str,
    override_token: str | None = None,
) -> SaleView:
    """Record a completed register sale, or replay it if this id was recorded before."""
    actor.require(Permission.SALES_CREATE)
    sale_id = request.id or uuid7()
    try:
        with db.uow() as uow:
            till, recorded = sales_repo.till_for_sale(
                uow.connection, register_code=request.register, sale_id=sale_id
            )
            if recorded is None:
                view = _record(
                    uow,
                    till=till,
                    actor=actor,
                    request=request,
                    sale_id=sale_id,
                    request_hash=request_hash,
                    override_token=override_token,
                )
                uow.commit()
                return view
    except IntegrityError:
        pass  # the same sale id was committed concurrently: answer as its replay
    replay = _replay_if_recorded(db=db, actor=actor, sale_id=sale_id, request_hash=request_hash)
    if replay is None:
        raise Conflict("sale.concurrent_write", "the sale could not be recorded; retry it")
    return replay


def _replay_if_recorded(
    *, db: Database, actor: Actor, sale_id: uuid.UUID, request_hash: str
) -> SaleView | None:
    with db.uow(write=False) as uow:
        sale = uow.session.get(Sale, sale_id)
        if sale is None:
            return None
        if sale.request_hash != request_hash:
            raise ValidationFailed(
                "idempotency.key_reused",
                "a different sale was already recorded with this id",
                {"id": str(sale_id)},
                errors=[FieldError("id", "idempotency.key_reused", "id already used")],
            )
        actor.require_location(sale.location_id, str(sale.location_id))
        view = load_view(uow, sale)
    return _with_replayed(view)


def _with_replayed(view: SaleView) -> SaleView:
    return replace(view, replayed=True)


def _check_till(till: sales_repo.Till | None, request: SaleRequest) -> sales_repo.Till:
    if till is None:
        raise ValidationFailed(
            "register.not_found",
            f"no register with code {request.register!r}",
            {"register": request.register},
            errors=[FieldError("register", "register.not_found", "unknown register")],
        )
    if till.location_code != request.location:
        raise ValidationFailed(
            "register.wrong_location",
            f"register {till.register_code} belongs to {till.location_code}, "
            f"not {request.location}",
            {
                "register": till.register_code,
                "location": request.location,
                "register_location": till.location_code,
            },
            errors=[
                FieldError(
                    "register", "register.wrong_location", f"belongs to {till.location_code}"
                )
            ],
        )
    if not till.register_active:
        raise ValidationFailed(
            "register.inactive",
            f"register {till.register_code} is not active",
            errors=[FieldError("register", "register.inactive", "not active")],
        )
    if not till.sells_in_store or not till.location_active:
        raise ValidationFailed(
            "location.not_selling",
            f"{till.location_code} does not sell in store",
            errors=[FieldError("location", "location.not_selling", "not a selling store")],
        )
    return till


def _check_lines(
    resolved: list[VariantRef], request: SaleRequest, currency: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, (ref, line) in enumerate(zip(resolved, request.lines, strict=True)):
        if not ref.sellable:
            errors.append(
                FieldError(f"lines.{i}", "catalog.variant_inactive", f"{ref.sku} is not for sale")
            )
        if ref.currency != currency:
            errors.append(
                FieldError(
                    f"lines.{i}", "sale.currency_mismatch", f"{ref.sku} is priced in {ref.currency}"
                )
            )
        if line.unit_price is not None and not (line.price_override_reason or "").strip():
            errors.append(
                FieldError(
                    f"lines.{i}.price_override_reason",
                    "sale.override_reason_required",
                    "a price override needs a reason",
                )
            )
    return errors


def _check_request(uow: UnitOfWork, request: SaleRequest) -> None:
    if request.customer is not None and uow.session.get(Customer, request.customer) is None:
        raise ValidationFailed(
            "customer.not_found",
            "no such customer",
            errors=[FieldError("customer", "customer.not_found", str(request.customer))],
        )
    if request.coupons:
        raise ValidationFailed(
            "promotion.unknown_coupon",
            "no coupon with these codes exists",
            {"coupons": list(request.coupons)},
            errors=[
                FieldError(f"coupons.{i}", "promotion.unknown_coupon", code)
                for i, code in enumerate(request.coupons)
            ],
        )
    if not request.lines:
        raise ValidationFailed(
            "sale.no_lines",
            "a sale needs at least one line",
            errors=[FieldError("lines", "sale.no_lines", "required")],
        )


def _record(
    uow: UnitOfWork,
    *,
    till: sales_repo.Till | None,
    actor: Actor,
    request: SaleRequest,
    sale_id: uuid.UUID,
    request_hash: str,
    override_token: str | None,
) -> SaleView:
    till = _check_till(till, request)
    actor.require_location(till.location_id, till.location_code)
    _check_request(uow, request)
    resolved = resolve_lines(uow, [LineRef(x.sku, x.barcode) for x in request.lines])
    errors = _check_lines(resolved, request, till.currency)
    if errors:
        raise ValidationFailed(errors[0].code, "some sale lines cannot be sold", errors=errors)

    priced = price_sale(
        currency=till.currency,
        lines=[
            SaleLineInput(
                variant_id=str(ref.id),
                sku=ref.sku,
                name=ref.name,
                quantity=line.quantity,
                unit_price=ref.price_minor if line.unit_price is None else line.unit_price,
                list_price=ref.price_minor,
            )
            for ref, line in zip(resolved, request.lines, strict=True)
        ],
        tax=TaxRule(rate=till.tax_rate, inclusive=till.prices_include_tax),
    )
    settlement = settle_cash(total=priced.total, tenders=request.payments)
    overridden = any(
        line.unit_price is not None and line.unit_price != p.list_price
        for line, p in zip(request.lines, priced.lines, strict=True)
    )
    authorisation = (
        authorise(
            uow,
            actor=actor,
            permission=Permission.PRICE_OVERRIDE,
            override_token=override_token,
            used_for=f"sale:{sale_id}",
        )
        if overridden
        else None
    )

    conn = uow.connection
    seq = sales_repo.next_receipt_seq(conn, till.register_id)
    now = utcnow()
    reasons = [line.price_override_reason for line in request.lines]
    deltas: dict[uuid.UUID, int] = {}
    for ref, p in zip(resolved, priced.lines, strict=True):
        deltas[ref.id] = deltas.get(ref.id, 0) - p.quantity
    levels = stock_repo.add_on_hand_many(conn, location_id=till.location_id, deltas=deltas)
    negative = sorted(vid for vid, level in levels.items() if level < 0)
    skus = {ref.id: ref.sku for ref in resolved}
    sale_row = {
        "id": sale_id,
        "receipt_number": format_receipt_number(till.register_code, seq),
        "register_id": till.register_id,
        "location_id": till.location_id,
        "cashier_id": actor.user_id,
        "customer_id": request.customer,
        "status": "completed",
        "currency": priced.currency,
        "subtotal_minor": priced.subtotal,
        "discount_total_minor": priced.discount_total,
        "tax_total_minor": priced.tax_total,
        "total_minor": priced.total,
        "tendered_minor": settlement.tendered,
        "change_due_minor": settlement.change_due,
        "tax_rate": priced.tax_rate,
        "tax_inclusive": priced.tax_inclusive,
        "request_hash": request_hash,
        "business_date": now.astimezone(ZoneInfo(till.timezone)).date(),
        "completed_at": now,
    }
    view = view_of_new_sale(
        sale_row, till, actor.username, priced, settlement, reasons, [skus[v] for v in negative]
    )
    sales_repo.insert_sale(
        conn,
        sale=sale_row,
        lines=[
            {
                "id": uuid7(),
                "sale_id": sale_id,
                "line_no": x.line_no,
                "variant_id": ref.id,
                "sku": x.sku,
                "name": x.name,
                "quantity": x.quantity,
                "unit_price_minor": x.unit_price,
                "list_price_minor": x.list_price,
                "subtotal_minor": x.subtotal,
                "discount_total_minor": x.discount_total,
                "tax_total_minor": x.tax_total,
                "total_minor": x.total,
                "price_override_reason": x.price_override_reason,
            }
            for x, ref in zip(view.lines, resolved, strict=True)
        ],
        payments=[
            {
                "id": uuid7(),
                "sale_id": sale_id,
                "seq": i + 1,
                "method": t.method,
                "amount_minor": t.amount,
                "currency": priced.currency,
                "created_at": now,
            }
            for i, t in enumerate(settlement.tenders)
        ],
        movements=[
            {
                "id": uuid7(),
                "variant_id": vid,
                "location_id": till.location_id,
                "bucket": "on_hand",
                "quantity": qty,
                "kind": "sale",
                "reason": "register sale",
                "reference_type": "sale",
                "reference_id": str(sale_id),
                "actor_id": actor.user_id,
                "created_at": now,
            }
            for vid, qty in sorted(deltas.items())
        ],
        exceptions=[
            {
                "id": uuid7(),
                "variant_id": vid,
                "location_id": till.location_id,
                "kind": "negative_stock",
                "on_hand_after": levels[vid],
                "reference_type": "sale",
                "reference_id": str(sale_id),
                "created_at": now,
                "resolved_at": None,
            }
            for vid in negative
        ],
    )
    _audit_and_announce(uow, actor=actor, view=view, authorisation=authorisation)
    return view


def _audit_and_announce(
    uow: UnitOfWork, *, actor: Actor, view: SaleView, authorisation: Authorisation | None
) -> None:
    details: dict[str, object] = {
        "receipt_number": view.receipt_number,
        "total": view.total,
        "currency": view.currency,
        "lines": len(view.lines),
    }
    if authorisation is not None:
        details["price_overrides"] = [
            {
                "sku": line.sku,
                "list_price": line.list_price,
                "unit_price": line.unit_price,
                "reason": line.price_override_reason,
            }
            for line in view.lines
            if line.unit_price != line.list_price
        ]
        details.update(authorisation.as_details())
    if view.stock_exceptions:
        details["negative_stock"] = list(view.stock_exceptions)
    audit.record(
        uow,
        action="sale.completed",
        actor=actor,
        subject_type="sale",
        subject_id=str(view.id),
        details=details,
        chain=f"register:{view.register}",
    )
    events.emit(
        uow,
        topic="sale.completed",
        aggregate_type="sale",
        aggregate_id=str(view.id),
        payload=sale_payload(view),
    )


__all__ = [
    "SaleLineRequest",
    "SaleLineView",
    "SalePaymentView",
    "SaleRequest",
    "SaleView",
    "complete_sale",
    "get_sale",
    "list_sales",
]
