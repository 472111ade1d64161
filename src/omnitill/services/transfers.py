"""Transfers between locations: request, ship (units in transit), receive, cancel.

The rules and the ledger kinds are in domain/inventory/transfers.py. Shipping takes only free
units at the source (on_hand less reserved and unavailable: never units promised to orders),
each level by one conditional UPDATE; every level is touched in (variant id, location id)
order so concurrent writers lock rows alike. Each step claims the transfer with a conditional
UPDATE of its status, so two requests cannot ship or receive it twice, and PostgreSQL
serialization failures and deadlocks rerun the whole step (`run_retrying`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    Lot,
    StockException,
    StockMovement,
    Transfer,
    TransferLine,
    User,
    Variant,
)
from omnitill.adapters.db.repositories import transfers as repo
from omnitill.adapters.db.repositories.sequences import next_number
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
)
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.transfers import (
    KIND_IN,
    KIND_OUT,
    KIND_OVER,
    KIND_SHIPPED,
    STEP_FROM,
    STEP_TO,
    LineReceipt,
    Parcel,
    TransferStatus,
    TransferStep,
    arrived,
    check_request,
    check_step,
    receipt_quantities,
    ship_quantities,
    split_expected,
)
from omnitill.services import audit, tracking
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import LineRef, location_by_code, resolve_lines
from omnitill.services.retries import run_retrying

REFERENCE_TYPE = "transfer"
EXCEPTION_KIND = "transfer_discrepancy"


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


@dataclass(frozen=True, slots=True)
class ReceiveLineInput:
    """Units of a line that arrived; for a tracked line that arrived short or over, which
    `lots` ((code, quantity) pairs) or `serials` arrived."""

    sku: str
    quantity: int
    lots: tuple[tuple[str, int], ...] | None = None
    serials: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class LotPortionView:
    lot: str
    expires_on: date | None
    quantity: int


@dataclass(frozen=True, slots=True)
class TransferLineView:
    line_no: int
    sku: str
    name: str
    requested: int
    shipped: int
    received: int
    not_shipped: int | None  # requested - shipped, once shipped
    difference: int | None  # received - shipped, once received
    lots: tuple[LotPortionView, ...]
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiscrepancyView:
    sku: str
    shipped: int
    received: int
    difference: int
    kind: str  # short | over
    exception_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class TransferView:
    id: uuid.UUID
    number: str
    source: str
    destination: str
    status: str
    expected_on: date | None
    notes: str
    requested_by: str | None
    requested_at: datetime
    shipped_by: str | None
    shipped_at: datetime | None
    received_by: str | None
    received_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime
    lines: tuple[TransferLineView, ...]
    discrepancies: tuple[DiscrepancyView, ...]


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
            view = _views(uow, [row])[0]
            uow.commit()
            return view

    return run_retrying(once)


@dataclass(slots=True)
class _Step:
    """A transfer claimed for one step, with its two locations and its lines (line order)."""

    transfer: Transfer
    src: Location
    dst: Location
    lines: list[tuple[TransferLine, VariantRef]]
    now: datetime

    def context(self, actor: Actor, loc: Location, event: str) -> tracking.Context:
        return tracking.Context(
            actor=actor,
            event=event,
            reference_type=REFERENCE_TYPE,
            reference_id=self.transfer.number,
            now=self.now,
            today=self.now.astimezone(ZoneInfo(loc.timezone or "UTC")).date(),
        )

    def movement(
        self, loc: Location, ref: VariantRef, bucket: Bucket, kind: str, qty: int, actor: Actor
    ) -> StockMovement:
        other = self.dst if loc is self.src else self.src
        direction = "to" if loc is self.src else "from"
        return StockMovement(
            id=uuid7(),
            variant_id=ref.id,
            location_id=loc.id,
            bucket=str(bucket),
            quantity=qty,
            kind=kind,
            reason=f"transfer {self.transfer.number} {direction} {other.code}",
            reference_type=REFERENCE_TYPE,
            reference_id=self.transfer.number,
            actor_id=actor.user_id,
            created_at=self.now,
        )


def _open_step(uow: UnitOfWork, actor: Actor, number: str, step: TransferStep, *, at: str) -> _Step:
    """Load the transfer for `step` (404 unseen, 403 not at `at`, 409 wrong status)."""
    transfer = _visible(uow, actor, number)
    src = uow.session.get_one(Location, transfer.source_location_id)
    dst = uow.session.get_one(Location, transfer.destination_location_id)
    here = src if at == "source" else dst
    if step is not TransferStep.CANCEL:
        actor.require_location(here.id, here.code)
    check_step(transfer.status, step, number=number)
    rows = list(
        uow.session.scalars(
            select(TransferLine)
            .where(TransferLine.transfer_id == transfer.id)
            .order_by(TransferLine.line_no)
        )
    )
    skus = dict(
        uow.session.execute(
            select(Variant.id, Variant.sku).where(Variant.id.in_({r.variant_id for r in rows}))
        ).all()
    )
    refs = resolve_lines(uow, [LineRef(skus[r.variant_id], None) for r in rows])
    return _Step(transfer, src, dst, list(zip(rows, refs, strict=True)), utcnow())


def _claim(uow: UnitOfWork, step_of: _Step, step: TransferStep, values: dict[str, Any]) -> None:
    transfer = step_of.transfer
    if not repo.claim_transfer(
        uow.connection,
        transfer_id=transfer.id,
        from_status=STEP_FROM[step],
        to_status=STEP_TO[step],
        values=values,
    ):
        uow.session.refresh(transfer)  # lost to a concurrent step: say what it is now
        check_step(transfer.status, step, number=transfer.number)
        raise Conflict("inventory.transfer_concurrent_write", "retry the request")
    uow.session.refresh(transfer)


def ship(
    *, db: Database, actor: Actor, number: str, lines: Sequence[ShipLineInput] | None = None
) -> TransferView:
    """Send the units: source on_hand down, destination in_transit up (everything requested
    unless `lines` says less). 409 `inventory.insufficient_stock` lists every line short of
    free units and nothing is written; 409 `inventory.transfer_not_shippable`."""
    actor.require(Permission.STOCK_TRANSFER)

    def once() -> TransferView:
        with db.uow() as uow:
            st = _open_step(uow, actor, number, TransferStep.SHIP, at="source")
            plan = ship_quantities(
                {ref.sku: row.quantity_requested for row, ref in st.lines},
                None if lines is None else [(line.sku, line.quantity) for line in lines],
            )
            asked = {line.sku: (i, line) for i, line in enumerate(lines or ())}
            where = {
                ref.sku: asked.get(ref.sku, (n, None))[0] for n, (_, ref) in enumerate(st.lines)
            }
            _claim(
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
            _audit(
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
            view = _views(uow, [st.transfer])[0]
            uow.commit()
            return view

    return run_retrying(once)


def _move_levels_for_shipping(
    uow: UnitOfWork, st: _Step, plan: dict[str, int], where: dict[str, int]
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


def receive(
    *, db: Database, actor: Actor, number: str, lines: Sequence[ReceiveLineInput] | None = None
) -> TransferView:
    """Book what arrived at the destination: in_transit cleared of everything shipped,
    on_hand up by what arrived. A line short or over is booked as counted and opened as a
    `transfer_discrepancy` stock exception. 409 `inventory.transfer_not_receivable`."""
    actor.require(Permission.STOCK_TRANSFER)

    def once() -> TransferView:
        with db.uow() as uow:
            st = _open_step(uow, actor, number, TransferStep.RECEIVE, at="destination")
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
            _claim(
                uow,
                st,
                TransferStep.RECEIVE,
                {"received_at": st.now, "received_by_id": actor.user_id},
            )
            report = [
                _receive_line(uow, actor, st, row, ref, plan[ref.sku], parcels[ref.sku])
                for row, ref in sorted(st.lines, key=lambda r: r[1].id)
            ]
            _audit(uow, actor, st, "stock.transfer_received", [r for r in report if r])
            uow.session.flush()
            view = _views(uow, [st.transfer])[0]
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
    st: _Step,
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


def cancel(*, db: Database, actor: Actor, number: str) -> TransferView:
    """Withdraw a requested transfer (nothing had moved). 409
    `inventory.transfer_not_cancellable` once shipped."""
    actor.require(Permission.STOCK_TRANSFER)

    def once() -> TransferView:
        with db.uow() as uow:
            st = _open_step(uow, actor, number, TransferStep.CANCEL, at="either")
            _claim(uow, st, TransferStep.CANCEL, {"cancelled_at": st.now})
            _audit(uow, actor, st, "stock.transfer_cancelled", [])
            view = _views(uow, [st.transfer])[0]
            uow.commit()
            return view

    return run_retrying(once)


def _audit(
    uow: UnitOfWork, actor: Actor, st: _Step, action: str, lines: list[dict[str, Any]]
) -> None:
    audit.record(
        uow,
        action=action,
        actor=actor,
        subject_type="transfer",
        subject_id=st.transfer.number,
        details={"source": st.src.code, "destination": st.dst.code, "lines": lines},
    )


def get(*, db: Database, actor: Actor, number: str) -> TransferView:
    """One transfer with its lines, who did each step and when, and its discrepancies."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        return _views(uow, [_visible(uow, actor, number)])[0]


