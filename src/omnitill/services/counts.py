"""Cycle counts: open a session, record counts, submit, review variances, approve or cancel.

The rules (expected quantity at the moment of counting, blind view, what approval books) are
in domain/inventory/counts.py. Approval books each variance as a `count` movement, an atomic
increment of on_hand, so sales made after the count stay booked.

Variants tracked by lot or serial are counted like any other, and their variance is booked
on on_hand without a lot: a count does not say which lot or serial is missing or found, so
lot balances and serial units are left as they were (see docs/transfers-counts.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Category,
    CountLine,
    CountSession,
    Location,
    Product,
    StockLevel,
    StockMovement,
    User,
    Variant,
)
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.repositories import transfers as repo
from omnitill.adapters.db.repositories.sequences import next_number
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.counts import (
    IN_PROGRESS,
    MOVEMENT_KIND,
    CountStatus,
    CountStep,
    LineVariance,
    Totals,
    Uncounted,
    allowed_from,
    category_scope,
    check_counts,
    check_step,
    shows_expected,
    totals,
)
from omnitill.services import audit
from omnitill.services.auth import authorise
from omnitill.services.pagination import (
    check_status_filter,
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

REFERENCE_TYPE = "count"


@dataclass(frozen=True, slots=True)
class CountEntry:
    sku: str
    counted: int


@dataclass(frozen=True, slots=True)
class CountLineView:
    """One line; the expected figures are None when the viewer may not see them (blind)."""

    sku: str
    name: str
    tracking: str
    counted: int | None
    counted_at: datetime | None
    counted_by: str | None
    expected_at_start: int | None
    movements_during: int | None
    expected_at_count: int | None
    variance: int | None
    variance_value: int | None
    unit_cost: int | None
    currency: str


@dataclass(frozen=True, slots=True)
class CountView:
    id: uuid.UUID
    number: str
    location: str
    category: str | None  # slug
    blind: bool
    status: str
    expected_visible: bool
    started_by: str | None
    started_at: datetime
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    cancelled_at: datetime | None
    lines: tuple[CountLineView, ...]
    totals: Totals | None  # None when expected figures are hidden


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
            view = _view(uow, actor, session)
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
            session = _visible(uow, actor, number, lock=True)
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
            view = _view(uow, actor, session)
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
            session = _visible(uow, actor, number)
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
                    details={"location": _code(uow, session.location_id)},
                )
            view = _view(uow, actor, session)
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
            session = _visible(uow, actor, number)
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
            lines, measured = _measure(uow, session, until=now)
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
            view = _view(uow, actor, session)
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


def get(*, db: Database, actor: Actor, number: str) -> CountView:
    """The session and its lines; expected figures only for those who may see them."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        return _view(uow, actor, _visible(uow, actor, number))


