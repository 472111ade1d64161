"""Dispositions: stock that leaves the building as a write-off or a return to the vendor.

Units go from sellable stock, or from one of the unavailable buckets they were set aside in
(damaged, quarantine, qc, expired), out of on_hand. The bucket and on_hand fall together in
one conditional UPDATE that holds only when the bucket has the units (sellable: free units,
on_hand less reserved and unavailable, so a promised unit is never disposed of). The ledger
gets a movement for each bucket that changes, kind `write_off` or `return_to_vendor`; a
return to vendor references the supplier. Lot- and serial-tracked variants say which units
left through `services.tracking.take`, with one on_hand movement per lot.

Inspected quarantine or qc units that go back on sale are a stock move, not a disposition
(`services.stock_buckets.move`, POST /api/v1/stock/moves).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import SerialUnit, StockLevel, StockMovement, Supplier
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.repositories import stock as stock_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.inventory.buckets import SELLABLE, UNAVAILABLE, Bucket
from omnitill.domain.inventory.lots import business_date
from omnitill.services import audit, tracking
from omnitill.services.auth import authorise
from omnitill.services.references import accessible_location
from omnitill.services.retries import run_retrying

SOURCES: tuple[str, ...] = (SELLABLE, *(str(b) for b in UNAVAILABLE))


class DispositionAction(StrEnum):
    WRITE_OFF = "write_off"
    RETURN_TO_VENDOR = "return_to_vendor"


# The serial status a unit ends in, per action (domain/inventory/serials.py).
_SERIAL_STATUS = {
    DispositionAction.WRITE_OFF: "written_off",
    DispositionAction.RETURN_TO_VENDOR: "returned_to_vendor",
}


@dataclass(frozen=True, slots=True)
class DispositionInput:
    sku: str
    location: str
    source: str  # sellable | quarantine | damaged | qc | expired
    action: str  # write_off | return_to_vendor
    quantity: int
    reason: str
    supplier: str | None = None  # code; required for a return to vendor
    lot: str | None = None  # lot code; None: first expired, first out
    serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LotPortion:
    lot: str | None
    quantity: int
    serials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DispositionResult:
    sku: str
    location: str
    source: str
    action: str
    quantity: int
    supplier: str | None
    on_hand: int
    portions: tuple[LotPortion, ...]
    movement_ids: tuple[uuid.UUID, ...]


def dispose(
    *, db: Database, actor: Actor, data: DispositionInput, override_token: str | None = None
) -> DispositionResult:
    """Write units off or return them to the vendor (see the module docstring).

    Needs `stock.adjust` or a manager override; audited. 422: `inventory.unknown_bucket`
    (`from`), `inventory.unknown_action` (`action`), `inventory.invalid_quantity`,
    `stock.reason_required`, `inventory.supplier_required` / `inventory.supplier_not_expected`
    / `supplier.not_found` (`supplier`), `inventory.bucket_insufficient` (`quantity`: the
    bucket holds fewer units), the lot and serial errors of `tracking.take`; 403
    `auth.location_forbidden`. A refused request writes nothing.
    """
    action = _check(data)

    def once() -> DispositionResult:
        with db.uow() as uow:
            result = _dispose(uow, actor, data, action, override_token)
            uow.commit()
            return result

    return run_retrying(once)


def _dispose(
    uow: UnitOfWork,
    actor: Actor,
    data: DispositionInput,
    action: DispositionAction,
    override_token: str | None,
) -> DispositionResult:
    loc = accessible_location(uow, actor, data.location)
    variant = _variant(uow, data.sku)
    supplier = _supplier(uow, data.supplier)
    authorisation = authorise(
        uow,
        actor=actor,
        permission=Permission.STOCK_ADJUST,
        override_token=override_token,
        used_for=f"stock.disposition:{loc.code}",
    )
    on_hand = _leave(uow, variant, loc.id, data)
    now = utcnow()
    reference = ("supplier", supplier) if supplier is not None else (None, None)
    portions = _take(
        uow,
        variant=variant,
        location_id=loc.id,
        quantity=data.quantity,
        tracked=tracking.Tracked(tracking.LotInput(data.lot) if data.lot else None, data.serials),
        serial_status=_SERIAL_STATUS[action],
        serial_source=_serial_source(uow, variant, loc.id, data.serials),
        context=tracking.Context(
            actor=actor,
            event=_SERIAL_STATUS[action],
            reference_type=reference[0],
            reference_id=reference[1],
            now=now,
            today=business_date(now, loc.timezone),
        ),
        source="expired" if data.source == Bucket.EXPIRED else SELLABLE,
    )
    ids = _movements(
        uow,
        actor=actor,
        variant=variant,
        location_id=loc.id,
        data=data,
        portions=portions,
        reference=reference,
    )
    lots = tuple(LotPortion(p.lot_code, p.quantity, p.serials) for p in portions)
    audit.record(
        uow,
        action="stock.disposed",
        actor=actor,
        subject_type="location",
        subject_id=loc.code,
        details={
            "sku": variant.sku,
            "from": data.source,
            "action": action.value,
            "quantity": data.quantity,
            "reason": data.reason.strip(),
            "supplier": supplier,
            "lots": [
                {"lot": p.lot, "quantity": p.quantity, "serials": list(p.serials)} for p in lots
            ],
            **authorisation.as_details(),
        },
    )
    return DispositionResult(
        variant.sku,
        loc.code,
        data.source,
        action.value,
        data.quantity,
        supplier,
        on_hand,
        lots,
        ids,
    )


def _leave(
    uow: UnitOfWork, variant: VariantRef, location_id: uuid.UUID, data: DispositionInput
) -> int:
    """Take the units out of on_hand and the source bucket in one conditional UPDATE (422
    `inventory.bucket_insufficient` when the bucket holds fewer); on_hand after."""
    changes = {Bucket.ON_HAND.value: -data.quantity}
    if data.source != SELLABLE:
        changes[data.source] = -data.quantity
    if not stock_repo.move_units(
        uow.connection,
        variant_id=variant.id,
        location_id=location_id,
        changes=changes,
        source=data.source,
        quantity=data.quantity,
    ):
        raise ValidationFailed(
            "inventory.bucket_insufficient",
            f"{data.source} holds fewer than {data.quantity} units of {variant.sku}",
            {"sku": variant.sku, "bucket": data.source, "requested": data.quantity},
            errors=[FieldError("quantity", "inventory.bucket_insufficient", "too many")],
        )
    # Read back under the row lock the UPDATE holds until commit.
    level = uow.session.scalar(
        select(StockLevel.on_hand).where(
            StockLevel.variant_id == variant.id, StockLevel.location_id == location_id
        )
    )
    return int(level or 0)


def _check(data: DispositionInput) -> DispositionAction:
    errors: list[FieldError] = []
    if data.source not in SOURCES:
        errors.append(
            FieldError("from", "inventory.unknown_bucket", f"one of {', '.join(SOURCES)}")
        )
    try:
        action = DispositionAction(data.action)
    except ValueError:
        action = None
        errors.append(
            FieldError(
                "action",
                "inventory.unknown_action",
                f"one of {', '.join(DispositionAction)}",
            )
        )
    if data.quantity < 1:
        errors.append(FieldError("quantity", "inventory.invalid_quantity", "must be at least 1"))
    if not data.reason.strip():
        errors.append(FieldError("reason", "stock.reason_required", "required"))
    if action is DispositionAction.RETURN_TO_VENDOR and not data.supplier:
        errors.append(FieldError("supplier", "inventory.supplier_required", "the supplier's code"))
    if action is DispositionAction.WRITE_OFF and data.supplier:
        errors.append(
            FieldError(
                "supplier", "inventory.supplier_not_expected", "only a return to vendor has one"
            )
        )
    if errors or action is None:
        raise ValidationFailed(errors[0].code, "the disposition is invalid", errors=errors)
    return action


def _variant(uow: UnitOfWork, sku: str) -> VariantRef:
    variant = catalog_repo.variant_refs(uow.connection, skus=[sku])[0].get(sku)
    if variant is None:
        raise ValidationFailed(
            "catalog.unknown_sku",
            f"no variant with SKU {sku!r}",
            {"sku": sku},
            errors=[FieldError("sku", "catalog.unknown_sku", f"no variant with SKU {sku!r}")],
        )
    return variant


def _take(uow: UnitOfWork, **kwargs: Any) -> list[tracking.Portion]:
    """`tracking.take`, its errors naming the body's own `lot` and `serials.N` fields."""
    return tracking.take(uow, field_prefix="", **kwargs)