def find(
    *,
    db: Database,
    actor: Actor,
    status: str | None = None,
    source: str | None = None,
    destination: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[TransferView], str | None]:
    """Transfers touching the actor's locations, newest first, filtered; one page."""
    actor.require(Permission.STOCK_READ)
    page = clamp_limit(limit)
    after = decode_cursor(cursor)
    check_status_filter(status, TransferStatus, "inventory.transfer_invalid_status")
    with db.uow(write=False) as uow:
        stmt = select(Transfer).order_by(Transfer.id.desc()).limit(page + 1)
        if status is not None:
            stmt = stmt.where(Transfer.status == status)
        if source is not None:
            src = location_by_code(uow, source, field="source")
            stmt = stmt.where(Transfer.source_location_id == src.id)
        if destination is not None:
            dst = location_by_code(uow, destination, field="destination")
            stmt = stmt.where(Transfer.destination_location_id == dst.id)
        if actor.location_ids is not None:
            stmt = stmt.where(
                or_(
                    Transfer.source_location_id.in_(actor.location_ids),
                    Transfer.destination_location_id.in_(actor.location_ids),
                )
            )
        if after is not None:
            stmt = stmt.where(Transfer.id < cursor_uuid(after))
        rows = list(uow.session.scalars(stmt))
        items = _views(uow, rows[:page])
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def _visible(uow: UnitOfWork, actor: Actor, number: str) -> Transfer:
    transfer = uow.session.scalars(select(Transfer).where(Transfer.number == number)).one_or_none()
    if transfer is None or not (
        actor.may_access(transfer.source_location_id)
        or actor.may_access(transfer.destination_location_id)
    ):
        raise NotFound("inventory.transfer_not_found", f"no transfer {number}", {"number": number})
    return transfer


