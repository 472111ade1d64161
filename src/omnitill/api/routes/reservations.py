"""Stock reservations: hold, release, fulfil and look up."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from omnitill.api.deps import Cursor, DbDep, Limit, LocationFilter, require
from omnitill.api.schemas.reservations import (
    ReferenceRead,
    ReservationCreate,
    ReservationFulfil,
    ReservationLineRead,
    ReservationPage,
    ReservationRead,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import reservations as reservation_service

router = APIRouter(prefix="/api/v1", tags=["stock"])
Reserver = Annotated[Actor, Depends(require(Permission.STOCK_RESERVE))]


def to_read(view: reservation_service.ReservationView) -> ReservationRead:
    return ReservationRead(
        id=str(view.id),
        reference=ReferenceRead(type=view.reference_type, id=view.reference_id),
        location=view.location,
        status=view.status,
        expires_at=view.expires_at,
        created_at=view.created_at,
        updated_at=view.updated_at,
        actor=view.actor,
        lines=[ReservationLineRead(sku=line.sku, quantity=line.quantity) for line in view.lines],
    )


def _answer(view: reservation_service.ReservationView, *, created: bool) -> Response:
    return Response(
        content=to_read(view).model_dump_json(),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if view.replayed else None,
    )


@router.post(
    "/reservations",
    response_model=ReservationRead,
    status_code=status.HTTP_201_CREATED,
    summary="Reserve stock for an order or pickup",
    responses={
        200: {"description": "Replay: this reference already holds these lines."},
        409: {"description": "`inventory.insufficient_stock`, listing every short line."},
        422: {"description": "`reservation.reference_reused` or invalid lines."},
    },
)
def create_reservation(body: ReservationCreate, actor: Reserver, db: DbDep) -> Response:
    """All lines or none, never more than is available; idempotent by reference."""
    view = reservation_service.reserve(
        db=db,
        actor=actor,
        request=reservation_service.ReservationRequest(
            reference_type=body.reference.type,
            reference_id=body.reference.id,
            location=body.location,
            lines=tuple(
                reservation_service.ReservationLineInput(line.sku, line.barcode, line.quantity)
                for line in body.lines
            ),
            ttl_seconds=body.ttl_seconds,
        ),
    )
    return _answer(view, created=not view.replayed)


@router.get(
    "/reservations", response_model=ReservationPage, summary="Find reservations, newest first"
)
def list_reservations(
    actor: Reserver,
    db: DbDep,
    reference_type: Annotated[str | None, Query(description="order, pickup, ...")] = None,
    reference_id: Annotated[str | None, Query(description="The reference's id.")] = None,
    location: LocationFilter = None,
    status_: Annotated[
        str | None, Query(alias="status", description="active, released, fulfilled, expired.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> ReservationPage:
    """Staff bound to stores see only their stores' reservations."""
    views, next_cursor = reservation_service.find(
        db=db,
        actor=actor,
        reference_type=reference_type,
        reference_id=reference_id,
        location=location,
        status=status_,
        cursor=cursor,
        limit=limit,
    )
    return ReservationPage(items=[to_read(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/reservations/{reservation_id}", response_model=ReservationRead, summary="One reservation"
)
def get_reservation(reservation_id: uuid.UUID, actor: Reserver, db: DbDep) -> ReservationRead:
    """The reservation with its lines and status."""
    return to_read(reservation_service.get(db=db, actor=actor, reservation_id=reservation_id))


@router.post(
    "/reservations/{reservation_id}/release",
    response_model=ReservationRead,
    summary="Give the reserved units back",
    responses={409: {"description": "`reservation.invalid_transition` (already fulfilled)."}},
)
def release_reservation(reservation_id: uuid.UUID, actor: Reserver, db: DbDep) -> ReservationRead:
    """Idempotent: releasing a released or expired reservation changes nothing."""
    return to_read(reservation_service.release(db=db, actor=actor, reservation_id=reservation_id))


@router.post(
    "/reservations/{reservation_id}/fulfil",
    response_model=ReservationRead,
    summary="Ship the reserved units (a sale movement)",
    responses={
        409: {"description": "`reservation.invalid_transition` (released or expired)."},
        422: {
            "description": "`inventory.serials_count_mismatch`, `inventory.serial_*`, "
            "`reservation.sku_not_reserved`."
        },
    },
)
def fulfil_reservation(
    reservation_id: uuid.UUID,
    actor: Reserver,
    db: DbDep,
    body: ReservationFulfil | None = None,
) -> ReservationRead:
    """on_hand and reserved fall by each line in one transaction; idempotent. Lot-tracked
    units leave first expired, first out; serial-tracked SKUs need their serials in the
    body, one per unit, each in stock at the location."""
    serials = [
        reservation_service.FulfilSerials(line.sku, tuple(line.serials))
        for line in (body.lines if body else [])
    ]
    return to_read(
        reservation_service.fulfil(
            db=db, actor=actor, reservation_id=reservation_id, serials=serials
        )
    )
