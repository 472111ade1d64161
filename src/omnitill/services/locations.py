"""Stores, warehouses and the registers enrolled in a store.

Locations and registers are addressed by their codes (``S01``, ``S01-R1``). Staff bound to
locations see only those: lists leave the others out and addressing one answers 404, so a
cashier cannot learn another store's settings.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Register
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.validation import raise_invalid
from omnitill.domain.customers.countries import is_country
from omnitill.domain.errors import Conflict, FieldError, NotFound
from omnitill.domain.money import ISO_4217_CODES
from omnitill.services import audit
from omnitill.services.pagination import clamp_limit, cursor_value, encode_cursor
from omnitill.services.uniqueness import flush_unique, taken

_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$")
_KINDS = ("store", "warehouse")
_RATE_PLACES = 6  # NUMERIC(8, 6)
_DEGREE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class LocationInput:
    """A new store or warehouse. `tax_rate` is a fraction (0.08875 for 8.875 %)."""

    code: str
    name: str
    kind: str
    currency: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"
    timezone: str = "UTC"
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    tax_rate: Decimal = Decimal(0)
    prices_include_tax: bool = False
    sells_in_store: bool = True
    ships: bool = False
    offers_pickup: bool = False
    accepts_returns: bool = True
    active: bool = True
    locale: str = "en_US"  # Babel locale receipts and tags are written in
    receipt_header: str = ""
    receipt_footer: str = ""  # the return policy printed at the foot of receipts


@dataclass(frozen=True, slots=True)
class LocationChanges:
    """A partial update: None leaves a field alone; `clear` names fields to null. The code is
    fixed for life because sales, registers and store nodes address the location by it."""

    name: str | None = None
    kind: str | None = None
    currency: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    timezone: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    tax_rate: Decimal | None = None
    prices_include_tax: bool | None = None
    sells_in_store: bool | None = None
    ships: bool | None = None
    offers_pickup: bool | None = None
    accepts_returns: bool | None = None
    active: bool | None = None
    locale: str | None = None
    receipt_header: str | None = None
    receipt_footer: str | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class LocationPage:
    items: tuple[Location, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class RegisterRecord:
    register: Register
    location_code: str


@dataclass(frozen=True, slots=True)
class RegisterPage:
    items: tuple[RegisterRecord, ...]
    next_cursor: str | None


def create_location(*, db: Database, actor: Actor, data: LocationInput) -> Location:
    """Create a store or warehouse; 409 `location.code_taken` when the code is in use."""
    data = _clean(data)
    raise_invalid(_check_code(data.code, field="code", code_max=32) + _check_location(data))
    with db.uow() as uow:
        if uow.session.scalar(select(Location.id).where(Location.code == data.code)) is not None:
            raise _code_taken("location.code_taken", "code", data.code)
        location = Location(**{f.name: getattr(data, f.name) for f in fields(data)})
        location.latitude = _degrees(data.latitude)
        location.longitude = _degrees(data.longitude)
        uow.session.add(location)
        flush_unique(uow, {"locations.code": _code_taken("location.code_taken", "code", data.code)})
        audit.record(
            uow,
            action="location.created",
            actor=actor,
            subject_type="location",
            subject_id=str(location.id),
            details={"code": data.code, "kind": data.kind, "tax_rate": str(data.tax_rate)},
        )
        uow.commit()
        return location


def list_locations(
    *, db: Database, actor: Actor, cursor: str | None, limit: int | None
) -> LocationPage:
    """Locations in code order; staff bound to locations see only theirs."""
    size = clamp_limit(limit)
    after = cursor_value(cursor, "code")
    stmt = select(Location).order_by(Location.code).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Location.code > after)
    if actor.location_ids is not None:
        stmt = stmt.where(Location.id.in_(actor.location_ids))
    with db.uow(write=False) as uow:
        rows = list(uow.session.scalars(stmt))
    more = len(rows) > size
    rows = rows[:size]
    return LocationPage(tuple(rows), encode_cursor({"code": rows[-1].code}) if more else None)


def get_location(*, db: Database, actor: Actor, code: str) -> Location:
    """One location by code; 404 `location.not_found` if unknown or outside the actor's."""
    with db.uow(write=False) as uow:
        return _visible_location(uow, actor, code)


