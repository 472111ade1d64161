"""Suppliers, purchase orders and goods receipts against them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from omnitill.api.deps import (
    Cursor,
    DbDep,
    Limit,
    LocationFilter,
    OverrideHeader,
    SkuFilter,
    require,
)
from omnitill.api.schemas.purchasing import (
    CostUpdateRead,
    GoodsReceiptLineRead,
    GoodsReceiptRead,
    IncomingList,
    IncomingRead,
    PurchaseOrderCreate,
    PurchaseOrderLineIn,
    PurchaseOrderLineRead,
    PurchaseOrderLinesPut,
    PurchaseOrderPage,
    PurchaseOrderRead,
    PurchaseOrderSummary,
    PurchaseOrderUpdate,
    ReceiptCreate,
    ReceiptRead,
    ReceivedLineRead,
    StatusChange,
    SupplierCreate,
    SupplierItemPage,
    SupplierItemRead,
    SupplierItemsPut,
    SupplierPage,
    SupplierRead,
    SupplierUpdate,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.inventory.purchasing import OrderLineRequest, SupplierItemFields
from omnitill.services import purchase_receipts, suppliers
from omnitill.services import purchasing as po_service
from omnitill.services.tracking import LotInput

router = APIRouter(prefix="/api/v1", tags=["purchasing"])

Reader = Annotated[Actor, Depends(require(Permission.STOCK_READ))]
Buyer = Annotated[Actor, Depends(require(Permission.PURCHASING_WRITE))]
Receiver = Annotated[Actor, Depends(require(Permission.STOCK_RECEIVE))]


# --- suppliers ------------------------------------------------------------------------------


@router.post(
    "/suppliers",
    response_model=SupplierRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a supplier",
)
def create_supplier(body: SupplierCreate, actor: Buyer, db: DbDep) -> SupplierRead:
    """Needs purchasing.write; audited. 409 `supplier.code_taken`; 422
    `supplier.invalid_code`, `supplier.invalid_name`, `money.unknown_currency`,
    `supplier.invalid_email`, `supplier.invalid_lead_time`."""
    view = suppliers.create_supplier(
        db=db, actor=actor, data=suppliers.SupplierInput(**body.model_dump())
    )
    return _supplier(view)


@router.get("/suppliers", response_model=SupplierPage, summary="List suppliers")
def list_suppliers(
    actor: Reader,
    db: DbDep,
    active: Annotated[bool | None, Query(description="Only active (or inactive) ones.")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> SupplierPage:
    """In code order; needs stock.read."""
    items, next_cursor = suppliers.list_suppliers(
        db=db, actor=actor, active=active, cursor=cursor, limit=limit
    )
    return SupplierPage(items=[_supplier(s) for s in items], next_cursor=next_cursor)


@router.get("/suppliers/{code}", response_model=SupplierRead, summary="Get a supplier")
def get_supplier(code: str, actor: Reader, db: DbDep) -> SupplierRead:
    """404 `supplier.not_found`."""
    return _supplier(suppliers.get_supplier(db=db, actor=actor, code=code))


@router.patch("/suppliers/{code}", response_model=SupplierRead, summary="Update a supplier")
def update_supplier(code: str, body: SupplierUpdate, actor: Buyer, db: DbDep) -> SupplierRead:
    """Only the fields sent change; audited. 404 `supplier.not_found`; 422 as on create and
    `supplier.not_nullable` for a null other than email or phone."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    changes = suppliers.SupplierChanges(
        **{k: v for k, v in sent.items() if v is not None},
        clear=frozenset(k for k, v in sent.items() if v is None),
    )
    return _supplier(suppliers.update_supplier(db=db, actor=actor, code=code, changes=changes))


@router.put(
    "/suppliers/{code}/items",
    response_model=SupplierItemPage,
    summary="Add or replace what a supplier sells, by SKU",
)
def put_supplier_items(
    code: str, body: SupplierItemsPut, actor: Buyer, db: DbDep
) -> SupplierItemPage:
    """Upserts the listed items (others stay) and answers them; audited. 404
    `supplier.not_found`; 422 naming `items.N.field`: `catalog.unknown_sku`,
    `purchasing.duplicate_sku`, `purchasing.invalid_pack_size`, `purchasing.invalid_unit_cost`,
    `purchasing.invalid_quantity`."""
    items = [SupplierItemFields(**item.model_dump()) for item in body.items]
    views = suppliers.put_items(db=db, actor=actor, code=code, items=items)
    return SupplierItemPage(items=[_item(v) for v in views], next_cursor=None)


