"""Stock transfers between locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from omnitill.api.deps import CurrentActor, Cursor, DbDep, Limit
from omnitill.api.schemas.transfers import (
    DiscrepancyRead,
    LotPortionRead,
    TransferCreate,
    TransferLineRead,
    TransferPage,
    TransferRead,
    TransferReceive,
    TransferShip,
)
from omnitill.services import transfers as transfer_service

router = APIRouter(prefix="/api/v1", tags=["transfers"])


def to_read(view: transfer_service.TransferView) -> TransferRead:
    return TransferRead(
        number=view.number,
        id=str(view.id),
        source=view.source,
        destination=view.destination,
        status=view.status,
        expected_on=view.expected_on,
        notes=view.notes,
        requested_by=view.requested_by,
        requested_at=view.requested_at,
        shipped_by=view.shipped_by,
        shipped_at=view.shipped_at,
        received_by=view.received_by,
        received_at=view.received_at,
        cancelled_at=view.cancelled_at,
        updated_at=view.updated_at,
        lines=[
            TransferLineRead(
                line_no=line.line_no,
                sku=line.sku,
                name=line.name,
                requested=line.requested,
                shipped=line.shipped,
                received=line.received,
                not_shipped=line.not_shipped,
                difference=line.difference,
                lots=[
                    LotPortionRead(lot=p.lot, expires_on=p.expires_on, quantity=p.quantity)
                    for p in line.lots
                ],
                serials=list(line.serials),
            )
            for line in view.lines
        ],
        discrepancies=[
            DiscrepancyRead(
                sku=d.sku,
                shipped=d.shipped,
                received=d.received,
                difference=d.difference,
                kind=d.kind,
                exception_id=str(d.exception_id) if d.exception_id else None,
            )
            for d in view.discrepancies
        ],
    )


@router.post(
    "/transfers",
    response_model=TransferRead,
    status_code=status.HTTP_201_CREATED,
    summary="Request a transfer between two locations",
    responses={
        403: {"description": "`auth.permission_denied`, `auth.location_forbidden`."},
        422: {
            "description": "`inventory.transfer_same_location`, `inventory.invalid_quantity`, "
            "`inventory.transfer_duplicate_sku`, `inventory.transfer_no_lines`, "
            "`catalog.unknown_sku`, `location.not_found`."
        },
    },
)
def create_transfer(body: TransferCreate, actor: CurrentActor, db: DbDep) -> TransferRead:
    """Nothing moves until it ships. Needs stock.transfer at the source or the destination.

    Errors: 422 `inventory.transfer_same_location` (field `destination`),
    `inventory.invalid_quantity` (`lines.N.quantity`), `inventory.transfer_duplicate_sku` and
    `catalog.unknown_sku` (`lines.N.sku`), `location.not_found`; 403
    `auth.location_forbidden`.
    """
    return to_read(
        transfer_service.request(
            db=db,
            actor=actor,
            transfer=transfer_service.TransferRequest(
                source=body.source,
                destination=body.destination,
                lines=tuple(
                    transfer_service.TransferLineInput(line.sku, line.quantity)
                    for line in body.lines
                ),
                expected_on=body.expected_on,
                notes=body.notes,
            ),
        )
    )


@router.get("/transfers", response_model=TransferPage, summary="Find transfers, newest first")
def list_transfers(
    actor: CurrentActor,
    db: DbDep,
    status_: Annotated[
        str | None,
        Query(alias="status", description="requested, shipped, received or cancelled."),
    ] = None,
    source: Annotated[str | None, Query(description="Source location code.")] = None,
    destination: Annotated[str | None, Query(description="Destination location code.")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> TransferPage:
    """Staff bound to stores see transfers from or to their stores. Errors: 422
    `inventory.transfer_invalid_status`, `location.not_found`, `pagination.invalid_cursor`."""
    views, next_cursor = transfer_service.find(
        db=db,
        actor=actor,
        status=status_,
        source=source,
        destination=destination,
        cursor=cursor,
        limit=limit,
    )
    return TransferPage(items=[to_read(v) for v in views], next_cursor=next_cursor)


@router.get("/transfers/{number}", response_model=TransferRead, summary="One transfer")
def get_transfer(number: str, actor: CurrentActor, db: DbDep) -> TransferRead:
    """Lines, who requested, shipped and received it and when, and its discrepancies.
    Errors: 404 `inventory.transfer_not_found`."""
    return to_read(transfer_service.get(db=db, actor=actor, number=number))


@router.post(
    "/transfers/{number}/ship",
    response_model=TransferRead,
    summary="Ship a requested transfer (units go in transit)",
    responses={
        409: {
            "description": "`inventory.insufficient_stock` (every short line), "
            "`inventory.transfer_not_shippable`."
        },
        422: {"description": "`inventory.transfer_over_ship`, bad lines."},
    },
)
def ship_transfer(
    number: str,
    actor: CurrentActor,
    db: DbDep,
    body: Annotated[TransferShip | None, Body()] = None,
) -> TransferRead:
    """Source on_hand falls (`transfer_out`), destination in_transit rises
    (`transfer_shipped`). Only free units ship (on hand less reserved and unavailable).
    Needs stock.transfer at the source.

    Errors: 409 `inventory.insufficient_stock` with `details.lines` [{sku, requested, free}]
    for every short line, nothing written; 409 `inventory.transfer_not_shippable` (not
    requested); 422 `inventory.transfer_over_ship`, `inventory.transfer_sku_not_on_transfer`,
    `inventory.transfer_duplicate_sku`, `inventory.invalid_quantity`,
    `inventory.transfer_nothing_to_ship`; 404 `inventory.transfer_not_found`.
    """
    lines = None
    if body is not None and body.lines is not None:
        lines = [
            transfer_service.ShipLineInput(line.sku, line.quantity, line.lot, tuple(line.serials))
            for line in body.lines
        ]
    return to_read(transfer_service.ship(db=db, actor=actor, number=number, lines=lines))


@router.post(
    "/transfers/{number}/receive",
    response_model=TransferRead,
    summary="Receive a shipped transfer, recording any discrepancy",
    responses={
        409: {"description": "`inventory.transfer_not_receivable` (with the status)."},
        422: {"description": "`inventory.invalid_quantity`, `inventory.transfer_lines_missing`."},
    },
)
def receive_transfer(
    number: str,
    actor: CurrentActor,
    db: DbDep,
    body: Annotated[TransferReceive | None, Body()] = None,
) -> TransferRead:
    """Destination in_transit is cleared of what shipped; on_hand rises by what arrived. A
    line short or over is booked as received and opens a `transfer_discrepancy` stock
    exception (units short are lost in transit). Needs stock.transfer at the destination.

    Errors: 409 `inventory.transfer_not_receivable` (`details.status`); 422
    `inventory.invalid_quantity` (negative), `inventory.transfer_lines_missing`,
    `inventory.transfer_sku_not_on_transfer`, `inventory.transfer_serials_required`,
    `inventory.transfer_lots_required`; 404 `inventory.transfer_not_found`.
    """
    lines = None
    if body is not None and body.lines is not None:
        lines = [
            transfer_service.ReceiveLineInput(
                line.sku,
                line.quantity,
                None if line.lots is None else tuple((p.lot, p.quantity) for p in line.lots),
                None if line.serials is None else tuple(line.serials),
            )
            for line in body.lines
        ]
    return to_read(transfer_service.receive(db=db, actor=actor, number=number, lines=lines))


@router.post(
    "/transfers/{number}/cancel",
    response_model=TransferRead,
    summary="Cancel a requested transfer",
    responses={409: {"description": "`inventory.transfer_not_cancellable`."}},
)
def cancel_transfer(number: str, actor: CurrentActor, db: DbDep) -> TransferRead:
    """Only before it ships. Errors: 409 `inventory.transfer_not_cancellable`; 404
    `inventory.transfer_not_found`."""
    return to_read(transfer_service.cancel(db=db, actor=actor, number=number))
