"""Cycle counts: open a session, record counts, submit, review variances, approve or cancel.

The rules (expected quantity at the moment of counting, blind view, what approval books) are
in domain/inventory/counts.py. Approval books each variance as a `count` movement, an atomic
increment of on_hand, so sales made after the count stay booked.

Variants tracked by lot or serial are counted like any other, and their variance is booked
on on_hand without a lot: a count does not say which lot or serial is missing or found, so
lot balances and serial units are left as they were (see docs/transfers-counts.md).

The read side (views, `get`, `variances`, `find`) is services/count_views.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Category,
    CountLine,
    CountSession,
    Product,
    StockLevel,
    StockMovement,
    Variant,
)
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.repositories import transfers as repo
from omnitill.adapters.db.repositories.sequences import next_number
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.counts import (
    IN_PROGRESS,
    MOVEMENT_KIND,
    CountStatus,
    CountStep,
    Uncounted,
    allowed_from,
    category_scope,
    check_counts,
    check_step,
)
from omnitill.services import audit
from omnitill.services.auth import authorise
from omnitill.services.count_views import (
    CountView,
    find,
    get,
    load_view,
    location_code,
    measure,
    variances,
    visible_count,
)
from omnitill.services.references import LineRef, accessible_location, resolve_lines
from omnitill.services.retries import run_retrying

__all__ = [
    "CountEntry",
    "CountView",
    "approve",
    "cancel",
    "find",
    "get",
    "record",
    "start",
    "submit",
    "variances",
]

REFERENCE_TYPE = "count"


@dataclass(frozen=True, slots=True)
class CountEntry:
    sku: str
    counted: int


def start(
    *, db: Database, actor: Actor, location: str, category: str | None = None, blind: bool = True
) -> CountView:
    """Open a count of a location (or a category at it, subcategories included): one line
    per variant stocked there, expecting its on_hand now. 409 `count.already_open` while
    another count of the same scope is open or submitted; 422 `count.category_not_found`."""
    actor.require(Permission.STOCK_COUNT)

    def once() -> CountView:
        with db.uow() as uow:
            loc = accessible_location(uow, actor, location)
            root = _category(uow, category) if category is not None else None
            # Numbering locks the sequence row until commit, so starts are serialised and
            # the check below sees any count another request just opened.
            number = next_number(uow.connection, "count", "CC")
            clash = uow.session.scalar(
                select(CountSession.number).where(
                    CountSession.location_id == loc.id,
                    CountSession.category_id.is_(None)
                    if root is None
                    else CountSession.category_id == root.id,
                    CountSession.status.in_(sorted(IN_PROGRESS)),
                )
            )
            if clash is not None:
                raise Conflict(
                    "count.already_open",
                    f"count {clash} of this scope at {loc.code} is still in progress",
                    {"number": clash, "location": loc.code},
                )
            stmt = select(StockLevel.variant_id, StockLevel.on_hand).where(
                StockLevel.location_id == loc.id
            )
            if root is not None:
                parents = dict(uow.session.execute(select(Category.id, Category.parent_id)).all())
                stmt = (
                    stmt.join(Variant, Variant.id == StockLevel.variant_id)
                    .join(Product, Product.id == Variant.product_id)
                    .where(Product.category_id.in_(category_scope(root.id, parents)))
                )
            snapshot = uow.session.execute(stmt).all()
            session = CountSession(
                id=uuid7(),
                number=number,
                location_id=loc.id,
                category_id=root.id if root else None,
                blind=blind,
                status=CountStatus.OPEN,
                started_by_id=actor.user_id,
                # Taken after the snapshot: a movement stamped later is not in it.
                started_at=utcnow(),
            )
            uow.session.add(session)
            uow.session.flush()
            for variant_id, on_hand in snapshot:
                uow.session.add(
                    CountLine(
                        count_session_id=session.id,
                        variant_id=variant_id,
                        expected_at_start=on_hand,
                    )
                )
            uow.session.flush()
            view = load_view(uow, actor, session)
            uow.commit()
            return view

    return run_retrying(once)


def _category(uow: UnitOfWork, key: str) -> Category:
    try:
        found = uow.session.get(Category, uuid.UUID(key))
    except ValueError:
        found = uow.session.scalars(select(Category).where(Category.slug == key)).one_or_none()
    if found is None:
        raise ValidationFailed(
            "count.category_not_found",
            f"no category {key!r}",
            {"category": key},
            errors=[FieldError("category", "count.category_not_found", "unknown category")],
        )
    return found


def record(*, db: Database, actor: Actor, number: str, lines: Sequence[CountEntry]) -> CountView:
    """Record what was counted (now, by the actor); a later count of a SKU replaces the
    earlier one. A SKU not in the session is added, expecting its on_hand at the start.
    422 `stock.count_negative`, `catalog.unknown_sku`, `count.sku_out_of_scope`; 409
    `count.not_open`."""
    actor.require(Permission.STOCK_COUNT)
    check_counts([(line.sku, line.counted) for line in lines])

    def once() -> CountView:
        with db.uow() as uow:
            session = visible_count(uow, actor, number, lock=True)
            check_step(session.status, CountStep.RECORD, number=number)
            refs = resolve_lines(uow, [LineRef(line.sku, None) for line in lines])
            existing = {
                line.variant_id: line
                for line in uow.session.scalars(
                    select(CountLine).where(CountLine.count_session_id == session.id)
                )
            }
            new = [ref for ref in refs if ref.id not in existing]
            if new and session.category_id is not None:
                _check_scope(uow, session, refs, {ref.id for ref in new})
            at_start = _on_hand_at_start(uow, session, [ref.id for ref in new])
            now = utcnow()
            for ref, entry in zip(refs, lines, strict=True):
                line = existing.get(ref.id)
                if line is None:
                    line = CountLine(
                        count_session_id=session.id,
                        variant_id=ref.id,
                        expected_at_start=at_start[ref.id],
                    )
                    uow.session.add(line)
                line.counted = entry.counted
                line.counted_at = now
                line.counted_by_id = actor.user_id
            uow.session.flush()
            view = load_view(uow, actor, session)
            uow.commit()
            return view

    return run_retrying(once)


def _check_scope(
    uow: UnitOfWork, session: CountSession, refs: Sequence[VariantRef], new: set[uuid.UUID]
) -> None:
    """A SKU added to a category count must belong to the category (or one below it):
    another count may hold the rest of the shop."""
    assert session.category_id is not None
    parents = dict(uow.session.execute(select(Category.id, Category.parent_id)).all())
    scope = category_scope(session.category_id, parents)
    errors = [
        FieldError(
            f"lines.{i}.sku", "count.sku_out_of_scope", f"{ref.sku} is not in the counted category"
        )
        for i, ref in enumerate(refs)
        if ref.id in new and ref.category_id not in scope
    ]
    if errors:
        raise ValidationFailed(errors[0].code, "some SKUs are outside this count", errors=errors)


def _on_hand_at_start(
    uow: UnitOfWork, session: CountSession, variant_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """On_hand of each variant when the session started: now, less what moved since."""
    if not variant_ids:
        return {}
    now = dict(
        uow.session.execute(
            select(StockLevel.variant_id, StockLevel.on_hand).where(
                StockLevel.location_id == session.location_id,
                StockLevel.variant_id.in_(variant_ids),
            )
        ).all()
    )
    moved = repo.movements_since(
        uow.connection,
        location_id=session.location_id,
        variant_ids=variant_ids,
        since=session.started_at,
    )
    return {vid: int(now.get(vid, 0)) - moved.get(vid, 0) for vid in variant_ids}


def submit(*, db: Database, actor: Actor, number: str) -> CountView:
    """The counters are done: open -> submitted. 409 `count.not_open`."""
    return _step(db=db, actor=actor, number=number, step=CountStep.SUBMIT)


def cancel(*, db: Database, actor: Actor, number: str) -> CountView:
    """Drop the count without booking anything. 409 `count.not_cancellable`."""
    return _step(db=db, actor=actor, number=number, step=CountStep.CANCEL)


_STEP_TO = {CountStep.SUBMIT: CountStatus.SUBMITTED, CountStep.CANCEL: CountStatus.CANCELLED}


def _step(*, db: Database, actor: Actor, number: str, step: CountStep) -> CountView:
    actor.require(Permission.STOCK_COUNT)

    def once() -> CountView:
        with db.uow() as uow:
            session = visible_count(uow, actor, number)
            check_step(session.status, step, number=number)
            stamp = "submitted_at" if step is CountStep.SUBMIT else "cancelled_at"
            _claim(uow, session, step, _STEP_TO[step], {stamp: utcnow()})
            if step is CountStep.CANCEL:
                audit.record(
                    uow,
                    action="stock.count_cancelled",
                    actor=actor,
                    subject_type="count",
                    subject_id=number,
                    details={"location": location_code(uow, session.location_id)},
                )
            view = load_view(uow, actor, session)
            uow.commit()
            return view

    return run_retrying(once)


def _claim(
    uow: UnitOfWork,
    session: CountSession,
    step: CountStep,
    to: CountStatus,
    values: dict[str, object],
) -> None:
    if not repo.claim_count(
        uow.connection,
        session_id=session.id,
        from_statuses=frozenset(str(s) for s in allowed_from(step)),
        to_status=to,
        values=values,
    ):
        uow.session.refresh(session)  # lost to a concurrent step: say what it is now
        check_step(session.status, step, number=session.number)
        raise Conflict("count.concurrent_write", "retry the request")
    uow.session.refresh(session)


def approve(
    *,
    db: Database,
    actor: Actor,
    number: str,
    uncounted: str = Uncounted.SKIP,
    reason: str | None = None,
    override_token: str | None = None,
) -> CountView:
    """Book each nonzero variance as a `count` movement (an atomic increment of on_hand) and
    store it on its line; uncounted lines are skipped or counted as zero. Needs
    `stock.adjust` or a manager override; audited with the totals. 409
    `count.not_approvable`; 422 `count.invalid_uncounted`."""
    try:
        policy = Uncounted(uncounted)
    except ValueError as exc:
        raise ValidationFailed(
            "count.invalid_uncounted",
            f"uncounted must be one of {', '.join(Uncounted)}",
            errors=[FieldError("uncounted", "count.invalid_uncounted", "skip or zero")],
        ) from exc
    note = (reason or "").strip()

    def once() -> CountView:
        with db.uow() as uow:
            session = visible_count(uow, actor, number)
            check_step(session.status, CountStep.APPROVE, number=number)
            authorisation = authorise(
                uow,
                actor=actor,
                permission=Permission.STOCK_ADJUST,
                override_token=override_token,
                used_for=f"count:{number}",
            )
            now = utcnow()
            _claim(
                uow,
                session,
                CountStep.APPROVE,
                CountStatus.APPROVED,
                {"approved_at": now, "approved_by_id": actor.user_id},
            )
            lines, measured = measure(uow, session, until=now)
            deltas: dict[uuid.UUID, int] = {}
            for line in lines:
                booked = measured[line.variant_id].booking(policy)
                if booked is not None:
                    line.variance = booked
                if booked:
                    deltas[line.variant_id] = booked
            stock_repo.add_on_hand_many(
                uow.connection, location_id=session.location_id, deltas=deltas
            )
            for variant_id in sorted(deltas):
                uow.session.add(
                    StockMovement(
                        id=uuid7(),
                        variant_id=variant_id,
                        location_id=session.location_id,
                        quantity=deltas[variant_id],
                        kind=MOVEMENT_KIND,
                        reason=(note or f"cycle count {number}")[:200],
                        reference_type=REFERENCE_TYPE,
                        reference_id=number,
                        actor_id=actor.user_id,
                        created_at=now,
                    )
                )
            uow.session.flush()
            view = load_view(uow, actor, session)
            assert view.totals is not None
            audit.record(
                uow,
                action="stock.count_approved",
                actor=actor,
                subject_type="count",
                subject_id=number,
                details={
                    "location": view.location,
                    "uncounted": str(policy),
                    "reason": note,
                    "lines": view.totals.lines,
                    "counted": view.totals.counted,
                    "booked": len(deltas),
                    "units_over": view.totals.units_over,
                    "units_short": view.totals.units_short,
                    "value_over": view.totals.value_over,
                    "value_short": view.totals.value_short,
                    **authorisation.as_details(),
                },
            )
            uow.commit()
            return view

    return run_retrying(once)
