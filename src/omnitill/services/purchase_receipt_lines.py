"""The lines of a delivery against a purchase order, while they are booked: each matched to
the order line it names (by SKU or line number), authorised when it comes over what the line
still expects, its lot and serials put into tracking, and booked on the stock level (on_hand
up, incoming down, one upsert) with its movements and the PO line's received quantity.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import PurchaseOrder, PurchaseOrderLine, Variant
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import purchasing as purchasing_repo
from omnitill.adapters.db.repositories.purchasing import LevelChange
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.inventory.buckets import Bucket
from omnitill.services import tracking
from omnitill.services.auth import Authorisation, authorise
from omnitill.services.purchasing import REFERENCE_TYPE, po_movement


@dataclass(frozen=True, slots=True)
class ReceiptLineInput:
    """A delivered line, naming the PO line by SKU or by line number."""

    quantity: int
    sku: str | None = None
    line_no: int | None = None
    lot: tracking.LotInput | None = None
    serials: tuple[str, ...] = ()


@dataclass(slots=True)
class Booking:
    """One receipt line while it is being booked."""

    index: int
    line: PurchaseOrderLine
    ref: VariantRef
    request: ReceiptLineInput
    released: int = 0
    over: int = 0
    share: int = 0
    landed_unit: int = 0
    portions: list[tracking.Portion] = field(default_factory=list)


def match_lines(
    uow: UnitOfWork,
    lines: Sequence[PurchaseOrderLine],
    requested: Sequence[ReceiptLineInput],
) -> list[Booking]:
    """The PO line each receipt line names (by line number or SKU); 422 listing every line
    that names none."""
    by_no = {line.line_no: line for line in lines}
    skus = dict(
        uow.session.execute(
            select(Variant.id, Variant.sku).where(Variant.id.in_([ln.variant_id for ln in lines]))
        ).all()
    )
    by_sku = {skus[line.variant_id]: line for line in lines}
    wanted = {r.sku for r in requested if r.sku is not None} | set(skus.values())
    refs, _ = catalog_repo.variant_refs(uow.connection, skus=wanted)
    errors: list[FieldError] = []
    bookings: list[Booking] = []
    for i, req in enumerate(requested):
        at = f"lines.{i}"
        line: PurchaseOrderLine | None = None
        if req.sku is None and req.line_no is None:
            errors.append(
                FieldError(at, "purchasing.line_needs_sku_or_line_no", "give sku or line_no")
            )
            continue
        if req.line_no is not None:
            line = by_no.get(req.line_no)
            if line is None:
                errors.append(
                    FieldError(f"{at}.line_no", "purchasing.unknown_line", f"no line {req.line_no}")
                )
                continue
        if req.sku is not None:
            if req.sku not in refs:
                errors.append(
                    FieldError(f"{at}.sku", "catalog.unknown_sku", f"no variant {req.sku!r}")
                )
                continue
            named = by_sku.get(req.sku)
            if named is None or (line is not None and named is not line):
                errors.append(
                    FieldError(
                        f"{at}.sku",
                        "purchasing.sku_not_on_order",
                        f"{req.sku} is not on "
                        + ("this order" if line is None else f"line {req.line_no}"),
                    )
                )
                continue
            line = named
        assert line is not None
        bookings.append(Booking(i, line, refs[skus[line.variant_id]], req))
    if errors:
        raise ValidationFailed(
            errors[0].code, "some receipt lines name no line of the order", errors=errors
        )
    return bookings


def authorise_over_receipt(
    uow: UnitOfWork,
    actor: Actor,
    po: PurchaseOrder,
    bookings: Sequence[Booking],
    override_token: str | None,
) -> Authorisation | None:
    """Receiving past what a line still expects needs `stock.over_receive` or a manager
    override (spent here, in this transaction); without either, 422 naming each line."""
    over = [b for b in bookings if b.over > 0]
    if not over:
        return None
    if not actor.can(Permission.STOCK_OVER_RECEIVE) and not override_token:
        raise ValidationFailed(
            "purchasing.over_receipt",
            "more units than the order still expects; receiving them needs the "
            "stock.over_receive permission or a manager override",
            {
                "lines": [
                    {
                        "line_no": b.line.line_no,
                        "sku": b.ref.sku,
                        "quantity": b.request.quantity,
                        "expected": b.released,
                        "over": b.over,
                    }
                    for b in over
                ]
            },
            errors=[
                FieldError(
                    f"lines.{b.index}.quantity",
                    "purchasing.over_receipt",
                    f"{b.over} over the {b.released} still expected of {b.ref.sku}",
                )
                for b in over
            ],
        )
    return authorise(
        uow,
        actor=actor,
        permission=Permission.STOCK_OVER_RECEIVE,
        override_token=override_token,
        used_for=f"purchasing.over_receipt:{po.number}",
    )


def put_tracked(
    uow: UnitOfWork,
    po: PurchaseOrder,
    actor: Actor,
    bookings: Sequence[Booking],
    *,
    now: datetime,
    today: date,
) -> None:
    """The lot and serials of each line (variant id order), and the portions they came in."""
    context = tracking.Context(
        actor=actor,
        event="received",
        reference_type=REFERENCE_TYPE,
        reference_id=po.number,
        now=now,
        today=today,
    )
    for b in sorted(bookings, key=lambda b: (b.ref.id, b.index)):
        b.portions = tracking.put(
            uow,
            variant=b.ref,
            location_id=po.location_id,
            quantity=b.request.quantity,
            tracked=_tracked(b.request),
            context=context,
            field_prefix=f"lines.{b.index}",
        )


def _tracked(req: ReceiptLineInput) -> tracking.Tracked | None:
    if req.lot is None and not req.serials:
        return None
    return tracking.Tracked(lot=req.lot, serials=req.serials)


def book_levels(
    uow: UnitOfWork,
    po: PurchaseOrder,
    actor: Actor,
    bookings: Sequence[Booking],
    now: datetime,
    reference: str | None,
) -> None:
    """on_hand up by what came, incoming down by what was expected, in one upsert; the
    movements that say so; and each PO line's received quantity."""
    changes: dict[uuid.UUID, LevelChange] = {}
    for b in bookings:
        before = changes.get(b.ref.id, LevelChange())
        changes[b.ref.id] = LevelChange(
            on_hand=before.on_hand + b.request.quantity, incoming=before.incoming - b.released
        )
        b.line.quantity_received += b.request.quantity
    purchasing_repo.add_to_levels(uow.connection, location_id=po.location_id, changes=changes)
    reason = f"delivery {reference}" if reference else "delivery"
    for b in sorted(bookings, key=lambda b: (b.ref.id, b.index)):
        for portion in b.portions:
            uow.session.add(
                po_movement(
                    po,
                    actor,
                    b.ref.id,
                    Bucket.ON_HAND,
                    portion.quantity,
                    "receive",
                    now,
                    lot_id=portion.lot_id,
                    unit_cost=b.landed_unit,
                    reason=reason,
                )
            )
        if b.released:
            uow.session.add(
                po_movement(
                    po,
                    actor,
                    b.ref.id,
                    Bucket.INCOMING,
                    -b.released,
                    "po_received",
                    now,
                    reason=reason,
                )
            )
