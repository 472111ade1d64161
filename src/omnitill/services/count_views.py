"""Reading cycle counts back: the views the API answers with, `get`, `variances` and `find`,
the lookup of a count the actor may see, and the measure of each line (expected at the
start, movements while counting, variance and its value) that approval books from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Category,
    CountLine,
    CountSession,
    Location,
    User,
    Variant,
)
from omnitill.adapters.db.repositories import transfers as repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound, PermissionDenied
from omnitill.domain.inventory.counts import (
    MOVEMENT_KIND,
    CountStatus,
    LineVariance,
    Totals,
    shows_expected,
    totals,
)
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import scope_to_locations


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


def get(*, db: Database, actor: Actor, number: str) -> CountView:
    """The session and its lines; expected figures only for those who may see them."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        return load_view(uow, actor, visible_count(uow, actor, number))


def variances(*, db: Database, actor: Actor, number: str) -> CountView:
    """The variance report; 403 `count.blind` while a blind count is open, for anyone
    without `stock.adjust`."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        session = visible_count(uow, actor, number)
        view = load_view(uow, actor, session)
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
        items = [load_view(uow, actor, s, with_lines=False) for s in rows[:page]]
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def visible_count(
    uow: UnitOfWork, actor: Actor, number: str, *, lock: bool = False
) -> CountSession:
    stmt = select(CountSession).where(CountSession.number == number)
    if lock:
        # Counters write under the session's row lock, so a submit or approval never races
        # a count being recorded.
        stmt = stmt.with_for_update()
    session = uow.session.scalars(stmt).one_or_none()
    if session is None or not actor.may_access(session.location_id):
        raise NotFound("count.not_found", f"no count {number}", {"number": number})
    return session


def location_code(uow: UnitOfWork, location_id: uuid.UUID) -> str:
    return uow.session.get_one(Location, location_id).code


def measure(
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


def load_view(
    uow: UnitOfWork, actor: Actor, session: CountSession, *, with_lines: bool = True
) -> CountView:
    visible = shows_expected(
        blind=session.blind, status=session.status, may_adjust=actor.can(Permission.STOCK_ADJUST)
    )
    user_ids = {u for u in (session.started_by_id, session.approved_by_id) if u is not None}
    line_views: list[CountLineView] = []
    summary: Totals | None = None
    if with_lines:
        lines, measured = measure(uow, session, until=utcnow())
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
        location=location_code(uow, session.location_id),
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
