"""Transfers of stock between two locations: their life cycle and what each step books.

A transfer is born `requested` (nothing moves yet). Shipping it takes the units out of the
source's on_hand and puts them in the destination's `in_transit` bucket (`shipped`); less than
requested may ship, and the rest is simply not shipped. Receiving it clears the destination's
in_transit of everything shipped and adds what arrived to its on_hand (`received`). A line that
arrives short or over what shipped is a discrepancy: what arrived is booked as it is, the units
short are lost in transit (their in_transit is cleared with them), and a manager looks at it.
Only a requested transfer may be cancelled: once shipped, the units are on the road.

The ledger kinds, each referencing the transfer by number:

- shipped: source `on_hand` -n (`transfer_out`); destination `in_transit` +n
  (`transfer_shipped`);
- received: destination `in_transit` -min(shipped, received) (`transfer_received`) and
  -(shipped - received) when short (`transfer_short`, lost in transit); `on_hand`
  +min(shipped, received) (`transfer_in`) and +(received - shipped) when over
  (`transfer_over`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.inventory.buckets import Bucket


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class TransferStep(StrEnum):
    SHIP = "ship"
    RECEIVE = "receive"
    CANCEL = "cancel"


# Each step: the one status it starts from, the status it leads to, and the code of refusal.
STEP_FROM: dict[TransferStep, TransferStatus] = {
    TransferStep.SHIP: TransferStatus.REQUESTED,
    TransferStep.RECEIVE: TransferStatus.SHIPPED,
    TransferStep.CANCEL: TransferStatus.REQUESTED,
}
STEP_TO: dict[TransferStep, TransferStatus] = {
    TransferStep.SHIP: TransferStatus.SHIPPED,
    TransferStep.RECEIVE: TransferStatus.RECEIVED,
    TransferStep.CANCEL: TransferStatus.CANCELLED,
}
_REFUSAL: dict[TransferStep, str] = {
    TransferStep.SHIP: "inventory.transfer_not_shippable",
    TransferStep.RECEIVE: "inventory.transfer_not_receivable",
    TransferStep.CANCEL: "inventory.transfer_not_cancellable",
}

KIND_OUT = "transfer_out"
KIND_SHIPPED = "transfer_shipped"
KIND_RECEIVED = "transfer_received"
KIND_SHORT = "transfer_short"
KIND_IN = "transfer_in"
KIND_OVER = "transfer_over"


def check_step(current: str, step: TransferStep, *, number: str) -> None:
    """Refuse (409) a step the transfer's status does not allow, saying what the status is."""
    if current != STEP_FROM[step]:
        raise Conflict(
            _REFUSAL[step],
            f"transfer {number} is {current}; only a {STEP_FROM[step]} transfer can be "
            f"{STEP_TO[step]}",
            {"number": number, "status": current},
        )


def _duplicates(skus: Sequence[str], prefix: str) -> list[FieldError]:
    seen: set[str] = set()
    errors: list[FieldError] = []
    for i, sku in enumerate(skus):
        if sku in seen:
            errors.append(
                FieldError(
                    f"{prefix}.{i}.sku", "inventory.transfer_duplicate_sku", f"{sku} is repeated"
                )
            )
        seen.add(sku)
    return errors


def _raise(errors: list[FieldError], message: str) -> None:
    if errors:
        raise ValidationFailed(errors[0].code, message, errors=errors)


def check_request(*, source: str, destination: str, lines: Sequence[tuple[str, int]]) -> None:
    """A transfer goes between two different locations, each line names one SKU once and
    asks for at least one unit; every problem is listed."""
    errors: list[FieldError] = []
    if source == destination:
        errors.append(
            FieldError(
                "destination",
                "inventory.transfer_same_location",
                "the destination must differ from the source",
            )
        )
    if not lines:
        errors.append(FieldError("lines", "inventory.transfer_no_lines", "at least one line"))
    errors += [
        FieldError(f"lines.{i}.quantity", "inventory.invalid_quantity", "must be at least 1")
        for i, (_, qty) in enumerate(lines)
        if qty < 1
    ]
    errors += _duplicates([sku for sku, _ in lines], "lines")
    _raise(errors, "the transfer request is invalid")


