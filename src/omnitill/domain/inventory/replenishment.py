"""Replenishment: which variants a location should restock, from where, how many, and why.

A pure engine over frozen snapshots the service loads (`ReplenishmentInput`):

- **Trigger.** A (variant, location) with a reorder point is replenished when its projected
  stock, `available + incoming + in_transit`, is at or below the reorder point. Available
  already excludes reserved, safety stock and unavailable units (domain/inventory/buckets.py).
- **Velocity.** Units sold there over the last `days` days, divided by `days` (kept as an
  exact fraction; shown rounded).
- **Target.** The max level when one is set; otherwise the reorder point plus the units the
  location sells during the supplier's lead time, `ceil(velocity x lead time days)` (lead
  time of the supplier it would buy from, 7 days when none is known).
  **Need** = target - projected; nothing is suggested when it is 0.
- **Source.** A store is first served by warehouses with spare stock (available less the
  warehouse's own reorder point, or all of available when it has none), the largest spare
  first; spare already promised to a more urgent line is not offered twice. What remains is
  bought from the preferred supplier (else any supplier of the variant, by supplier code),
  rounded up to whole packs and to at least the supplier's minimum packs. Warehouses are
  replenished from suppliers only.
- **Urgency.** Lines are ordered by days of cover ascending (projected / velocity; 0 when
  nothing is left; lines without sales last), then by how far below the reorder point.

Every suggestion carries its figures and a list of human-readable facts (its reasoning).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import format_major

DEFAULT_LEAD_TIME_DAYS = 7
MAX_DAYS = 365
WAREHOUSE = "warehouse"
STORE = "store"


class SuggestionKind(StrEnum):
    TRANSFER = "transfer"
    PURCHASE = "purchase"


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    """One variant at one location, with the units sold there over the velocity window."""

    sku: str
    location: str
    location_kind: str  # store | warehouse
    available: int
    incoming: int = 0
    in_transit: int = 0
    reorder_point: int | None = None
    max_level: int | None = None
    sold: int = 0

    @property
    def projected(self) -> int:
        """What the location will hold once what is on its way arrives."""
        return self.available + self.incoming + self.in_transit

    @property
    def spare(self) -> int:
        """What a warehouse can send away: available above its own reorder point."""
        return max(0, self.available - (self.reorder_point or 0))


@dataclass(frozen=True, slots=True)
class SupplierOffer:
    """What one supplier sells of one variant: packs of `pack_size` base units."""

    sku: str
    supplier: str  # supplier code
    supplier_name: str
    currency: str
    lead_time_days: int = DEFAULT_LEAD_TIME_DAYS
    pack_size: int = 1
    min_order_packs: int = 1
    pack_cost_minor: int | None = None
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class ReplenishmentInput:
    """`levels`: the candidate lines; `warehouses`: warehouse stock that may be transferred;
    `offers`: every supplier item of the variants concerned."""

    levels: tuple[LevelSnapshot, ...]
    warehouses: tuple[LevelSnapshot, ...] = ()
    offers: tuple[SupplierOffer, ...] = ()
    days: int = 28

    def __post_init__(self) -> None:
        check_days(self.days)


def check_days(days: int) -> None:
    """The velocity window: 1 to 365 days, else 422 `replenishment.invalid_days`."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            "replenishment.invalid_days",
            f"days must be between 1 and {MAX_DAYS}",
            {"days": days},
            errors=[FieldError("days", "replenishment.invalid_days", f"1..{MAX_DAYS}")],
        )


@dataclass(frozen=True, slots=True)
class Need:
    """The figures of one (variant, location) at or below its reorder point."""

    level: LevelSnapshot
    days: int
    lead_time_days: int
    target: int
    quantity: int  # target - projected, > 0

    @property
    def velocity(self) -> Fraction:
        """Units sold per day over the window (never negative: returns do not sell)."""
        return Fraction(max(0, self.level.sold), self.days)

    @property
    def days_of_cover(self) -> Fraction | None:
        """How many days the projected stock lasts at the current velocity; None without sales."""
        if self.velocity == 0:
            return None
        return Fraction(max(0, self.level.projected)) / self.velocity


