"""Lots and serial numbers: which units of a tracked variant move when stock moves.

Every path that puts units into on_hand (a goods receipt, a transfer received, a count) calls
`put`, and every path that takes units out (a sale, a transfer shipped, a write-off, a return
to vendor) calls `take`, inside its own unit of work. They keep the lot balances and serial
units in step and say which lot each portion came from; the caller writes the on_hand level
and one stock movement per portion (`StockMovement.lot_id = portion.lot_id`), so the ledger
names the lot of every unit that moved. A take from `source="expired"` also leaves the
level's `expired` bucket: the caller writes that movement with the same `lot_id`
(`services.stock.verify` proves each lot balance, and its expired units, against them).

For a variant with `tracking == "none"` both return one portion without a lot and write
nothing.

Lot balances change only by single statements in the database: an upsert that adds, and a
conditional UPDATE that takes (`on_hand - expired >= n`), so two takers never draw the same
units. A serial unit changes status only by a conditional UPDATE on its current status and
location (the claim), so a serial is sold once even when two tills scan it together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Lot,
    LotBalance,
    SerialEvent,
    SerialUnit,
    table,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory import serials as serial_rules
from omnitill.domain.inventory.lots import LotStock, is_expired, plan_expired, plan_fefo

SERIAL_MAX = 100  # characters of a serial number
LOT_CODE_MAX = 64  # characters of a lot code

# A take re-reads the balances and plans again when a concurrent taker drew a lot it meant
# to use; past this many rounds what is left counts as short.
_MAX_ROUNDS = 20


@dataclass(frozen=True, slots=True)
class LotInput:
    """A lot named by its code; `expires_on` is required when the lot is first received."""

    code: str
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class Tracked:
    """What a request says about the units of one line.

    Inbound: the lot received into (required for lot-tracked variants) and the serial numbers
    of the units (one per unit for serial-tracked variants). Outbound: a lot to take from
    (None: first expired, first out) and the serial numbers that leave (required for
    serial-tracked variants).
    """

    lot: LotInput | None = None
    serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Portion:
    """Units of one line that came from (or went into) one lot; lot None when untracked, or
    for the part of an in-hand sale no lot balance covered."""

    quantity: int
    lot_id: uuid.UUID | None = None
    lot_code: str | None = None
    expires_on: date | None = None
    serials: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Context:
    """Who moves the units, why, and when (`today`: the location's business date)."""

    actor: Actor
    event: str  # received | sold | transferred_out | transferred_in | written_off | ...
    reference_type: str | None
    reference_id: str | None
    now: datetime
    today: date


def take(
    uow: UnitOfWork,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    tracked: Tracked,
    serial_status: str,
    context: Context,
    allow_short: bool = False,
    source: str = "sellable",
    field_prefix: str = "lines.0",
    serial_source: str = "in_stock",
) -> list[Portion]:
    """Take `quantity` units out of the location's lots and serials.

    Lots: the named lot, else first expired first out over unexpired balances; with
    `source="expired"` (a write-off or return to vendor of expired goods) from the units the
    expiry sweep moved to the expired bucket instead. Serials: each
    must exist for the variant, be `in_stock` (or `serial_source`) at the location, and moves
    to `serial_status` (`sold`, `in_transit`, `written_off`, ...) with a serial event. With
    `allow_short` (an in-store sale of goods in the customer's hands), units no lot balance
    covers come back as a portion without a lot instead of an error. Errors are
    ValidationFailed naming `{field_prefix}lot` / `{field_prefix}serials.N`; nothing is
    written when one is raised (the caller's transaction rolls back).
    """
    field_prefix = f"{field_prefix}." if field_prefix else ""  # "" names fields bare
    if quantity <= 0:
        raise ValueError("take needs a positive quantity")
    if variant.tracking == "none":
        _refuse_tracking_data(tracked, field_prefix=field_prefix)
        return [Portion(quantity)]
    if variant.tracking == "lot":
        _refuse_serials(tracked, field_prefix=field_prefix)
        if source not in ("sellable", "expired"):
            raise ValueError(f"unknown source {source!r}")
        return _take_lots(
            uow.connection,
            variant=variant,
            location_id=location_id,
            quantity=quantity,
            lot=tracked.lot,
            today=context.today,
            allow_short=allow_short,
            source=source,
            field_prefix=field_prefix,
        )
    if variant.tracking == "serial":
        _refuse_lot(tracked, field_prefix=field_prefix)
        serial_rules.check_move(serial_source, serial_status)
        return [
            _take_serials(
                uow.connection,
                variant=variant,
                location_id=location_id,
                quantity=quantity,
                serials=tracked.serials,
                from_status=serial_source,
                to_status=serial_status,
                context=context,
                field_prefix=field_prefix,
            )
        ]
    raise ValueError(f"unknown tracking {variant.tracking!r}")


def put(
    uow: UnitOfWork,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    tracked: Tracked | None = None,
    portions: list[Portion] | None = None,
    serial_status: str = "in_stock",
    context: Context,
    field_prefix: str = "lines.0",
    serial_source: str = "in_transit",
) -> list[Portion]:
    """Put `quantity` units into the location's lots and serials.

    Either `tracked` (a receipt: the lot, created on first receipt with its expiry date, and
    new serial numbers) or `portions` (what a `take` returned, such as a transfer arriving:
    the lots' balances grow here, and each serial must be in `serial_source`, by default
    `in_transit`). Refuses a lot that has already expired, a lot code received before with
    another expiry date, missing or duplicate serials, and a serial already in stock
    somewhere.
    """
    field_prefix = f"{field_prefix}." if field_prefix else ""  # "" names fields bare
    if quantity <= 0:
        raise ValueError("put needs a positive quantity")
    if portions is not None and sum(p.quantity for p in portions) != quantity:
        raise ValueError("the portions do not add up to the quantity")
    if variant.tracking == "none":
        if tracked is not None:
            _refuse_tracking_data(tracked, field_prefix=field_prefix)
        return [Portion(quantity)]
    conn = uow.connection
    if portions is not None:
        if variant.tracking == "lot":
            return _put_lot_portions(
                conn, location_id=location_id, portions=portions, now=context.now
            )
        if variant.tracking == "serial":
            serial_rules.check_move(serial_source, serial_status)
            serials = tuple(s for p in portions for s in p.serials)
            return [
                _move_serials_in(
                    conn,
                    variant=variant,
                    location_id=location_id,
                    quantity=quantity,
                    serials=serials,
                    from_status=serial_source,
                    to_status=serial_status,
                    context=context,
                    field_prefix=field_prefix,
                )
            ]
        raise ValueError(f"unknown tracking {variant.tracking!r}")
    tracked = tracked or Tracked()
    if variant.tracking == "lot":
        _refuse_serials(tracked, field_prefix=field_prefix)
        return [
            _receive_lot(
                conn,
                variant=variant,
                location_id=location_id,
                quantity=quantity,
                lot=tracked.lot,
                today=context.today,
                now=context.now,
                field_prefix=field_prefix,
            )
        ]
    if variant.tracking == "serial":
        _refuse_lot(tracked, field_prefix=field_prefix)
        serial_rules.check_move(None, serial_status)
        return [
            _receive_serials(
                conn,
                variant=variant,
                location_id=location_id,
                quantity=quantity,
                serials=tracked.serials,
                to_status=serial_status,
                context=context,
                field_prefix=field_prefix,
            )
        ]
    raise ValueError(f"unknown tracking {variant.tracking!r}")


# --- refusals of data that does not fit the variant ----------------------------------------


def _refuse_tracking_data(tracked: Tracked, *, field_prefix: str = "lines.0.") -> None:
    """An untracked variant takes no lot or serials (a client mistake worth naming)."""
    errors = []
    if tracked.lot is not None:
        errors.append(
            FieldError(f"{field_prefix}lot", "inventory.not_tracked", "not tracked by lot")
        )
    if tracked.serials:
        errors.append(
            FieldError(f"{field_prefix}serials", "inventory.not_tracked", "not tracked by serial")
        )
    if errors:
        raise ValidationFailed(
            "inventory.not_tracked",
            "this variant is not tracked by lot or serial number",
            errors=errors,
        )


def _refuse_serials(tracked: Tracked, *, field_prefix: str) -> None:
    if tracked.serials:
        raise ValidationFailed(
            "inventory.not_serial_tracked",
            "this variant is tracked by lot, not by serial number",
            errors=[
                FieldError(
                    f"{field_prefix}serials", "inventory.not_serial_tracked", "tracked by lot"
                )
            ],
        )


def _refuse_lot(tracked: Tracked, *, field_prefix: str) -> None:
    if tracked.lot is not None:
        raise ValidationFailed(
            "inventory.not_lot_tracked",
            "this variant is tracked by serial number, not by lot",
            errors=[
                FieldError(f"{field_prefix}lot", "inventory.not_lot_tracked", "tracked by serial")
            ],
        )


# --- lots -----------------------------------------------------------------------------------

_lots, _balances = table(Lot), table(LotBalance)


def _dialect(conn: Connection) -> Any:
    return postgresql if conn.dialect.name == "postgresql" else sqlite


def _lot_by_code(conn: Connection, variant_id: uuid.UUID, code: str) -> Any:
    return conn.execute(
        select(_lots.c.id, _lots.c.code, _lots.c.expires_on).where(
            _lots.c.variant_id == variant_id, _lots.c.code == code
        )
    ).first()


def _lot_stock(conn: Connection, variant_id: uuid.UUID, location_id: uuid.UUID) -> list[LotStock]:
    rows = conn.execute(
        select(
            _lots.c.id,
            _lots.c.code,
            _lots.c.expires_on,
            _balances.c.on_hand,
            _balances.c.expired,
        )
        .join(_balances, _balances.c.lot_id == _lots.c.id)
        .where(
            _lots.c.variant_id == variant_id,
            _balances.c.location_id == location_id,
            _balances.c.on_hand > 0,
        )
    )
    return [LotStock(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]


def _decrement(
    conn: Connection, *, lot_id: uuid.UUID, location_id: uuid.UUID, quantity: int, source: str
) -> bool:
    """Take `quantity` units of one lot's balance only if it holds them (one statement)."""
    b = _balances.c
    values: dict[str, Any] = {"on_hand": b.on_hand - quantity, "updated_at": utcnow()}
    held: ColumnElement[Any]
    if source == "expired":
        held = b.expired
        values["expired"] = b.expired - quantity
    else:
        held = b.on_hand - b.expired
    stmt = (
        update(_balances)
        .where(b.lot_id == lot_id, b.location_id == location_id, held >= quantity)
        .values(**values)
        .returning(b.on_hand)
    )
    return conn.execute(stmt).first() is not None


def add_to_lot(
    conn: Connection, *, lot_id: uuid.UUID, location_id: uuid.UUID, quantity: int, now: datetime
) -> None:
    """Add units to a lot's balance at a location (created at the first units): one upsert."""
    stmt = _dialect(conn).insert(_balances)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["lot_id", "location_id"],
            set_={"on_hand": _balances.c.on_hand + stmt.excluded.on_hand, "updated_at": now},
        ),
        {
            "lot_id": lot_id,
            "location_id": location_id,
            "on_hand": quantity,
            "expired": 0,
            "updated_at": now,
        },
    )


