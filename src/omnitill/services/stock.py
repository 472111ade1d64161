"""Stock levels and the append-only movement ledger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Lot,
    LotBalance,
    StockException,
    StockLevel,
    StockMovement,
    User,
    Variant,
    table,
)
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import LEDGER_BUCKETS, Bucket
from omnitill.domain.inventory.lots import business_date
from omnitill.services import audit, tracking
from omnitill.services.auth import authorise
from omnitill.services.pagination import (
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import (
    LineRef,
    accessible_location,
    resolve_lines,
    scope_to_locations,
)
from omnitill.services.retries import run_retrying


@dataclass(frozen=True, slots=True)
class StockDiscrepancy:
    """A ledger bucket whose level does not equal the sum of its movements.

    `on_hand` holds the level of `bucket` (named for the usual case, the on-hand bucket).
    """

    sku: str
    location: str
    on_hand: int
    ledger_sum: int
    bucket: str = Bucket.ON_HAND
    lot: str | None = None  # set for a lot balance: bucket is `lot_on_hand` or `lot_expired`


def verify(*, db: Database) -> list[StockDiscrepancy]:
    """Every (variant, location, ledger bucket) whose level differs from its movements' sum.

    Checks every ledger bucket (domain/inventory/buckets.py; safety stock, reorder point
    and max level are settings, not ledgers). Covers levels with no movements and movements
    with no level (both sides). Then every lot balance: its on_hand equals the sum of the
    on_hand movements naming the lot at that location, and its expired units the sum of
    the expired-bucket movements naming it (`lot_on_hand`, `lot_expired`, with the lot code).
    """
    return _verify_levels(db=db) + _verify_lots(db=db)


def _verify_levels(*, db: Database) -> list[StockDiscrepancy]:
    with db.uow(write=False) as uow:
        sums = {
            (row.variant_id, row.location_id, row.bucket): int(row.total)
            for row in uow.session.execute(
                select(
                    StockMovement.variant_id,
                    StockMovement.location_id,
                    StockMovement.bucket,
                    func.sum(StockMovement.quantity).label("total"),
                ).group_by(
                    StockMovement.variant_id, StockMovement.location_id, StockMovement.bucket
                )
            )
        }
        levels: dict[tuple[uuid.UUID, uuid.UUID, str], int] = {}
        for level in uow.session.scalars(select(StockLevel)):
            for bucket in LEDGER_BUCKETS:
                levels[(level.variant_id, level.location_id, bucket)] = int(getattr(level, bucket))
        bad = [
            key
            for key in sorted(set(sums) | set(levels), key=str)
            if sums.get(key, 0) != levels.get(key, 0)
        ]
        if not bad:
            return []
        skus = dict(uow.session.execute(select(Variant.id, Variant.sku)).all())
        codes = dict(uow.session.execute(select(Location.id, Location.code)).all())
        return [
            StockDiscrepancy(
                sku=skus.get(v, str(v)),
                location=codes.get(loc, str(loc)),
                on_hand=levels.get((v, loc, bucket), 0),
                ledger_sum=sums.get((v, loc, bucket), 0),
                bucket=bucket,
            )
            for v, loc, bucket in bad
        ]


_LOT_BUCKETS = {Bucket.ON_HAND.value: "lot_on_hand", Bucket.EXPIRED.value: "lot_expired"}


def _verify_lots(*, db: Database) -> list[StockDiscrepancy]:
    """Lot balances against the movements that name their lot (both sides)."""
    with db.uow(write=False) as uow:
        sums = {
            (row.lot_id, row.location_id, _LOT_BUCKETS[row.bucket]): int(row.total)
            for row in uow.session.execute(
                select(
                    StockMovement.lot_id,
                    StockMovement.location_id,
                    StockMovement.bucket,
                    func.sum(StockMovement.quantity).label("total"),
                )
                .where(
                    StockMovement.lot_id.is_not(None),
                    StockMovement.bucket.in_(list(_LOT_BUCKETS)),
                )
                .group_by(StockMovement.lot_id, StockMovement.location_id, StockMovement.bucket)
            )
        }
        balances: dict[tuple[uuid.UUID, uuid.UUID, str], int] = {}
        for b in uow.session.scalars(select(LotBalance)):
            balances[(b.lot_id, b.location_id, "lot_on_hand")] = int(b.on_hand)
            balances[(b.lot_id, b.location_id, "lot_expired")] = int(b.expired)
        bad = [
            key
            for key in sorted(set(sums) | set(balances), key=str)
            if sums.get(key, 0) != balances.get(key, 0)
        ]
        if not bad:
            return []
        lots = {
            row.id: (row.code, row.sku)
            for row in uow.session.execute(
                select(Lot.id, Lot.code, Variant.sku).join(Variant, Variant.id == Lot.variant_id)
            )
        }
        codes = dict(uow.session.execute(select(Location.id, Location.code)).all())
        return [
            StockDiscrepancy(
                sku=lots.get(lot, ("", str(lot)))[1],
                location=codes.get(loc, str(loc)),
                on_hand=balances.get((lot, loc, bucket), 0),
                ledger_sum=sums.get((lot, loc, bucket), 0),
                bucket=bucket,
                lot=lots.get(lot, (str(lot), ""))[0],
            )
            for lot, loc, bucket in bad
        ]


@dataclass(frozen=True, slots=True)
class StockLineInput:
    """A line of a receipt or adjustment: a variant by SKU or barcode and a quantity.

    A receipt line of a lot-tracked variant names its `lot` (with its expiry date the first
    time), one of a serial-tracked variant its `serials`, one per unit."""

    sku: str | None
    barcode: str | None
    quantity: int
    lot: tracking.LotInput | None = None
    serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MovementResult:
    sku: str
    location: str
    quantity: int
    on_hand: int
    movement_id: uuid.UUID


def _check_quantities(lines: list[StockLineInput], *, allow_negative: bool) -> None:
    errors = [
        FieldError(
            f"lines.{i}.quantity",
            "stock.invalid_quantity",
            "must not be zero" if allow_negative else "must be at least 1",
        )
        for i, line in enumerate(lines)
        if line.quantity == 0 or (line.quantity < 0 and not allow_negative)
    ]
    if not lines:
        errors.append(FieldError("lines", "stock.no_lines", "at least one line is required"))
    if errors:
        raise ValidationFailed("stock.invalid_lines", "some stock lines are invalid", errors=errors)


def receive(
    *,
    db: Database,
    actor: Actor,
    location: str,
    lines: list[StockLineInput],
    reason: str = "",
    reference: str | None = None,
) -> list[MovementResult]:
    """Book goods in: a `receive` movement per line and the on-hand level, in one transaction.

    Lines of lot-tracked variants go into their lot (422 `inventory.lot_required`,
    `inventory.lot_expiry_required`, `inventory.lot_expiry_mismatch`, `inventory.lot_expired`),
    lines of serial-tracked ones register their serials (422
    `inventory.serials_count_mismatch`, `inventory.serial_duplicate`,
    `inventory.serial_exists`); lot or serials on an untracked variant are 422
    `inventory.not_tracked`. Every bad line is listed; nothing is written unless all are good.
    """
    actor.require(Permission.STOCK_RECEIVE)
    _check_quantities(lines, allow_negative=False)

    def once() -> list[MovementResult]:
        with db.uow() as uow:
            loc = accessible_location(uow, actor, location)
            resolved = resolve_lines(uow, [LineRef(line.sku, line.barcode) for line in lines])
            lot_ids = _track_lines(
                uow,
                actor=actor,
                loc=loc,
                lines=lines,
                resolved=resolved,
                reference=reference,
                event="received",
            )
            results = _book(
                uow,
                actor=actor,
                loc=loc,
                kind="receive",
                reason=reason,
                reference=reference,
                lines=lines,
                resolved=resolved,
                lot_ids=lot_ids,
            )
            uow.commit()
            return results

    return run_retrying(once)


def _track_lines(
    uow: UnitOfWork,
    *,
    actor: Actor,
    loc: Location,
    lines: list[StockLineInput],
    resolved: list[VariantRef],
    reference: str | None,
    event: str,
) -> dict[int, uuid.UUID | None]:
    """Move each line's lot and serials with it; the lot id per line index.

    Units added go into their lot and serials (`tracking.put`). Units removed by an
    adjustment come out of the lot the line names (a lot-tracked line must name one: the
    person adjusting knows which batch was damaged or lost) and the serials it names, which
    become `written_off` (`tracking.take`). Lines are handled in variant id order (as levels
    are written); every refused line is collected before the request is refused."""
    now = utcnow()
    context = tracking.Context(
        actor=actor,
        event=event,
        reference_type="reference" if reference else None,
        reference_id=reference,
        now=now,
        today=business_date(now, loc.timezone),
    )
    lot_ids: dict[int, uuid.UUID | None] = {}
    errors: list[FieldError] = []
    first: ValidationFailed | None = None
    for i in sorted(range(len(lines)), key=lambda i: resolved[i].id):
        line, variant = lines[i], resolved[i]
        tracked = tracking.Tracked(line.lot, line.serials)
        try:
            if line.quantity > 0:
                (portion,) = tracking.put(
                    uow,
                    variant=variant,
                    location_id=loc.id,
                    quantity=line.quantity,
                    tracked=tracked,
                    context=context,
                    field_prefix=f"lines.{i}",
                )
            else:
                if variant.tracking == "lot" and line.lot is None:
                    raise ValidationFailed(
                        "inventory.lot_required",
                        "name the lot the units are taken from",
                        errors=[FieldError(f"lines.{i}.lot", "inventory.lot_required", "required")],
                    )
                (portion,) = tracking.take(
                    uow,
                    variant=variant,
                    location_id=loc.id,
                    quantity=-line.quantity,
                    tracked=tracked,
                    serial_status="written_off",
                    context=context,
                    field_prefix=f"lines.{i}",
                )
        except ValidationFailed as refused:
            first = first or refused
            errors.extend(refused.errors)
            continue
        lot_ids[i] = portion.lot_id
    if first is not None:
        errors.sort(key=lambda e: e.field)
        raise ValidationFailed(first.code, first.message, first.details, errors=errors)
    return lot_ids


def adjust(
    *,
    db: Database,
    actor: Actor,
    location: str,
    lines: list[StockLineInput],
    reason: str,
    override_token: str | None = None,
) -> list[MovementResult]:
    """Correct on-hand by signed quantities (damage, found stock, count corrections).

    Sensitive: needs `stock.adjust` or a manager override, a reason, and lands in the audit
    trail. An adjustment that would take on-hand below zero is refused for every short line;
    only a sale of goods in the customer's hands may drive stock negative. Lines of lot- and
    serial-tracked variants move their lots and serials too (see `_track_lines`).
    """
    _check_quantities(lines, allow_negative=True)
    if not reason.strip():
        raise ValidationFailed(
            "stock.reason_required",
            "an adjustment needs a reason",
            errors=[FieldError("reason", "stock.reason_required", "required")],
        )
    with db.uow() as uow:
        loc = accessible_location(uow, actor, location)
        resolved = resolve_lines(uow, [LineRef(line.sku, line.barcode) for line in lines])
        authorisation = authorise(
            uow,
            actor=actor,
            permission=Permission.STOCK_ADJUST,
            override_token=override_token,
            used_for=f"stock.adjust:{loc.code}",
        )
        lot_ids = _track_lines(
            uow,
            actor=actor,
            loc=loc,
            lines=lines,
            resolved=resolved,
            reference=None,
            event="adjusted",
        )
        results = _book(
            uow,
            actor=actor,
            loc=loc,
            kind="adjustment",
            reason=reason.strip(),
            reference=None,
            lines=lines,
            resolved=resolved,
            lot_ids=lot_ids,
        )
        audit.record(
            uow,
            action="stock.adjusted",
            actor=actor,
            subject_type="location",
            subject_id=loc.code,
            details={
                "reason": reason.strip(),
                "lines": [
                    {"sku": r.sku, "quantity": r.quantity, "on_hand": r.on_hand} for r in results
                ],
                **authorisation.as_details(),
            },
        )
        uow.commit()
        return results


def _book(
    uow: UnitOfWork,
    *,
    actor: Actor,
    loc: Location,
    kind: str,
    reason: str,
    reference: str | None,
    lines: list[StockLineInput],
    resolved: list[VariantRef],
    lot_ids: dict[int, uuid.UUID | None] | None = None,
) -> list[MovementResult]:
    """Apply the lines in (variant id) order so concurrent writers lock rows alike."""
    order = sorted(range(len(lines)), key=lambda i: resolved[i].id)
    results: dict[int, MovementResult] = {}
    shortfalls: list[FieldError] = []
    for i in order:
        variant, qty = resolved[i], lines[i].quantity
        if qty < 0:
            level = stock_repo.take_on_hand_if_available(
                uow.session, variant_id=variant.id, location_id=loc.id, quantity=-qty
            )
            if level is None:
                shortfalls.append(
                    FieldError(
                        f"lines.{i}.quantity",
                        "stock.would_go_negative",
                        f"{variant.sku} has less than {-qty} on hand",
                    )
                )
                continue
        else:
            level = stock_repo.add_on_hand_many(
                uow.connection, location_id=loc.id, deltas={variant.id: qty}
            )[variant.id]
        movement = StockMovement(
            id=uuid7(),
            variant_id=variant.id,
            location_id=loc.id,
            quantity=qty,
            kind=kind,
            reason=reason,
            reference_type="reference" if reference else None,
            reference_id=reference,
            actor_id=actor.user_id,
            lot_id=(lot_ids or {}).get(i),
        )
        uow.session.add(movement)
        results[i] = MovementResult(variant.sku, loc.code, qty, level, movement.id)
    if shortfalls:
        raise ValidationFailed(
            "stock.would_go_negative",
            "the adjustment would take stock below zero",
            errors=shortfalls,
        )
    return [results[i] for i in range(len(lines))]


@dataclass(frozen=True, slots=True)
class StockRow:
    sku: str
    variant_id: uuid.UUID
    location: str
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime
    safety_stock: int = 0
    quarantine: int = 0
    damaged: int = 0
    qc: int = 0
    expired: int = 0
    incoming: int = 0
    in_transit: int = 0
    reorder_point: int | None = None
    max_level: int | None = None


def levels(
    *,
    db: Database,
    actor: Actor,
    sku: str | None = None,
    location: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[StockRow], str | None]:
    """Stock per variant and location, ordered by SKU then location code, one page."""
    actor.require(Permission.STOCK_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    with db.uow(write=False) as uow:
        if sku is not None and location is None and after is None and actor.location_ids is None:
            # The hot read (one SKU across the estate, for availability): a prebuilt Core
            # statement, compiled once per process.
            rows = uow.connection.execute(_ONE_SKU, {"sku": sku, "limit": page + 1}).all()
        else:
            stmt = _LEVELS.limit(page + 1)
            if sku is not None:
                stmt = stmt.where(_variants.c.sku == sku)
            stmt = scope_to_locations(uow, actor, stmt, StockLevel.location_id, location)
            if after is not None:
                stmt = stmt.where(
                    tuple_(_variants.c.sku, _locations.c.code)
                    > tuple_(after["sku"], after["location"])
                )
            rows = uow.connection.execute(stmt).all()
    items = [_stock_row(row) for row in rows[:page]]
    next_cursor = (
        encode_cursor({"sku": items[-1].sku, "location": items[-1].location})
        if len(rows) > page
        else None
    )
    return items, next_cursor


_LEVEL_COLUMNS = (
    StockLevel.variant_id,
    StockLevel.on_hand,
    StockLevel.reserved,
    StockLevel.safety_stock,
    StockLevel.quarantine,
    StockLevel.damaged,
    StockLevel.qc,
    StockLevel.expired,
    StockLevel.incoming,
    StockLevel.in_transit,
    StockLevel.reorder_point,
    StockLevel.max_level,
    StockLevel.updated_at,
    stock_repo.AVAILABLE.label("available"),
)
_variants, _locations = table(Variant), table(Location)
# Plain columns, not entities: a level is read a hundred at a time (one SKU across an
# estate), and ORM bookkeeping cost more than the query.
_LEVELS = (
    select(*_LEVEL_COLUMNS, _variants.c.sku, _locations.c.code)
    .join(_variants, _variants.c.id == StockLevel.variant_id)
    .join(_locations, _locations.c.id == StockLevel.location_id)
    .order_by(_variants.c.sku, _locations.c.code)
)
_ONE_SKU = _LEVELS.where(_variants.c.sku == bindparam("sku")).limit(bindparam("limit"))


def _stock_row(row: Any) -> StockRow:
    """A level as read: `available` comes computed by the database (stock_repo.AVAILABLE,
    the rule of domain/inventory/buckets.py), so a page of a hundred rows builds one object
    per row and nothing else."""
    (
        variant_id,
        on_hand,
        reserved,
        safety,
        quarantine,
        damaged,
        qc,
        expired,
        incoming,
        in_transit,
        reorder_point,
        max_level,
        updated_at,
        available,
        sku,
        code,
    ) = row
    return StockRow(
        sku,
        variant_id,
        code,
        on_hand,
        reserved,
        available,
        updated_at,
        safety,
        quarantine,
        damaged,
        qc,
        expired,
        incoming,
        in_transit,
        reorder_point,
        max_level,
    )


@dataclass(frozen=True, slots=True)
class MovementRow:
    id: uuid.UUID
    sku: str
    location: str
    bucket: str
    quantity: int
    kind: str
    reason: str
    reference_type: str | None
    reference_id: str | None
    actor: str | None
    created_at: datetime
    lot: str | None = None


def movements(
    *,
    db: Database,
    actor: Actor,
    sku: str | None = None,
    location: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[MovementRow], str | None]:
    """The stock ledger, newest first: who moved what, where, why and against which document."""
    actor.require(Permission.STOCK_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    with db.uow(write=False) as uow:
        stmt = (
            select(StockMovement, Variant.sku, Location.code, User.username, Lot.code)
            .join(Variant, Variant.id == StockMovement.variant_id)
            .join(Location, Location.id == StockMovement.location_id)
            .outerjoin(User, User.id == StockMovement.actor_id)
            .outerjoin(Lot, Lot.id == StockMovement.lot_id)
            .order_by(StockMovement.id.desc())
            .limit(page + 1)
        )
        if sku is not None:
            stmt = stmt.where(Variant.sku == sku)
        stmt = scope_to_locations(uow, actor, stmt, StockMovement.location_id, location)
        if after is not None:
            stmt = stmt.where(StockMovement.id < cursor_uuid(after))
        rows = uow.session.execute(stmt).all()
    items = [
        MovementRow(
            m.id,
            sku_,
            code,
            m.bucket,
            m.quantity,
            m.kind,
            m.reason,
            m.reference_type,
            m.reference_id,
            username,
            m.created_at,
            lot_code,
        )
        for m, sku_, code, username, lot_code in rows[:page]
    ]
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    id: uuid.UUID
    sku: str
    location: str
    kind: str
    on_hand_after: int
    reference_type: str | None
    reference_id: str | None
    created_at: datetime


def open_exceptions(*, db: Database, actor: Actor) -> list[ExceptionRow]:
    """Unresolved stock exceptions, oldest first: sales that drove stock negative and
    transfers received short of or over what shipped."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        stmt = (
            select(StockException, Variant.sku, Location.code)
            .join(Variant, Variant.id == StockException.variant_id)
            .join(Location, Location.id == StockException.location_id)
            .where(StockException.resolved_at.is_(None))
            .order_by(StockException.id)
        )
        if actor.location_ids is not None:
            stmt = stmt.where(StockException.location_id.in_(actor.location_ids))
        rows = uow.session.execute(stmt).all()
    return [
        ExceptionRow(
            e.id,
            sku_,
            code,
            e.kind,
            e.on_hand_after,
            e.reference_type,
            e.reference_id,
            e.created_at,
        )
        for e, sku_, code in rows
    ]