@dataclass(frozen=True, slots=True)
class PurchasePlan:
    supplier: str
    supplier_name: str
    preferred: bool
    pack_size: int
    packs: int
    min_order_packs: int
    currency: str
    estimated_cost_minor: int | None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Move `quantity` base units to `need.level.location`: a transfer from
    `source_location`, or a purchase (`purchase` None when no supplier sells the variant)."""

    kind: SuggestionKind
    need: Need
    quantity: int
    reasoning: tuple[str, ...]
    source_location: str | None = None
    purchase: PurchasePlan | None = None


def suggest(data: ReplenishmentInput) -> tuple[Suggestion, ...]:
    """Every transfer and purchase the input calls for, most urgent line first."""
    offers = _offer_by_sku(data.offers)
    needs = [
        need
        for level in data.levels
        if (need := assess(level, days=data.days, offer=offers.get(level.sku))) is not None
    ]
    needs.sort(key=_urgency)
    spare: dict[tuple[str, str], int] = {}
    by_sku: dict[str, list[LevelSnapshot]] = defaultdict(list)
    for wh in data.warehouses:
        if wh.location_kind == WAREHOUSE and (wh.sku, wh.location) not in spare:
            spare[(wh.sku, wh.location)] = wh.spare
            by_sku[wh.sku].append(wh)
    out: list[Suggestion] = []
    for need in needs:
        facts = need_facts(need, offers.get(need.level.sku))
        remaining = need.quantity
        if need.level.location_kind == WAREHOUSE:
            facts += ("warehouses are replenished from suppliers only",)
        else:
            for wh in sorted(
                (w for w in by_sku[need.level.sku] if w.location != need.level.location),
                key=lambda w: (-spare[(w.sku, w.location)], w.location),
            ):
                can = spare[(wh.sku, wh.location)]
                take = min(can, remaining)
                if take <= 0:
                    continue
                spare[(wh.sku, wh.location)] -= take
                out.append(
                    Suggestion(
                        SuggestionKind.TRANSFER,
                        need,
                        take,
                        (*facts, _transfer_fact(wh, can, take, remaining)),
                        source_location=wh.location,
                    )
                )
                remaining -= take
                if remaining == 0:
                    break
            if remaining == need.quantity:
                facts += ("no warehouse has stock to spare",)
        if remaining > 0:
            out.append(_purchase(need, remaining, offers.get(need.level.sku), facts))
    return tuple(out)


def assess(level: LevelSnapshot, *, days: int, offer: SupplierOffer | None) -> Need | None:
    """The need of one line, or None when it has no reorder point, is above it, or already
    holds its target."""
    if level.reorder_point is None or level.projected > level.reorder_point:
        return None
    lead = offer.lead_time_days if offer is not None else DEFAULT_LEAD_TIME_DAYS
    if level.max_level is not None:
        target = level.max_level
    else:
        sold = max(0, level.sold)
        target = level.reorder_point + -(-sold * lead // days)  # ceil(sold / days * lead)
    quantity = target - level.projected
    if quantity <= 0:
        return None
    return Need(level, days, lead, target, quantity)


def _urgency(need: Need) -> tuple[bool, Fraction, int, str, str]:
    cover = need.days_of_cover
    level = need.level
    return (
        cover is None,
        cover if cover is not None else Fraction(0),
        level.projected - (level.reorder_point or 0),
        level.sku,
        level.location,
    )


def _offer_by_sku(offers: Iterable[SupplierOffer]) -> dict[str, SupplierOffer]:
    """The supplier each variant is bought from: the preferred one, else the first by code."""
    chosen: dict[str, SupplierOffer] = {}
    for offer in sorted(offers, key=lambda o: (not o.preferred, o.supplier)):
        chosen.setdefault(offer.sku, offer)
    return chosen


def rounded(value: Fraction, places: int) -> Decimal:
    """`value` as a decimal rounded half up to `places` places (for display and JSON)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def need_facts(need: Need, offer: SupplierOffer | None) -> tuple[str, ...]:
    """Why the line needs stock: projected vs reorder point, sales, target and need."""
    lv = need.level
    velocity = rounded(need.velocity, 2)
    facts = [
        f"projected {lv.projected} = available {lv.available} + incoming {lv.incoming}"
        f" + in transit {lv.in_transit}, at or below the reorder point {lv.reorder_point}",
    ]
    cover = need.days_of_cover
    if cover is None:
        facts.append(f"no sales here in the last {need.days} days")
    else:
        facts.append(
            f"{max(0, lv.sold)} sold here in the last {need.days} days: {velocity} per day,"
            f" {rounded(cover, 1)} days of cover"
        )
    if lv.max_level is not None:
        facts.append(f"target {need.target}: the max level")
    else:
        whose = f"of {offer.supplier}" if offer is not None else "(default: no supplier known)"
        facts.append(
            f"target {need.target} = reorder point {lv.reorder_point}"
            f" + {need.target - (lv.reorder_point or 0)} sold over"
            f" {need.lead_time_days} days lead time {whose} at {velocity} per day"
        )
    facts.append(f"need {need.quantity} = target {need.target} - projected {lv.projected}")
    return tuple(facts)


