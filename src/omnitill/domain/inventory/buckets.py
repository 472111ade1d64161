"""Stock buckets at one location, and the availability rule.

`on_hand` counts every unit in the building. `quarantine`, `damaged`, `qc` (awaiting
quality control) and `expired` (units of lots past their expiry date, moved there by the
expiry sweep) count units *of on_hand* that may not be sold: moving a unit into one of them
does not change on_hand, it only takes the unit out of sellable stock. `incoming` (ordered on
open purchase orders) and `in_transit` (shipped here by a transfer, not yet received) count
units that are *not* in the building yet and are not part of on_hand or available.
`reserved` counts units promised to orders and holds. `safety_stock` is a per-location
setting, not stock: a buffer the shop keeps back from online promises; it has no movements.

Every ledger bucket (`LEDGER_BUCKETS`) is a column of the stock level and equals the sum of
its movements. "sellable" is not stored: it is what on_hand holds outside the unavailable
buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed


class Bucket(StrEnum):
    ON_HAND = "on_hand"
    RESERVED = "reserved"
    QUARANTINE = "quarantine"
    DAMAGED = "damaged"
    QC = "qc"
    EXPIRED = "expired"
    INCOMING = "incoming"
    IN_TRANSIT = "in_transit"


LEDGER_BUCKETS: tuple[Bucket, ...] = tuple(Bucket)
UNAVAILABLE: tuple[Bucket, ...] = (Bucket.QUARANTINE, Bucket.DAMAGED, Bucket.QC, Bucket.EXPIRED)
SELLABLE = "sellable"
# Where a stock move may take units from and put them to. Only the expiry sweep puts units
# into `expired`, and they leave it only as a write-off or a return to the vendor.
MOVE_PLACES: tuple[str, ...] = (SELLABLE, Bucket.QUARANTINE, Bucket.DAMAGED, Bucket.QC)


@dataclass(frozen=True, slots=True)
class StockBuckets:
    """One variant at one location."""

    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    quarantine: int = 0
    damaged: int = 0
    qc: int = 0
    expired: int = 0
    incoming: int = 0
    in_transit: int = 0

    @property
    def unavailable(self) -> int:
        return self.quarantine + self.damaged + self.qc + self.expired

    @property
    def available(self) -> int:
        """What may still be promised: on_hand less reserved, safety stock and unavailable.

        May be negative (a register sale of goods the system did not show); reported as is.
        """
        return available(
            on_hand=self.on_hand,
            reserved=self.reserved,
            safety_stock=self.safety_stock,
            unavailable=self.unavailable,
        )

    @property
    def free(self) -> int:
        """Sellable units not promised: what a move out of sellable may take.

        Safety stock is not subtracted: it is a buffer setting, not units, and a damaged unit
        can be taken from it like from any other.
        """
        return self.on_hand - self.reserved - self.unavailable


def available(*, on_hand: int, reserved: int, safety_stock: int, unavailable: int) -> int:
    """on_hand - reserved - safety_stock - (quarantine + damaged + qc + expired)."""
    return on_hand - reserved - safety_stock - unavailable


@dataclass(frozen=True, slots=True)
class BucketMove:
    """Units moved between sellable stock and an unavailable bucket, or between two of those."""

    source: str
    target: str
    quantity: int

    def __post_init__(self) -> None:
        errors = [
            FieldError(field, "inventory.unknown_bucket", f"one of {', '.join(MOVE_PLACES)}")
            for field, value in (("from", self.source), ("to", self.target))
            if value not in MOVE_PLACES
        ]
        if self.quantity < 1:
            errors.append(
                FieldError("quantity", "inventory.invalid_quantity", "must be at least 1")
            )
        if errors:
            raise ValidationFailed(errors[0].code, "the stock move is invalid", errors=errors)
        if self.source == self.target:
            raise ValidationFailed(
                "inventory.same_bucket",
                "a move needs two different buckets",
                {"bucket": self.source},
                errors=[FieldError("to", "inventory.same_bucket", "same as from")],
            )

    def changes(self) -> dict[Bucket, int]:
        """The signed change of each ledger bucket; sellable is derived, so it has none."""
        out: dict[Bucket, int] = {}
        if self.source != SELLABLE:
            out[Bucket(self.source)] = -self.quantity
        if self.target != SELLABLE:
            out[Bucket(self.target)] = self.quantity
        return out
