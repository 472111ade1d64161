"""Landed cost and moving-average cost of a delivery: the landed costs (freight, duty, other)
spread over the receipt's lines by value (largest remainder, so they sum exactly) into each
line's landed unit cost, and each received variant's moving-average cost taking them in, in
the variant's currency (converted at the latest exchange rate, or left alone without one).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import PurchaseOrder
from omnitill.adapters.db.repositories import purchasing as purchasing_repo
from omnitill.domain.inventory.purchasing import (
    allocate_landed_cost,
    convert_cost,
    landed_unit_cost,
    moving_average_cost,
)
from omnitill.services.purchase_receipt_lines import Booking


@dataclass(frozen=True, slots=True)
class CostUpdate:
    """What the receipt did to a variant's moving-average cost (in the variant's currency);
    `reason` says why it was left alone when `updated` is False."""

    sku: str
    currency: str
    previous_cost: int | None
    cost: int | None
    updated: bool
    reason: str | None = None


def spread_landed_cost(bookings: Sequence[Booking], total: int) -> None:
    """Each line's share of the landed costs (by value) and its landed unit cost."""
    shares = allocate_landed_cost(
        total,
        quantities=[b.request.quantity for b in bookings],
        unit_costs=[b.line.unit_cost_minor for b in bookings],
    )
    for b, share in zip(bookings, shares, strict=True):
        b.share = share
        b.landed_unit = landed_unit_cost(
            quantity=b.request.quantity, unit_cost=b.line.unit_cost_minor, share=share
        )


def update_costs(
    uow: UnitOfWork,
    po: PurchaseOrder,
    bookings: Sequence[Booking],
    variant_costs: Sequence[purchasing_repo.VariantCost],
    totals_before: dict[uuid.UUID, int],
    today: date,
) -> list[CostUpdate]:
    """Each received variant's moving-average cost, in the variant's currency (converted at
    the latest exchange rate when the order is in another; left alone without one)."""
    skus = {b.ref.id: b.ref.sku for b in bookings}
    out: list[CostUpdate] = []
    for vc in variant_costs:
        received = [(b.request.quantity, b.landed_unit) for b in bookings if b.ref.id == vc.id]
        if po.currency != vc.currency:
            rate = purchasing_repo.latest_rate(
                uow.connection, base=po.currency, quote=vc.currency, on=today
            )
            if rate is None:
                out.append(
                    CostUpdate(
                        skus[vc.id],
                        vc.currency,
                        vc.cost_minor,
                        vc.cost_minor,
                        updated=False,
                        reason=f"no exchange rate from {po.currency} to {vc.currency}",
                    )
                )
                continue
            received = [
                (q, convert_cost(c, rate=rate, source=po.currency, target=vc.currency))
                for q, c in received
            ]
        cost = moving_average_cost(
            on_hand_before=totals_before.get(vc.id, 0), old_cost=vc.cost_minor, receipts=received
        )
        purchasing_repo.set_variant_cost(uow.connection, variant_id=vc.id, cost_minor=cost)
        out.append(CostUpdate(skus[vc.id], vc.currency, vc.cost_minor, cost, updated=True))
    return sorted(out, key=lambda c: c.sku)