def _lot_error(code: str, message: str, field_name: str, details: dict[str, Any]) -> Exception:
    return ValidationFailed(code, message, details, errors=[FieldError(field_name, code, message)])


def _take_lots(
    conn: Connection,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    lot: LotInput | None,
    today: date,
    allow_short: bool,
    source: str,
    field_prefix: str,
) -> list[Portion]:
    if lot is not None:
        return [
            _take_named_lot(
                conn,
                variant=variant,
                location_id=location_id,
                quantity=quantity,
                code=lot.code,
                today=today,
                source=source,
                field_prefix=field_prefix,
            )
        ]
    taken: dict[uuid.UUID, tuple[LotStock, int]] = {}
    remaining = quantity
    for _ in range(_MAX_ROUNDS):
        stock = _lot_stock(conn, variant.id, location_id)
        plan = (
            plan_expired(stock, quantity=remaining)
            if source == "expired"
            else plan_fefo(stock, quantity=remaining, today=today)
        )
        raced = False
        for pick in plan.picks:
            if not _decrement(
                conn,
                lot_id=pick.lot.lot_id,
                location_id=location_id,
                quantity=pick.quantity,
                source=source,
            ):
                raced = True  # another taker drew this lot a moment ago: read again
                break
            before = taken.get(pick.lot.lot_id, (pick.lot, 0))[1]
            taken[pick.lot.lot_id] = (pick.lot, before + pick.quantity)
            remaining -= pick.quantity
        if not raced or remaining == 0:
            break
    portions = [
        Portion(n, lot_stock.lot_id, lot_stock.code, lot_stock.expires_on)
        for lot_stock, n in taken.values()
    ]
    if remaining == 0:
        return portions
    if allow_short:
        return [*portions, Portion(remaining)]
    raise _lot_error(
        "inventory.lot_insufficient",
        f"the lots of {variant.sku} hold fewer than {quantity} "
        f"{'expired' if source == 'expired' else 'sellable'} units here",
        f"{field_prefix}quantity",
        {"sku": variant.sku, "requested": quantity, "available": quantity - remaining},
    )


