"""Return KPIs over a range of UTC dates: reasons, return rates by channel and category,
turnaround, restock rate and totals.

What is counted (docs/returns-settings.md says the same for API users):

- **Returns**: every return not cancelled whose `initiated_at` falls in the range (from the
  first date's 00:00 UTC to the end of the last date), with and without a receipt, mail-in
  returns still awaiting their parcel included. With a location, the returns taken there.
- **Units sold** (the rate's denominator), in the same range: the units of completed register
  sales by `completed_at` (gift card lines left out: they are not merchandise), and the units
  handed over (shipped, picked up or delivered; transfers between stores are not hand-overs)
  of orders placed in the range. With a location, the sales rung up and the order units
  handed over there. A sale line's category is its snapshot; an order line's is its
  product's current category.
- **Value**: returned value is what the returned units were paid (`return_lines.refund_minor`,
  before restocking fees); sold value is the lines' paid totals (tax included), for an
  order line the largest-remainder share of its total that the units handed over carry.
  Money is grouped by currency; a rate compares figures of one currency.
- A rate is returned / sold, to 4 decimal places, None when nothing sold.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Category,
    Order,
    OrderAllocation,
    OrderFulfillment,
    OrderLine,
    Product,
    Return,
    ReturnLine,
    Sale,
    SaleLine,
    Variant,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import allocate
from omnitill.domain.orders.lifecycle import TRANSFER, FulfillmentStatus
from omnitill.services.references import accessible_location

HANDED_OVER = (FulfillmentStatus.SHIPPED, FulfillmentStatus.PICKED_UP, FulfillmentStatus.DELIVERED)
RESALABLE = "resalable"  # the disposition that puts a unit back on the shelf
_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Totals:
    """Per currency: returns, units, everything they give back (`refund_total_minor`: the
    lines after restocking fees and promotion chargebacks, plus shipping), the fees kept,
    and the shipping refunded (a part of `refund_value`)."""

    currency: str
    returns: int
    units: int
    refund_value: int
    fees: int
    shipping_refunded: int


@dataclass(frozen=True, slots=True)
class ReasonFigures:
    """Units returned for one reason code, and their refund after restocking fees and
    promotion chargebacks, in one currency (over every reason: the totals' `refund_value`
    less `shipping_refunded`)."""

    reason_code: str
    currency: str
    units: int
    refund_value: int


@dataclass(frozen=True, slots=True)
class Rate:
    """Returned against sold for one channel or category (`key`) in one currency."""

    key: str | None
    currency: str
    units_returned: int
    units_sold: int
    value_returned: int
    value_sold: int
    name: str | None = None  # the category's name

    @property
    def unit_rate(self) -> Decimal | None:
        return ratio(self.units_returned, self.units_sold)

    @property
    def value_rate(self) -> Decimal | None:
        return ratio(self.value_returned, self.value_sold)


@dataclass(frozen=True, slots=True)
class Turnaround:
    """Hours from initiation to refund over the refunded returns (median; p90 by nearest
    rank), and the returns neither refunded nor completed yet."""

    refunded: int
    median_hours: float | None
    p90_hours: float | None
    open: int


@dataclass(frozen=True, slots=True)
class Restock:
    """Units received (a disposition given) and those put back to sell."""

    units_received: int
    units_resalable: int

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.units_resalable, self.units_received)


@dataclass(frozen=True, slots=True)
class ReturnsReport:
    date_from: date
    date_to: date
    location: str | None
    totals: tuple[Totals, ...]
    reasons: tuple[ReasonFigures, ...]
    by_channel: tuple[Rate, ...]
    by_category: tuple[Rate, ...]
    turnaround: Turnaround
    restock: Restock


def returns_report(
    *, db: Database, actor: Actor, date_from: date, date_to: date, location: str | None = None
) -> ReturnsReport:
    """Return KPIs for returns initiated from `date_from` to `date_to` (UTC, inclusive), at
    one location or every location the actor sees. 422 `reports.invalid_range`."""
    if date_from > date_to:
        raise ValidationFailed(
            "reports.invalid_range",
            "from must be on or before to",
            errors=[FieldError("from", "reports.invalid_range", "on or before `to`")],
        )
    start = datetime.combine(date_from, time.min, UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, UTC)
    with db.uow(write=False) as uow:
        scope = actor.location_ids
        if location is not None:
            scope = frozenset({accessible_location(uow, actor, location).id})
        window = _Window(start, end, scope)
        names = _category_names(uow)
        returned_by_channel, returned_by_category = _returned(uow, window)
        sold_by_channel, sold_by_category = _sold(uow, window)
        return ReturnsReport(
            date_from=date_from,
            date_to=date_to,
            location=location,
            totals=_totals(uow, window),
            reasons=_reasons(uow, window),
            by_channel=_rates(returned_by_channel, sold_by_channel, {}),
            by_category=_rates(returned_by_category, sold_by_category, names),
            turnaround=_turnaround(uow, window),
            restock=_restock(uow, window),
        )


def ratio(part: int, whole: int) -> Decimal | None:
    """part / whole to 4 places, half-up; None when `whole` is 0."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    end: datetime
    location_ids: frozenset[uuid.UUID] | None

    def returns(self) -> list[ColumnElement[bool]]:
        where = [
            Return.status != "cancelled",
            Return.initiated_at >= self.start,
            Return.initiated_at < self.end,
        ]
        return where + self.at(Return.location_id)

    def at(self, column: Any) -> list[ColumnElement[bool]]:
        return [] if self.location_ids is None else [column.in_(self.location_ids)]


