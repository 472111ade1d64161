"""The buy-X-get-Y charge-backs of one return (the rule: domain/returns/bundles.py).

The purchase's snapshot names the units each such promotion claimed; the earlier returns of
the purchase (not cancelled) say what was charged back already (`return_lines.chargeback_minor`
holds each line's charge less its give-back, so their sum is the net). The answer is spread
over the request's lines: a sold line named by several request lines (units with different
dispositions) shares its charge-back in proportion to what each refunds.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Return, ReturnLine
from omnitill.domain.money import allocate
from omnitill.domain.returns import bundles
from omnitill.domain.returns.model import LineDecision, Reason
from omnitill.services.return_requests import LineInput
from omnitill.services.return_sources import Source, SourceLine


def chargebacks(
    uow: UnitOfWork,
    source: Source,
    requested: Sequence[LineInput],
    lines: Sequence[SourceLine | None],
    decisions: Sequence[LineDecision],
) -> tuple[tuple[int, ...], tuple[tuple[Reason, ...], ...]]:
    """Per request line: the net charge-back (negative: an earlier one given back) and its
    reasons."""
    groups = [bundles.Group.from_json(g) for g in source.promotion_groups]
    by_no = {sl.line_no: sl for sl in source.lines.values()}
    sold = {
        n: bundles.BundleLine(sl.sold.quantity, sl.sold.returned_quantity)
        for n, sl in by_no.items()
    }
    returning: dict[int, int] = {}
    refunds: dict[int, int] = {}
    for x, sl, d in zip(requested, lines, decisions, strict=True):
        if sl is None or not d.allowed:
            continue
        returning[sl.line_no] = returning.get(sl.line_no, 0) + x.quantity
        refunds[sl.line_no] = refunds.get(sl.line_no, 0) + d.net
    if not returning:
        return tuple(0 for _ in requested), tuple(() for _ in requested)
    result = bundles.chargebacks(
        groups,
        sold,
        returning,
        refunds=refunds,
        currency=source.currency,
        charged_before=_charged_before(uow, source),
    )
    amounts = [0] * len(requested)
    reasons: list[tuple[Reason, ...]] = [() for _ in requested]
    for line_no, found in result.lines.items():
        mine = [
            i
            for i, (sl, d) in enumerate(zip(lines, decisions, strict=True))
            if sl is not None and sl.line_no == line_no and d.allowed
        ]
        weights = [max(decisions[i].net, 0) for i in mine]  # all zero: split evenly
        net = found.charged - found.refunded
        for i, part in zip(mine, allocate(net, weights), strict=True):
            amounts[i] = part
            reasons[i] = found.reasons
    return tuple(amounts), tuple(reasons)


def _charged_before(uow: UnitOfWork, source: Source) -> int:
    column = Return.sale_id if source.kind == "sale" else Return.order_id
    total = uow.session.scalar(
        select(func.coalesce(func.sum(ReturnLine.chargeback_minor), 0))
        .join(Return, Return.id == ReturnLine.return_id)
        .where(column == source.id, Return.status != "cancelled")
    )
    return int(total or 0)