def _check_named_lines(
    asked: Sequence[tuple[str, int]], on_transfer: Sequence[str], *, minimum: int
) -> list[FieldError]:
    known = set(on_transfer)
    errors = [
        FieldError(
            f"lines.{i}.sku",
            "inventory.transfer_sku_not_on_transfer",
            f"{sku} is not on this transfer",
        )
        for i, (sku, _) in enumerate(asked)
        if sku not in known
    ]
    errors += [
        FieldError(f"lines.{i}.quantity", "inventory.invalid_quantity", f"must be >= {minimum}")
        for i, (_, qty) in enumerate(asked)
        if qty < minimum
    ]
    return errors + _duplicates([sku for sku, _ in asked], "lines")


def ship_quantities(
    requested: dict[str, int], asked: Sequence[tuple[str, int]] | None
) -> dict[str, int]:
    """How many units of each SKU ship: everything requested by default, or what `asked`
    names (0 to the requested quantity; SKUs it leaves out ship nothing). Something must
    ship."""
    if asked is None:
        return dict(requested)
    errors = _check_named_lines(asked, list(requested), minimum=0)
    errors += [
        FieldError(
            f"lines.{i}.quantity",
            "inventory.transfer_over_ship",
            f"{requested[sku]} requested; ship at most that",
        )
        for i, (sku, qty) in enumerate(asked)
        if sku in requested and qty > requested[sku]
    ]
    _raise(errors, "the shipment is invalid")
    plan = {sku: 0 for sku in requested}
    plan.update(dict(asked))
    if not any(plan.values()):
        raise ValidationFailed(
            "inventory.transfer_nothing_to_ship",
            "a shipment needs at least one unit",
            errors=[FieldError("lines", "inventory.transfer_nothing_to_ship", "all zero")],
        )
    return plan


def receipt_quantities(
    shipped: dict[str, int], asked: Sequence[tuple[str, int]] | None
) -> dict[str, int]:
    """How many units of each SKU arrived: what shipped by default, or what `asked` says
    (0 or more). Every line that shipped must be named, so no loss is booked by omission."""
    if asked is None:
        return dict(shipped)
    errors = _check_named_lines(asked, list(shipped), minimum=0)
    named = {sku for sku, _ in asked}
    missing = sorted(sku for sku, qty in shipped.items() if qty > 0 and sku not in named)
    if missing:
        errors.append(
            FieldError(
                "lines",
                "inventory.transfer_lines_missing",
                f"say what arrived of {', '.join(missing)} (0 if nothing)",
            )
        )
    _raise(errors, "the receipt is invalid")
    plan = {sku: 0 for sku in shipped}
    plan.update(dict(asked))
    return plan


@dataclass(frozen=True, slots=True)
class Booking:
    """One signed change of one bucket, with its ledger kind."""

    bucket: Bucket
    kind: str
    quantity: int


@dataclass(frozen=True, slots=True)
class LineReceipt:
    """What receiving `received` units of a line that shipped `shipped` books."""

    shipped: int
    received: int

    @property
    def difference(self) -> int:
        """received - shipped: negative when short (lost in transit), positive when over."""
        return self.received - self.shipped

    @property
    def discrepancy(self) -> str | None:
        if self.difference < 0:
            return "short"
        if self.difference > 0:
            return "over"
        return None

    @property
    def as_shipped(self) -> int:
        """The units that arrived as they were shipped."""
        return min(self.shipped, self.received)

    def bookings(self) -> list[Booking]:
        """The destination's movements (zero quantities left out); in_transit always falls
        by everything shipped, on_hand always rises by everything received."""
        rows = [
            Booking(Bucket.IN_TRANSIT, KIND_RECEIVED, -self.as_shipped),
            Booking(Bucket.IN_TRANSIT, KIND_SHORT, min(self.difference, 0)),
            Booking(Bucket.ON_HAND, KIND_IN, self.as_shipped),
            Booking(Bucket.ON_HAND, KIND_OVER, max(self.difference, 0)),
        ]
        return [row for row in rows if row.quantity]


def split_expected(quantities: Sequence[int], expected: int) -> list[tuple[int, int]]:
    """Split portions that arrived into (as shipped, over) parts: the first `expected`
    units are the shipment, the rest is surplus. Used to give each lot portion its kinds."""
    out: list[tuple[int, int]] = []
    left = expected
    for qty in quantities:
        part = min(qty, max(left, 0))
        out.append((part, qty - part))
        left -= part
    return out


