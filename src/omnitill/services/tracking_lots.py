"""The lot half of `services/tracking.py`: lot balances per location, first expired first
out, receiving into a lot. Balances change only by single statements: an upsert that adds,
and a conditional UPDATE that takes (`on_hand - expired >= n`), so two takers never draw the
same units."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from omnitill.adapters.db.models import (
    Lot,
    LotBalance,
    table,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.lots import LotStock, is_expired, plan_expired, plan_fefo
from omnitill.domain.inventory.tracked import LotInput, Portion

LOT_CODE_MAX = 64  # characters of a lot code

# A take re-reads the balances and plans again when a concurrent taker drew a lot it meant
# to use; past this many rounds what is left counts as short.
_MAX_ROUNDS = 20


_lots, _balances = table(Lot), table(LotBalance)


def dialect(conn: Connection) -> Any:
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
    stmt = dialect(conn).insert(_balances)
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


def take_lots(
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
            take_named_lot(
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


def take_named_lot(
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


def receive_lot(
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
        insert_stmt = dialect(conn).insert(_lots)
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


def put_lot_portions(
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
