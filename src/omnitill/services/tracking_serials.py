"""The serial half of `services/tracking.py`: one unit per serial number, its status
changed only by a conditional UPDATE on its current status and location (the claim), so a
serial is sold once even when two tills scan it together; every change is a serial event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from omnitill.adapters.db.models import (
    Location,
    SerialEvent,
    SerialUnit,
    table,
)
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory import serials as serial_rules
from omnitill.domain.inventory.tracked import Context, Portion
from omnitill.services.tracking_lots import dialect

SERIAL_MAX = 100  # characters of a serial number


_units, _events, _locations = table(SerialUnit), table(SerialEvent), table(Location)


@dataclass(frozen=True, slots=True)
class _Unit:
    id: uuid.UUID
    serial: str
    status: str
    location_id: uuid.UUID | None


def _units_of(conn: Connection, variant_id: uuid.UUID, serials: Sequence[str]) -> dict[str, _Unit]:
    if not serials:
        return {}
    u = _units.c
    rows = conn.execute(
        select(u.id, u.serial, u.status, u.location_id).where(
            u.variant_id == variant_id, u.serial.in_(sorted(set(serials)))
        )
    )
    return {r[1]: _Unit(r[0], r[1], r[2], r[3]) for r in rows}


def _location_codes(conn: Connection, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = conn.execute(
        select(_locations.c.id, _locations.c.code).where(_locations.c.id.in_(wanted))
    )
    return {r[0]: r[1] for r in rows}


def _list_errors(serials: Sequence[str], quantity: int, field_prefix: str) -> list[FieldError]:
    """A serial per unit, none blank, none twice."""
    where = f"{field_prefix}serials"
    errors: list[FieldError] = []
    if len(serials) != quantity:
        errors.append(
            FieldError(
                where,
                "inventory.serials_count_mismatch",
                f"{quantity} units need {quantity} serial numbers, got {len(serials)}",
            )
        )
    for i, serial in enumerate(serials):
        if not serial.strip() or len(serial) > SERIAL_MAX:
            errors.append(
                FieldError(
                    f"{where}.{i}",
                    "inventory.serial_invalid",
                    f"1 to {SERIAL_MAX} characters, not blank",
                )
            )
    for i in serial_rules.duplicates(serials):
        errors.append(
            FieldError(f"{where}.{i}", "inventory.serial_duplicate", f"{serials[i]} is repeated")
        )
    return errors


def _refuse(errors: list[FieldError], message: str, details: dict[str, Any]) -> None:
    if errors:
        raise ValidationFailed(errors[0].code, message, details, errors=errors)


def _log_events(
    conn: Connection,
    *,
    moves: Sequence[tuple[_Unit, str | None]],
    to_status: str,
    location_id: uuid.UUID | None,
    context: Context,
) -> None:
    conn.execute(
        insert(_events),
        [
            {
                "id": uuid7(),
                "serial_unit_id": unit.id,
                "event": context.event,
                "from_status": from_status,
                "to_status": to_status,
                "location_id": location_id,
                "reference_type": context.reference_type,
                "reference_id": context.reference_id,
                "actor_id": context.actor.user_id,
                "created_at": context.now,
            }
            for unit, from_status in moves
        ],
    )


def _claim(
    conn: Connection,
    *,
    unit_id: uuid.UUID,
    from_status: str,
    at: uuid.UUID | None,
    values: dict[str, Any],
) -> bool:
    """Move one unit on only if it still has `from_status` (and is `at` the location)."""
    u = _units.c
    conditions = [u.id == unit_id, u.status == from_status]
    if at is not None:
        conditions.append(u.location_id == at)
    stmt = update(_units).where(and_(*conditions)).values(**values).returning(u.id)
    return conn.execute(stmt).first() is not None


def _listed_units(
    conn: Connection,
    variant: VariantRef,
    serials: Sequence[str],
    quantity: int,
    field_prefix: str,
) -> tuple[list[str], dict[str, _Unit]]:
    """The serials as listed (trimmed; 422 unless one per unit, none repeated or blank) and
    the units of the variant that carry them."""
    cleaned = [s.strip() for s in serials]
    _refuse(
        _list_errors(cleaned, quantity, field_prefix),
        "the serial numbers do not fit the line",
        {"sku": variant.sku},
    )
    return cleaned, _units_of(conn, variant.id, cleaned)


def _not_in_stock(serial: str, status: str, where: str, expected: str) -> FieldError:
    message = f"{serial} is {status}, not {expected}"
    return FieldError(where, "inventory.serial_not_in_stock", message)


def take_serials(
    conn: Connection,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    serials: Sequence[str],
    from_status: str,
    to_status: str,
    context: Context,
    field_prefix: str,
) -> Portion:
    """Claim each serial (one conditional UPDATE each, in unit id order) for `to_status`."""
    serials, units = _listed_units(conn, variant, serials, quantity, field_prefix)
    errors: list[FieldError] = []
    codes = _location_codes(conn, {u.location_id for u in units.values()} | {location_id})
    problems: list[dict[str, Any]] = []
    for i, serial in enumerate(serials):
        where = f"{field_prefix}serials.{i}"
        unit = units.get(serial)
        if unit is None:
            errors.append(
                FieldError(where, "inventory.serial_unknown", f"{variant.sku} has no {serial}")
            )
            problems.append({"serial": serial, "code": "inventory.serial_unknown"})
        elif unit.status != from_status:
            errors.append(_not_in_stock(serial, unit.status, where, from_status))
            problems.append(
                {
                    "serial": serial,
                    "code": "inventory.serial_not_in_stock",
                    "status": unit.status,
                    "location": codes.get(unit.location_id) if unit.location_id else None,
                }
            )
        elif unit.location_id != location_id:
            elsewhere = codes.get(unit.location_id) if unit.location_id else None
            errors.append(
                FieldError(
                    where,
                    "inventory.serial_wrong_location",
                    f"{serial} is at {elsewhere}, not {codes.get(location_id)}",
                )
            )
            problems.append(
                {
                    "serial": serial,
                    "code": "inventory.serial_wrong_location",
                    "status": unit.status,
                    "location": elsewhere,
                }
            )
    _refuse(errors, "some serial numbers cannot leave here", {"serials": problems})
    values: dict[str, Any] = {"status": to_status, "updated_at": context.now}
    if to_status == serial_rules.SerialStatus.SOLD:
        values["warranty_starts_on"] = context.today
        values["sale_id"] = _sale_id(context)
    order = sorted(range(len(serials)), key=lambda i: units[serials[i]].id)
    for i in order:
        unit = units[serials[i]]
        if not _claim(
            conn, unit_id=unit.id, from_status=from_status, at=location_id, values=values
        ):
            # Another request moved it between our read and our claim (a concurrent sale).
            raise ValidationFailed(
                "inventory.serial_not_in_stock",
                f"{unit.serial} was taken by another request a moment ago",
                {"serials": [{"serial": unit.serial, "code": "inventory.serial_not_in_stock"}]},
                errors=[
                    _not_in_stock(unit.serial, "taken", f"{field_prefix}serials.{i}", from_status)
                ],
            )
    _log_events(
        conn,
        moves=[(units[s], from_status) for s in serials],
        to_status=to_status,
        location_id=location_id,
        context=context,
    )
    return Portion(quantity, serials=tuple(serials))


def _sale_id(context: Context) -> uuid.UUID | None:
    if context.reference_type != "sale" or context.reference_id is None:
        return None
    try:
        return uuid.UUID(context.reference_id)
    except ValueError:
        return None


def receive_serials(
    conn: Connection,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    serials: Sequence[str],
    to_status: str,
    context: Context,
    field_prefix: str,
) -> Portion:
    """New units, or units that left the business and come back (their history goes on)."""
    serials, units = _listed_units(conn, variant, serials, quantity, field_prefix)
    errors: list[FieldError] = []
    codes = _location_codes(conn, {u.location_id for u in units.values()})
    problems: list[dict[str, Any]] = []
    for i, serial in enumerate(serials):
        unit = units.get(serial)
        if unit is not None and not serial_rules.may_receive(unit.status):
            where = codes.get(unit.location_id) if unit.location_id else None
            errors.append(
                FieldError(
                    f"{field_prefix}serials.{i}",
                    "inventory.serial_exists",
                    f"{serial} is already {unit.status} at {where}",
                )
            )
            problems.append({"serial": serial, "status": unit.status, "location": where})
    _refuse(errors, "some serial numbers are already in stock", {"serials": problems})
    moves: list[tuple[_Unit, str | None]] = []
    new = [s for s in serials if s not in units]
    if new:
        rows = [
            {
                "id": uuid7(),
                "variant_id": variant.id,
                "serial": s,
                "status": to_status,
                "location_id": location_id,
                "sale_id": None,
                "warranty_starts_on": None,
                "created_at": context.now,
                "updated_at": context.now,
            }
            for s in new
        ]
        stmt = dialect(conn).insert(_units).values(rows)
        made = {
            r[1]: r[0]
            for r in conn.execute(
                stmt.on_conflict_do_nothing(index_elements=["variant_id", "serial"]).returning(
                    _units.c.id, _units.c.serial
                )
            )
        }
        for s in new:
            if s not in made:  # a rival receipt booked it a moment ago
                _raced_exists(s, serials.index(s), field_prefix)
            moves.append((_Unit(made[s], s, to_status, location_id), None))
    values = {
        "status": to_status,
        "location_id": location_id,
        "sale_id": None,
        "warranty_starts_on": None,
        "updated_at": context.now,
    }
    for s in sorted((s for s in serials if s in units), key=lambda s: units[s].id):
        unit = units[s]
        if not _claim(conn, unit_id=unit.id, from_status=unit.status, at=None, values=values):
            _raced_exists(s, serials.index(s), field_prefix)
        moves.append((unit, unit.status))
    _log_events(conn, moves=moves, to_status=to_status, location_id=location_id, context=context)
    return Portion(quantity, serials=tuple(serials))


def _raced_exists(serial: str, i: int, field_prefix: str) -> None:
    raise ValidationFailed(
        "inventory.serial_exists",
        f"{serial} was received by another request a moment ago",
        {"serials": [{"serial": serial}]},
        errors=[
            FieldError(f"{field_prefix}serials.{i}", "inventory.serial_exists", f"{serial} exists")
        ],
    )


def move_serials_in(
    conn: Connection,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    serials: Sequence[str],
    from_status: str,
    to_status: str,
    context: Context,
    field_prefix: str,
) -> Portion:
    """Units a take moved on (a transfer shipped) arrive here: each must be `from_status`."""
    serials, units = _listed_units(conn, variant, serials, quantity, field_prefix)
    errors: list[FieldError] = []
    for i, serial in enumerate(serials):
        where = f"{field_prefix}serials.{i}"
        unit = units.get(serial)
        if unit is None:
            errors.append(
                FieldError(where, "inventory.serial_unknown", f"{variant.sku} has no {serial}")
            )
        elif unit.status != from_status:
            errors.append(
                FieldError(where, "inventory.serial_wrong_status", f"{serial} is {unit.status}")
            )
    _refuse(errors, "some serial numbers cannot arrive here", {"sku": variant.sku})
    values = {"status": to_status, "location_id": location_id, "updated_at": context.now}
    order = sorted(range(len(serials)), key=lambda i: units[serials[i]].id)
    for i in order:
        unit = units[serials[i]]
        if not _claim(conn, unit_id=unit.id, from_status=from_status, at=None, values=values):
            raise ValidationFailed(
                "inventory.serial_wrong_status",
                f"{unit.serial} was moved by another request a moment ago",
                errors=[
                    FieldError(
                        f"{field_prefix}serials.{i}",
                        "inventory.serial_wrong_status",
                        "moved concurrently",
                    )
                ],
            )
    _log_events(
        conn,
        moves=[(units[s], from_status) for s in serials],
        to_status=to_status,
        location_id=location_id,
        context=context,
    )
    return Portion(quantity, serials=tuple(serials))
