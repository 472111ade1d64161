"""Locations endpoints: stores, warehouses and the registers enrolled in stores."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from omnitill.api.deps import Cursor, DbDep, Limit, require
from omnitill.api.schemas.locations import (
    LocationCreate,
    LocationPage,
    LocationRead,
    LocationUpdate,
    RegisterCreate,
    RegisterPage,
    RegisterRead,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import locations as location_service

router = APIRouter(prefix="/api/v1", tags=["locations"])

Reader = Annotated[Actor, Depends(require(Permission.LOCATIONS_READ))]
Writer = Annotated[Actor, Depends(require(Permission.LOCATIONS_WRITE))]


@router.post(
    "/locations",
    response_model=LocationRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a store or warehouse",
)
def create_location(body: LocationCreate, actor: Writer, db: DbDep) -> LocationRead:
    """409 `location.code_taken`; 422 `location.invalid_timezone`, `location.invalid_tax_rate`."""
    location = location_service.create_location(
        db=db, actor=actor, data=location_service.LocationInput(**body.model_dump())
    )
    return _location_read(location)


@router.get("/locations", response_model=LocationPage, summary="List locations")
def list_locations(
    actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> LocationPage:
    """Locations in code order; staff bound to locations see only theirs."""
    page = location_service.list_locations(db=db, actor=actor, cursor=cursor, limit=limit)
    return LocationPage(items=[_location_read(x) for x in page.items], next_cursor=page.next_cursor)


@router.get("/locations/{code}", response_model=LocationRead, summary="Get a location")
def get_location(code: str, actor: Reader, db: DbDep) -> LocationRead:
    """404 `location.not_found`, also for a location outside the caller's."""
    return _location_read(location_service.get_location(db=db, actor=actor, code=code))


@router.patch("/locations/{code}", response_model=LocationRead, summary="Update a location")
def update_location(code: str, body: LocationUpdate, actor: Writer, db: DbDep) -> LocationRead:
    """Only the fields sent change; 409 `location.has_registers` for a store with tills."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    changes = location_service.LocationChanges(
        **{k: v for k, v in sent.items() if v is not None},
        clear=frozenset(k for k, v in sent.items() if v is None),
    )
    location = location_service.update_location(db=db, actor=actor, code=code, changes=changes)
    return _location_read(location)


@router.post(
    "/locations/{code}/registers",
    response_model=RegisterRead,
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a register in a store",
)
def enroll_register(code: str, body: RegisterCreate, actor: Writer, db: DbDep) -> RegisterRead:
    """409 `register.code_taken` or `location.not_a_store`; audited as `register.enrolled`."""
    record = location_service.enroll_register(
        db=db, actor=actor, location_code=code, code=body.code, name=body.name
    )
    return _register_read(record)


@router.get("/registers", response_model=RegisterPage, summary="List registers")
def list_registers(
    actor: Reader,
    db: DbDep,
    location: Annotated[str | None, Query(description="Only this location's (its code).")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> RegisterPage:
    """Registers in code order; 404 `location.not_found` for an unknown `location`."""
    page = location_service.list_registers(
        db=db, actor=actor, location_code=location, cursor=cursor, limit=limit
    )
    return RegisterPage(items=[_register_read(r) for r in page.items], next_cursor=page.next_cursor)


def _decimal_text(value: Decimal | None) -> str | None:
    """``0.088750`` from the NUMERIC column reads back as ``0.08875``."""
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def _location_read(location: location_service.Location) -> LocationRead:
    return LocationRead(
        id=location.id,
        code=location.code,
        name=location.name,
        kind=location.kind,
        address_line1=location.address_line1,
        address_line2=location.address_line2,
        city=location.city,
        region=location.region,
        postal_code=location.postal_code,
        country=location.country,
        timezone=location.timezone,
        latitude=_decimal_text(location.latitude),
        longitude=_decimal_text(location.longitude),
        currency=location.currency,
        tax_rate=_decimal_text(location.tax_rate) or "0",
        prices_include_tax=location.prices_include_tax,
        sells_in_store=location.sells_in_store,
        ships=location.ships,
        offers_pickup=location.offers_pickup,
        accepts_returns=location.accepts_returns,
        locale=location.locale,
        receipt_header=location.receipt_header,
        receipt_footer=location.receipt_footer,
        active=location.active,
        created_at=location.created_at,
        updated_at=location.updated_at,
    )


def _register_read(record: location_service.RegisterRecord) -> RegisterRead:
    r = record.register
    return RegisterRead(
        id=r.id,
        code=r.code,
        name=r.name,
        location=record.location_code,
        active=r.active,
        created_at=r.created_at,
    )