def variances(*, db: Database, actor: Actor, number: str) -> CountView:
    """The variance report; 403 `count.blind` while a blind count is open, for anyone
    without `stock.adjust`."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        session = _visible(uow, actor, number)
        view = _view(uow, actor, session)
    if not view.expected_visible:
        raise PermissionDenied(
            "count.blind",
            "this count is blind: its variances show once it is submitted",
            {"number": number},
        )
    return view


def find(
    *,
    db: Database,
    actor: Actor,
    location: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[CountView], str | None]:
    """Count sessions at the actor's locations, newest first; one page (no lines)."""
    actor.require(Permission.STOCK_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    check_status_filter(status, CountStatus, "count.invalid_status")
    with db.uow(write=False) as uow:
        stmt = select(CountSession).order_by(CountSession.id.desc()).limit(page + 1)
        if status is not None:
            stmt = stmt.where(CountSession.status == status)
        if after is not None:
            stmt = stmt.where(CountSession.id < cursor_uuid(after))
        stmt = scope_to_locations(uow, actor, stmt, CountSession.location_id, location)
        rows = list(uow.session.scalars(stmt))
        items = [_view(uow, actor, s, with_lines=False) for s in rows[:page]]
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def _visible(uow: UnitOfWork, actor: Actor, number: str, *, lock: bool = False) -> CountSession:
    stmt = select(CountSession).where(CountSession.number == number)
    if lock:
        # Counters write under the session's row lock, so a submit or approval never races
        # a count being recorded.
        stmt = stmt.with_for_update()
    session = uow.session.scalars(stmt).one_or_none()
    if session is None or not actor.may_access(session.location_id):
        raise NotFound("count.not_found", f"no count {number}", {"number": number})
    return session


def _code(uow: UnitOfWork, location_id: uuid.UUID) -> str:
    return uow.session.get_one(Location, location_id).code


def _measure(
    uow: UnitOfWork, session: CountSession, *, until: datetime
) -> tuple[list[CountLine], dict[uuid.UUID, LineVariance]]:
    lines = list(
        uow.session.scalars(
            select(CountLine)
            .where(CountLine.count_session_id == session.id)
            .order_by(CountLine.variant_id)
        )
    )
    during = repo.movements_while_counting(
        uow.connection, session=session, until=until, exclude_kind=MOVEMENT_KIND
    )
    costs = dict(
        uow.session.execute(
            select(Variant.id, Variant.cost_minor).where(
                Variant.id.in_([line.variant_id for line in lines])
            )
        ).all()
    )
    return lines, {
        line.variant_id: LineVariance(
            expected_at_start=line.expected_at_start,
            movements_during=during.get(line.variant_id, 0),
            counted=line.counted,
            unit_cost=costs.get(line.variant_id),
        )
        for line in lines
    }


def _view(
    uow: UnitOfWork, actor: Actor, session: CountSession, *, with_lines: bool = True
) -> CountView:
    visible = shows_expected(
        blind=session.blind, status=session.status, may_adjust=actor.can(Permission.STOCK_ADJUST)
    )
    user_ids = {u for u in (session.started_by_id, session.approved_by_id) if u is not None}
    line_views: list[CountLineView] = []
    summary: Totals | None = None
    if with_lines:
        lines, measured = _measure(uow, session, until=utcnow())
        user_ids |= {line.counted_by_id for line in lines if line.counted_by_id is not None}
        variants = {
            v.id: v
            for v in uow.session.scalars(
                select(Variant).where(Variant.id.in_([line.variant_id for line in lines]))
            )
        }
        names = _usernames(uow, user_ids)
        changes: list[tuple[bool, int | None, int | None]] = []
        for line in lines:
            m, v = measured[line.variant_id], variants[line.variant_id]
            # Once approved, the variance booked (an uncounted line set to zero has one).
            variance = line.variance if line.variance is not None else m.variance
            changes.append((line.counted is not None, variance, m.unit_cost))
            line_views.append(
                CountLineView(
                    sku=v.sku,
                    name=v.name,
                    tracking=v.tracking,
                    counted=line.counted,
                    counted_at=line.counted_at,
                    counted_by=names.get(line.counted_by_id) if line.counted_by_id else None,
                    expected_at_start=m.expected_at_start if visible else None,
                    movements_during=m.movements_during if visible else None,
                    expected_at_count=m.expected_at_count if visible else None,
                    variance=variance if visible else None,
                    variance_value=(
                        variance * m.unit_cost
                        if visible and variance is not None and m.unit_cost is not None
                        else None
                    ),
                    unit_cost=m.unit_cost if visible else None,
                    currency=v.currency,
                )
            )
        line_views.sort(key=lambda lv: lv.sku)
        summary = totals(changes) if visible else None
    else:
        names = _usernames(uow, user_ids)
    category = (
        uow.session.scalar(select(Category.slug).where(Category.id == session.category_id))
        if session.category_id
        else None
    )
    return CountView(
        id=session.id,
        number=session.number,
        location=_code(uow, session.location_id),
        category=category,
        blind=session.blind,
        status=session.status,
        expected_visible=visible,
        started_by=names.get(session.started_by_id) if session.started_by_id else None,
        started_at=session.started_at,
        submitted_at=session.submitted_at,
        approved_by=names.get(session.approved_by_id) if session.approved_by_id else None,
        approved_at=session.approved_at,
        cancelled_at=session.cancelled_at,
        lines=tuple(line_views),
        totals=summary,
    )


def _usernames(uow: UnitOfWork, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict(uow.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
