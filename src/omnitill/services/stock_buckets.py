"""Moving stock between sellable and the unavailable buckets, and setting safety stock.

Both are stock adjustments in the retailer's eyes: they need `stock.adjust` (or a manager
override) and land in the audit trail. See domain/inventory/buckets.py for what each bucket
counts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import StockMovement
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import BucketMove
from omnitill.services import audit
from omnitill.services.auth import authorise
from omnitill.services.references import LineRef, accessible_location, resolve_lines
from omnitill.services.retries import run_retrying


@dataclass(frozen=True, slots=True)
class MoveResult:
    sku: str
    location: str
    source: str
    target: str
    quantity: int
    movement_ids: tuple[uuid.UUID, ...]


def move(
    *,
    db: Database,
    actor: Actor,
    sku: str,
    location: str,
    source: str,
    target: str,
    quantity: int,
    reason: str,
    override_token: str | None = None,
) -> MoveResult:
    """Move units between sellable stock and quarantine, damaged or qc (or between those).

    One conditional UPDATE: 422 `inventory.bucket_insufficient` when `source` holds fewer
    than `quantity` units. Sellable holds on_hand less reserved and unavailable units, so a
    move never takes units already promised. On_hand does not change (the units stay in the
    building); a movement is written for each ledger bucket that changes, so a move into or
    out of sellable writes one, a move between two unavailable buckets two.
    """
    spec = BucketMove(source, target, quantity)
    if not reason.strip():
        raise ValidationFailed(
            "stock.reason_required",
            "a stock move needs a reason",
            errors=[FieldError("reason", "stock.reason_required", "required")],
        )

    def once() -> MoveResult:
        with db.uow() as uow:
            loc = accessible_location(uow, actor, location)
            (variant,) = resolve_lines(uow, [LineRef(sku, None)], prefix="sku")
            authorisation = authorise(
                uow,
                actor=actor,
                permission=Permission.STOCK_ADJUST,
                override_token=override_token,
                used_for=f"stock.move:{loc.code}",
            )
            changes = spec.changes()
            if not stock_repo.move_units(
                uow.connection,
                variant_id=variant.id,
                location_id=loc.id,
                changes={str(b): n for b, n in changes.items()},
                source=source,
                quantity=quantity,
            ):
                raise ValidationFailed(
                    "inventory.bucket_insufficient",
                    f"{source} holds fewer than {quantity} units of {variant.sku}",
                    {"sku": variant.sku, "bucket": source, "requested": quantity},
                    errors=[FieldError("quantity", "inventory.bucket_insufficient", "too many")],
                )
            now = utcnow()
            ids: list[uuid.UUID] = []
            for bucket, n in sorted(changes.items()):
                movement = StockMovement(
                    id=uuid7(),
                    variant_id=variant.id,
                    location_id=loc.id,
                    bucket=str(bucket),
                    quantity=n,
                    kind="move",
                    reason=f"{source} -> {target}: {reason.strip()}",
                    actor_id=actor.user_id,
                    created_at=now,
                )
                uow.session.add(movement)
                ids.append(movement.id)
            audit.record(
                uow,
                action="stock.moved",
                actor=actor,
                subject_type="location",
                subject_id=loc.code,
                details={
                    "sku": variant.sku,
                    "from": source,
                    "to": target,
                    "quantity": quantity,
                    "reason": reason.strip(),
                    **authorisation.as_details(),
                },
            )
            uow.commit()
            return MoveResult(variant.sku, loc.code, source, target, quantity, tuple(ids))

    return run_retrying(once)


def set_safety_stock(
    *,
    db: Database,
    actor: Actor,
    sku: str,
    location: str,
    quantity: int,
    override_token: str | None = None,
) -> int:
    """Keep `quantity` units of a variant back from what a location promises; the old value.

    Safety stock is a setting, not stock: it lowers `available` but has no movements.
    """
    if quantity < 0:
        raise ValidationFailed(
            "inventory.invalid_quantity",
            "safety stock cannot be negative",
            errors=[FieldError("quantity", "inventory.invalid_quantity", "must be >= 0")],
        )

    def once() -> int:
        with db.uow() as uow:
            loc = accessible_location(uow, actor, location)
            (variant,) = resolve_lines(uow, [LineRef(sku, None)], prefix="sku")
            authorisation = authorise(
                uow,
                actor=actor,
                permission=Permission.STOCK_ADJUST,
                override_token=override_token,
                used_for=f"stock.safety_stock:{loc.code}",
            )
            previous = stock_repo.set_safety_stock(
                uow.connection, variant_id=variant.id, location_id=loc.id, quantity=quantity
            )
            audit.record(
                uow,
                action="stock.safety_stock_set",
                actor=actor,
                subject_type="location",
                subject_id=loc.code,
                details={
                    "sku": variant.sku,
                    "from": previous,
                    "to": quantity,
                    **authorisation.as_details(),
                },
            )
            uow.commit()
            return previous

    return run_retrying(once)
