"""Stock levels, goods receipts and adjustments."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from omnitill.api.deps import (
    CurrentActor,
    Cursor,
    DbDep,
    Limit,
    LocationFilter,
    OverrideHeader,
    PrincipalDep,
    SkuFilter,
    require,
)
from omnitill.api.schemas.stock import (
    LedgerEntryRead,
    LedgerPage,
    MovementList,
    MovementRead,
    SafetyStockRead,
    SafetyStockUpdate,
    StockAdjustmentCreate,
    StockExceptionList,
    StockExceptionRead,
    StockExceptionResolve,
    StockExceptionResolved,
    StockMoveCreate,
    StockMoveRead,
    StockPage,
    StockReceiveCreate,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import stock as stock_service
from omnitill.services import stock_buckets, stock_exceptions
from omnitill.services.tracking import LotInput

router = APIRouter(prefix="/api/v1", tags=["stock"])


def _movements(results: list[stock_service.MovementResult]) -> MovementList:
    return MovementList(
        items=[
            MovementRead(
                id=str(r.movement_id),
                sku=r.sku,
                location=r.location,
                quantity=r.quantity,
                on_hand=r.on_hand,
            )
            for r in results
        ]
    )


def _lines(body: StockReceiveCreate | StockAdjustmentCreate) -> list[stock_service.StockLineInput]:
    return [
        stock_service.StockLineInput(
            line.sku,
            line.barcode,
            line.quantity,
            lot=None if line.lot is None else LotInput(line.lot.code, line.lot.expires_on),
            serials=tuple(line.serials or ()),
        )
        for line in body.lines
    ]


@router.get("/stock", response_model=StockPage, summary="Stock levels by variant and location")
def list_stock(
    principal: PrincipalDep,
    db: DbDep,
    sku: SkuFilter = None,
    location: LocationFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Response:
    """Staff bound to stores see only their stores' stock."""
    # The token is looked up here, in this route's own worker thread, and the page is
    # written as plain JSON from values the service already checked (as the sale route does):
    # availability across an estate is read a hundred rows at a time, and building a pydantic
    # model per row cost more than the query. The shape is StockPage's.
    rows, next_cursor = stock_service.levels(
        db=db, actor=principal.actor(), sku=sku, location=location, cursor=cursor, limit=limit
    )
    page = {
        "items": [
            {
                "sku": r.sku,
                "variant_id": str(r.variant_id),
                "location": r.location,
                "on_hand": r.on_hand,
                "reserved": r.reserved,
                "safety_stock": r.safety_stock,
                "quarantine": r.quarantine,
                "damaged": r.damaged,
                "qc": r.qc,
                "expired": r.expired,
                "available": r.available,
                "incoming": r.incoming,
                "in_transit": r.in_transit,
                "reorder_point": r.reorder_point,
                "max_level": r.max_level,
                "updated_at": r.updated_at.isoformat().replace("+00:00", "Z"),
            }
            for r in rows
        ],
        "next_cursor": next_cursor,
    }
    return Response(content=json.dumps(page), media_type="application/json")


@router.post(
    "/stock/receipts",
    response_model=MovementList,
    status_code=status.HTTP_201_CREATED,
    summary="Receive goods into a location",
)
def receive_stock(
    body: StockReceiveCreate,
    actor: Annotated[Actor, Depends(require(Permission.STOCK_RECEIVE))],
    db: DbDep,
) -> MovementList:
    """One `receive` movement per line; 422 lists every unknown SKU or bad quantity.

    Lot-tracked variants need `lot` (422 `inventory.lot_required`; a new lot its
    `expires_on`: `inventory.lot_expiry_required`; `inventory.lot_expiry_mismatch`,
    `inventory.lot_expired`); serial-tracked ones one serial per unit
    (`inventory.serials_count_mismatch`, `inventory.serial_duplicate`,
    `inventory.serial_exists`); untracked ones neither (`inventory.not_tracked`)."""
    return _movements(
        stock_service.receive(
            db=db,
            actor=actor,
            location=body.location,
            lines=_lines(body),
            reason=body.reason,
            reference=body.reference,
        )
    )


