"""Tax set-up: tax classes, jurisdictions with their stacked components, and which
jurisdiction taxes each store.

A jurisdiction is checked by building the domain `Jurisdiction` and its `TaxComponent`s, so the
API refuses exactly what the tax engine could not use. Rates are history: a change of rate is a
new version of the component (a new row with its own validity window), and adding one closes
the open-ended version it supersedes the day before, so the tax of every past sale stays
explainable by the rows that were in force on its date.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, TaxClass, TaxComponent, TaxJurisdiction
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.validation import raise_invalid
from omnitill.domain.customers.countries import is_country
from omnitill.domain.errors import FieldError, NotFound
from omnitill.domain.money import Rounding
from omnitill.domain.tax import model as tax
from omnitill.services import audit, versions
from omnitill.services.pagination import page_by_key
from omnitill.services.price_lists import CHANNELS, Page, errors_of
from omnitill.services.uniqueness import flush_unique, taken

BUILTIN_CLASSES = ("standard", "reduced", "zero", "exempt")
# A new rate may start yesterday (UTC) at the earliest: never rewrite what past sales paid.
BACKDATE_GRACE = timedelta(days=1)
_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?$")
_CLASS = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")
_POSTAL = re.compile(r"^[A-Z0-9]{1,10}$")


@dataclass(frozen=True, slots=True)
class ComponentInput:
    code: str
    name: str
    rates: Mapping[str, Decimal]  # tax class -> fraction (0.04 = 4 %)
    compound: bool = False
    applies_to_shipping: bool = True
    rounding_group: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    exempt_below: tuple[tax.ExemptBelow, ...] = ()


@dataclass(frozen=True, slots=True)
class JurisdictionInput:
    code: str
    name: str
    country: str
    region: str = ""
    postal_prefixes: tuple[str, ...] = ()
    inclusive: bool = False
    rounding: str = "line"
    rounding_mode: str = "half_up"
    exempt_channels: tuple[str, ...] = ()
    components: tuple[ComponentInput, ...] = ()


@dataclass(frozen=True, slots=True)
class JurisdictionChanges:
    """None leaves a field alone. Components change only by new versions."""

    name: str | None = None
    country: str | None = None
    region: str | None = None
    postal_prefixes: tuple[str, ...] | None = None
    inclusive: bool | None = None
    rounding: str | None = None
    rounding_mode: str | None = None
    exempt_channels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class JurisdictionRecord:
    jurisdiction: TaxJurisdiction
    components: tuple[TaxComponent, ...]  # every version, in position then date order
    locations: tuple[str, ...] = field(default=())  # codes of the stores it taxes


# --- tax classes ---------------------------------------------------------------------------


def create_tax_class(
    *, db: Database, actor: Actor, code: str, name: str, description: str = ""
) -> TaxClass:
    """Define a tax class products can name; 409 `tax_class.code_taken`."""
    code, name = code.strip().lower(), name.strip()
    errors = [] if _CLASS.match(code) else [_bad("code", "tax.invalid_class", "1-40 a-z, 0-9")]
    if not name:
        errors.append(_bad("name", "tax.invalid_name", "must not be blank"))
    raise_invalid(errors)
    clash = taken("tax_class.code_taken", "code", f"tax class {code!r} exists")
    with db.uow() as uow:
        if uow.session.get(TaxClass, code) is not None:
            raise clash
        row = TaxClass(code=code, name=name, description=description.strip())
        uow.session.add(row)
        flush_unique(uow, {"tax_classes.code": clash, "pk_tax_classes": clash})
        versions.touch(uow, versions.PRICING)
        audit.record(
            uow,
            action="tax_class.created",
            actor=actor,
            subject_type="tax_class",
            subject_id=code,
            details={"name": name},
        )
        uow.commit()
        return row


def list_tax_classes(*, db: Database, cursor: str | None, limit: int | None) -> Page[TaxClass]:
    """Defined tax classes in code order (the built-in ones need no definition)."""
    with db.uow(write=False) as uow:
        rows, next_cursor = page_by_key(uow, TaxClass, "code", cursor=cursor, limit=limit)
    return Page(tuple(rows), next_cursor)


# --- jurisdictions -------------------------------------------------------------------------


def create_jurisdiction(
    *, db: Database, actor: Actor, data: JurisdictionInput
) -> JurisdictionRecord:
    """Create a jurisdiction with its components; 409 `tax_jurisdiction.code_taken`."""
    data = _clean(data)
    errors = [] if _CODE.match(data.code) else [_bad("code", "tax.invalid_code", "1-40 A-Z0-9_-")]
    with db.uow() as uow:
        errors += _check(data) + _check_components(uow, data.components, prefix="components.{i}.")
        errors += [
            _overlap_error(f"components.{i}.", data.components[i].code)
            for i in _overlapping(data.components)
        ]
        raise_invalid(errors or errors_of(lambda: _domain_jurisdiction(data, data.components)))
        clash = taken("tax_jurisdiction.code_taken", "code", f"code {data.code!r} is in use")
        if uow.session.scalar(select(TaxJurisdiction.id).where(TaxJurisdiction.code == data.code)):
            raise clash
        row = TaxJurisdiction(code=data.code)
        _apply(row, data)
        uow.session.add(row)
        flush_unique(uow, {"tax_jurisdictions.code": clash})
        components = tuple(_component_row(row.id, c, i) for i, c in enumerate(data.components))
        uow.session.add_all(components)
        uow.session.flush()
        _audit(uow, actor, "tax_jurisdiction.created", row, {"components": len(components)})
        uow.commit()
        return JurisdictionRecord(row, components)


def get_jurisdiction(*, db: Database, code: str) -> JurisdictionRecord:
    """A jurisdiction with every component version; 404 `tax_jurisdiction.not_found`."""
    with db.uow(write=False) as uow:
        return _records(uow, [_jurisdiction(uow, code)])[0]


def list_jurisdictions(
    *,
    db: Database,
    country: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[JurisdictionRecord]:
    """Jurisdictions in code order, optionally of one country."""
    where = [] if country is None else [TaxJurisdiction.country == country.strip().upper()]
    with db.uow(write=False) as uow:
        rows, next_cursor = page_by_key(
            uow, TaxJurisdiction, "code", cursor=cursor, limit=limit, where=where
        )
        records = _records(uow, rows)
    return Page(tuple(records), next_cursor)


def update_jurisdiction(
    *, db: Database, actor: Actor, code: str, changes: JurisdictionChanges
) -> JurisdictionRecord:
    """Change where a jurisdiction applies and how it rounds; its rates change by versions."""
    given = {k: v for k, v in _changed(changes).items() if v is not None}
    with db.uow() as uow:
        row = _jurisdiction(uow, code)
        record = _records(uow, [row])[0]
        merged = _clean(replace(_as_input(row), **given))
        versions = [_as_component_input(c) for c in record.components]
        raise_invalid(_check(merged) or errors_of(lambda: _domain_jurisdiction(merged, versions)))
        _apply(row, merged)
        uow.session.flush()
        _audit(uow, actor, "tax_jurisdiction.updated", row, {"fields": sorted(given)})
        uow.commit()
        return JurisdictionRecord(row, record.components, record.locations)


def add_component_version(
    *, db: Database, actor: Actor, code: str, data: ComponentInput
) -> JurisdictionRecord:
    """Add a component, or a new version of one (same code, a later `valid_from`).

    The open-ended version it supersedes is closed the day before. A new version may not
    start before yesterday (`tax.backdated`) nor overlap another (`tax.overlapping_versions`).
    """
    data = _clean_component(data)
    with db.uow() as uow:
        row = _jurisdiction(uow, code)
        record = _records(uow, [row])[0]
        same = [c for c in record.components if c.code == data.code]
        errors: list[FieldError] = []
        if same and data.valid_from is None:
            errors.append(_bad("valid_from", "tax.valid_from_required", "a new version starts"))
        elif same and data.valid_from and data.valid_from < utcnow().date() - BACKDATE_GRACE:
            errors.append(_bad("valid_from", "tax.backdated", "rates start today or later"))
        raise_invalid(errors + _check_components(uow, [data], prefix=""))
        closed_on = data.valid_from - timedelta(days=1) if data.valid_from else None
        closing = [
            c
            for c in same
            if c.valid_to is None
            and closed_on is not None
            and (c.valid_from is None or c.valid_from <= closed_on)
        ]
        versions = [
            _as_component_input(c, valid_to=closed_on if c in closing else c.valid_to)
            for c in record.components
        ] + [data]
        if len(versions) - 1 in _overlapping(versions):
            raise_invalid([_overlap_error("", data.code)])
        raise_invalid(errors_of(lambda: _domain_jurisdiction(_as_input(row), versions)))
        for old in closing:
            old.valid_to = closed_on
        last = max((c.position for c in record.components), default=-1)
        position = same[0].position if same else last + 1
        new = _component_row(row.id, data, position)
        uow.session.add(new)
        row.updated_at = utcnow()
        uow.session.flush()
        _audit(
            uow,
            actor,
            "tax_jurisdiction.component_added",
            row,
            {
                "component": data.code,
                "rates": {k: str(v) for k, v in data.rates.items()},
                "valid_from": str(data.valid_from) if data.valid_from else None,
                "closed": [str(c.id) for c in closing],
            },
        )
        uow.commit()
        return _records(uow, [row])[0]


def assign_location(
    *, db: Database, actor: Actor, code: str, location_code: str
) -> JurisdictionRecord:
    """Make a jurisdiction the in-store tax of a location; 404 `location.not_found`."""
    with db.uow() as uow:
        row = _jurisdiction(uow, code)
        location = _location(uow, location_code)
        before = location.tax_jurisdiction_id
        location.tax_jurisdiction_id = row.id
        uow.session.flush()
        versions.touch(uow, versions.PRICING)
        audit.record(
            uow,
            action="location.tax_jurisdiction_set",
            actor=actor,
            subject_type="location",
            subject_id=str(location.id),
            details={"location": location.code, "jurisdiction": row.code, "before": str(before)},
        )
        uow.commit()
        return _records(uow, [row])[0]


def unassign_location(*, db: Database, actor: Actor, code: str, location_code: str) -> None:
    """The location falls back to its single tax rate; 404 when it is not assigned here."""
    with db.uow() as uow:
        row = _jurisdiction(uow, code)
        location = _location(uow, location_code)
        if location.tax_jurisdiction_id != row.id:
            raise NotFound(
                "tax_jurisdiction.location_not_assigned",
                f"{location.code} is not taxed by {row.code}",
                {"location": location.code, "jurisdiction": row.code},
            )
        location.tax_jurisdiction_id = None
        versions.touch(uow, versions.PRICING)
        audit.record(
            uow,
            action="location.tax_jurisdiction_cleared",
            actor=actor,
            subject_type="location",
            subject_id=str(location.id),
            details={"location": location.code, "jurisdiction": row.code},
        )
        uow.commit()


# --- rows as domain objects ----------------------------------------------------------------


def to_component(row: TaxComponent) -> tax.TaxComponent:
    return tax.TaxComponent(
        code=row.code,
        name=row.name,
        rates={cls: Decimal(rate) for cls, rate in row.rates.items()},
        compound=row.compound,
        applies_to_shipping=row.applies_to_shipping,
        rounding_group=row.rounding_group,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        exempt_below=tuple(
            tax.ExemptBelow(e["tax_class"], e["unit_price"]) for e in row.exempt_below
        ),
    )


def to_jurisdiction(row: TaxJurisdiction, components: Iterable[TaxComponent]) -> tax.Jurisdiction:
    return tax.Jurisdiction(
        code=row.code,
        name=row.name,
        components=tuple(to_component(c) for c in components),
        inclusive=row.inclusive,
        rounding=tax.RoundingLevel(row.rounding),
        mode=Rounding(row.rounding_mode),
        exempt_channels=frozenset(row.exempt_channels),
    )


# --- rules ---------------------------------------------------------------------------------


def _check(data: JurisdictionInput) -> list[FieldError]:
    """The jurisdiction's own fields: a name, a real country, well-formed postal prefixes,
    known channels and rounding settings."""
    errors: list[FieldError] = []
    if not data.name:
        errors.append(_bad("name", "tax.invalid_name", "must not be blank"))
    if not is_country(data.country):
        errors.append(_bad("country", "tax.invalid_country", "an ISO 3166 alpha-2 code"))
    errors += [
        _bad(f"postal_prefixes.{i}", "tax.invalid_postal_prefix", "1-10 letters or digits")
        for i, p in enumerate(data.postal_prefixes)
        if not _POSTAL.match(p)
    ]
    errors += [
        _bad(f"exempt_channels.{i}", "pricing.unknown_channel", f"one of {', '.join(CHANNELS)}")
        for i, c in enumerate(data.exempt_channels)
        if c not in CHANNELS
    ]
    if data.rounding not in set(tax.RoundingLevel):
        errors.append(_bad("rounding", "tax.invalid_rounding", "line or document"))
    if data.rounding_mode not in set(Rounding):
        errors.append(_bad("rounding_mode", "tax.invalid_rounding", "half_up or half_even"))
    return errors


def _check_components(
    uow: UnitOfWork, components: Sequence[ComponentInput], *, prefix: str
) -> list[FieldError]:
    """Each component builds as a domain `TaxComponent`, names known tax classes, and has a
    code and a name. Field paths start with `prefix` (``components.0.``)."""
    known = set(BUILTIN_CLASSES) | set(uow.session.scalars(select(TaxClass.code)))
    errors: list[FieldError] = []
    for i, c in enumerate(components):
        at = prefix.format(i=i)
        found = errors_of(partial(_domain_component, c))
        errors += [replace(e, field=at + e.field) for e in found]
        if not _CODE.match(c.code):
            errors.append(_bad(f"{at}code", "tax.invalid_code", "1-40 A-Z0-9_-"))
        if not c.name:
            errors.append(_bad(f"{at}name", "tax.invalid_name", "must not be blank"))
        errors += [
            _bad(f"{at}rates.{cls}", "tax.unknown_class", f"define tax class {cls!r} first")
            for cls in c.rates
            if cls not in known
        ]
        errors += [
            _bad(f"{at}exempt_below.{j}.tax_class", "tax.unknown_class", "an unknown tax class")
            for j, e in enumerate(c.exempt_below)
            if e.tax_class not in known
        ]
    return errors


def _overlapping(components: Sequence[ComponentInput]) -> list[int]:
    """Positions of components in force on a day an earlier version of theirs is too."""
    lo, hi = date.min, date.max
    return [
        i
        for i, a in enumerate(components)
        if any(
            b.code == a.code
            and max(a.valid_from or lo, b.valid_from or lo)
            <= min(a.valid_to or hi, b.valid_to or hi)
            for b in components[:i]
        )
    ]


def _overlap_error(at: str, code: str) -> FieldError:
    return _bad(f"{at}valid_from", "tax.overlapping_versions", f"another {code} is in force then")


def _domain_component(c: ComponentInput) -> tax.TaxComponent:
    return tax.TaxComponent(
        code=c.code,
        name=c.name,
        rates=dict(c.rates),
        compound=c.compound,
        applies_to_shipping=c.applies_to_shipping,
        rounding_group=c.rounding_group,
        valid_from=c.valid_from,
        valid_to=c.valid_to,
        exempt_below=c.exempt_below,
    )


def _domain_jurisdiction(
    data: JurisdictionInput, components: Sequence[ComponentInput]
) -> tax.Jurisdiction:
    return tax.Jurisdiction(
        code=data.code,
        name=data.name,
        components=tuple(_domain_component(c) for c in components),
        inclusive=data.inclusive,
        rounding=tax.RoundingLevel(data.rounding),
        mode=Rounding(data.rounding_mode),
        exempt_channels=frozenset(data.exempt_channels),
    )


# --- helpers -------------------------------------------------------------------------------


def _clean(data: JurisdictionInput) -> JurisdictionInput:
    return replace(
        data,
        code=data.code.strip(),
        name=data.name.strip(),
        country=data.country.strip().upper(),
        region=data.region.strip(),
        postal_prefixes=tuple(sorted({postal_key(p) for p in data.postal_prefixes})),
        exempt_channels=tuple(sorted({c.strip().lower() for c in data.exempt_channels})),
        components=tuple(_clean_component(c) for c in data.components),
    )


def _clean_component(c: ComponentInput) -> ComponentInput:
    group = (c.rounding_group or "").strip() or None
    return replace(
        c,
        code=c.code.strip(),
        name=c.name.strip(),
        rates={k.strip().lower(): v for k, v in c.rates.items()},
        rounding_group=group,
    )


def postal_key(postal_code: str) -> str:
    """A postal code or prefix compared without case, spaces or dashes (``h2x 1y4``)."""
    return re.sub(r"[\s-]", "", postal_code).upper()


def _apply(row: TaxJurisdiction, data: JurisdictionInput) -> None:
    row.name, row.country, row.region = data.name, data.country, data.region
    row.postal_prefixes = list(data.postal_prefixes)
    row.inclusive, row.rounding, row.rounding_mode = (
        data.inclusive,
        data.rounding,
        data.rounding_mode,
    )
    row.exempt_channels = list(data.exempt_channels)


def _component_row(jurisdiction_id: uuid.UUID, c: ComponentInput, position: int) -> TaxComponent:
    return TaxComponent(
        jurisdiction_id=jurisdiction_id,
        code=c.code,
        name=c.name,
        rates={cls: format(rate, "f") for cls, rate in c.rates.items()},
        compound=c.compound,
        applies_to_shipping=c.applies_to_shipping,
        rounding_group=c.rounding_group,
        valid_from=c.valid_from,
        valid_to=c.valid_to,
        exempt_below=[
            {"tax_class": e.tax_class, "unit_price": e.unit_price} for e in c.exempt_below
        ],
        position=position,
    )


def _as_input(row: TaxJurisdiction) -> JurisdictionInput:
    return JurisdictionInput(
        code=row.code,
        name=row.name,
        country=row.country,
        region=row.region,
        postal_prefixes=tuple(row.postal_prefixes),
        inclusive=row.inclusive,
        rounding=row.rounding,
        rounding_mode=row.rounding_mode,
        exempt_channels=tuple(row.exempt_channels),
    )


def _as_component_input(row: TaxComponent, *, valid_to: date | None = None) -> ComponentInput:
    c = to_component(row)
    return ComponentInput(
        code=c.code,
        name=c.name,
        rates=c.rates,
        compound=c.compound,
        applies_to_shipping=c.applies_to_shipping,
        rounding_group=c.rounding_group,
        valid_from=c.valid_from,
        valid_to=valid_to or c.valid_to,
        exempt_below=c.exempt_below,
    )


def _changed(changes: JurisdictionChanges) -> dict[str, Any]:
    return {name: getattr(changes, name) for name in JurisdictionChanges.__dataclass_fields__}


def _records(uow: UnitOfWork, rows: Sequence[TaxJurisdiction]) -> list[JurisdictionRecord]:
    ids = [r.id for r in rows]
    components: dict[uuid.UUID, list[TaxComponent]] = {}
    stmt = (
        select(TaxComponent)
        .where(TaxComponent.jurisdiction_id.in_(ids))
        .order_by(TaxComponent.position, TaxComponent.valid_from.nulls_first(), TaxComponent.id)
    )
    for c in uow.session.scalars(stmt):
        components.setdefault(c.jurisdiction_id, []).append(c)
    locations: dict[uuid.UUID, list[str]] = {}
    stmt_loc = (
        select(Location.tax_jurisdiction_id, Location.code)
        .where(Location.tax_jurisdiction_id.in_(ids))
        .order_by(Location.code)
    )
    for jid, code in uow.session.execute(stmt_loc):
        if jid is not None:
            locations.setdefault(jid, []).append(code)
    return [
        JurisdictionRecord(r, tuple(components.get(r.id, ())), tuple(locations.get(r.id, ())))
        for r in rows
    ]


def _jurisdiction(uow: UnitOfWork, code: str) -> TaxJurisdiction:
    stmt = select(TaxJurisdiction).where(TaxJurisdiction.code == code)
    row = uow.session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFound("tax_jurisdiction.not_found", f"no jurisdiction {code!r}", {"code": code})
    return row


def _location(uow: UnitOfWork, code: str) -> Location:
    row = uow.session.scalars(select(Location).where(Location.code == code)).one_or_none()
    if row is None:
        raise NotFound("location.not_found", f"no location {code!r}", {"location": code})
    return row


def _bad(field_name: str, code: str, message: str) -> FieldError:
    return FieldError(field_name, code, message)


def _audit(
    uow: UnitOfWork, actor: Actor, action: str, row: TaxJurisdiction, details: dict[str, object]
) -> None:
    versions.record_change(
        uow,
        versions.PRICING,
        actor=actor,
        action=action,
        subject_type="tax_jurisdiction",
        subject_id=str(row.id),
        details={"code": row.code, **details},
    )
