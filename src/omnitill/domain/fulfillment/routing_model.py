"""What the order router reads and what it answers: frozen snapshots, plain data out.

The input is a snapshot the order service loads (`RoutingRequest`); the output
(`RoutingResult`) is assignments, short lines and an `Explanation` made of strings and numbers
only, so the caller can store it on the order as JSON (`as_dict()`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from omnitill.domain.inventory.buckets import StockBuckets


class FulfillmentMethod(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    CURBSIDE = "curbside"
    LOCAL_DELIVERY = "local_delivery"


PICKUP_METHODS = frozenset({FulfillmentMethod.PICKUP, FulfillmentMethod.CURBSIDE})


class LocationKind(StrEnum):
    STORE = "store"
    WAREHOUSE = "warehouse"


class Rule(StrEnum):
    """The routing rules. The first three are filters (a location passes or is excluded,
    wherever they stand in the list); the others rank what passed, in list order."""

    EXCLUDE_STALE = "exclude_stale"
    RESPECT_CAPACITY_AND_HOURS = "respect_capacity_and_hours"
    PROTECT_SAFETY_STOCK = "protect_safety_stock"
    MINIMISE_SPLITS = "minimise_splits"
    DESTINATION_MARKET = "destination_market"
    CLOSEST = "closest"
    MERCHANT_RANK = "merchant_rank"


FILTER_RULES = frozenset(
    {Rule.EXCLUDE_STALE, Rule.RESPECT_CAPACITY_AND_HOURS, Rule.PROTECT_SAFETY_STOCK}
)
DEFAULT_RULES: tuple[str, ...] = tuple(rule.value for rule in Rule)
DEFAULT_STALENESS_LIMIT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One order line to place: `quantity` units (base unit) of a variant, by `method` (a
    `FulfillmentMethod` value)."""

    key: str
    variant_id: str
    quantity: int
    method: str = FulfillmentMethod.SHIP


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the order goes. `market` defaults to `country`. Coordinates are needed when a
    distance is (the closest rule on a ship line, any local delivery line).
    `pickup_location` is the location code that every pickup and curbside line goes to."""

    country: str | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    pickup_location: str | None = None
    market: str | None = None

    @property
    def market_code(self) -> str | None:
        return self.market or self.country

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class LocationStock:
    """One variant at one location, as the stock levels report it.

    `available` already excludes safety stock (on_hand - reserved - safety_stock -
    unavailable, see `domain.inventory.buckets`); `safety_stock` is the buffer kept back from
    online promises. With the safety stock rule on the router takes at most `available`
    units; with it off, at most `available + safety_stock` (on_hand - reserved -
    unavailable). Negative figures (stock oversold at the register) count as nothing.
    """

    available: int
    safety_stock: int = 0

    @classmethod
    def from_buckets(cls, buckets: StockBuckets) -> LocationStock:
        return cls(available=buckets.available, safety_stock=buckets.safety_stock)

    def usable(self, *, protect_safety_stock: bool) -> int:
        """The units the router may promise from here."""
        if protect_safety_stock:
            return max(0, self.available)
        return max(0, self.available + self.safety_stock)


@dataclass(frozen=True, slots=True)
class CandidateLocation:
    """A location the router may choose, with what it knows about it right now.

    `rank` is the merchant's priority (lower first). `capacity_left` is how many more orders
    it can take today (None: no limit). `open_now` and `accepts_orders_today` come from its
    opening hours and order cut-off at the request's `now`. `last_heard_at` is when its store
    node last synced (None: the location is run from the hub and is never stale).
    `local_delivery_radius_km` is None when it does not deliver locally (only stores do).
    `stock` maps variant id to its stock there; a variant not listed has none.
    """

    code: str
    kind: str = LocationKind.STORE
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    rank: int = 0
    ships: bool = True
    offers_pickup: bool = False
    local_delivery_radius_km: float | None = None
    capacity_left: int | None = None
    open_now: bool = True
    accepts_orders_today: bool = True
    last_heard_at: datetime | None = None
    stock: Mapping[str, LocationStock] = field(default_factory=dict)
    market: str | None = None

    @property
    def market_code(self) -> str | None:
        return self.market or self.country

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    """Everything one routing decision needs. `rules` is the ordered rule list (names of
    `Rule`); a filter left out is off. `rejected` holds (location code, line key) pairs a
    location has refused (item not found on the shelf): that location is not offered that
    line again."""

    lines: tuple[OrderLine, ...]
    destination: Destination
    locations: tuple[CandidateLocation, ...]
    now: datetime
    staleness_limit: timedelta = DEFAULT_STALENESS_LIMIT
    rules: tuple[str, ...] = DEFAULT_RULES
    rejected: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Assignment:
    """`quantity` units of line `line_key` go from `location` by `method`."""

    location: str
    line_key: str
    variant_id: str
    quantity: int
    method: str


@dataclass(frozen=True, slots=True)
class ShortLine:
    """Units of a line no location could take, and why (`reason` is a stable code)."""

    line_key: str
    variant_id: str
    method: str
    quantity: int
    short: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Competitor:
    """Why a location did not get a decision. `outcome` is "excluded" (a filter, the
    fulfillment method, or no usable stock left out) or "lost" (it competed and lost on
    `rule`); `reason` is a stable code, `detail` a phrase, `value` its figure on that rule
    and `versus` the chosen location's."""

    location: str
    outcome: str
    rule: str
    reason: str
    detail: str
    value: float | int | str | None = None
    versus: float | int | str | None = None


@dataclass(frozen=True, slots=True)
class Take:
    line_key: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Decision:
    """One location chosen for some units. `rule` is the rule that chose it over the
    runner-up (`only_candidate`, `pickup_location` or `location_code` when no rule did);
    `split_search` says how shipments were counted: exact, greedy, off or fixed."""

    location: str
    method: str
    takes: tuple[Take, ...]
    rule: str
    detail: str
    split_search: str
    others: tuple[Competitor, ...]
    sentence: str


@dataclass(frozen=True, slots=True)
class Rejection:
    location: str
    line_key: str


@dataclass(frozen=True, slots=True)
class Explanation:
    rules: tuple[str, ...]
    decisions: tuple[Decision, ...]
    rejections: tuple[Rejection, ...]
    summary: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists when dumped)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RoutingResult:
    assignments: tuple[Assignment, ...]
    short_lines: tuple[ShortLine, ...]
    explanation: Explanation

    @property
    def fully_routed(self) -> bool:
        return not self.short_lines

    @property
    def shipments(self) -> int:
        """Distinct (location, method) pairs: one parcel, pickup or delivery each."""
        return len({(a.location, a.method) for a in self.assignments})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
