"""Reading transfers back: the views the API answers with (lines with their lots and serials,
and each discrepancy with the stock exception opened for it), `get` and `find`, and the
lookup of a transfer the actor may see from either of its two locations.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    StockException,
    Transfer,
    TransferLine,
    User,
    Variant,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import NotFound
from omnitill.domain.inventory.transfers import TransferStatus
from omnitill.services.pagination import (
    check_status_filter,
    clamp_limit,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from omnitill.services.references import location_by_code

REFERENCE_TYPE = "transfer"


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


def get(*, db: Database, actor: Actor, number: str) -> TransferView:
    """One transfer with its lines, who did each step and when, and its discrepancies."""
    actor.require(Permission.STOCK_READ)
    with db.uow(write=False) as uow:
        return load_views(uow, [visible_transfer(uow, actor, number)])[0]


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
        items = load_views(uow, rows[:page])
    more = len(rows) > page
    return items, encode_cursor({"id": str(items[-1].id)}) if more else None


def visible_transfer(uow: UnitOfWork, actor: Actor, number: str) -> Transfer:
    transfer = uow.session.scalars(select(Transfer).where(Transfer.number == number)).one_or_none()
    if transfer is None or not (
        actor.may_access(transfer.source_location_id)
        or actor.may_access(transfer.destination_location_id)
    ):
        raise NotFound("inventory.transfer_not_found", f"no transfer {number}", {"number": number})
    return transfer


def load_views(uow: UnitOfWork, transfers: list[Transfer]) -> list[TransferView]:
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
