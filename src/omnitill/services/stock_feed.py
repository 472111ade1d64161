"""The stock feed for catalog sync: levels changed since a point in time, in bulk.

A client (web shop, marketplace connector, ERP) keeps its copy of availability current by
polling: it asks for the levels changed since its last `next_since`, pages through them with
`cursor`, applies each row by (sku, location), and stores the `next_since` of the scan.

Why `next_since` is not simply "the newest updated_at seen": a level's `updated_at` is
stamped when the write happens, but the row only becomes visible when its transaction
commits, and transactions commit out of timestamp order. A level stamped at 12:00:00.100 by
a transaction that commits at 12:00:02 is invisible to a scan at 12:00:01 that has already
seen rows stamped 12:00:00.900. So the feed hands back the scan's start time minus a
safety overlap (`OVERLAP`, 60 seconds): the next poll re-reads that minute. Rows may repeat
(the client applies them idempotently); none is lost for transactions shorter than the
overlap. Every write to a level in omnitill is a short transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Location, StockLevel, Variant
from omnitill.adapters.db.repositories.stock import AVAILABLE
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.services.pagination import cursor_uuid, decode_cursor, encode_cursor
from omnitill.services.references import scope_to_locations

OVERLAP = timedelta(seconds=60)
MAX_LIMIT = 1000
DEFAULT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class FeedRow:
    sku: str
    location: str
    on_hand: int
    available: int
    reserved: int
    incoming: int
    in_transit: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeedPage:
    """`next_cursor`: the rest of this scan (None when done); `next_since`: where the next
    scan starts (the first page's start time less the overlap, the same on every page)."""

    items: list[FeedRow]
    next_cursor: str | None
    next_since: datetime


def feed(
    *,
    db: Database,
    actor: Actor,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    location: str | None = None,
    now: datetime | None = None,
) -> FeedPage:
    """One page of the levels changed at or after `since` (every level without it), ordered
    by (updated_at, variant id, location id), within the actor's locations.

    A `cursor` continues its scan (`since` is then ignored). A naive `since` is read as UTC.
    422 `pagination.invalid_limit` (1 to 1000), `pagination.invalid_cursor`,
    `location.not_found`; 403 `auth.location_forbidden`.
    """
    actor.require(Permission.STOCK_READ)
    size = _limit(limit)
    started, after = _position(cursor, now or utcnow())
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    lvl = StockLevel
    with db.uow(write=False) as uow:
        stmt = (
            select(
                Variant.sku,
                Location.code,
                lvl.on_hand,
                AVAILABLE.label("available"),
                lvl.reserved,
                lvl.incoming,
                lvl.in_transit,
                lvl.updated_at,
                lvl.variant_id,
                lvl.location_id,
            )
            .join(Variant, Variant.id == lvl.variant_id)
            .join(Location, Location.id == lvl.location_id)
            .order_by(lvl.updated_at, lvl.variant_id, lvl.location_id)
            .limit(size + 1)
        )
        stmt = scope_to_locations(uow, actor, stmt, lvl.location_id, location)
        if after is not None:
            at, vid, lid = after
            stmt = stmt.where(
                or_(
                    lvl.updated_at > at,
                    and_(
                        lvl.updated_at == at,
                        or_(
                            lvl.variant_id > vid,
                            and_(lvl.variant_id == vid, lvl.location_id > lid),
                        ),
                    ),
                )
            )
        elif since is not None:
            stmt = stmt.where(lvl.updated_at >= since)
        rows = uow.session.execute(stmt).all()
    items = [
        FeedRow(sku, code, int(on_hand), int(avail), int(reserved), int(inc), int(transit), at)
        for sku, code, on_hand, avail, reserved, inc, transit, at, _, _ in rows[:size]
    ]
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        next_cursor = encode_cursor(
            {
                "at": last.updated_at.isoformat(),
                "v": str(last.variant_id),
                "l": str(last.location_id),
                "started": started.isoformat(),
            }
        )
    return FeedPage(items, next_cursor, started - OVERLAP)


def _limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            "pagination.invalid_limit",
            f"limit must be between 1 and {MAX_LIMIT}",
            errors=[FieldError("limit", "pagination.invalid_limit", f"1..{MAX_LIMIT}")],
        )
    return limit


def _position(
    cursor: str | None, now: datetime
) -> tuple[datetime, tuple[datetime, uuid.UUID, uuid.UUID] | None]:
    """When the scan started, and the last (updated_at, variant, location) it returned."""
    key = decode_cursor(cursor)
    if key is None:
        return now, None
    started: datetime | None = None
    at: datetime | None = None
    try:
        started = datetime.fromisoformat(str(key["started"]))
        at = datetime.fromisoformat(str(key["at"]))
    except (KeyError, ValueError):
        pass
    if started is None or at is None or started.tzinfo is None or at.tzinfo is None:
        raise ValidationFailed(
            "pagination.invalid_cursor",
            "the cursor is not one this API issued",
            errors=[FieldError("cursor", "pagination.invalid_cursor", "unreadable cursor")],
        )
    return started, (at, cursor_uuid(key, "v"), cursor_uuid(key, "l"))