@router.post(
    "/stock/adjustments",
    response_model=MovementList,
    status_code=status.HTTP_201_CREATED,
    summary="Adjust on-hand (audited)",
)
def adjust_stock(
    body: StockAdjustmentCreate,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> MovementList:
    """Needs stock.adjust, or a manager override token in X-Manager-Override."""
    return _movements(
        stock_service.adjust(
            db=db,
            actor=actor,
            location=body.location,
            lines=_lines(body),
            reason=body.reason,
            override_token=override,
        )
    )


@router.put(
    "/stock/safety-stock",
    response_model=SafetyStockRead,
    summary="Set the safety stock of a variant at a location (audited)",
)
def set_safety_stock(
    body: SafetyStockUpdate,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> SafetyStockRead:
    """Units kept back from `available`; a setting, so no ledger movement. Needs stock.adjust."""
    previous = stock_buckets.set_safety_stock(
        db=db,
        actor=actor,
        sku=body.sku,
        location=body.location,
        quantity=body.quantity,
        override_token=override,
    )
    return SafetyStockRead(
        sku=body.sku, location=body.location, quantity=body.quantity, previous=previous
    )


@router.post(
    "/stock/moves",
    response_model=StockMoveRead,
    status_code=status.HTTP_201_CREATED,
    summary="Move units between sellable, quarantine, damaged and qc (audited)",
    responses={422: {"description": "`inventory.bucket_insufficient`, `inventory.same_bucket`"}},
)
def move_stock(
    body: StockMoveCreate,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> StockMoveRead:
    """On-hand is unchanged; each ledger bucket that changes gets a movement. Needs stock.adjust."""
    result = stock_buckets.move(
        db=db,
        actor=actor,
        sku=body.sku,
        location=body.location,
        source=body.source,
        target=body.target,
        quantity=body.quantity,
        reason=body.reason,
        override_token=override,
    )
    return StockMoveRead(
        sku=result.sku,
        location=result.location,
        source=result.source,
        target=result.target,
        quantity=result.quantity,
        movements=[str(m) for m in result.movement_ids],
    )


@router.get("/stock/movements", response_model=LedgerPage, summary="The stock ledger")
def list_movements(
    actor: CurrentActor,
    db: DbDep,
    sku: SkuFilter = None,
    location: LocationFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> LedgerPage:
    """Newest first; every change of stock with its reason, document and actor."""
    rows, next_cursor = stock_service.movements(
        db=db, actor=actor, sku=sku, location=location, cursor=cursor, limit=limit
    )
    return LedgerPage(
        items=[
            LedgerEntryRead(
                id=str(r.id),
                sku=r.sku,
                location=r.location,
                bucket=r.bucket,
                quantity=r.quantity,
                kind=r.kind,
                reason=r.reason,
                reference_type=r.reference_type,
                reference_id=r.reference_id,
                actor=r.actor,
                created_at=r.created_at,
                lot=r.lot,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )


@router.get(
    "/stock/exceptions",
    response_model=StockExceptionList,
    summary="Open stock exceptions to resolve",
)
def list_exceptions(actor: CurrentActor, db: DbDep) -> StockExceptionList:
    """Sales recorded against stock the system did not show (`negative_stock`) and
    transfers received short of or over what shipped (`transfer_discrepancy`), oldest
    first."""
    return StockExceptionList(
        items=[
            StockExceptionRead(
                id=str(e.id),
                sku=e.sku,
                location=e.location,
                kind=e.kind,
                on_hand_after=e.on_hand_after,
                reference_type=e.reference_type,
                reference_id=e.reference_id,
                created_at=e.created_at,
            )
            for e in stock_service.open_exceptions(db=db, actor=actor)
        ]
    )


@router.post(
    "/stock/exceptions/{exception_id}/resolve",
    response_model=StockExceptionResolved,
    summary="Resolve a stock exception by count or acknowledgement",
)
def resolve_exception(
    exception_id: uuid.UUID,
    body: StockExceptionResolve,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> StockExceptionResolved:
    """With `counted`, on-hand is set to the count by a `count` movement; without, the
    exception is acknowledged. Closes every open exception of that SKU at that store.
    Needs stock.adjust or a manager override; 404 `stock_exception.not_found`, 409
    `stock_exception.already_resolved`, 422 `stock.count_negative`, `stock.reason_required`."""
    r = stock_exceptions.resolve_exception(
        db=db,
        actor=actor,
        exception_id=exception_id,
        reason=body.reason,
        counted=body.counted,
        override_token=override,
    )
    return StockExceptionResolved(
        sku=r.sku,
        location=r.location,
        resolution=r.resolution,
        on_hand=r.on_hand,
        counted_change=r.counted_change,
        resolved=[str(x) for x in r.resolved],
    )