# (key, currency) -> [units, value]
_Figures = dict[tuple[str | None, str], list[int]]


def _totals(uow: UnitOfWork, w: _Window) -> tuple[Totals, ...]:
    money = uow.session.execute(
        select(
            Return.currency,
            func.count(Return.id),
            func.sum(Return.refund_total_minor),
            func.sum(Return.fee_total_minor),
            func.sum(Return.shipping_refund_minor),
        )
        .where(*w.returns())
        .group_by(Return.currency)
    ).all()
    unit_rows = uow.session.execute(
        select(Return.currency, func.sum(ReturnLine.quantity))
        .join(Return, Return.id == ReturnLine.return_id)
        .where(*w.returns())
        .group_by(Return.currency)
    )
    units = {currency: quantity for currency, quantity in unit_rows}
    return tuple(
        Totals(cur, int(n), int(units.get(cur) or 0), int(refund), int(fees), int(shipping))
        for cur, n, refund, fees, shipping in sorted(money)
    )


def _reasons(uow: UnitOfWork, w: _Window) -> tuple[ReasonFigures, ...]:
    rows = uow.session.execute(
        select(
            ReturnLine.reason_code,
            Return.currency,
            func.sum(ReturnLine.quantity),
            func.sum(ReturnLine.refund_minor - ReturnLine.fee_minor - ReturnLine.chargeback_minor),
        )
        .join(Return, Return.id == ReturnLine.return_id)
        .where(*w.returns())
        .group_by(ReturnLine.reason_code, Return.currency)
        .order_by(ReturnLine.reason_code, Return.currency)
    ).all()
    return tuple(ReasonFigures(r, c, int(u), int(v)) for r, c, u, v in rows)


def _returned(uow: UnitOfWork, w: _Window) -> tuple[_Figures, _Figures]:
    """Units and value returned, by channel and by category."""
    by_channel: _Figures = defaultdict(lambda: [0, 0])
    by_category: _Figures = defaultdict(lambda: [0, 0])
    rows = uow.session.execute(
        select(
            Return.channel,
            ReturnLine.category_id,
            Return.currency,
            func.sum(ReturnLine.quantity),
            func.sum(ReturnLine.refund_minor),
        )
        .join(Return, Return.id == ReturnLine.return_id)
        .where(*w.returns())
        .group_by(Return.channel, ReturnLine.category_id, Return.currency)
    ).all()
    _add(by_channel, by_category, rows)
    return by_channel, by_category


def _sold(uow: UnitOfWork, w: _Window) -> tuple[_Figures, _Figures]:
    """Units and value sold, by channel and by category (see the module docstring)."""
    by_channel: _Figures = defaultdict(lambda: [0, 0])
    by_category: _Figures = defaultdict(lambda: [0, 0])
    sales = uow.session.execute(
        select(
            Sale.channel,
            SaleLine.category_id,
            Sale.currency,
            func.sum(SaleLine.quantity),
            func.sum(SaleLine.total_minor),
        )
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(
            Sale.status == "completed",
            Sale.completed_at >= w.start,
            Sale.completed_at < w.end,
            SaleLine.gift_card_id.is_(None),
            *w.at(Sale.location_id),
        )
        .group_by(Sale.channel, SaleLine.category_id, Sale.currency)
    ).all()
    _add(by_channel, by_category, sales)
    _add(by_channel, by_category, _order_units(uow, w))
    return by_channel, by_category