def _take_named_lot(
    conn: Connection,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    code: str,
    today: date,
    source: str,
    field_prefix: str,
) -> Portion:
    where = f"{field_prefix}lot"
    row = _lot_by_code(conn, variant.id, code)
    if row is None:
        raise _lot_error(
            "inventory.lot_unknown",
            f"{variant.sku} has no lot {code!r}",
            where,
            {"sku": variant.sku, "lot": code},
        )
    lot_id, lot_code, expires_on = row
    if source == "sellable" and is_expired(expires_on, today):
        raise _lot_error(
            "inventory.lot_expired",
            f"lot {lot_code} of {variant.sku} expired on {expires_on}",
            where,
            {"sku": variant.sku, "lot": lot_code, "expires_on": str(expires_on)},
        )
    if not _decrement(
        conn, lot_id=lot_id, location_id=location_id, quantity=quantity, source=source
    ):
        b = _balances.c
        held = conn.execute(
            select(b.expired if source == "expired" else b.on_hand - b.expired).where(
                b.lot_id == lot_id, b.location_id == location_id
            )
        ).scalar()
        raise _lot_error(
            "inventory.lot_insufficient",
            f"lot {lot_code} of {variant.sku} holds fewer than {quantity} units here",
            where,
            {
                "sku": variant.sku,
                "lot": lot_code,
                "requested": quantity,
                "available": int(held or 0),
            },
        )
    return Portion(quantity, lot_id, lot_code, expires_on)


