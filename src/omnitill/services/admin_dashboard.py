"""The back-office dashboard: today's sales by store and by channel, and what waits for
someone (open orders, open stock exceptions, returns taken today).

"Today" is each store's business day in its own time zone for register sales (the sale's
`business_date`), and the calendar day in the estate's reporting time zone (that of the first
store by code, else UTC) for orders and returns, which belong to no single store. Sales are
completed register sales plus orders placed from any channel that were not cancelled, at
their total as charged (tax and shipping included, before any return). Amounts are kept per
currency: two currencies are two bars, never added together. Staff bound to stores see only
their stores' figures.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Order,
    OrderFulfillment,
    Return,
    Sale,
    StockException,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission

OPEN_ORDER_STATUSES = ("pending_payment", "placed", "backordered", "in_progress")


@dataclass(frozen=True, slots=True)
class SalesBar:
    """One bar of a chart: a store or a channel, in one currency."""

    label: str
    currency: str
    count: int
    total: int  # minor units

    @property
    def average(self) -> int:
        """Average order value in minor units (0 without sales), rounded half up."""
        return (2 * self.total + self.count) // (2 * self.count) if self.count else 0


@dataclass(frozen=True, slots=True)
class Dashboard:
    day: date  # in the reporting time zone
    timezone: str
    by_store: tuple[SalesBar, ...]
    by_channel: tuple[SalesBar, ...]
    open_orders: int | None  # None: the actor may not see orders
    open_exceptions: int | None
    returns_today: int | None


def today(*, db: Database, actor: Actor, now: datetime | None = None) -> Dashboard:
    """Today's figures for the dashboard, scoped to the actor's stores and permissions."""
    actor.require(Permission.SALES_READ)
    now = now or utcnow()
    with db.uow(write=False) as uow:
        stores = uow.session.scalars(select(Location).order_by(Location.code)).all()
        visible = [s for s in stores if actor.may_access(s.id)]
        zone = stores[0].timezone if stores else "UTC"
        start, end = _day_bounds(now, zone)
        store_rows = _register_sales(uow, visible, now)
        store_totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        channel_totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        codes = {s.id: s.code for s in visible}
        for location_id, channel, currency, count, total in store_rows:
            for bucket, key in (
                (store_totals, codes[location_id]),
                (channel_totals, channel),
            ):
                bucket[(key, currency)][0] += count
                bucket[(key, currency)][1] += total
        for channel, currency, count, total in _orders(uow, actor, start, end):
            channel_totals[(channel, currency)][0] += count
            channel_totals[(channel, currency)][1] += total
        return Dashboard(
            day=start.astimezone(ZoneInfo(zone)).date(),
            timezone=zone,
            by_store=_bars(store_totals),
            by_channel=_bars(channel_totals),
            open_orders=_open_orders(uow, actor) if actor.can(Permission.ORDERS_READ) else None,
            open_exceptions=(
                _open_exceptions(uow, actor) if actor.can(Permission.STOCK_READ) else None
            ),
            returns_today=_returns(uow, actor, start, end),
        )


def _day_bounds(now: datetime, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants where the local day of `now` starts and ends."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz).date()
    start = datetime.combine(local, time.min, tzinfo=tz)
    end = datetime.combine(local + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _register_sales(
    uow: UnitOfWork, stores: list[Location], now: datetime
) -> list[tuple[uuid.UUID, str, str, int, int]]:
    """(location, channel, currency, count, total) of completed sales of each store's day."""
    rows: list[tuple[uuid.UUID, str, str, int, int]] = []
    by_day: dict[date, list[uuid.UUID]] = defaultdict(list)
    for store in stores:
        by_day[now.astimezone(ZoneInfo(store.timezone)).date()].append(store.id)
    for day, ids in by_day.items():
        stmt = (
            select(
                Sale.location_id,
                Sale.channel,
                Sale.currency,
                func.count(),
                func.coalesce(func.sum(Sale.total_minor), 0),
            )
            .where(Sale.status == "completed", Sale.business_date == day)
            .where(Sale.location_id.in_(ids))
            .group_by(Sale.location_id, Sale.channel, Sale.currency)
        )
        rows.extend((r[0], r[1], r[2], int(r[3]), int(r[4])) for r in uow.session.execute(stmt))
    return rows


def _orders(
    uow: UnitOfWork, actor: Actor, start: datetime, end: datetime
) -> list[tuple[str, str, int, int]]:
    """(channel, currency, count, total) of orders placed in the day, not cancelled."""
    stmt = (
        select(
            Order.channel,
            Order.currency,
            func.count(),
            func.coalesce(func.sum(Order.total_minor), 0),
        )
        .where(Order.placed_at >= start, Order.placed_at < end, Order.status != "cancelled")
        .group_by(Order.channel, Order.currency)
    )
    if actor.location_ids is not None:
        stmt = stmt.where(Order.id.in_(_orders_at(actor.location_ids)))
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in uow.session.execute(stmt)]


def _orders_at(location_ids: frozenset[uuid.UUID]) -> Select[uuid.UUID]:
    return select(OrderFulfillment.order_id).where(OrderFulfillment.location_id.in_(location_ids))


def _open_orders(uow: UnitOfWork, actor: Actor) -> int:
    stmt = select(func.count()).select_from(Order).where(Order.status.in_(OPEN_ORDER_STATUSES))
    if actor.location_ids is not None:
        stmt = stmt.where(Order.id.in_(_orders_at(actor.location_ids)))
    return int(uow.session.scalar(stmt) or 0)


def _open_exceptions(uow: UnitOfWork, actor: Actor) -> int:
    stmt = (
        select(func.count()).select_from(StockException).where(StockException.resolved_at.is_(None))
    )
    if actor.location_ids is not None:
        stmt = stmt.where(StockException.location_id.in_(actor.location_ids))
    return int(uow.session.scalar(stmt) or 0)


def _returns(uow: UnitOfWork, actor: Actor, start: datetime, end: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(Return)
        .where(Return.initiated_at >= start, Return.initiated_at < end)
        .where(Return.status != "cancelled")
    )
    if actor.location_ids is not None:
        stmt = stmt.where(Return.location_id.in_(actor.location_ids))
    return int(uow.session.scalar(stmt) or 0)


def _bars(totals: dict[tuple[str, str], list[int]]) -> tuple[SalesBar, ...]:
    """Bars, largest total first (then by name, so the order is stable)."""
    bars = [SalesBar(k[0], k[1], v[0], v[1]) for k, v in totals.items()]
    return tuple(sorted(bars, key=lambda b: (-b.total, b.label, b.currency)))