def update_location(*, db: Database, actor: Actor, code: str, changes: LocationChanges) -> Location:
    """Change a location; a store with registers cannot become a warehouse."""
    given = {
        f.name
        for f in fields(changes)
        if f.name != "clear" and getattr(changes, f.name) is not None
    }
    raise_invalid(
        [
            FieldError(name, "location.not_nullable", "cannot be null")
            for name in sorted(changes.clear - {"latitude", "longitude"})
        ]
    )
    with db.uow() as uow:
        location = _visible_location(uow, actor, code)
        merged = _clean(
            LocationInput(
                **{
                    f.name: _pick(changes, f.name, getattr(location, f.name))
                    for f in fields(LocationInput)
                }
            )
        )
        raise_invalid(_check_location(merged))
        if merged.kind == "warehouse" and location.kind == "store":
            has_registers = uow.session.scalar(
                select(Register.id).where(Register.location_id == location.id).limit(1)
            )
            if has_registers is not None:
                raise Conflict(
                    "location.has_registers",
                    f"{code} has registers enrolled; it cannot become a warehouse",
                    errors=[FieldError("kind", "location.has_registers", "registers enrolled")],
                )
        for name in given | changes.clear:
            setattr(location, name, getattr(merged, name))
        location.latitude = _degrees(merged.latitude)
        location.longitude = _degrees(merged.longitude)
        audit.record(
            uow,
            action="location.updated",
            actor=actor,
            subject_type="location",
            subject_id=str(location.id),
            details={"code": code, "fields": sorted(given | changes.clear)},
        )
        uow.session.flush()
        uow.commit()
        return location


def enroll_register(
    *, db: Database, actor: Actor, location_code: str, code: str, name: str
) -> RegisterRecord:
    """Enrol a till in a store (audited as ``register.enrolled``); warehouses have none."""
    code, name = code.strip(), name.strip()
    raise_invalid(_check_code(code, field="code", code_max=40))
    with db.uow() as uow:
        location = _visible_location(uow, actor, location_code)
        if location.kind != "store":
            raise Conflict(
                "location.not_a_store",
                f"{location.code} is a {location.kind}; registers are enrolled in stores",
                {"location": location.code, "kind": location.kind},
            )
        if uow.session.scalar(select(Register.id).where(Register.code == code)) is not None:
            raise _code_taken("register.code_taken", "code", code)
        register = Register(code=code, name=name, location_id=location.id)
        uow.session.add(register)
        flush_unique(uow, {"registers.code": _code_taken("register.code_taken", "code", code)})
        audit.record(
            uow,
            action="register.enrolled",
            actor=actor,
            subject_type="register",
            subject_id=str(register.id),
            details={"code": code, "name": name, "location": location.code},
        )
        uow.commit()
        return RegisterRecord(register, location.code)