def _receive_lot(
    conn: Connection,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    lot: LotInput | None,
    today: date,
    now: datetime,
    field_prefix: str,
) -> Portion:
    """Units received into a lot: the lot is created at its first receipt (with its expiry
    date), and a lot received again must carry the same expiry date or none."""
    where = f"{field_prefix}lot"
    code = lot.code.strip() if lot is not None else ""
    if lot is None or not code:
        raise _lot_error(
            "inventory.lot_required",
            f"{variant.sku} is tracked by lot: name the lot received",
            where,
            {"sku": variant.sku},
        )
    if len(code) > LOT_CODE_MAX:
        raise _lot_error(
            "inventory.lot_invalid",
            f"a lot code has at most {LOT_CODE_MAX} characters",
            f"{where}.code",
            {"sku": variant.sku},
        )
    row = _lot_by_code(conn, variant.id, code)
    if row is None:
        if lot.expires_on is None:
            raise _lot_error(
                "inventory.lot_expiry_required",
                f"lot {code} of {variant.sku} is new: give its expiry date",
                f"{where}.expires_on",
                {"sku": variant.sku, "lot": code},
            )
        _refuse_expired(variant, code, lot.expires_on, today, where)
        insert_stmt = _dialect(conn).insert(_lots)
        conn.execute(
            insert_stmt.on_conflict_do_nothing(index_elements=["variant_id", "code"]),
            {
                "id": uuid7(),
                "variant_id": variant.id,
                "code": code,
                "expires_on": lot.expires_on,
                "created_at": now,
            },
        )
        row = _lot_by_code(conn, variant.id, code)  # ours, or one a rival receipt just made
    lot_id, lot_code, expires_on = row
    if lot.expires_on is not None and lot.expires_on != expires_on:
        raise _lot_error(
            "inventory.lot_expiry_mismatch",
            f"lot {lot_code} of {variant.sku} expires on {expires_on}, not {lot.expires_on}",
            f"{where}.expires_on",
            {
                "sku": variant.sku,
                "lot": lot_code,
                "expires_on": None if expires_on is None else str(expires_on),
                "given": str(lot.expires_on),
            },
        )
    _refuse_expired(variant, lot_code, expires_on, today, where)
    add_to_lot(conn, lot_id=lot_id, location_id=location_id, quantity=quantity, now=now)
    return Portion(quantity, lot_id, lot_code, expires_on)


