"""Serial numbers and lots."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnitill.api.deps import Cursor, DbDep, Limit, LocationFilter, SkuFilter, require
from omnitill.api.schemas.serials import (
    LotPage,
    LotRead,
    SerialEventRead,
    SerialLookupRead,
    SerialUnitRead,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import serials as serial_service

router = APIRouter(prefix="/api/v1", tags=["serials"])

Reader = Annotated[Actor, Depends(require(Permission.STOCK_READ))]


@router.get(
    "/serials/{serial:path}",
    response_model=SerialLookupRead,
    summary="Where a serial-numbered unit is, its warranty and its history",
    responses={404: {"description": "`serial.not_found`"}},
)
def get_serial(serial: str, actor: Reader, db: DbDep) -> SerialLookupRead:
    """The unit(s) with this serial: SKU, status, location, warranty start, the sale that
    sold it, and every event (received, sold, transferred, ...) oldest first. Staff bound
    to stores see units at their locations and units sold there; 404 `serial.not_found`
    for an unknown serial or one they may not see; 403 `auth.permission_denied` without
    stock.read."""
    units = serial_service.lookup(db=db, actor=actor, serial=serial)
    return SerialLookupRead(
        serial=serial,
        items=[
            SerialUnitRead(
                serial=u.serial,
                sku=u.sku,
                status=u.status,
                location=u.location,
                warranty_starts_on=u.warranty_starts_on,
                sale_id=u.sale_id,
                receipt_number=u.receipt_number,
                received_at=u.received_at,
                updated_at=u.updated_at,
                history=[
                    SerialEventRead(
                        event=e.event,
                        from_status=e.from_status,
                        to_status=e.to_status,
                        location=e.location,
                        reference_type=e.reference_type,
                        reference_id=e.reference_id,
                        actor=e.actor,
                        created_at=e.created_at,
                    )
                    for e in u.history
                ],
            )
            for u in units
        ],
    )


@router.get("/lots", response_model=LotPage, summary="Lots with their balances and expiry")
def list_lots(
    actor: Reader,
    db: DbDep,
    sku: SkuFilter = None,
    location: LocationFilter = None,
    include_empty: Annotated[
        bool, Query(description="Also list balances that are down to zero.")
    ] = False,
    cursor: Cursor = None,
    limit: Limit = None,
) -> LotPage:
    """Per lot and location, by SKU then lot code: on hand, expired units, whether the lot
    has expired there, and what is still sellable. Staff bound to stores see their
    stores'; 422 `location.not_found`, 403 `auth.location_forbidden`."""
    rows, next_cursor = serial_service.list_lots(
        db=db,
        actor=actor,
        sku=sku,
        location=location,
        include_empty=include_empty,
        cursor=cursor,
        limit=limit,
    )
    return LotPage(
        items=[
            LotRead(
                sku=r.sku,
                lot=r.lot,
                expires_on=r.expires_on,
                location=r.location,
                on_hand=r.on_hand,
                expired_units=r.expired_units,
                expired=r.expired,
                sellable=r.sellable,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
