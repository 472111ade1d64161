"""Tax endpoints: tax classes, jurisdictions, component versions and store assignment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from omnitill.api.deps import Cursor, DbDep, Limit, require
from omnitill.api.schemas.tax import (
    ComponentCreate,
    ComponentRead,
    ExemptBelowBody,
    JurisdictionCreate,
    JurisdictionPage,
    JurisdictionRead,
    JurisdictionUpdate,
    TaxClassCreate,
    TaxClassPage,
    TaxClassRead,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.tax.model import ExemptBelow
from omnitill.services import tax_settings as service

router = APIRouter(prefix="/api/v1/tax", tags=["tax"])

Reader = Annotated[Actor, Depends(require(Permission.PRICING_READ))]
Writer = Annotated[Actor, Depends(require(Permission.TAX_WRITE))]


@router.post(
    "/classes",
    response_model=TaxClassRead,
    status_code=status.HTTP_201_CREATED,
    summary="Define a tax class",
)
def create_tax_class(body: TaxClassCreate, actor: Writer, db: DbDep) -> TaxClassRead:
    """409 `tax_class.code_taken`; standard, reduced, zero and exempt need no definition."""
    row = service.create_tax_class(
        db=db, actor=actor, code=body.code, name=body.name, description=body.description
    )
    return TaxClassRead.model_validate(row, from_attributes=True)


@router.get("/classes", response_model=TaxClassPage, summary="List tax classes")
def list_tax_classes(
    _actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> TaxClassPage:
    """Defined classes in code order."""
    page = service.list_tax_classes(db=db, cursor=cursor, limit=limit)
    return TaxClassPage(
        items=[TaxClassRead.model_validate(r, from_attributes=True) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/jurisdictions",
    response_model=JurisdictionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a tax jurisdiction with its components",
)
def create_jurisdiction(body: JurisdictionCreate, actor: Writer, db: DbDep) -> JurisdictionRead:
    """409 `tax_jurisdiction.code_taken`; 422 `tax.invalid_rate`, `tax.unknown_class`,
    `tax.overlapping_versions`, `tax.invalid_country` (fields such as `components.0.rates.x`)."""
    data = service.JurisdictionInput(
        **body.model_dump(exclude={"components", "postal_prefixes", "exempt_channels"}),
        postal_prefixes=tuple(body.postal_prefixes),
        exempt_channels=tuple(body.exempt_channels),
        components=tuple(_component_input(c) for c in body.components),
    )
    return _read(service.create_jurisdiction(db=db, actor=actor, data=data))


@router.get("/jurisdictions", response_model=JurisdictionPage, summary="List tax jurisdictions")
def list_jurisdictions(
    _actor: Reader,
    db: DbDep,
    country: Annotated[str | None, Query(max_length=2, description="ISO 3166 code.")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> JurisdictionPage:
    """Jurisdictions in code order, with every component version."""
    page = service.list_jurisdictions(db=db, country=country, cursor=cursor, limit=limit)
    return JurisdictionPage(items=[_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/jurisdictions/{code}", response_model=JurisdictionRead, summary="Get a tax jurisdiction"
)
def get_jurisdiction(code: str, _actor: Reader, db: DbDep) -> JurisdictionRead:
    """404 `tax_jurisdiction.not_found`."""
    return _read(service.get_jurisdiction(db=db, code=code))


@router.patch(
    "/jurisdictions/{code}", response_model=JurisdictionRead, summary="Update a tax jurisdiction"
)
def update_jurisdiction(
    code: str, body: JurisdictionUpdate, actor: Writer, db: DbDep
) -> JurisdictionRead:
    """Where it applies and how it rounds; rates change by a new component version."""
    values = {
        k: tuple(v) if isinstance(v, list) else v
        for k in body.model_fields_set
        if (v := getattr(body, k)) is not None
    }
    changes = service.JurisdictionChanges(**values)
    return _read(service.update_jurisdiction(db=db, actor=actor, code=code, changes=changes))


@router.post(
    "/jurisdictions/{code}/components",
    response_model=JurisdictionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a component or a new version of one",
)
def add_component(code: str, body: ComponentCreate, actor: Writer, db: DbDep) -> JurisdictionRead:
    """A new rate is a new version from `valid_from`; the open one it supersedes ends the day
    before. 422 `tax.backdated`, `tax.valid_from_required`, `tax.overlapping_versions`."""
    record = service.add_component_version(
        db=db, actor=actor, code=code, data=_component_input(body)
    )
    return _read(record)


@router.put(
    "/jurisdictions/{code}/locations/{location_code}",
    response_model=JurisdictionRead,
    summary="Tax a location's in-store sales by this jurisdiction",
)
def assign_location(code: str, location_code: str, actor: Writer, db: DbDep) -> JurisdictionRead:
    """Replaces the location's previous jurisdiction; 404 `location.not_found`."""
    record = service.assign_location(db=db, actor=actor, code=code, location_code=location_code)
    return _read(record)


@router.delete(
    "/jurisdictions/{code}/locations/{location_code}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop taxing a location by this jurisdiction",
)
def unassign_location(code: str, location_code: str, actor: Writer, db: DbDep) -> None:
    """The location falls back to its single tax rate; 404
    `tax_jurisdiction.location_not_assigned`."""
    service.unassign_location(db=db, actor=actor, code=code, location_code=location_code)


def _component_input(body: ComponentCreate) -> service.ComponentInput:
    return service.ComponentInput(
        **body.model_dump(exclude={"exempt_below"}),
        exempt_below=tuple(ExemptBelow(e.tax_class, e.unit_price) for e in body.exempt_below),
    )


def _read(record: service.JurisdictionRecord) -> JurisdictionRead:
    j = record.jurisdiction
    return JurisdictionRead(
        id=j.id,
        code=j.code,
        name=j.name,
        country=j.country,
        region=j.region,
        postal_prefixes=j.postal_prefixes,
        inclusive=j.inclusive,
        rounding=j.rounding,
        rounding_mode=j.rounding_mode,
        exempt_channels=j.exempt_channels,
        components=[
            ComponentRead(
                id=c.id,
                code=c.code,
                name=c.name,
                rates=c.rates,
                compound=c.compound,
                applies_to_shipping=c.applies_to_shipping,
                rounding_group=c.rounding_group,
                valid_from=c.valid_from,
                valid_to=c.valid_to,
                exempt_below=[ExemptBelowBody(**e) for e in c.exempt_below],
                position=c.position,
            )
            for c in record.components
        ],
        locations=list(record.locations),
        created_at=j.created_at,
        updated_at=j.updated_at,
    )