def _supplier(uow: UnitOfWork, code: str | None) -> str | None:
    """The supplier code, checked (422 `supplier.not_found`); None for a write-off."""
    if code is None:
        return None
    if uow.session.scalar(select(Supplier.id).where(Supplier.code == code)) is None:
        raise ValidationFailed(
            "supplier.not_found",
            f"no supplier with code {code!r}",
            {"supplier": code},
            errors=[FieldError("supplier", "supplier.not_found", f"unknown supplier {code!r}")],
        )
    return code


def _serial_source(
    uow: UnitOfWork, variant: VariantRef, location_id: uuid.UUID, serials: tuple[str, ...]
) -> str:
    """The status the named units leave from: `quarantined` or `returned` when every one of
    them is in it (units a return set aside), else `in_stock` (tracking checks each)."""
    if variant.tracking != "serial" or not serials:
        return "in_stock"
    statuses = set(
        uow.session.scalars(
            select(SerialUnit.status).where(
                SerialUnit.variant_id == variant.id,
                SerialUnit.location_id == location_id,
                SerialUnit.serial.in_(serials),
            )
        )
    )
    if len(statuses) == 1 and statuses <= {"quarantined", "returned"}:
        return statuses.pop()
    return "in_stock"


def _movements(
    uow: UnitOfWork,
    *,
    actor: Actor,
    variant: VariantRef,
    location_id: uuid.UUID,
    data: DispositionInput,
    portions: list[tracking.Portion],
    reference: tuple[str | None, str | None],
) -> tuple[uuid.UUID, ...]:
    """An on_hand movement per portion (with its lot), and the source bucket's movement (per
    portion for `expired`, whose units the lot balances count too)."""
    now = utcnow()
    reason = f"{data.source} -> {data.action}: {data.reason.strip()}"[:200]
    rows: list[tuple[str, int, uuid.UUID | None]] = []
    for p in portions:
        rows.append((Bucket.ON_HAND.value, -p.quantity, p.lot_id))
        if data.source == Bucket.EXPIRED:
            rows.append((Bucket.EXPIRED.value, -p.quantity, p.lot_id))
    if data.source not in (SELLABLE, Bucket.EXPIRED):
        rows.append((data.source, -data.quantity, None))
    ids: list[uuid.UUID] = []
    for bucket, quantity, lot_id in rows:
        movement = StockMovement(
            id=uuid7(),
            variant_id=variant.id,
            location_id=location_id,
            bucket=bucket,
            quantity=quantity,
            kind=data.action,
            reason=reason,
            reference_type=reference[0],
            reference_id=reference[1],
            actor_id=actor.user_id,
            created_at=now,
            lot_id=lot_id,
        )
        uow.session.add(movement)
        ids.append(movement.id)
    return tuple(ids)
