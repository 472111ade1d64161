"""Lots and serial numbers: which units of a tracked variant move when stock moves.

Every path that puts units into on_hand (a goods receipt, a transfer received, a count) calls
`put`, and every path that takes units out (a sale, a transfer shipped, a write-off, a return
to vendor) calls `take`, inside its own unit of work. They keep the lot balances and serial
units in step and say which lot each portion came from; the caller writes the on_hand level
and one stock movement per portion (`StockMovement.lot_id = portion.lot_id`), so the ledger
names the lot of every unit that moved. A take from `source="expired"` also leaves the
level's `expired` bucket: the caller writes that movement with the same `lot_id`
(`services.stock.verify` proves each lot balance, and its expired units, against them).

For a variant with `tracking == "none"` both return one portion without a lot and write
nothing.

Lot balances change only by single statements in the database: an upsert that adds, and a
conditional UPDATE that takes (`on_hand - expired >= n`), so two takers never draw the same
units. A serial unit changes status only by a conditional UPDATE on its current status and
location (the claim), so a serial is sold once even when two tills scan it together.

The lot half is `services/tracking_lots.py`, the serial half `services/tracking_serials.py`;
the data they exchange is `domain/inventory/tracked.py`.
"""

from __future__ import annotations

import uuid

from omnitill.adapters.db.database import UnitOfWork
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.inventory import serials as serial_rules
from omnitill.domain.inventory.tracked import Context, LotInput, Portion, Tracked
from omnitill.services.tracking_lots import put_lot_portions, receive_lot, take_lots
from omnitill.services.tracking_serials import move_serials_in, receive_serials, take_serials

__all__ = ["Context", "LotInput", "Portion", "Tracked", "put", "take"]


def take(
    uow: UnitOfWork,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    tracked: Tracked,
    serial_status: str,
    context: Context,
    allow_short: bool = False,
    source: str = "sellable",
    field_prefix: str = "lines.0",
    serial_source: str = "in_stock",
) -> list[Portion]:
    """Take `quantity` units out of the location's lots and serials.

    Lots: the named lot, else first expired first out over unexpired balances; with
    `source="expired"` (a write-off or return to vendor of expired goods) from the units the
    expiry sweep moved to the expired bucket instead. Serials: each
    must exist for the variant, be `in_stock` (or `serial_source`) at the location, and moves
    to `serial_status` (`sold`, `in_transit`, `written_off`, ...) with a serial event. With
    `allow_short` (an in-store sale of goods in the customer's hands), units no lot balance
    covers come back as a portion without a lot instead of an error. Errors are
    ValidationFailed naming `{field_prefix}lot` / `{field_prefix}serials.N`; nothing is
    written when one is raised (the caller's transaction rolls back).
    """
    field_prefix = f"{field_prefix}." if field_prefix else ""  # "" names fields bare
    if quantity <= 0:
        raise ValueError("take needs a positive quantity")
    if variant.tracking == "none":
        _refuse_tracking_data(tracked, field_prefix=field_prefix)
        return [Portion(quantity)]
    if variant.tracking == "lot":
        _refuse_serials(tracked, field_prefix=field_prefix)
        if source not in ("sellable", "expired"):
            raise ValueError(f"unknown source {source!r}")
        return take_lots(
            uow.connection,
            variant=variant,
            location_id=location_id,
            quantity=quantity,
            lot=tracked.lot,
            today=context.today,
            allow_short=allow_short,
            source=source,
            field_prefix=field_prefix,
        )
    if variant.tracking == "serial":
        _refuse_lot(tracked, field_prefix=field_prefix)
        serial_rules.check_move(serial_source, serial_status)
        return [
            take_serials(
                uow.connection,
                variant=variant,
                location_id=location_id,
                quantity=quantity,
                serials=tracked.serials,
                from_status=serial_source,
                to_status=serial_status,
                context=context,
                field_prefix=field_prefix,
            )
        ]
    raise ValueError(f"unknown tracking {variant.tracking!r}")