def _transfer_fact(wh: LevelSnapshot, spare: int, take: int, remaining: int) -> str:
    held = (
        f"available {wh.available} less its reorder point {wh.reorder_point}"
        if wh.reorder_point is not None
        else f"available {wh.available}, no reorder point"
    )
    return f"{wh.location} can spare {spare} ({held}): transfer {take} of the {remaining} needed"


def _purchase(
    need: Need, remaining: int, offer: SupplierOffer | None, facts: tuple[str, ...]
) -> Suggestion:
    if offer is None:
        fact = (
            f"no supplier sells {need.level.sku}: set up a supplier item to order the"
            f" {remaining} units"
        )
        return Suggestion(SuggestionKind.PURCHASE, need, remaining, (*facts, fact))
    pack = max(1, offer.pack_size)
    by_need = -(-remaining // pack)
    packs = max(by_need, offer.min_order_packs)
    quantity = packs * pack
    cost = None if offer.pack_cost_minor is None else packs * offer.pack_cost_minor
    who = f"{offer.supplier_name} ({offer.supplier})"
    fact = f"buy {remaining} from {who}{', the preferred supplier,' if offer.preferred else ''}"
    fact += f" in packs of {pack}: {packs} pack{'s' if packs != 1 else ''} = {quantity} units"
    if packs > by_need:
        fact += f" (minimum order {offer.min_order_packs} packs)"
    elif quantity != remaining:
        fact += f" (rounded up from {remaining})"
    fact += (
        f", estimated cost {format_major(cost, offer.currency)} {offer.currency}"
        if cost is not None
        else ", no pack cost on file"
    )
    plan = PurchasePlan(
        supplier=offer.supplier,
        supplier_name=offer.supplier_name,
        preferred=offer.preferred,
        pack_size=pack,
        packs=packs,
        min_order_packs=offer.min_order_packs,
        currency=offer.currency,
        estimated_cost_minor=cost,
    )
    return Suggestion(SuggestionKind.PURCHASE, need, quantity, (*facts, fact), purchase=plan)


# --- reorder settings ---------------------------------------------------------------------

SETTINGS: tuple[str, ...] = ("reorder_point", "max_level", "safety_stock")


@dataclass(frozen=True, slots=True)
class ReorderSettings:
    """The replenishment settings of one stock level. None: not set (safety stock is 0)."""

    reorder_point: int | None = None
    max_level: int | None = None
    safety_stock: int = 0

    def changed(self, changes: Mapping[str, int | None]) -> ReorderSettings:
        """These settings with `changes` applied (only the names given; None clears)."""
        safety = changes.get("safety_stock", self.safety_stock)
        return ReorderSettings(
            reorder_point=changes.get("reorder_point", self.reorder_point),
            max_level=changes.get("max_level", self.max_level),
            safety_stock=self.safety_stock if safety is None else safety,
        )


def setting_errors(
    changes: Mapping[str, int | None], result: ReorderSettings | None, *, prefix: str = ""
) -> list[FieldError]:
    """What is wrong with a settings change: unknown names, negative values, a null safety
    stock, and (on the settings that result, when given) max_level below reorder_point,
    named after the setting the change moved."""
    errors = [
        FieldError(f"{prefix}{name}", "inventory.unknown_setting", f"one of {', '.join(SETTINGS)}")
        for name in changes
        if name not in SETTINGS
    ]
    if "safety_stock" in changes and changes["safety_stock"] is None:
        errors.append(
            FieldError(f"{prefix}safety_stock", "inventory.invalid_quantity", "0 for none")
        )
    errors += [
        FieldError(f"{prefix}{name}", "inventory.invalid_quantity", "must be >= 0")
        for name in SETTINGS
        if (value := changes.get(name)) is not None and value < 0
    ]
    if errors or result is None:
        return errors
    if (
        result.max_level is not None
        and result.reorder_point is not None
        and result.max_level < result.reorder_point
    ):
        # Name the setting this change moved (max_level when it moved both).
        moved = "reorder_point" if "max_level" not in changes else "max_level"
        errors.append(
            FieldError(
                f"{prefix}{moved}",
                "inventory.max_below_reorder_point",
                f"max level {result.max_level} is below the reorder point {result.reorder_point}",
            )
        )
    return errors
