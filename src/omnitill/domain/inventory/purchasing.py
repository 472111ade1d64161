"""Purchasing rules: the purchase order life cycle, receiving against it, and landed cost.

A purchase order (PO) is born `draft` (its lines may still change), becomes `sent` when it
goes to the supplier (its units now count as `incoming` at the ship-to location), then
`partially_received` and `received` as deliveries are booked in, and ends `closed` (what
never came stops counting as incoming) or `cancelled` (only while nothing was received).

Quantities are integers in the variant's base unit (each, g, ml); a supplier sells in packs
of `pack_size` base units. Costs are integer minor units of the PO's currency per base unit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from omnitill.domain.customers.contacts import is_plausible_email
from omnitill.domain.errors import Conflict, FieldError, ValidationFailed
from omnitill.domain.money import ISO_4217_CODES, allocate, minor_units, round_minor

K = TypeVar("K")


class POStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class POAction(StrEnum):
    EDIT = "edit"
    SEND = "send"
    RECEIVE = "receive"
    CANCEL = "cancel"
    CLOSE = "close"


# From which states each action is allowed. Receiving covers `received` too: an over-delivery
# that turns up after the last line was complete is booked against the same order (and needs
# the over-receipt permission). Cancelling needs nothing received, closing something received.
ALLOWED_FROM: dict[POAction, frozenset[POStatus]] = {
    POAction.EDIT: frozenset({POStatus.DRAFT}),
    POAction.SEND: frozenset({POStatus.DRAFT}),
    POAction.RECEIVE: frozenset({POStatus.SENT, POStatus.PARTIALLY_RECEIVED, POStatus.RECEIVED}),
    POAction.CANCEL: frozenset({POStatus.DRAFT, POStatus.SENT}),
    POAction.CLOSE: frozenset({POStatus.PARTIALLY_RECEIVED, POStatus.RECEIVED}),
}

# Where an action leads; receiving leads to partially_received or received (see
# `status_after_receipt`), editing stays in draft.
TARGET: dict[POAction, POStatus] = {
    POAction.EDIT: POStatus.DRAFT,
    POAction.SEND: POStatus.SENT,
    POAction.CANCEL: POStatus.CANCELLED,
    POAction.CLOSE: POStatus.CLOSED,
}

# Orders whose unreceived units count as incoming.
OPEN: frozenset[POStatus] = frozenset({POStatus.SENT, POStatus.PARTIALLY_RECEIVED})

_REFUSAL_CODES: dict[POAction, str] = {
    POAction.EDIT: "purchasing.not_draft",
    POAction.RECEIVE: "purchasing.not_receivable",
}


def check_action(status: str, action: POAction) -> None:
    """Raise 409 (with the current status in details) unless `action` is legal from `status`.

    Editing lines outside draft is `purchasing.not_draft`, receiving on a draft, cancelled or
    closed order `purchasing.not_receivable`, every other refusal
    `purchasing.invalid_transition`.
    """
    current = POStatus(status)
    if current in ALLOWED_FROM[action]:
        return
    allowed = sorted(str(s) for s in ALLOWED_FROM[action])
    raise Conflict(
        _REFUSAL_CODES.get(action, "purchasing.invalid_transition"),
        f"a {current} purchase order cannot {action}; allowed from {', '.join(allowed)}",
        {"status": str(current), "action": str(action), "allowed_from": allowed},
    )


def remaining(*, ordered: int, received: int) -> int:
    """Units still expected on a line: ordered less received, never below zero."""
    return max(ordered - received, 0)


@dataclass(frozen=True, slots=True)
class LineReceipt:
    """What receiving `quantity` units does to a PO line that has `received` of `ordered`.

    `released` units leave incoming (they were expected); `over` units exceed what was still
    expected (an over-delivery, which needs permission). `released + over == quantity`.
    """

    released: int
    over: int


def receive_on_line(*, ordered: int, received: int, quantity: int) -> LineReceipt:
    """Split a received quantity into what was expected and what is over (see LineReceipt)."""
    expected = remaining(ordered=ordered, received=received)
    released = min(quantity, expected)
    return LineReceipt(released=released, over=quantity - released)


def receive_lines(
    state: dict[K, tuple[int, int]], requests: Sequence[tuple[K, int]]
) -> list[LineReceipt]:
    """Each receipt line (PO line key, quantity) split as in `receive_on_line`, in order.

    Several receipt lines may name one PO line (one delivery of a SKU in two lots); each sees
    what the earlier ones already received, so together they release at most what was
    expected. `state` maps each PO line to (ordered, received before this receipt).
    """
    received = {key: done for key, (_, done) in state.items()}
    out: list[LineReceipt] = []
    for key, quantity in requests:
        split = receive_on_line(ordered=state[key][0], received=received[key], quantity=quantity)
        received[key] += quantity
        out.append(split)
    return out


def status_after_receipt(lines: Sequence[tuple[int, int]]) -> POStatus:
    """`received` once every line (ordered, received) has all its units, else partially."""
    if all(received >= ordered for ordered, received in lines):
        return POStatus.RECEIVED
    return POStatus.PARTIALLY_RECEIVED


def base_quantity(*, packs: int, pack_size: int) -> int:
    """Packs ordered converted to base units (a case of 12 x 3 cases = 36)."""
    return packs * pack_size


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for non-negative numerator and positive
    denominator, in exact integer arithmetic (no float, no Decimal context)."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("div_half_up needs numerator >= 0 and denominator > 0")
    return (2 * numerator + denominator) // (2 * denominator)


def unit_cost_from_pack(*, pack_cost: int, pack_size: int) -> int:
    """Cost per base unit of a pack, rounded half-up (a case of 12 at 1000 -> 83)."""
    return div_half_up(pack_cost, pack_size)


def allocate_landed_cost(
    total: int, *, quantities: Sequence[int], unit_costs: Sequence[int]
) -> list[int]:
    """Spread `total` landed cost (freight, duty, ...) over receipt lines by line value.

    Line value is quantity x unit cost; the split is largest remainder, so the shares always
    sum to `total` exactly. When every line is free (all values 0) the split follows the
    quantities instead, so free goods still carry the freight that brought them.
    """
    values = [q * c for q, c in zip(quantities, unit_costs, strict=True)]
    weights = values if any(values) else list(quantities)
    return allocate(total, weights)


def landed_unit_cost(*, quantity: int, unit_cost: int, share: int) -> int:
    """(quantity x unit cost + the line's landed cost share) / quantity, rounded half-up."""
    return div_half_up(quantity * unit_cost + share, quantity)


def moving_average_cost(
    *, on_hand_before: int, old_cost: int | None, receipts: Sequence[tuple[int, int]]
) -> int:
    """The variant's new average cost after receiving `receipts` (quantity, landed unit cost).

    (max(on_hand_before, 0) x old_cost + sum(quantity x landed unit)) /
    (max(on_hand_before, 0) + sum(quantity)), rounded half-up. Negative stock (sales recorded
    ahead of a delivery) counts as none, so it cannot drag the average. With no old cost the
    old units take the new cost, so the result is the receipts' own average.
    """
    units = sum(q for q, _ in receipts)
    value = sum(q * c for q, c in receipts)
    if units <= 0:
        raise ValueError("moving_average_cost needs received units")
    before = max(on_hand_before, 0) if old_cost is not None else 0
    return div_half_up(before * (old_cost or 0) + value, before + units)


# --- what a request may ask ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderLineRequest:
    """A PO line as asked: a variant and either `quantity` base units or `packs` of
    `pack_size` (the supplier item's when not given); `unit_cost` per base unit (the supplier
    item's pack cost / pack size when not given)."""

    sku: str
    quantity: int | None = None
    packs: int | None = None
    pack_size: int | None = None
    unit_cost: int | None = None


@dataclass(frozen=True, slots=True)
class SupplierTerms:
    """What the supplier's catalog says of one variant: units per pack and price per pack."""

    pack_size: int
    pack_cost: int | None


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A PO line ready to store: base units, the pack size it was ordered in, unit cost."""

    sku: str
    quantity: int
    pack_size: int
    unit_cost: int


def plan_order_lines(
    requests: Sequence[OrderLineRequest],
    terms: Sequence[SupplierTerms | None],
    *,
    prefix: str = "lines",
) -> list[PlannedLine]:
    """Resolve quantities, pack sizes and unit costs of PO lines; 422 listing every bad field.

    Rules: exactly one of quantity or packs, each at least 1; packs need a pack size (given,
    or the supplier item's); a pack size is at least 1; a unit cost is given or derivable from
    the supplier item's pack cost, and never negative; one SKU appears on one line only.
    """
    errors: list[FieldError] = []
    planned: list[PlannedLine] = []
    seen: dict[str, int] = {}
    for i, (req, term) in enumerate(zip(requests, terms, strict=True)):
        at = f"{prefix}.{i}"
        if req.sku in seen:
            errors.append(
                FieldError(
                    f"{at}.sku",
                    "purchasing.duplicate_sku",
                    f"{req.sku} is already on line {seen[req.sku]}",
                )
            )
        seen.setdefault(req.sku, i)
        line_errors = _line_errors(req, term, at)
        errors += line_errors
        if line_errors:
            continue
        pack_size = req.pack_size or (term.pack_size if term else 1)
        quantity = (
            req.quantity
            if req.quantity is not None
            else base_quantity(packs=req.packs or 0, pack_size=pack_size)
        )
        unit_cost = req.unit_cost
        if unit_cost is None and term is not None and term.pack_cost is not None:
            unit_cost = unit_cost_from_pack(pack_cost=term.pack_cost, pack_size=term.pack_size)
        planned.append(PlannedLine(req.sku, quantity, pack_size, unit_cost or 0))
    if errors:
        raise ValidationFailed(
            errors[0].code, "some purchase order lines are invalid", errors=errors
        )
    return planned


def _line_errors(req: OrderLineRequest, term: SupplierTerms | None, at: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if (req.quantity is None) == (req.packs is None):
        errors.append(
            FieldError(at, "purchasing.quantity_or_packs", "give exactly one of quantity or packs")
        )
    for name, value in (("quantity", req.quantity), ("packs", req.packs)):
        if value is not None and value < 1:
            errors.append(
                FieldError(f"{at}.{name}", "purchasing.invalid_quantity", "must be at least 1")
            )
    if req.pack_size is not None and req.pack_size < 1:
        errors.append(
            FieldError(f"{at}.pack_size", "purchasing.invalid_pack_size", "must be at least 1")
        )
    elif req.packs is not None and req.pack_size is None and term is None:
        errors.append(
            FieldError(
                f"{at}.pack_size",
                "purchasing.pack_size_required",
                f"{req.sku} has no supplier pack size; give pack_size or quantity",
            )
        )
    if req.unit_cost is not None and req.unit_cost < 0:
        errors.append(
            FieldError(f"{at}.unit_cost", "purchasing.invalid_unit_cost", "must not be negative")
        )
    elif req.unit_cost is None and (term is None or term.pack_cost is None):
        errors.append(
            FieldError(
                f"{at}.unit_cost",
                "purchasing.unit_cost_required",
                f"the supplier lists no pack cost for {req.sku}; give unit_cost",
            )
        )
    return errors


LANDED_COST_KINDS: tuple[str, ...] = ("freight", "duty", "other")


def check_receipt_request(
    *, quantities: Sequence[int], landed_costs: Sequence[tuple[str, int]]
) -> None:
    """A receipt has lines of at least one unit each; landed costs are known kinds, >= 0."""
    errors = [
        FieldError(f"lines.{i}.quantity", "purchasing.invalid_quantity", "must be at least 1")
        for i, qty in enumerate(quantities)
        if qty < 1
    ]
    if not quantities:
        errors.append(FieldError("lines", "purchasing.no_lines", "at least one line"))
    for i, (kind, amount) in enumerate(landed_costs):
        if kind not in LANDED_COST_KINDS:
            errors.append(
                FieldError(
                    f"landed_costs.{i}.kind",
                    "purchasing.invalid_landed_cost",
                    f"one of {', '.join(LANDED_COST_KINDS)}",
                )
            )
        if amount < 0:
            errors.append(
                FieldError(
                    f"landed_costs.{i}.amount",
                    "purchasing.invalid_landed_cost",
                    "must not be negative",
                )
            )
    if errors:
        raise ValidationFailed(errors[0].code, "the receipt is invalid", errors=errors)


# --- suppliers ------------------------------------------------------------------------------

SUPPLIER_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class SupplierFields:
    """A supplier as it will be stored (after a create, or a change merged with the row)."""

    code: str
    name: str
    currency: str
    email: str | None = None
    phone: str | None = None
    lead_time_days: int = 7


def check_supplier(fields: SupplierFields) -> list[FieldError]:
    """Every problem with a supplier's fields: code (1 to 40 letters, digits, - and _), a
    name, an ISO 4217 currency, a plausible e-mail, a lead time of 0 to 365 days."""
    errors: list[FieldError] = []
    if not SUPPLIER_CODE.match(fields.code):
        errors.append(FieldError("code", "supplier.invalid_code", "1..40 letters, digits, - or _"))
    if not fields.name.strip() or len(fields.name) > 200:
        errors.append(FieldError("name", "supplier.invalid_name", "1..200 characters"))
    if fields.currency not in ISO_4217_CODES:
        errors.append(
            FieldError("currency", "money.unknown_currency", f"{fields.currency!r} is not ISO 4217")
        )
    if fields.email is not None and not is_plausible_email(fields.email):
        errors.append(FieldError("email", "supplier.invalid_email", "not a valid email address"))
    if fields.phone is not None and len(fields.phone) > 40:
        errors.append(FieldError("phone", "supplier.invalid_phone", "at most 40 characters"))
    if not 0 <= fields.lead_time_days <= 365:
        errors.append(FieldError("lead_time_days", "supplier.invalid_lead_time", "0 to 365 days"))
    return errors


@dataclass(frozen=True, slots=True)
class SupplierItemFields:
    """One variant in a supplier's catalog: its code there, units per pack, price per pack
    (minor units of the supplier's currency), the smallest order in packs, and whether this
    is the supplier replenishment buys the variant from."""

    sku: str
    supplier_sku: str | None = None
    pack_size: int = 1
    pack_cost: int | None = None
    min_order_packs: int = 1
    preferred: bool = False


def check_supplier_items(items: Sequence[SupplierItemFields]) -> list[FieldError]:
    """Every problem with a list of supplier items, each named `items.N.field`."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        at = f"items.{i}"
        if item.sku in seen:
            errors.append(
                FieldError(f"{at}.sku", "purchasing.duplicate_sku", f"{item.sku} listed twice")
            )
        seen.add(item.sku)
        if item.pack_size < 1:
            errors.append(
                FieldError(f"{at}.pack_size", "purchasing.invalid_pack_size", "at least 1")
            )
        if item.pack_cost is not None and item.pack_cost < 0:
            errors.append(
                FieldError(f"{at}.pack_cost", "purchasing.invalid_unit_cost", "not negative")
            )
        if item.min_order_packs < 1:
            errors.append(
                FieldError(f"{at}.min_order_packs", "purchasing.invalid_quantity", "at least 1")
            )
        if item.supplier_sku is not None and not 1 <= len(item.supplier_sku) <= 64:
            errors.append(
                FieldError(f"{at}.supplier_sku", "supplier.invalid_supplier_sku", "1..64 chars")
            )
    return errors


def convert_cost(amount: int, *, rate: Decimal, source: str, target: str) -> int:
    """`amount` minor units of `source` in minor units of `target` at `rate` (one `source`
    buys `rate` of `target`), rounded half-up; the minor-unit exponents may differ (JPY 0,
    USD 2)."""
    shift = minor_units(target) - minor_units(source)
    return round_minor((Decimal(amount) * rate).scaleb(shift))