@router.get(
    "/suppliers/{code}/items",
    response_model=SupplierItemPage,
    summary="What a supplier sells",
)
def list_supplier_items(
    code: str, actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> SupplierItemPage:
    """In SKU order, with the unit cost each pack cost works out to. 404 `supplier.not_found`."""
    items, next_cursor = suppliers.list_items(
        db=db, actor=actor, code=code, cursor=cursor, limit=limit
    )
    return SupplierItemPage(items=[_item(v) for v in items], next_cursor=next_cursor)


def _supplier(v: suppliers.SupplierView) -> SupplierRead:
    return SupplierRead(
        code=v.code,
        name=v.name,
        currency=v.currency,
        email=v.email,
        phone=v.phone,
        lead_time_days=v.lead_time_days,
        active=v.active,
        created_at=v.created_at,
        updated_at=v.updated_at,
    )


def _item(v: suppliers.SupplierItemView) -> SupplierItemRead:
    return SupplierItemRead(
        sku=v.sku,
        name=v.name,
        unit=v.unit,
        supplier_sku=v.supplier_sku,
        pack_size=v.pack_size,
        pack_cost=v.pack_cost,
        unit_cost=v.unit_cost,
        min_order_packs=v.min_order_packs,
        preferred=v.preferred,
        currency=v.currency,
        updated_at=v.updated_at,
    )


# --- purchase orders ------------------------------------------------------------------------


@router.post(
    "/purchase-orders",
    response_model=PurchaseOrderRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a draft purchase order",
)
def create_order(body: PurchaseOrderCreate, actor: Buyer, db: DbDep) -> PurchaseOrderRead:
    """Numbered PO-nnnnnn, in the supplier's currency; audited. 403 for a ship-to location
    outside yours; 422 `supplier.not_found`, `purchasing.supplier_inactive`,
    `purchasing.currency_mismatch`, `location.not_found`, and per line (`lines.N...`):
    `catalog.unknown_sku`, `purchasing.duplicate_sku`, `purchasing.quantity_or_packs`,
    `purchasing.invalid_quantity`, `purchasing.pack_size_required`,
    `purchasing.invalid_pack_size`, `purchasing.unit_cost_required`,
    `purchasing.invalid_unit_cost`."""
    view = po_service.create_order(
        db=db,
        actor=actor,
        data=po_service.PurchaseOrderInput(
            supplier=body.supplier,
            location=body.location,
            lines=_order_lines(body.lines),
            currency=body.currency,
            expected_on=body.expected_on,
            notes=body.notes,
        ),
    )
    return _order(view)


@router.get("/purchase-orders", response_model=PurchaseOrderPage, summary="List purchase orders")
def list_orders(
    actor: Reader,
    db: DbDep,
    status_: Annotated[
        str | None, Query(alias="status", description="draft, sent, partially_received, ...")
    ] = None,
    supplier: Annotated[str | None, Query(description="Supplier code.")] = None,
    location: LocationFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> PurchaseOrderPage:
    """Newest first; staff bound to stores see only orders shipping to theirs. 422
    `purchasing.invalid_status`, `supplier.not_found`; 403 for a location outside yours."""
    items, next_cursor = po_service.list_orders(
        db=db,
        actor=actor,
        status=status_,
        supplier=supplier,
        location=location,
        cursor=cursor,
        limit=limit,
    )
    return PurchaseOrderPage(items=[_summary(s) for s in items], next_cursor=next_cursor)


@router.get(
    "/purchase-orders/{number}",
    response_model=PurchaseOrderRead,
    summary="A purchase order with its lines and receipts",
)
def get_order(number: str, actor: Reader, db: DbDep) -> PurchaseOrderRead:
    """404 `purchasing.order_not_found`; 403 `auth.location_forbidden`."""
    return _order(po_service.get_order(db=db, actor=actor, number=number))


@router.patch(
    "/purchase-orders/{number}",
    response_model=PurchaseOrderRead,
    summary="Change the expected date or notes",
)
def update_order(
    number: str, body: PurchaseOrderUpdate, actor: Buyer, db: DbDep
) -> PurchaseOrderRead:
    """Until the order is closed or cancelled (then 409 `purchasing.invalid_transition`);
    audited. 404 `purchasing.order_not_found`; 422 `purchasing.not_nullable`."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    changes = po_service.PurchaseOrderChanges(
        **{k: v for k, v in sent.items() if v is not None},
        clear=frozenset(k for k, v in sent.items() if v is None),
    )
    return _order(po_service.update_order(db=db, actor=actor, number=number, changes=changes))


@router.put(
    "/purchase-orders/{number}/lines",
    response_model=PurchaseOrderRead,
    summary="Replace the lines of a draft",
)
def replace_lines(
    number: str, body: PurchaseOrderLinesPut, actor: Buyer, db: DbDep
) -> PurchaseOrderRead:
    """Only in draft: 409 `purchasing.not_draft` (details: status); audited. 422 per line
    as on create (`catalog.unknown_sku`, `purchasing.duplicate_sku`, ...)."""
    view = po_service.replace_lines(
        db=db, actor=actor, number=number, lines=_order_lines(body.lines)
    )
    return _order(view)


@router.post(
    "/purchase-orders/{number}/send",
    response_model=PurchaseOrderRead,
    summary="Send a draft to the supplier (units become incoming)",
)
def send_order(number: str, actor: Buyer, db: DbDep) -> PurchaseOrderRead:
    """draft -> sent: a `po_ordered` movement per line raises `incoming` at the ship-to
    location. 409 `purchasing.invalid_transition` (details: status); 422 `purchasing.no_lines`,
    `purchasing.supplier_inactive`."""
    return _order(po_service.send_order(db=db, actor=actor, number=number))


@router.post(
    "/purchase-orders/{number}/cancel",
    response_model=PurchaseOrderRead,
    summary="Cancel an order nothing was received on",
)
def cancel_order(
    number: str, actor: Buyer, db: DbDep, body: StatusChange | None = None
) -> PurchaseOrderRead:
    """draft or sent -> cancelled; a sent order's incoming leaves with `po_cancelled`
    movements. 409 `purchasing.invalid_transition` (details: status)."""
    reason = body.reason if body else ""
    return _order(po_service.cancel_order(db=db, actor=actor, number=number, reason=reason))


@router.post(
    "/purchase-orders/{number}/close",
    response_model=PurchaseOrderRead,
    summary="Close an order; what never came stops being incoming",
)
def close_order(
    number: str, actor: Buyer, db: DbDep, body: StatusChange | None = None
) -> PurchaseOrderRead:
    """partially_received or received -> closed; each line's undelivered units leave incoming
    with `po_closed` movements. 409 `purchasing.invalid_transition` (details: status)."""
    reason = body.reason if body else ""
    return _order(po_service.close_order(db=db, actor=actor, number=number, reason=reason))


@router.post(
    "/purchase-orders/{number}/receipts",
    response_model=ReceiptRead,
    status_code=status.HTTP_201_CREATED,
    summary="Receive a delivery against an order",
)
def receive(
    number: str,
    body: ReceiptCreate,
    actor: Receiver,
    db: DbDep,
    override: OverrideHeader = None,
) -> ReceiptRead:
    """on_hand up, incoming down by what was expected, landed costs spread by line value, the
    variants' moving-average cost updated; audited. Needs stock.receive.

    403 `auth.location_forbidden`, `override.invalid`; 404 `purchasing.order_not_found`;
    409 `purchasing.not_receivable` (draft, cancelled, closed; details: status),
    `purchasing.receipt_reference_used`; 422 `purchasing.over_receipt` naming each
    `lines.N.quantity` past what the line still expects (allowed with stock.over_receive or
    a manager override in X-Manager-Override), `purchasing.invalid_quantity`,
    `purchasing.no_lines`, `catalog.unknown_sku`, `purchasing.sku_not_on_order`,
    `purchasing.unknown_line`, `purchasing.line_needs_sku_or_line_no`,
    `purchasing.invalid_landed_cost`, and lot/serial errors from tracking."""
    result = purchase_receipts.receive(
        db=db,
        actor=actor,
        number=number,
        request=purchase_receipts.ReceiptInput(
            lines=tuple(
                purchase_receipts.ReceiptLineInput(
                    quantity=line.quantity,
                    sku=line.sku,
                    line_no=line.line_no,
                    lot=LotInput(line.lot.code, line.lot.expires_on) if line.lot else None,
                    serials=tuple(line.serials),
                )
                for line in body.lines
            ),
            landed_costs=tuple((c.kind, c.amount) for c in body.landed_costs),
            reference=body.reference,
        ),
        override_token=override,
    )
    return ReceiptRead(
        id=str(result.id),
        purchase_order=result.purchase_order,
        status=result.status,
        location=result.location,
        currency=result.currency,
        reference=result.reference,
        landed_cost=result.landed_cost,
        cost_updated=result.cost_updated,
        lines=[
            ReceivedLineRead(
                line_no=r.line_no,
                sku=r.sku,
                quantity=r.quantity,
                unit_cost=r.unit_cost,
                landed_cost_share=r.landed_cost_share,
                landed_unit_cost=r.landed_unit_cost,
                incoming_released=r.incoming_released,
                over_received=r.over_received,
                lot=r.lot,
                serials=list(r.serials),
            )
            for r in result.lines
        ],
        costs=[
            CostUpdateRead(
                sku=c.sku,
                currency=c.currency,
                previous_cost=c.previous_cost,
                cost=c.cost,
                updated=c.updated,
                reason=c.reason,
            )
            for c in result.costs
        ],
        authorisation=result.authorisation,
        created_at=result.created_at,
    )


@router.get(
    "/stock/incoming",
    response_model=IncomingList,
    summary="Units on their way, with expected dates",
)
def list_incoming(
    actor: Reader, db: DbDep, sku: SkuFilter = None, location: LocationFilter = None
) -> IncomingList:
    """Open purchase order lines (sent or partially received, units still expected) and
    transfer lines shipped and not yet received, soonest expected first (undated last).
    Staff bound to stores see only theirs; 403 for a location outside yours."""
    rows = po_service.incoming(db=db, actor=actor, sku=sku, location=location)
    return IncomingList(
        items=[
            IncomingRead(
                source=r.source,
                document=r.document,
                line_no=r.line_no,
                sku=r.sku,
                unit=r.unit,
                location=r.location,
                quantity=r.quantity,
                expected_on=r.expected_on,
                status=r.status,
                supplier=r.supplier,
                from_location=r.from_location,
            )
            for r in rows
        ]
    )


def _order_lines(lines: list[PurchaseOrderLineIn]) -> tuple[OrderLineRequest, ...]:
    return tuple(OrderLineRequest(**line.model_dump()) for line in lines)


def _order(v: po_service.OrderView) -> PurchaseOrderRead:
    return PurchaseOrderRead(
        number=v.number,
        supplier=v.supplier,
        supplier_name=v.supplier_name,
        location=v.location,
        status=v.status,
        currency=v.currency,
        expected_on=v.expected_on,
        notes=v.notes,
        total=v.total,
        created_by=v.created_by,
        created_at=v.created_at,
        updated_at=v.updated_at,
        sent_at=v.sent_at,
        closed_at=v.closed_at,
        cancelled_at=v.cancelled_at,
        lines=[
            PurchaseOrderLineRead(
                line_no=line.line_no,
                sku=line.sku,
                name=line.name,
                unit=line.unit,
                pack_size=line.pack_size,
                packs=line.packs,
                quantity_ordered=line.quantity_ordered,
                quantity_received=line.quantity_received,
                remaining=line.remaining,
                unit_cost=line.unit_cost,
                total=line.total,
            )
            for line in v.lines
        ],
        receipts=[
            GoodsReceiptRead(
                id=str(r.id),
                reference=r.reference,
                currency=r.currency,
                landed_cost=r.landed_cost,
                received_by=r.actor,
                created_at=r.created_at,
                lines=[
                    GoodsReceiptLineRead(
                        line_no=line.line_no,
                        sku=line.sku,
                        quantity=line.quantity,
                        unit_cost=line.unit_cost,
                        landed_unit_cost=line.landed_unit_cost,
                        lot=line.lot,
                        serials=list(line.serials),
                    )
                    for line in r.lines
                ],
            )
            for r in v.receipts
        ],
    )


def _summary(s: po_service.OrderSummary) -> PurchaseOrderSummary:
    return PurchaseOrderSummary(
        number=s.number,
        supplier=s.supplier,
        location=s.location,
        status=s.status,
        currency=s.currency,
        expected_on=s.expected_on,
        line_count=s.line_count,
        units_ordered=s.units_ordered,
        units_received=s.units_received,
        total=s.total,
        created_at=s.created_at,
    )