def _refuse_expired(
    variant: VariantRef, code: str, expires_on: date | None, today: date, where: str
) -> None:
    if is_expired(expires_on, today):
        raise _lot_error(
            "inventory.lot_expired",
            f"lot {code} of {variant.sku} expired on {expires_on}",
            where,
            {"sku": variant.sku, "lot": code, "expires_on": str(expires_on)},
        )


def _put_lot_portions(
    conn: Connection, *, location_id: uuid.UUID, portions: list[Portion], now: datetime
) -> list[Portion]:
    """Units arriving from another place keep their lot (a portion without one stays so)."""
    for portion in sorted(portions, key=lambda p: str(p.lot_id)):
        if portion.lot_id is not None and portion.quantity > 0:
            add_to_lot(
                conn,
                lot_id=portion.lot_id,
                location_id=location_id,
                quantity=portion.quantity,
                now=now,
            )
    return list(portions)


# --- serials --------------------------------------------------------------------------------

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


def _not_in_stock(serial: str, status: str, where: str, expected: str) -> FieldError:
    message = f"{serial} is {status}, not {expected}"
    return FieldError(where, "inventory.serial_not_in_stock", message)


def _take_serials(
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
    serials = [s.strip() for s in serials]
    errors = _list_errors(serials, quantity, field_prefix)
    _refuse(errors, "the serial numbers do not fit the line", {"sku": variant.sku})
    units = _units_of(conn, variant.id, serials)
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


def _receive_serials(
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
    serials = [s.strip() for s in serials]
    errors = _list_errors(serials, quantity, field_prefix)
    _refuse(errors, "the serial numbers do not fit the line", {"sku": variant.sku})
    units = _units_of(conn, variant.id, serials)
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
        stmt = _dialect(conn).insert(_units).values(rows)
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


def _move_serials_in(
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
    serials = [s.strip() for s in serials]
    errors = _list_errors(serials, quantity, field_prefix)
    _refuse(errors, "the serial numbers do not fit the line", {"sku": variant.sku})
    units = _units_of(conn, variant.id, serials)
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