@dataclass(frozen=True, slots=True)
class Parcel:
    """Units of one line in one lot (or none), with their serial numbers: what left the
    source, or what arrived."""

    quantity: int
    lot: str | None = None
    serials: tuple[str, ...] = ()


def arrived(
    *,
    tracking: str,
    shipped: Sequence[Parcel],
    quantity: int,
    lots: Sequence[tuple[str, int]] | None,
    serials: Sequence[str] | None,
    field: str,
) -> list[Parcel]:
    """Which lots and serials of a line arrived.

    Untracked: just the quantity. Tracked and received exactly as shipped: what shipped,
    unless the receipt names lots or serials. Otherwise the receipt must name them: serials
    (one per unit, each among those shipped) or lots (quantities summing to the line, each
    lot among those shipped; more units of a shipped lot than shipped are a surplus).
    Serials not named stay in transit, lost with the shortfall.
    """
    total = sum(p.quantity for p in shipped)
    if tracking == "none":
        if lots or serials:
            name = "lots" if lots else "serials"
            raise ValidationFailed(
                "inventory.not_tracked",
                "this variant is not tracked by lot or serial",
                errors=[FieldError(f"{field}.{name}", "inventory.not_tracked", "not tracked")],
            )
        return [Parcel(quantity)] if quantity else []
    if tracking == "serial":
        if not serials and quantity in (0, total):
            return [p for p in shipped if p.quantity] if quantity else []
        return [Parcel(quantity, None, tuple(_arrived_serials(shipped, quantity, serials, field)))]
    if not lots and quantity in (0, total):
        return [p for p in shipped if p.quantity] if quantity else []
    return _arrived_lots(shipped, quantity, lots or (), field)


def _arrived_serials(
    shipped: Sequence[Parcel], quantity: int, serials: Sequence[str] | None, field: str
) -> list[str]:
    if not serials and quantity:
        raise ValidationFailed(
            "inventory.transfer_serials_required",
            "name the serial numbers that arrived when a line arrives short or over",
            errors=[FieldError(f"{field}.serials", "inventory.transfer_serials_required", "")],
        )
    named = list(serials or ())
    errors: list[FieldError] = []
    if len(named) != quantity:
        errors.append(
            FieldError(
                f"{field}.serials",
                "inventory.serials_count_mismatch",
                f"{quantity} units need {quantity} serials, got {len(named)}",
            )
        )
    sent = {s for p in shipped for s in p.serials}
    seen: set[str] = set()
    for i, serial in enumerate(named):
        if serial in seen:
            errors.append(FieldError(f"{field}.serials.{i}", "inventory.serial_duplicate", serial))
        elif serial not in sent:
            errors.append(
                FieldError(
                    f"{field}.serials.{i}",
                    "inventory.transfer_serial_not_shipped",
                    f"{serial} was not shipped on this transfer",
                )
            )
        seen.add(serial)
    _raise(errors, "the serial numbers received are invalid")
    return named


def _arrived_lots(
    shipped: Sequence[Parcel], quantity: int, lots: Sequence[tuple[str, int]], field: str
) -> list[Parcel]:
    if not lots and quantity:
        raise ValidationFailed(
            "inventory.transfer_lots_required",
            "name the lots that arrived when a line arrives short or over",
            errors=[FieldError(f"{field}.lots", "inventory.transfer_lots_required", "")],
        )
    sent = {p.lot for p in shipped}
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, (code, qty) in enumerate(lots):
        if code not in sent:
            errors.append(
                FieldError(
                    f"{field}.lots.{i}.lot",
                    "inventory.transfer_lot_not_shipped",
                    f"lot {code} was not shipped on this transfer",
                )
            )
        elif code in seen:
            errors.append(
                FieldError(f"{field}.lots.{i}.lot", "inventory.transfer_duplicate_lot", code)
            )
        if qty < 1:
            errors.append(
                FieldError(f"{field}.lots.{i}.quantity", "inventory.invalid_quantity", ">= 1")
            )
        seen.add(code)
    if sum(qty for _, qty in lots) != quantity:
        errors.append(
            FieldError(
                f"{field}.lots",
                "inventory.transfer_lots_mismatch",
                f"the lots must add up to the {quantity} units received",
            )
        )
    _raise(errors, "the lots received are invalid")
    return [Parcel(qty, code) for code, qty in lots]
