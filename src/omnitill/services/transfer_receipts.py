"""Receiving a transfer at its destination: in_transit cleared of everything shipped, on_hand
up by what arrived, each lot by the id and expiry it left with, and a line short or over
booked as counted and opened as a `transfer_discrepancy` stock exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Lot, StockException, TransferLine
from omnitill.adapters.db.repositories import transfers as repo
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.transfers import (
    KIND_IN,
    KIND_OVER,
    LineReceipt,
    Parcel,
    TransferStep,
    arrived,
    receipt_quantities,
    split_expected,
)
from omnitill.services import tracking
from omnitill.services.retries import run_retrying
from omnitill.services.transfer_steps import Step, audit_step, claim_step, open_step
from omnitill.services.transfer_views import REFERENCE_TYPE, TransferView, load_views

EXCEPTION_KIND = "transfer_discrepancy"


@dataclass(frozen=True, slots=True)
class ReceiveLineInput:
    """Units of a line that arrived; for a tracked line that arrived short or over, which
    `lots` ((code, quantity) pairs) or `serials` arrived."""

    sku: str
    quantity: int
    lots: tuple[tuple[str, int], ...] | None = None
    serials: tuple[str, ...] | None = None


def receive(
    *, db: Database, actor: Actor, number: str, lines: Sequence[ReceiveLineInput] | None = None
) -> TransferView:
    """Book what arrived at the destination: in_transit cleared of everything shipped,
    on_hand up by what arrived. A line short or over is booked as counted and opened as a
    `transfer_discrepancy` stock exception. 409 `inventory.transfer_not_receivable`."""
    actor.require(Permission.STOCK_TRANSFER)

    def once() -> TransferView:
        with db.uow() as uow:
            st = open_step(uow, actor, number, TransferStep.RECEIVE, at="destination")
            plan = receipt_quantities(
                {ref.sku: row.quantity_shipped for row, ref in st.lines},
                None if lines is None else [(line.sku, line.quantity) for line in lines],
            )
            asked = {line.sku: (i, line) for i, line in enumerate(lines or ())}
            parcels = {
                ref.sku: arrived(
                    tracking=ref.tracking,
                    shipped=_shipped_parcels(row),
                    quantity=plan[ref.sku],
                    lots=asked[ref.sku][1].lots if ref.sku in asked else None,
                    serials=asked[ref.sku][1].serials if ref.sku in asked else None,
                    field=f"lines.{asked[ref.sku][0] if ref.sku in asked else n}",
                )
                for n, (row, ref) in enumerate(st.lines)
            }
            claim_step(
                uow,
                st,
                TransferStep.RECEIVE,
                {"received_at": st.now, "received_by_id": actor.user_id},
            )
            report = [
                _receive_line(uow, actor, st, row, ref, plan[ref.sku], parcels[ref.sku])
                for row, ref in sorted(st.lines, key=lambda r: r[1].id)
            ]
            audit_step(uow, actor, st, "stock.transfer_received", [r for r in report if r])
            uow.session.flush()
            view = load_views(uow, [st.transfer])[0]
            uow.commit()
            return view

    return run_retrying(once)


def _shipped_parcels(row: TransferLine) -> list[Parcel]:
    parcels = [Parcel(int(p["quantity"]), str(p["lot"])) for p in row.lots or []]
    if row.serials:
        parcels.append(Parcel(len(row.serials), None, tuple(row.serials)))
    rest = row.quantity_shipped - sum(p.quantity for p in parcels)
    if rest > 0:
        parcels.append(Parcel(rest))
    return parcels


def _receive_line(
    uow: UnitOfWork,
    actor: Actor,
    st: Step,
    row: TransferLine,
    ref: VariantRef,
    received: int,
    parcels: list[Parcel],
) -> dict[str, Any] | None:
    """Book one line at the destination (one upsert of its level); what the audit says."""
    receipt = LineReceipt(row.quantity_shipped, received)
    row.quantity_received = received
    if not receipt.shipped and not received:
        return None
    on_hand = repo.add_to_buckets(
        uow.connection,
        variant_id=ref.id,
        location_id=st.dst.id,
        changes={"in_transit": -receipt.shipped, "on_hand": received},
    )
    for booking in receipt.bookings():
        if booking.bucket is Bucket.IN_TRANSIT:
            uow.session.add(
                st.movement(st.dst, ref, booking.bucket, booking.kind, booking.quantity, actor)
            )
    if received:
        portions = tracking.put(
            uow,
            variant=ref,
            location_id=st.dst.id,
            quantity=received,
            portions=_portions(uow, ref, row, parcels),
            context=st.context(actor, st.dst, "transferred_in"),
        )
        split = split_expected([p.quantity for p in portions], receipt.as_shipped)
        for p, (as_shipped, over) in zip(portions, split, strict=True):
            for kind, qty in ((KIND_IN, as_shipped), (KIND_OVER, over)):
                if qty:
                    move = st.movement(st.dst, ref, Bucket.ON_HAND, kind, qty, actor)
                    move.lot_id = p.lot_id
                    uow.session.add(move)
    line: dict[str, Any] = {"sku": ref.sku, "shipped": receipt.shipped, "received": received}
    if receipt.discrepancy:
        uow.session.add(
            StockException(
                variant_id=ref.id,
                location_id=st.dst.id,
                kind=EXCEPTION_KIND,
                on_hand_after=on_hand,
                reference_type=REFERENCE_TYPE,
                reference_id=st.transfer.number,
            )
        )
        line["discrepancy"] = receipt.discrepancy
        line["difference"] = receipt.difference
        missing = set(row.serials or []) - {s for p in parcels for s in p.serials}
        if missing:
            line["serials_missing"] = sorted(missing)
    return line


def _portions(
    uow: UnitOfWork, ref: VariantRef, row: TransferLine, parcels: list[Parcel]
) -> list[tracking.Portion]:
    """The tracking portions of what arrived: each lot by the id and expiry it left with."""
    codes = sorted({p.lot for p in parcels if p.lot is not None})
    lots = {
        lot.code: lot
        for lot in (
            uow.session.scalars(select(Lot).where(Lot.variant_id == ref.id, Lot.code.in_(codes)))
            if codes
            else []
        )
    }
    return [
        tracking.Portion(
            p.quantity,
            lots[p.lot].id if p.lot in lots else None,
            p.lot,
            lots[p.lot].expires_on if p.lot in lots else None,
            p.serials,
        )
        for p in parcels
    ]
