"""Stock levels as CSV: export every level, and import counts or adjustments row by row.

Export pages through the levels by (SKU, location code), one short read per page, so any
number of levels streams in constant memory. Each page is consistent; the file as a whole
is not one snapshot (levels may change between pages), as with any online export.

Import (parsing: domain/inventory/stock_csv.py) applies its rows in small batches, each its
own transaction, rows in (variant id, location id) order. A row whose write would break a
rule (take on_hand below zero) writes nothing, so it never aborts the rows around it:
every bad row lands in the per-row report and the good ones apply. Each changed row is one
`import` movement referencing the import (`stock_import`, its id), and the import is one
audit entry with its counts and reason, written once the rows are done.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    StockLevel,
    StockMovement,
    User,
    UserLocation,
    Variant,
)
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission, Role
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import StockBuckets
from omnitill.domain.inventory.stock_csv import (
    ImportMode,
    ImportRow,
    ParsedImport,
    RowError,
    import_mode,
    parse_import,
)
from omnitill.services import audit
from omnitill.services.auth import authorise
from omnitill.services.references import location_by_code
from omnitill.services.retries import run_retrying

CLI_ACTOR = "system:cli"
BATCH_SIZE = 200
EXPORT_PAGE = 500
REFERENCE_TYPE = "stock_import"
S = TypeVar("S", bound=Select)  # type: ignore[type-arg]


# --- who runs it ------------------------------------------------------------------------


def actor_named(*, db: Database, username: str) -> Actor:
    """The staff member `username` as an actor (for the command line's `--actor`); 404
    `user.not_found` when there is no such active user."""
    with db.uow(write=False) as uow:
        user = uow.session.scalars(
            select(User).where(User.username == username.strip().lower())
        ).one_or_none()
        if user is None or not user.active:
            raise NotFound("user.not_found", f"no active user {username!r}", {"user": username})
        bound = frozenset(
            uow.session.scalars(
                select(UserLocation.location_id).where(UserLocation.user_id == user.id)
            )
        )
        return Actor.build(
            user_id=user.id, username=user.username, role=Role(user.role), bound_locations=bound
        )


# --- export -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelRow:
    sku: str
    location: str
    buckets: StockBuckets
    reorder_point: int | None
    max_level: int | None
    updated_at: str

    def values(self) -> tuple[object, ...]:
        """In the order of domain.inventory.stock_csv.EXPORT_COLUMNS."""
        b = self.buckets
        return (
            self.sku,
            self.location,
            b.on_hand,
            b.reserved,
            b.available,
            b.safety_stock,
            self.reorder_point,
            self.max_level,
            b.quarantine,
            b.damaged,
            b.qc,
            b.expired,
            b.incoming,
            b.in_transit,
            self.updated_at,
        )


_L = StockLevel
_EXPORT_COLUMNS = (
    Variant.sku,
    Location.code,
    _L.on_hand,
    _L.reserved,
    _L.safety_stock,
    _L.quarantine,
    _L.damaged,
    _L.qc,
    _L.expired,
    _L.incoming,
    _L.in_transit,
    _L.reorder_point,
    _L.max_level,
    _L.updated_at,
)


def _scoped(uow: UnitOfWork, actor: Actor | None, stmt: S, location: str | None) -> S:
    """Only `location` (checked), else the actor's locations; the command line sees all."""
    if location is not None:
        loc = location_by_code(uow, location)
        if actor is not None:
            actor.require_location(loc.id, loc.code)
        return stmt.where(_L.location_id == loc.id)
    if actor is not None and actor.location_ids is not None:
        return stmt.where(_L.location_id.in_(actor.location_ids))
    return stmt


def count_levels(*, db: Database, actor: Actor | None, location: str | None = None) -> int:
    """How many levels an export would write (for a progress bar)."""
    if actor is not None:
        actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        stmt = select(func.count()).select_from(_L)
        return int(uow.session.scalar(_scoped(uow, actor, stmt, location)) or 0)


def export_pages(
    *,
    db: Database,
    actor: Actor | None,
    location: str | None = None,
    page_size: int = EXPORT_PAGE,
) -> Iterator[list[LevelRow]]:
    """Every level the actor may read (`actor` None: the command line, every level), by SKU
    then location code, a page at a time. Checks access before yielding anything."""
    if actor is not None:
        actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:  # refuse an unknown or forbidden location up front
        _scoped(uow, actor, select(_L.variant_id), location)
    return _pages(db, actor, location, page_size)


def _pages(
    db: Database, actor: Actor | None, location: str | None, page_size: int
) -> Iterator[list[LevelRow]]:
    after: tuple[str, str] | None = None
    while True:
        with db.uow(write=False) as uow:
            stmt = (
                select(*_EXPORT_COLUMNS)
                .join(Variant, Variant.id == _L.variant_id)
                .join(Location, Location.id == _L.location_id)
                .order_by(Variant.sku, Location.code)
                .limit(page_size)
            )
            if after is not None:
                stmt = stmt.where(
                    or_(
                        Variant.sku > after[0],
                        and_(Variant.sku == after[0], Location.code > after[1]),
                    )
                )
            rows = uow.session.execute(_scoped(uow, actor, stmt, location)).all()
        if not rows:
            return
        page = [_level_row(row) for row in rows]
        yield page
        if len(rows) < page_size:
            return
        after = (page[-1].sku, page[-1].location)


def _level_row(row: Any) -> LevelRow:
    (sku, code, on_hand, reserved, safety, quarantine, damaged, qc, expired, incoming) = row[:10]
    in_transit, reorder_point, max_level, updated_at = row[10:]
    return LevelRow(
        sku=sku,
        location=code,
        buckets=StockBuckets(
            on_hand=on_hand,
            reserved=reserved,
            safety_stock=safety,
            quarantine=quarantine,
            damaged=damaged,
            qc=qc,
            expired=expired,
            incoming=incoming,
            in_transit=in_transit,
        ),
        reorder_point=reorder_point,
        max_level=max_level,
        updated_at=updated_at.isoformat(),
    )


# --- import -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: `applied` rows (of which `changed` wrote a movement; the others
    already held their count, or adjusted by 0) and the `errors` of the rows that failed."""

    import_id: uuid.UUID
    mode: str
    rows: int
    applied: int
    changed: int
    errors: tuple[RowError, ...]

    @property
    def failed(self) -> int:
        return len(self.errors)


@dataclass(frozen=True, slots=True)
class _Target:
    row: ImportRow
    variant: VariantRef
    location_id: uuid.UUID


def import_levels(
    *,
    db: Database,
    actor: Actor | None,
    lines: Iterable[str],
    mode: str,
    reason: str,
    override_token: str | None = None,
    max_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Apply a CSV of `sku,location,quantity` rows: counted on_hand (`set`) or signed
    changes (`adjust`); a bad row never stops the good ones (see the module docstring).

    Needs `stock.adjust` (or a manager override); `actor` None is the command line run by
    the operator. Refused as a whole (422, nothing written): `stock_csv.invalid_mode`,
    `stock.reason_required`, `stock_csv.empty_file`, `stock_csv.missing_columns`,
    `stock_csv.too_many_rows`. Row errors: those of `parse_import`, `catalog.unknown_sku`,
    `location.not_found`, `auth.location_forbidden`, `stock_csv.tracked_variant` (lots and
    serials are counted with cycle counts), `stock.would_go_negative`. `progress` is called
    with the number of rows done after each batch.
    """
    chosen = import_mode(mode)
    if not reason.strip():
        raise ValidationFailed(
            "stock.reason_required",
            "an import needs a reason",
            errors=[FieldError("reason", "stock.reason_required", "required")],
        )
    parsed = parse_import(lines, chosen)
    if max_rows is not None and parsed.total > max_rows:
        raise ValidationFailed(
            "stock_csv.too_many_rows",
            f"at most {max_rows} rows per import; this one has {parsed.total}",
            {"rows": parsed.total, "max_rows": max_rows},
            errors=[FieldError("body", "stock_csv.too_many_rows", f"max {max_rows}")],
        )
    import_id = uuid7()
    authorisation = _authorise(db, actor, override_token, import_id)
    targets, errors = _resolve(db, actor, parsed)
    if progress is not None and errors:
        progress(len(errors))
    changed = applied = 0
    targets.sort(key=lambda t: (t.variant.id, t.location_id))
    for start in range(0, len(targets), batch_size):
        batch = targets[start : start + batch_size]

        def once(batch: Sequence[_Target] = batch) -> tuple[int, list[RowError]]:
            return _apply_batch(db, actor, batch, chosen, reason.strip(), import_id)

        outcome = run_retrying(once)
        changed += outcome[0]
        applied += len(batch) - len(outcome[1])
        errors += outcome[1]
        if progress is not None:
            progress(len(batch))
    errors.sort(key=lambda e: e.line)
    report = ImportReport(import_id, chosen.value, parsed.total, applied, changed, tuple(errors))
    _audit(db, actor, report, reason.strip(), authorisation)
    return report