def _order_units(uow: UnitOfWork, w: _Window) -> list[tuple[Any, ...]]:
    """(channel, category, currency, units, value) per order line with units handed over."""
    handed = func.sum(OrderAllocation.quantity - OrderAllocation.quantity_cancelled)
    rows = uow.session.execute(
        select(
            Order.channel,
            Product.category_id,
            Order.currency,
            OrderLine.quantity,
            OrderLine.total_minor,
            handed,
        )
        .select_from(OrderAllocation)
        .join(OrderFulfillment, OrderFulfillment.id == OrderAllocation.fulfillment_id)
        .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(
            Order.placed_at >= w.start,
            Order.placed_at < w.end,
            OrderFulfillment.method != TRANSFER,
            OrderFulfillment.status.in_(HANDED_OVER),
            *w.at(OrderFulfillment.location_id),
        )
        .group_by(
            OrderLine.id,
            Order.channel,
            Product.category_id,
            Order.currency,
            OrderLine.quantity,
            OrderLine.total_minor,
        )
    ).all()
    return [
        (channel, category, currency, int(units), _units_value(total, quantity, int(units)))
        for channel, category, currency, quantity, total, units in rows
        if units
    ]


def _units_value(total: int, quantity: int, units: int) -> int:
    """What the first `units` of a line of `quantity` carry of its `total` (largest
    remainder, as a return refunds them)."""
    units = min(units, quantity)
    return sum(allocate(total, [1] * quantity)[:units]) if quantity > 0 else 0


def _add(by_channel: _Figures, by_category: _Figures, rows: Iterable[Any]) -> None:
    for channel, category, currency, units, value in rows:
        for figures, key in ((by_channel, channel), (by_category, category)):
            entry = figures[(str(key) if key is not None else None, currency)]
            entry[0] += int(units or 0)
            entry[1] += int(value or 0)


def _rates(returned: _Figures, sold: _Figures, names: dict[str, str]) -> tuple[Rate, ...]:
    keys = sorted(set(returned) | set(sold), key=lambda k: (k[0] is None, k[0] or "", k[1]))
    zero = (0, 0)
    return tuple(
        Rate(
            key=key,
            currency=currency,
            units_returned=returned.get((key, currency), zero)[0],
            units_sold=sold.get((key, currency), zero)[0],
            value_returned=returned.get((key, currency), zero)[1],
            value_sold=sold.get((key, currency), zero)[1],
            name=names.get(key) if key is not None else None,
        )
        for key, currency in keys
    )


def _category_names(uow: UnitOfWork) -> dict[str, str]:
    return {str(i): n for i, n in uow.session.execute(select(Category.id, Category.name))}


def _turnaround(uow: UnitOfWork, w: _Window) -> Turnaround:
    rows = uow.session.execute(
        select(Return.initiated_at, Return.refunded_at).where(
            *w.returns(), Return.refunded_at.is_not(None)
        )
    ).all()
    hours = sorted((r - i).total_seconds() / 3600 for i, r in rows if r is not None)
    still_open = uow.session.scalar(
        select(func.count(Return.id)).where(
            *w.returns(), Return.refunded_at.is_(None), Return.status != "completed"
        )
    )
    if not hours:
        return Turnaround(0, None, None, int(still_open or 0))
    p90 = hours[math.ceil(0.9 * len(hours)) - 1]
    return Turnaround(
        refunded=len(hours),
        median_hours=round(statistics.median(hours), 2),
        p90_hours=round(p90, 2),
        open=int(still_open or 0),
    )


def _restock(uow: UnitOfWork, w: _Window) -> Restock:
    received, resalable = uow.session.execute(
        select(
            func.sum(ReturnLine.quantity).filter(ReturnLine.disposition.is_not(None)),
            func.sum(ReturnLine.quantity).filter(ReturnLine.disposition == RESALABLE),
        )
        .join(Return, Return.id == ReturnLine.return_id)
        .where(*w.returns())
    ).one()
    return Restock(int(received or 0), int(resalable or 0))
