"""Transfers between locations: request, ship (units in transit), receive, cancel.

The rules and the ledger kinds are in domain/inventory/transfers.py. Shipping takes only free
units at the source (on_hand less reserved and unavailable: never units promised to orders),
each level by one conditional UPDATE; every level is touched in (variant id, location id)
order so concurrent writers lock rows alike. Each step claims the transfer with a conditional
UPDATE of its status, so two requests cannot ship or receive it twice, and PostgreSQL
serialization failures and deadlocks rerun the whole step (`run_retrying`).

The read side is services/transfer_views.py, the step machinery (load, claim, movements,
audit) services/transfer_steps.py, and receiving services/transfer_receipts.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Transfer, TransferLine
from omnitill.adapters.db.repositories import transfers as repo
from omnitill.adapters.db.repositories.sequences import next_number
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict, FieldError, PermissionDenied
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.transfers import (
    KIND_OUT,
    KIND_SHIPPED,
    TransferStatus,
    TransferStep,
    check_request,
    ship_quantities,
)
from omnitill.services import tracking
from omnitill.services.references import LineRef, location_by_code, resolve_lines
from omnitill.services.retries import run_retrying
from omnitill.services.transfer_receipts import ReceiveLineInput, receive
from omnitill.services.transfer_steps import Step, audit_step, claim_step, open_step
from omnitill.services.transfer_views import TransferView, find, get, load_views

__all__ = [
    "ReceiveLineInput",
    "ShipLineInput",
    "TransferLineInput",
    "TransferRequest",
    "TransferView",
    "cancel",
    "find",
    "get",
    "receive",
    "request",
    "ship",
]


@dataclass(frozen=True, slots=True)
class TransferLineInput:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class TransferRequest:
    source: str
    destination: str
    lines: tuple[TransferLineInput, ...]
    expected_on: date | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class ShipLineInput:
    """Units of a line to ship; `lot` (else first expired first out) and `serials` for
    tracked variants."""

    sku: str
    quantity: int
    lot: str | None = None
    serials: tuple[str, ...] = ()


def request(*, db: Database, actor: Actor, transfer: TransferRequest) -> TransferView:
    """Ask for units to move from one location to another; nothing moves yet.

    Needs `stock.transfer` at the source or the destination. 422
    `inventory.transfer_same_location`, `inventory.invalid_quantity`,
    `inventory.transfer_duplicate_sku`, `catalog.unknown_sku`, `location.not_found`.
    """
    actor.require(Permission.STOCK_TRANSFER)
    check_request(
        source=transfer.source,
        destination=transfer.destination,
        lines=[(line.sku, line.quantity) for line in transfer.lines],
    )

    def once() -> TransferView:
        with db.uow() as uow:
            src = location_by_code(uow, transfer.source, field="source")
            dst = location_by_code(uow, transfer.destination, field="destination")
            if not (actor.may_access(src.id) or actor.may_access(dst.id)):
                raise PermissionDenied(
                    "auth.location_forbidden",
                    f"you are assigned to neither {src.code} nor {dst.code}",
                    {"source": src.code, "destination": dst.code},
                )
            refs = resolve_lines(uow, [LineRef(line.sku, None) for line in transfer.lines])
            row = Transfer(
                id=uuid7(),
                number=next_number(uow.connection, "transfer", "TR"),
                source_location_id=src.id,
                destination_location_id=dst.id,
                status=TransferStatus.REQUESTED,
                expected_on=transfer.expected_on,
                notes=transfer.notes.strip(),
                requested_by_id=actor.user_id,
            )
            uow.session.add(row)
            uow.session.flush()
            for n, (ref, line) in enumerate(zip(refs, transfer.lines, strict=True), start=1):
                uow.session.add(
                    TransferLine(
                        transfer_id=row.id,
                        line_no=n,
                        variant_id=ref.id,
                        quantity_requested=line.quantity,
                    )
                )
            uow.session.flush()
            view = load_views(uow, [row])[0]
            uow.commit()
            return view

    return run_retrying(once)


def ship(
    *, db: Database, actor: Actor, number: str, lines: Sequence[ShipLineInput] | None = None
) -> TransferView:
    """Send the units: source on_hand down, destination in_transit up (everything requested
    unless `lines` says less). 409 `inventory.insufficient_stock` lists every line short of
    free units and nothing is written; 409 `inventory.transfer_not_shippable`."""
    actor.require(Permission.STOCK_TRANSFER)

    def once() -> TransferView:
        with db.uow() as uow:
            st = open_step(uow, actor, number, TransferStep.SHIP, at="source")
            plan = ship_quantities(
                {ref.sku: row.quantity_requested for row, ref in st.lines},
                None if lines is None else [(line.sku, line.quantity) for line in lines],
            )
            asked = {line.sku: (i, line) for i, line in enumerate(lines or ())}
            where = {
                ref.sku: asked.get(ref.sku, (n, None))[0] for n, (_, ref) in enumerate(st.lines)
            }
            claim_step(
                uow, st, TransferStep.SHIP, {"shipped_at": st.now, "shipped_by_id": actor.user_id}
            )
            _move_levels_for_shipping(uow, st, plan, where)
            context = st.context(actor, st.src, "transferred_out")
            for row, ref in sorted(st.lines, key=lambda r: r[1].id):
                qty = plan[ref.sku]
                if not qty:
                    continue
                line = asked.get(ref.sku, (0, None))[1]
                portions = tracking.take(
                    uow,
                    variant=ref,
                    location_id=st.src.id,
                    quantity=qty,
                    tracked=tracking.Tracked(
                        lot=tracking.LotInput(line.lot) if line and line.lot else None,
                        serials=line.serials if line else (),
                    ),
                    serial_status="in_transit",
                    context=context,
                    field_prefix=f"lines.{where[ref.sku]}",
                )
                row.quantity_shipped = qty
                row.lots = [
                    {
                        "lot": p.lot_code,
                        "expires_on": p.expires_on.isoformat() if p.expires_on else None,
                        "quantity": p.quantity,
                    }
                    for p in portions
                    if p.lot_code is not None
                ]
                row.serials = [s for p in portions for s in p.serials]
                for p in portions:
                    out = st.movement(st.src, ref, Bucket.ON_HAND, KIND_OUT, -p.quantity, actor)
                    out.lot_id = p.lot_id
                    uow.session.add(out)
                uow.session.add(
                    st.movement(st.dst, ref, Bucket.IN_TRANSIT, KIND_SHIPPED, qty, actor)
                )
            audit_step(
                uow,
                actor,
                st,
                "stock.transfer_shipped",
                [
                    {"sku": ref.sku, "requested": row.quantity_requested, "shipped": plan[ref.sku]}
                    for row, ref in st.lines
                ],
            )
            uow.session.flush()
            view = load_views(uow, [st.transfer])[0]
            uow.commit()
            return view

    return run_retrying(once)


def _move_levels_for_shipping(
    uow: UnitOfWork, st: Step, plan: dict[str, int], where: dict[str, int]
) -> None:
    """Source on_hand down only from free units, destination in_transit up; every level in
    (variant id, location id) order. All short lines are listed, and nothing is kept."""
    conn = uow.connection
    short: list[tuple[VariantRef, int]] = []
    for _, ref in sorted(st.lines, key=lambda r: r[1].id):
        qty = plan[ref.sku]
        if not qty:
            continue
        for loc in sorted((st.src, st.dst), key=lambda loc: loc.id):
            if loc is st.src:
                taken = repo.take_free(conn, variant_id=ref.id, location_id=loc.id, quantity=qty)
                if taken is None:
                    short.append((ref, qty))
            else:
                repo.add_to_buckets(
                    conn, variant_id=ref.id, location_id=loc.id, changes={"in_transit": qty}
                )
    if not short:
        return
    free = {
        ref.sku: repo.free_now(conn, variant_id=ref.id, location_id=st.src.id) for ref, _ in short
    }
    raise Conflict(
        "inventory.insufficient_stock",
        f"{st.src.code} has too few free units for every line; nothing was shipped",
        {
            "location": st.src.code,
            "lines": [
                {"sku": ref.sku, "requested": qty, "free": free[ref.sku]} for ref, qty in short
            ],
        },
        errors=[
            FieldError(
                f"lines.{where[ref.sku]}.quantity",
                "inventory.insufficient_stock",
                f"{ref.sku}: {qty} to ship, {free[ref.sku]} free",
            )
            for ref, qty in short
        ],
    )


def cancel(*, db: Database, actor: Actor, number: str) -> TransferView:
    """Withdraw a requested transfer (nothing had moved). 409
    `inventory.transfer_not_cancellable` once shipped."""
    actor.require(Permission.STOCK_TRANSFER)

    def once() -> TransferView:
        with db.uow() as uow:
            st = open_step(uow, actor, number, TransferStep.CANCEL, at="either")
            claim_step(uow, st, TransferStep.CANCEL, {"cancelled_at": st.now})
            audit_step(uow, actor, st, "stock.transfer_cancelled", [])
            view = load_views(uow, [st.transfer])[0]
            uow.commit()
            return view

    return run_retrying(once)
