"""Closing stock exceptions: a manager resolves what a sale past zero opened.

A register sale of goods the customer holds is always recorded, even when the system shows
no stock; on-hand then goes negative and an exception is opened (DESIGN invariant 2). A
manager closes it in one of two ways:

- **by count**: someone counted the shelf; on-hand is set to the count by a `count`
  movement of the difference, in the ledger like every other change;
- **acknowledged**: the level was already put right (an adjustment, a receipt that caught
  up), and the manager records why the exception needs nothing more.

Either way every open exception of that SKU at that location closes with it (they describe
the same shelf), with who resolved it, how and why, and an audit entry. Sensitive like an
adjustment: `stock.adjust`, or a manager override.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Location, StockException, StockMovement, Variant
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.services import audit
from omnitill.services.auth import authorise


@dataclass(frozen=True, slots=True)
class Resolution:
    sku: str
    location: str
    resolution: str  # counted | acknowledged
    on_hand: int
    counted_change: int  # the count movement's quantity (0 when acknowledged)
    resolved: tuple[uuid.UUID, ...]  # every exception closed


def resolve_exception(
    *,
    db: Database,
    actor: Actor,
    exception_id: uuid.UUID,
    reason: str,
    counted: int | None = None,
    override_token: str | None = None,
) -> Resolution:
    """Close an exception by a shelf count or by acknowledging it (see the module docstring).
    404 `stock_exception.not_found`; 409 `stock_exception.already_resolved`; 422
    `stock.count_negative`, `stock.reason_required`."""
    _check(reason, counted)
    with db.uow() as uow:
        found = uow.session.execute(
            select(StockException, Variant.sku, Location.code)
            .join(Variant, Variant.id == StockException.variant_id)
            .join(Location, Location.id == StockException.location_id)
            .where(StockException.id == exception_id)
        ).one_or_none()
        if found is None or not actor.may_access(found[0].location_id):
            raise NotFound(
                "stock_exception.not_found",
                f"no stock exception {exception_id}",
                {"id": str(exception_id)},
            )
        exc, sku, code = found
        if exc.resolved_at is not None:
            raise Conflict(
                "stock_exception.already_resolved",
                f"the exception was resolved at {exc.resolved_at.isoformat()}",
                {"id": str(exception_id), "resolution": exc.resolution},
            )
        authorisation = authorise(
            uow,
            actor=actor,
            permission=Permission.STOCK_ADJUST,
            override_token=override_token,
            used_for=f"stock_exception:{exception_id}",
        )
        conn = uow.connection
        on_hand = stock_repo.lock_on_hand(
            conn, variant_id=exc.variant_id, location_id=exc.location_id
        )
        change = 0 if counted is None else counted - on_hand
        if change:
            on_hand = stock_repo.add_on_hand_many(
                conn, location_id=exc.location_id, deltas={exc.variant_id: change}
            )[exc.variant_id]
            uow.session.add(
                StockMovement(
                    id=uuid7(),
                    variant_id=exc.variant_id,
                    location_id=exc.location_id,
                    quantity=change,
                    kind="count",
                    reason=reason.strip(),
                    reference_type="stock_exception",
                    reference_id=str(exception_id),
                    actor_id=actor.user_id,
                )
            )
        how = "acknowledged" if counted is None else "counted"
        closed = tuple(
            uow.session.scalars(
                update(StockException)
                .where(
                    StockException.variant_id == exc.variant_id,
                    StockException.location_id == exc.location_id,
                    StockException.resolved_at.is_(None),
                )
                .values(
                    resolved_at=utcnow(),
                    resolution=how,
                    resolved_by_id=actor.user_id,
                    resolution_note=reason.strip()[:200],
                )
                .returning(StockException.id)
                .execution_options(synchronize_session=False)
            )
        )
        audit.record(
            uow,
            action="stock.exception_resolved",
            actor=actor,
            subject_type="location",
            subject_id=code,
            details={
                "sku": sku,
                "resolution": how,
                "reason": reason.strip(),
                "counted": counted,
                "change": change,
                "on_hand": on_hand,
                "exceptions": sorted(str(x) for x in closed),
                **authorisation.as_details(),
            },
        )
        uow.commit()
    return Resolution(sku, code, how, on_hand, change, closed)


def _check(reason: str, counted: int | None) -> None:
    errors = []
    if not reason.strip():
        errors.append(FieldError("reason", "stock.reason_required", "say why"))
    if counted is not None and counted < 0:
        errors.append(FieldError("counted", "stock.count_negative", "a count is 0 or more"))
    if errors:
        raise ValidationFailed(errors[0].code, "the resolution is invalid", errors=errors)
