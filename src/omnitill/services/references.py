"""Resolving what a request names (location codes, SKUs, barcodes) inside a unit of work.

Each resolver collects every problem before raising, so a client learns all bad lines at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import QueryableAttribute

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Location
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed


def location_by_code(uow: UnitOfWork, code: str, *, field: str = "location") -> Location:
    """The location with `code`, or 422 `location.not_found` naming `field`."""
    loc = uow.session.scalars(select(Location).where(Location.code == code)).one_or_none()
    if loc is None:
        raise ValidationFailed(
            "location.not_found",
            f"no location with code {code!r}",
            {"location": code},
            errors=[FieldError(field, "location.not_found", f"unknown location {code!r}")],
        )
    return loc


# Any SELECT, whatever its columns (SQLAlchemy 2.0 and 2.1 type Select differently).
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]


def accessible_location(uow: UnitOfWork, actor: Actor, code: str) -> Location:
    """The location with `code`, if the actor may act there (422 unknown, 403 forbidden)."""
    loc = location_by_code(uow, code)
    actor.require_location(loc.id, loc.code)
    return loc


def scope_to_locations(
    uow: UnitOfWork,
    actor: Actor,
    stmt: S,
    column: QueryableAttribute[uuid.UUID],
    location: str | None,
) -> S:
    """Restrict a listing to one named location, or else to the locations the actor sees."""
    if location is not None:
        return stmt.where(column == accessible_location(uow, actor, location).id)
    if actor.location_ids is not None:
        return stmt.where(column.in_(actor.location_ids))
    return stmt


@dataclass(frozen=True, slots=True)
class LineRef:
    """How a request line names its variant: by SKU or by scanned barcode."""

    sku: str | None
    barcode: str | None


def resolve_lines(
    uow: UnitOfWork, refs: Sequence[LineRef], *, prefix: str = "lines"
) -> list[VariantRef]:
    """The variant each line names, in order; 422 listing every line that names none."""
    errors: list[FieldError] = []
    for i, ref in enumerate(refs):
        if (ref.sku is None) == (ref.barcode is None):
            errors.append(
                FieldError(
                    f"{prefix}.{i}",
                    "sale.line_needs_sku_or_barcode",
                    "give exactly one of sku or barcode",
                )
            )
    if errors:
        raise ValidationFailed("sale.invalid_lines", "some lines are invalid", errors=errors)
    by_sku, by_barcode = catalog_repo.variant_refs(
        uow.connection,
        skus=[r.sku for r in refs if r.sku is not None],
        barcodes=[r.barcode for r in refs if r.barcode is not None],
    )
    found: list[VariantRef | None] = [
        by_sku.get(r.sku) if r.sku is not None else by_barcode.get(r.barcode or "") for r in refs
    ]
    for i, (ref, variant) in enumerate(zip(refs, found, strict=True)):
        if variant is None:
            if ref.sku is not None:
                errors.append(
                    FieldError(
                        f"{prefix}.{i}.sku",
                        "catalog.unknown_sku",
                        f"no variant with SKU {ref.sku!r}",
                    )
                )
            else:
                errors.append(
                    FieldError(
                        f"{prefix}.{i}.barcode",
                        "catalog.unknown_barcode",
                        f"no variant with barcode {ref.barcode!r}",
                    )
                )
    if errors:
        raise ValidationFailed(
            errors[0].code,
            "some lines name no known variant",
            errors=errors,
            details={"unknown": [e.field for e in errors]},
        )
    return [v for v in found if v is not None]