def list_registers(
    *,
    db: Database,
    actor: Actor,
    location_code: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> RegisterPage:
    """Registers in code order, of one location or of every location the actor may see."""
    size = clamp_limit(limit)
    after = cursor_value(cursor, "code")
    stmt = (
        select(Register, Location.code)
        .join(Location, Location.id == Register.location_id)
        .order_by(Register.code)
        .limit(size + 1)
    )
    if after is not None:
        stmt = stmt.where(Register.code > after)
    if actor.location_ids is not None:
        stmt = stmt.where(Register.location_id.in_(actor.location_ids))
    with db.uow(write=False) as uow:
        if location_code is not None:
            location = _visible_location(uow, actor, location_code)
            stmt = stmt.where(Register.location_id == location.id)
        rows = [RegisterRecord(r, c) for r, c in uow.session.execute(stmt)]
    more = len(rows) > size
    rows = rows[:size]
    return RegisterPage(
        tuple(rows), encode_cursor({"code": rows[-1].register.code}) if more else None
    )


# --- rules ---------------------------------------------------------------------------------


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    """True for an IANA time zone name the system knows (``America/New_York``)."""
    return name in _time_zones()


def _check_location(data: LocationInput) -> list[FieldError]:
    """Every rule a location's settings must meet (the code is checked once, at creation)."""
    errors: list[FieldError] = []
    if not data.name.strip():
        errors.append(FieldError("name", "location.invalid_name", "must not be blank"))
    if data.kind not in _KINDS:
        errors.append(FieldError("kind", "location.invalid_kind", "store or warehouse"))
    if not is_country(data.country):
        errors.append(FieldError("country", "location.invalid_country", "an ISO 3166 alpha-2 code"))
    if not is_time_zone(data.timezone):
        errors.append(
            FieldError(
                "timezone", "location.invalid_timezone", f"{data.timezone!r} is not an IANA zone"
            )
        )
    if data.currency not in ISO_4217_CODES:
        errors.append(FieldError("currency", "money.unknown_currency", "not ISO 4217"))
    errors += _check_coordinates(data.latitude, data.longitude)
    errors += _check_tax_rate(data.tax_rate)
    if not is_locale(data.locale):
        errors.append(FieldError("locale", "location.invalid_locale", "a locale like en_US"))
    return errors


def is_locale(name: str) -> bool:
    """A locale Babel knows (``en_US``, ``fr_FR``, ``de``)."""
    try:
        return Locale.parse(name) is not None
    except (ValueError, UnknownLocaleError):
        return False


def _check_code(code: str, *, field: str, code_max: int) -> list[FieldError]:
    if len(code) > code_max or not _CODE.match(code):
        return [
            FieldError(
                field,
                "location.invalid_code",
                f"1..{code_max} letters, digits, '-' or '_' (like S01 or S01-R1)",
            )
        ]
    return []


def _check_coordinates(lat: Decimal | None, lon: Decimal | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if lat is not None and not Decimal(-90) <= lat <= Decimal(90):
        errors.append(FieldError("latitude", "location.invalid_latitude", "-90 to 90"))
    if lon is not None and not Decimal(-180) <= lon <= Decimal(180):
        errors.append(FieldError("longitude", "location.invalid_longitude", "-180 to 180"))
    if (lat is None) != (lon is None):
        missing = "longitude" if lon is None else "latitude"
        errors.append(
            FieldError(missing, "location.incomplete_coordinates", "give both or neither")
        )
    return errors


def _check_tax_rate(rate: Decimal) -> list[FieldError]:
    """A rate is a fraction from 0 to 1 with at most six decimals, stored without rounding."""
    try:
        exponent = rate.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        valid = rate.is_finite() and Decimal(0) <= rate <= Decimal(1)
    except InvalidOperation:
        valid, places = False, 0
    if not valid or places > _RATE_PLACES:
        return [
            FieldError(
                "tax_rate",
                "location.invalid_tax_rate",
                f"a fraction from 0 to 1 with at most {_RATE_PLACES} decimals ('0.08875')",
            )
        ]
    return []


# --- helpers -------------------------------------------------------------------------------


def _clean(data: LocationInput) -> LocationInput:
    return replace(
        data,
        code=data.code.strip(),
        name=data.name.strip(),
        country=data.country.strip().upper(),
        currency=data.currency.strip().upper(),
        timezone=data.timezone.strip(),
        locale=data.locale.strip().replace("-", "_"),
    )


def _pick(changes: LocationChanges, name: str, current: Any) -> Any:
    if name in changes.clear:
        return None
    value = getattr(changes, name, None)
    return current if value is None else value


def _degrees(value: Decimal | None) -> Decimal | None:
    """Coordinates are kept to six decimals (about 0.1 m), the column's precision."""
    return None if value is None else value.quantize(_DEGREE)


def _visible_location(uow: UnitOfWork, actor: Actor, code: str) -> Location:
    location = uow.session.scalars(select(Location).where(Location.code == code)).one_or_none()
    if location is None or not actor.may_access(location.id):
        raise NotFound("location.not_found", f"no location {code!r}", {"location": code})
    return location


def _code_taken(error_code: str, field: str, code: str) -> Conflict:
    return taken(error_code, field, f"code {code!r} is already in use", {"code": code})