def _authorise(
    db: Database, actor: Actor | None, override_token: str | None, import_id: uuid.UUID
) -> dict[str, str]:
    """Check (and spend any override) before the first row is written."""
    if actor is None:
        return {"via": "command_line"}
    with db.uow() as uow:
        granted = authorise(
            uow,
            actor=actor,
            permission=Permission.STOCK_ADJUST,
            override_token=override_token,
            used_for=f"stock.import:{import_id}",
        )
        uow.commit()
    return granted.as_details()


def _resolve(
    db: Database, actor: Actor | None, parsed: ParsedImport
) -> tuple[list[_Target], list[RowError]]:
    """Each well-formed row's variant and location, or its row error."""
    errors = list(parsed.errors)
    targets: list[_Target] = []
    with db.uow(write=False) as uow:
        variants: dict[str, VariantRef] = {}
        skus = sorted({r.sku for r in parsed.rows})
        for start in range(0, len(skus), 500):
            variants.update(
                catalog_repo.variant_refs(uow.connection, skus=skus[start : start + 500])[0]
            )
        codes = {r.location for r in parsed.rows}
        locations: dict[str, uuid.UUID] = {
            code: lid
            for code, lid in uow.session.execute(
                select(Location.code, Location.id).where(Location.code.in_(codes))
            )
        }
    for row in parsed.rows:
        variant, location_id = variants.get(row.sku), locations.get(row.location)
        problem: tuple[str, str] | None = None
        if variant is None:
            problem = ("catalog.unknown_sku", f"no variant with SKU {row.sku!r}")
        elif location_id is None:
            problem = ("location.not_found", f"no location with code {row.location!r}")
        elif actor is not None and not actor.may_access(location_id):
            problem = ("auth.location_forbidden", f"you are not assigned to {row.location}")
        elif variant.tracking != "none":
            problem = (
                "stock_csv.tracked_variant",
                f"{row.sku} is tracked by {variant.tracking}: count it with a cycle count",
            )
        if problem is not None or variant is None or location_id is None:
            code, message = problem or ("", "")
            errors.append(RowError(row.line, row.values, code, message))
            continue
        targets.append(_Target(row, variant, location_id))
    return targets, errors