def _views(uow: UnitOfWork, transfers: list[Transfer]) -> list[TransferView]:
    if not transfers:
        return []
    ids = [t.id for t in transfers]
    lines: dict[uuid.UUID, list[tuple[TransferLine, str, str]]] = {tid: [] for tid in ids}
    for row, sku, name in uow.session.execute(
        select(TransferLine, Variant.sku, Variant.name)
        .join(Variant, Variant.id == TransferLine.variant_id)
        .where(TransferLine.transfer_id.in_(ids))
        .order_by(TransferLine.line_no)
    ):
        lines[row.transfer_id].append((row, sku, name))
    location_ids = {t.source_location_id for t in transfers} | {
        t.destination_location_id for t in transfers
    }
    codes = dict(
        uow.session.execute(
            select(Location.id, Location.code).where(Location.id.in_(location_ids))
        ).all()
    )
    user_ids = {
        u
        for t in transfers
        for u in (t.requested_by_id, t.shipped_by_id, t.received_by_id)
        if u is not None
    }
    names = (
        dict(uow.session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    exceptions = {
        (e.reference_id, e.variant_id): e.id
        for e in uow.session.scalars(
            select(StockException).where(
                StockException.reference_type == REFERENCE_TYPE,
                StockException.reference_id.in_([t.number for t in transfers]),
            )
        )
    }
    return [_view(t, lines[t.id], codes, names, exceptions) for t in transfers]


def _view(
    t: Transfer,
    rows: list[tuple[TransferLine, str, str]],
    codes: dict[uuid.UUID, str],
    names: dict[uuid.UUID, str],
    exceptions: dict[tuple[str | None, uuid.UUID], uuid.UUID],
) -> TransferView:
    shipped = t.shipped_at is not None
    received = t.status == TransferStatus.RECEIVED
    line_views = tuple(
        TransferLineView(
            line_no=row.line_no,
            sku=sku,
            name=name,
            requested=row.quantity_requested,
            shipped=row.quantity_shipped,
            received=row.quantity_received,
            not_shipped=row.quantity_requested - row.quantity_shipped if shipped else None,
            difference=row.quantity_received - row.quantity_shipped if received else None,
            lots=tuple(
                LotPortionView(
                    str(p["lot"]),
                    date.fromisoformat(p["expires_on"]) if p.get("expires_on") else None,
                    int(p["quantity"]),
                )
                for p in row.lots or []
            ),
            serials=tuple(row.serials or ()),
        )
        for row, sku, name in rows
    )
    discrepancies = tuple(
        DiscrepancyView(
            sku=line.sku,
            shipped=line.shipped,
            received=line.received,
            difference=line.received - line.shipped,
            kind="short" if line.received < line.shipped else "over",
            exception_id=exceptions.get((t.number, row.variant_id)),
        )
        for line, (row, _, _) in zip(line_views, rows, strict=True)
        if received and line.received != line.shipped
    )
    return TransferView(
        id=t.id,
        number=t.number,
        source=codes[t.source_location_id],
        destination=codes[t.destination_location_id],
        status=t.status,
        expected_on=t.expected_on,
        notes=t.notes,
        requested_by=names.get(t.requested_by_id) if t.requested_by_id else None,
        requested_at=t.created_at,
        shipped_by=names.get(t.shipped_by_id) if t.shipped_by_id else None,
        shipped_at=t.shipped_at,
        received_by=names.get(t.received_by_id) if t.received_by_id else None,
        received_at=t.received_at,
        cancelled_at=t.cancelled_at,
        updated_at=t.updated_at,
        lines=line_views,
        discrepancies=discrepancies,
    )
