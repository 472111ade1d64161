"""Receiving a delivery against a purchase order, with landed cost and moving-average cost.

Per receipt line: on_hand rises by the quantity (a `receive` movement per lot portion, with
the landed unit cost in the order's currency), incoming falls by what the line still
expected (a `po_received` movement), and the PO line's received quantity grows; the order
becomes partially_received or received. Units past what a line still expects are an
over-receipt: they need `stock.over_receive` or a manager override.

Landed costs (freight, duty, other) are spread over the receipt's lines by value (largest
remainder, so they sum exactly) and raise each line's unit cost; the variant's
moving-average cost (`variants.cost_minor`, for margin reports) then takes the landed cost
in, converted to the variant's currency at the latest exchange rate when the order is in
another (and left alone, saying so, when there is no rate).

The order row is locked first, then the variant rows (id order), then the stock levels
(variant id order): two receipts against one line cannot both pass the remaining check, and
two receipts of one variant cannot lose a cost update.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    Variant,
)
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import purchasing as purchasing_repo
from omnitill.adapters.db.repositories.purchasing import LevelChange
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.purchasing import (
    POAction,
    allocate_landed_cost,
    check_action,
    check_receipt_request,
    convert_cost,
    landed_unit_cost,
    moving_average_cost,
    receive_lines,
    status_after_receipt,
)
from omnitill.services import audit, events, tracking
from omnitill.services.auth import Authorisation, authorise
from omnitill.services.purchasing import (
    REFERENCE_TYPE,
    business_date,
    lock_order,
    order_lines,
    po_movement,
)
from omnitill.services.retries import run_retrying


@dataclass(frozen=True, slots=True)
class ReceiptLineInput:
    """A delivered line, naming the PO line by SKU or by line number."""

    quantity: int
    sku: str | None = None
    line_no: int | None = None
    lot: tracking.LotInput | None = None
    serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiptInput:
    lines: tuple[ReceiptLineInput, ...]
    landed_costs: tuple[tuple[str, int], ...] = ()  # (kind, amount in the PO currency)
    reference: str | None = None  # the supplier's delivery note


@dataclass(frozen=True, slots=True)
class ReceivedLine:
    """One receipt line as booked: its share of the landed costs, the landed unit cost, how
    much left incoming and how much came over what was expected."""

    line_no: int
    sku: str
    quantity: int
    unit_cost: int
    landed_cost_share: int
    landed_unit_cost: int
    incoming_released: int
    over_received: int
    lot: str | None
    serials: tuple[str, ...]


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


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    id: uuid.UUID
    purchase_order: str
    status: str
    location: str
    currency: str
    reference: str | None
    landed_cost: int
    lines: tuple[ReceivedLine, ...]
    costs: tuple[CostUpdate, ...]
    created_at: datetime
    authorisation: dict[str, str] | None = None

    @property
    def cost_updated(self) -> bool:
        return all(c.updated for c in self.costs)


def receive(
    *,
    db: Database,
    actor: Actor,
    number: str,
    request: ReceiptInput,
    override_token: str | None = None,
) -> ReceiptResult:
    """Book a delivery in against a purchase order (see the module docstring).

    403 for a location the actor may not act at; 409 `purchasing.not_receivable` on a draft,
    cancelled or closed order, `purchasing.receipt_reference_used` for a delivery note
    already booked on this order; 422 `purchasing.over_receipt` naming each
    `lines.N.quantity` past what is still expected, unless the actor holds
    `stock.over_receive` or sends a manager override; `catalog.unknown_sku`,
    `purchasing.sku_not_on_order`, `purchasing.unknown_line` naming the line.
    """
    actor.require(Permission.STOCK_RECEIVE)
    check_receipt_request(
        quantities=[line.quantity for line in request.lines], landed_costs=request.landed_costs
    )
    reference = (request.reference or "").strip() or None
    return run_retrying(
        lambda: _receive_once(
            db=db,
            actor=actor,
            number=number,
            request=request,
            reference=reference,
            override_token=override_token,
        )
    )


@dataclass(slots=True)
class _Booking:
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


def _receive_once(
    *,
    db: Database,
    actor: Actor,
    number: str,
    request: ReceiptInput,
    reference: str | None,
    override_token: str | None,
) -> ReceiptResult:
    with db.uow() as uow:
        po = lock_order(uow, actor, number)
        check_action(po.status, POAction.RECEIVE)
        loc = uow.session.get_one(Location, po.location_id)
        if reference is not None:
            _refuse_reused_reference(uow, po, reference)
        lines = order_lines(uow, po)
        bookings = _match_lines(uow, lines, request.lines)
        splits = receive_lines(
            {line.id: (line.quantity_ordered, line.quantity_received) for line in lines},
            [(b.line.id, b.request.quantity) for b in bookings],
        )
        for b, split in zip(bookings, splits, strict=True):
            b.released, b.over = split.released, split.over
        authorisation = _authorise_over_receipt(uow, actor, po, bookings, override_token)
        landed_total = sum(amount for _, amount in request.landed_costs)
        _spread_landed_cost(bookings, landed_total)
        now = utcnow()
        today = business_date(now, loc)
        # Variant rows first (id order), then what they hold: the cost is read under the lock
        # it is written under, and the on_hand total before this receipt changes it.
        variant_costs = purchasing_repo.lock_variant_costs(
            uow.connection, [b.ref.id for b in bookings]
        )
        totals_before = purchasing_repo.on_hand_totals(uow.connection, [b.ref.id for b in bookings])
        _put_tracked(uow, po, actor, bookings, now=now, today=today)
        _book_levels(uow, po, actor, bookings, now, reference)
        receipt = _store_receipt(uow, po, actor, bookings, landed_total, reference, now)
        po.status = status_after_receipt(
            [(line.quantity_ordered, line.quantity_received) for line in lines]
        ).value
        po.updated_at = now
        costs = _update_costs(uow, po, bookings, variant_costs, totals_before, today)
        result = ReceiptResult(
            id=receipt.id,
            purchase_order=po.number,
            status=po.status,
            location=loc.code,
            currency=po.currency,
            reference=reference,
            landed_cost=landed_total,
            lines=tuple(_received_line(b) for b in bookings),
            costs=tuple(costs),
            created_at=now,
            authorisation=authorisation.as_details() if authorisation else None,
        )
        _record_receipt(uow, actor, result, request)
        uow.commit()
        return result


def _spread_landed_cost(bookings: Sequence[_Booking], total: int) -> None:
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


def _put_tracked(
    uow: UnitOfWork,
    po: PurchaseOrder,
    actor: Actor,
    bookings: Sequence[_Booking],
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


def _refuse_reused_reference(uow: UnitOfWork, po: PurchaseOrder, reference: str) -> None:
    """A delivery note booked twice on one order is a double count, not a second delivery."""
    existing = uow.session.scalar(
        select(GoodsReceipt.id).where(
            GoodsReceipt.purchase_order_id == po.id, GoodsReceipt.reference == reference
        )
    )
    if existing is not None:
        raise Conflict(
            "purchasing.receipt_reference_used",
            f"delivery {reference!r} is already booked on {po.number}",
            {"reference": reference, "receipt": str(existing)},
            errors=[FieldError("reference", "purchasing.receipt_reference_used", "booked")],
        )


def _match_lines(
    uow: UnitOfWork,
    lines: Sequence[PurchaseOrderLine],
    requested: Sequence[ReceiptLineInput],
) -> list[_Booking]:
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
    bookings: list[_Booking] = []
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
        bookings.append(_Booking(i, line, refs[skus[line.variant_id]], req))
    if errors:
        raise ValidationFailed(
            errors[0].code, "some receipt lines name no line of the order", errors=errors
        )
    return bookings


def _authorise_over_receipt(
    uow: UnitOfWork,
    actor: Actor,
    po: PurchaseOrder,
    bookings: Sequence[_Booking],
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


def _tracked(req: ReceiptLineInput) -> tracking.Tracked | None:
    if req.lot is None and not req.serials:
        return None
    return tracking.Tracked(lot=req.lot, serials=req.serials)


def _book_levels(
    uow: UnitOfWork,
    po: PurchaseOrder,
    actor: Actor,
    bookings: Sequence[_Booking],
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


def _store_receipt(
    uow: UnitOfWork,
    po: PurchaseOrder,
    actor: Actor,
    bookings: Sequence[_Booking],
    landed_total: int,
    reference: str | None,
    now: datetime,
) -> GoodsReceipt:
    receipt = GoodsReceipt(
        id=uuid7(),
        purchase_order_id=po.id,
        location_id=po.location_id,
        currency=po.currency,
        landed_cost_minor=landed_total,
        reference=reference,
        actor_id=actor.user_id,
        created_at=now,
    )
    uow.session.add(receipt)
    uow.session.flush()
    for b in bookings:
        lot_id = next((p.lot_id for p in b.portions if p.lot_id is not None), None)
        serials = [s for p in b.portions for s in p.serials] or list(b.request.serials)
        uow.session.add(
            GoodsReceiptLine(
                id=uuid7(),
                goods_receipt_id=receipt.id,
                purchase_order_line_id=b.line.id,
                variant_id=b.ref.id,
                quantity=b.request.quantity,
                unit_cost_minor=b.line.unit_cost_minor,
                landed_unit_cost_minor=b.landed_unit,
                lot_id=lot_id,
                serials=serials,
            )
        )
    return receipt


def _update_costs(
    uow: UnitOfWork,
    po: PurchaseOrder,
    bookings: Sequence[_Booking],
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


def _received_line(b: _Booking) -> ReceivedLine:
    lot = next((p.lot_code for p in b.portions if p.lot_code is not None), None)
    serials = tuple(s for p in b.portions for s in p.serials) or b.request.serials
    return ReceivedLine(
        line_no=b.line.line_no,
        sku=b.ref.sku,
        quantity=b.request.quantity,
        unit_cost=b.line.unit_cost_minor,
        landed_cost_share=b.share,
        landed_unit_cost=b.landed_unit,
        incoming_released=b.released,
        over_received=b.over,
        lot=lot if lot is not None else (b.request.lot.code if b.request.lot else None),
        serials=serials,
    )


def _record_receipt(
    uow: UnitOfWork, actor: Actor, result: ReceiptResult, request: ReceiptInput
) -> None:
    details: dict[str, Any] = {
        "receipt": str(result.id),
        "location": result.location,
        "reference": result.reference,
        "status": result.status,
        "landed_costs": [{"kind": k, "amount": a} for k, a in request.landed_costs],
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "quantity": line.quantity,
                "landed_unit_cost": line.landed_unit_cost,
                "over_received": line.over_received,
            }
            for line in result.lines
        ],
        "costs": [
            {"sku": c.sku, "from": c.previous_cost, "to": c.cost, "updated": c.updated}
            for c in result.costs
        ],
    }
    if result.authorisation is not None:
        details.update(result.authorisation)
    audit.record(
        uow,
        action="purchase_order.received",
        actor=actor,
        subject_type="purchase_order",
        subject_id=result.purchase_order,
        details=details,
    )
    events.emit(
        uow,
        topic="goods_receipt.created",
        aggregate_type="purchase_order",
        aggregate_id=result.purchase_order,
        payload={
            "receipt": str(result.id),
            "purchase_order": result.purchase_order,
            "status": result.status,
            "location": result.location,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in result.lines],
        },
    )