def _apply_batch(
    db: Database,
    actor: Actor | None,
    batch: Sequence[_Target],
    mode: ImportMode,
    reason: str,
    import_id: uuid.UUID,
) -> tuple[int, list[RowError]]:
    """One transaction: each row one atomic write (or none); (rows changed, row errors)."""
    changed = 0
    errors: list[RowError] = []
    with db.uow() as uow:
        if mode is ImportMode.SET:
            # A level must exist to be locked: two imports counting a new level must not
            # both add their count to zero. (A count of 0 leaves an empty level.)
            stock_repo.ensure_levels(uow.connection, [(t.variant.id, t.location_id) for t in batch])
        for target in batch:
            row = target.row
            if mode is ImportMode.SET:
                on_hand = stock_repo.lock_on_hand(
                    uow.connection, variant_id=target.variant.id, location_id=target.location_id
                )
                delta = row.quantity - on_hand
            else:
                delta = row.quantity
            if delta == 0:
                continue
            if delta > 0 or mode is ImportMode.SET:
                stock_repo.add_on_hand_many(
                    uow.connection,
                    location_id=target.location_id,
                    deltas={target.variant.id: delta},
                )
            elif (
                stock_repo.take_on_hand_if_available(
                    uow.session,
                    variant_id=target.variant.id,
                    location_id=target.location_id,
                    quantity=-delta,
                )
                is None
            ):
                errors.append(
                    RowError(
                        row.line,
                        row.values,
                        "stock.would_go_negative",
                        f"{row.sku} at {row.location} has less than {-delta} on hand",
                    )
                )
                continue
            uow.session.add(
                StockMovement(
                    id=uuid7(),
                    variant_id=target.variant.id,
                    location_id=target.location_id,
                    quantity=delta,
                    kind="import",
                    reason=f"import ({mode.value}): {reason}"[:200],
                    reference_type=REFERENCE_TYPE,
                    reference_id=str(import_id),
                    actor_id=actor.user_id if actor is not None else None,
                )
            )
            changed += 1
        uow.commit()
    return changed, errors


def _audit(
    db: Database,
    actor: Actor | None,
    report: ImportReport,
    reason: str,
    authorisation: dict[str, str],
) -> None:
    with db.uow() as uow:
        audit.record(
            uow,
            action="stock.imported",
            actor=actor if actor is not None else CLI_ACTOR,
            subject_type=REFERENCE_TYPE,
            subject_id=str(report.import_id),
            details={
                "mode": report.mode,
                "reason": reason,
                "rows": report.rows,
                "applied": report.applied,
                "changed": report.changed,
                "failed": report.failed,
                **authorisation,
            },
        )
        uow.commit()
