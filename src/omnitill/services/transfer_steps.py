"""One step of a transfer (ship, receive, cancel) inside its unit of work: the transfer loaded
with its two locations and its lines, claimed for the step by a conditional UPDATE of its
status, the stock movements and tracking context the step writes, and its audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Location,
    StockMovement,
    Transfer,
    TransferLine,
    Variant,
)
from omnitill.adapters.db.repositories import transfers as repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import Conflict
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import Bucket
from omnitill.domain.inventory.transfers import (
    STEP_FROM,
    STEP_TO,
    TransferStep,
    check_step,
)
from omnitill.services import audit, tracking
from omnitill.services.references import LineRef, resolve_lines
from omnitill.services.transfer_views import REFERENCE_TYPE, visible_transfer


@dataclass(slots=True)
class Step:
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


def open_step(uow: UnitOfWork, actor: Actor, number: str, step: TransferStep, *, at: str) -> Step:
    """Load the transfer for `step` (404 unseen, 403 not at `at`, 409 wrong status)."""
    transfer = visible_transfer(uow, actor, number)
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
    return Step(transfer, src, dst, list(zip(rows, refs, strict=True)), utcnow())


def claim_step(uow: UnitOfWork, step_of: Step, step: TransferStep, values: dict[str, Any]) -> None:
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


def audit_step(
    uow: UnitOfWork, actor: Actor, st: Step, action: str, lines: list[dict[str, Any]]
) -> None:
    audit.record(
        uow,
        action=action,
        actor=actor,
        subject_type="transfer",
        subject_id=st.transfer.number,
        details={"source": st.src.code, "destination": st.dst.code, "lines": lines},
    )