def put(
    uow: UnitOfWork,
    *,
    variant: VariantRef,
    location_id: uuid.UUID,
    quantity: int,
    tracked: Tracked | None = None,
    portions: list[Portion] | None = None,
    serial_status: str = "in_stock",
    context: Context,
    field_prefix: str = "lines.0",
    serial_source: str = "in_transit",
) -> list[Portion]:
    """Put `quantity` units into the location's lots and serials.

    Either `tracked` (a receipt: the lot, created on first receipt with its expiry date, and
    new serial numbers) or `portions` (what a `take` returned, such as a transfer arriving:
    the lots' balances grow here, and each serial must be in `serial_source`, by default
    `in_transit`). Refuses a lot that has already expired, a lot code received before with
    another expiry date, missing or duplicate serials, and a serial already in stock
    somewhere.
    """
    field_prefix = f"{field_prefix}." if field_prefix else ""  # "" names fields bare
    if quantity <= 0:
        raise ValueError("put needs a positive quantity")
    if portions is not None and sum(p.quantity for p in portions) != quantity:
        raise ValueError("the portions do not add up to the quantity")
    if variant.tracking == "none":
        if tracked is not None:
            _refuse_tracking_data(tracked, field_prefix=field_prefix)
        return [Portion(quantity)]
    conn = uow.connection
    if portions is not None:
        if variant.tracking == "lot":
            return put_lot_portions(
                conn, location_id=location_id, portions=portions, now=context.now
            )
        if variant.tracking == "serial":
            serial_rules.check_move(serial_source, serial_status)
            serials = tuple(s for p in portions for s in p.serials)
            return [
                move_serials_in(
                    conn,
                    variant=variant,
                    location_id=location_id,
                    quantity=quantity,
                    serials=serials,
                    from_status=serial_source,
                    to_status=serial_status,
                    context=context,
                    field_prefix=field_prefix,
                )
            ]
        raise ValueError(f"unknown tracking {variant.tracking!r}")
    tracked = tracked or Tracked()
    if variant.tracking == "lot":
        _refuse_serials(tracked, field_prefix=field_prefix)
        return [
            receive_lot(
                conn,
                variant=variant,
                location_id=location_id,
                quantity=quantity,
                lot=tracked.lot,
                today=context.today,
                now=context.now,
                field_prefix=field_prefix,
            )
        ]
    if variant.tracking == "serial":
        _refuse_lot(tracked, field_prefix=field_prefix)
        serial_rules.check_move(None, serial_status)
        return [
            receive_serials(
                conn,
                variant=variant,
                location_id=location_id,
                quantity=quantity,
                serials=tracked.serials,
                to_status=serial_status,
                context=context,
                field_prefix=field_prefix,
            )
        ]
    raise ValueError(f"unknown tracking {variant.tracking!r}")


# --- refusals of data that does not fit the variant ----------------------------------------


def _refuse_tracking_data(tracked: Tracked, *, field_prefix: str = "lines.0.") -> None:
    """An untracked variant takes no lot or serials (a client mistake worth naming)."""
    errors = []
    if tracked.lot is not None:
        errors.append(
            FieldError(f"{field_prefix}lot", "inventory.not_tracked", "not tracked by lot")
        )
    if tracked.serials:
        errors.append(
            FieldError(f"{field_prefix}serials", "inventory.not_tracked", "not tracked by serial")
        )
    if errors:
        raise ValidationFailed(
            "inventory.not_tracked",
            "this variant is not tracked by lot or serial number",
            errors=errors,
        )


def _refuse_serials(tracked: Tracked, *, field_prefix: str) -> None:
    if tracked.serials:
        raise ValidationFailed(
            "inventory.not_serial_tracked",
            "this variant is tracked by lot, not by serial number",
            errors=[
                FieldError(
                    f"{field_prefix}serials", "inventory.not_serial_tracked", "tracked by lot"
                )
            ],
        )


def _refuse_lot(tracked: Tracked, *, field_prefix: str) -> None:
    if tracked.lot is not None:
        raise ValidationFailed(
            "inventory.not_lot_tracked",
            "this variant is tracked by serial number, not by lot",
            errors=[
                FieldError(f"{field_prefix}lot", "inventory.not_lot_tracked", "tracked by serial")
            ],
        )
