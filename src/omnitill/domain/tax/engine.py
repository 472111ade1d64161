"""The tax engine: a pure function from a priced document to its taxes, cent by cent.

`compute_tax(TaxInput) -> TaxResult`. What is included: every line's amount after discounts
and, when given, shipping. Per line and component it finds the rate in force on the date for
the line's tax class (0 when the class is not taxed or a threshold exempts the unit price),
then the exact tax: on the net for ordinary components, on the net plus the ordinary
components' tax for compound ones (Quebec's QST before 2013 taxed the GST). Prices that
include tax are split into net and tax with the same factors. Whether a price includes tax is
the jurisdiction's setting, unless a line says otherwise (`TaxableLine.inclusive`: a B2B price
list quoted net in a VAT country, say); shipping always follows the jurisdiction.

Rounding happens once per *rounding group* (see `model`): per line and group at the group's
combined exact tax (`RoundingLevel.LINE`), or once per group over the whole document
(`RoundingLevel.DOCUMENT`). The rounded amount is then split among the group's components,
and for document rounding among the lines, by largest remainder on the exact figures (within
one line these stand in the proportion of the components' rates, which the split uses
directly), so every breakdown adds up to what was charged. With tax-inclusive prices the net
is what remains of the price after the rounded tax, so net + tax always equals the shelf price.

A document for an exempt customer (certificate) or channel (B2B export) carries no tax; on
lines whose prices include tax the customer pays the net.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import allocate, round_minor
from omnitill.domain.tax.model import SHIPPING_CLASS, Jurisdiction, RoundingLevel, TaxComponent

SHIPPING_KEY = "shipping"
_WEIGHT_SCALE = Decimal(10) ** 9


@dataclass(frozen=True, slots=True)
class TaxableLine:
    """A line as priced: `amount` after discounts, tax included when `inclusive` (None: when
    the jurisdiction's prices include it). The unit price for thresholds is amount / quantity."""

    key: str
    tax_class: str
    quantity: int
    amount: int
    inclusive: bool | None = None


@dataclass(frozen=True, slots=True)
class TaxInput:
    jurisdiction: Jurisdiction
    lines: Sequence[TaxableLine]
    on: date
    shipping: int = 0
    channel: str | None = None
    exemption_certificate: str | None = None


@dataclass(frozen=True, slots=True)
class ComponentTax:
    code: str
    name: str
    rate: Decimal
    taxable: int
    tax: int


@dataclass(frozen=True, slots=True)
class LineTax:
    key: str
    net: int
    tax: int
    gross: int
    components: tuple[ComponentTax, ...]


@dataclass(frozen=True, slots=True)
class TaxResult:
    lines: tuple[LineTax, ...]
    shipping: LineTax | None
    breakdown: tuple[ComponentTax, ...]  # per component and rate, for receipts and reports
    net_total: int
    tax_total: int
    gross_total: int
    exempt_reason: str | None


class _Item(NamedTuple):
    key: str
    tax_class: str
    quantity: int
    amount: int
    shipping: bool
    inclusive: bool


class _Exact(NamedTuple):
    """One component's exact tax on one item, before rounding."""

    item: int
    component: TaxComponent
    rate: Decimal
    tax: Decimal


class _Rates(NamedTuple):
    """What a unit of one tax class pays: each taxing component with its rate, the sum of the
    ordinary rates, the total tax per unit of net, and the components (positions in `rates`)
    that round together, each with its weight in the line's tax (its rate, or for a compound
    levy its rate on the net plus the ordinary tax)."""

    rates: tuple[tuple[TaxComponent, Decimal], ...]
    ordinary: Decimal
    total: Decimal
    groups: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]


class _RateTable:
    """The rates in force on one day, looked up once per tax class (and, where a threshold
    applies to the class, per unit price) rather than once per line."""

    def __init__(self, j: Jurisdiction, on: date) -> None:
        self.jurisdiction = j
        self.components = tuple(c for c in j.components if c.in_force(on))
        self.thresholds = {r.tax_class for c in self.components for r in c.exempt_below}
        self.memo: dict[tuple[str, bool, int | None], _Rates] = {}

    def of(self, item: _Item) -> _Rates:
        """(component and rate for each taxing component, ordinary rate sum, total factor)."""
        unit = item.amount // item.quantity
        key = (item.tax_class, item.shipping, unit if item.tax_class in self.thresholds else None)
        found = self.memo.get(key)
        if found is None:
            rates = tuple(_rates(self.components, item, unit))
            ordinary, total = _factors(rates)
            weights = tuple(_weight(r * (1 + ordinary) if c.compound else r) for c, r in rates)
            grouped: dict[str, list[int]] = {}
            for k, (c, _) in enumerate(rates):
                grouped.setdefault(self.jurisdiction.group_of(c), []).append(k)
            groups = tuple((tuple(ks), tuple(weights[k] for k in ks)) for ks in grouped.values())
            found = _Rates(rates, ordinary, total, groups)
            self.memo[key] = found
        return found


def compute_tax(data: TaxInput) -> TaxResult:
    """Taxes of a document under `data.jurisdiction` on `data.on` (see the module docstring)."""
    items = _items(data)
    j = data.jurisdiction
    exempt = _exempt_reason(data)
    table = _RateTable(j, data.on)
    if exempt:
        results = [
            _exempt_inclusive(j, table, item) if item.inclusive else _untaxed(item)
            for item in items
        ]
    elif j.rounding is RoundingLevel.LINE:
        results = [_rounded_line(j, table, item) for item in items]
    else:
        results = _rounded_document(j, table, items)
    lines = tuple(r for r, item in zip(results, items, strict=True) if not item.shipping)
    shipping = next((r for r, item in zip(results, items, strict=True) if item.shipping), None)
    return TaxResult(
        lines=lines,
        shipping=shipping,
        breakdown=_breakdown(results),
        net_total=sum(r.net for r in results),
        tax_total=sum(r.tax for r in results),
        gross_total=sum(r.gross for r in results),
        exempt_reason=exempt,
    )


def _items(data: TaxInput) -> list[_Item]:
    errors = [
        FieldError(f"lines.{i}", "tax.invalid_line", "amount must be >= 0 and quantity >= 1")
        for i, line in enumerate(data.lines)
        if line.amount < 0 or line.quantity < 1
    ]
    if data.shipping < 0:
        errors.append(FieldError("shipping", "tax.invalid_line", "must be >= 0"))
    if errors:
        raise ValidationFailed("tax.invalid_line", "some taxable lines are invalid", errors=errors)
    j = data.jurisdiction
    items = [
        _Item(
            x.key,
            x.tax_class,
            x.quantity,
            x.amount,
            False,
            j.inclusive if x.inclusive is None else x.inclusive,
        )
        for x in data.lines
    ]
    if data.shipping:
        items.append(_Item(SHIPPING_KEY, SHIPPING_CLASS, 1, data.shipping, True, j.inclusive))
    return items


def _exempt_reason(data: TaxInput) -> str | None:
    if data.exemption_certificate:
        return f"exemption certificate {data.exemption_certificate}"
    if data.channel is not None and data.channel in data.jurisdiction.exempt_channels:
        return f"channel {data.channel} is exempt"
    return None


def _rates(
    components: Sequence[TaxComponent], item: _Item, unit: int
) -> list[tuple[TaxComponent, Decimal]]:
    found = []
    for c in components:
        if item.shipping and not c.applies_to_shipping:
            continue
        rate = (
            c.rates.get(item.tax_class, Decimal(0))
            if item.shipping
            else c.rate_for(item.tax_class, unit)
        )
        if rate:
            found.append((c, rate))
    return found


def _factors(rates: Sequence[tuple[TaxComponent, Decimal]]) -> tuple[Decimal, Decimal]:
    """(sum of ordinary rates, total tax per unit of net)."""
    ordinary = sum((r for c, r in rates if not c.compound), Decimal(0))
    compound = sum((r * (1 + ordinary) for c, r in rates if c.compound), Decimal(0))
    return ordinary, ordinary + compound


def _exact_taxes(table: _RateTable, items: list[_Item]) -> list[_Exact]:
    exact: list[_Exact] = []
    for i, item in enumerate(items):
        rates, ordinary, total, _ = table.of(item)
        if not rates:
            continue
        net = Decimal(item.amount) / (1 + total) if item.inclusive else Decimal(item.amount)
        for component, rate in rates:
            base = net * (1 + ordinary) if component.compound else net
            exact.append(_Exact(i, component, rate, base * rate))
    return exact


def _weight(share: Decimal) -> int:
    return int((share * _WEIGHT_SCALE).to_integral_value())


def _rounded_document(j: Jurisdiction, table: _RateTable, items: list[_Item]) -> list[LineTax]:
    """Each item's tax with every rounding group rounded once over the whole document."""
    exact = _exact_taxes(table, items)
    per_item: list[list[tuple[_Exact, int]]] = [[] for _ in items]
    for entry, tax in zip(exact, _round(j, exact), strict=True):
        per_item[entry.item].append((entry, tax))
    return [_line_tax(item, per_item[i]) for i, item in enumerate(items)]


def _round(j: Jurisdiction, exact: list[_Exact]) -> list[int]:
    """Rounded tax of each exact entry, rounding once per group over the whole document and
    splitting each group's tax among its entries on their exact figures."""
    groups: dict[str, list[int]] = defaultdict(list)
    for n, entry in enumerate(exact):
        groups[j.group_of(entry.component)].append(n)
    rounded = [0] * len(exact)
    for members in groups.values():
        shares = [exact[n].tax for n in members]
        total = round_minor(sum(shares, Decimal(0)), j.mode)
        for n, part in zip(members, allocate(total, [_weight(x) for x in shares]), strict=True):
            rounded[n] = part
    return rounded


def _rounded_line(j: Jurisdiction, table: _RateTable, item: _Item) -> LineTax:
    """One item's tax, each rounding group rounded once on the line. Within a line the exact
    shares are in proportion to the components' weights, so the split uses those."""
    rates, ordinary, total, groups = table.of(item)
    if not rates:
        return _untaxed(item)
    net = Decimal(item.amount) / (1 + total) if item.inclusive else Decimal(item.amount)
    with_ordinary = net * (1 + ordinary)
    exact = [(with_ordinary if c.compound else net) * rate for c, rate in rates]
    rounded = [0] * len(rates)
    for positions, group_weights in groups:
        group_tax = round_minor(sum((exact[k] for k in positions), Decimal(0)), j.mode)
        if len(positions) == 1:
            rounded[positions[0]] = group_tax
            continue
        for k, part in zip(positions, _largest_remainder(group_tax, group_weights), strict=True):
            rounded[k] = part
    tax = sum(rounded)
    ordinary_tax = sum(t for (c, _), t in zip(rates, rounded, strict=True) if not c.compound)
    line_net = item.amount - tax if item.inclusive else item.amount
    components = tuple(
        ComponentTax(c.code, c.name, rate, line_net + ordinary_tax if c.compound else line_net, t)
        for (c, rate), t in zip(rates, rounded, strict=True)
    )
    return LineTax(item.key, line_net, tax, line_net + tax, components)


def _untaxed(item: _Item) -> LineTax:
    return LineTax(item.key, item.amount, 0, item.amount, ())


def _largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """`money.allocate` for a total >= 0 over positive weights, without its general checks."""
    denominator = sum(weights)
    parts: list[int] = []
    remainders: list[int] = []
    for w in weights:
        part, remainder = divmod(total * w, denominator)
        parts.append(part)
        remainders.append(remainder)
    short = total - sum(parts)
    if short == 1:
        parts[remainders.index(max(remainders))] += 1
    elif short:
        order = sorted(range(len(weights)), key=lambda k: (-remainders[k], k))
        for k in order[:short]:
            parts[k] += 1
    return parts


def _line_tax(item: _Item, taxes: list[tuple[_Exact, int]]) -> LineTax:
    if not taxes:
        return _untaxed(item)
    tax = ordinary_tax = 0
    for e, t in taxes:
        tax += t
        if not e.component.compound:
            ordinary_tax += t
    net = item.amount - tax if item.inclusive else item.amount
    components = tuple(
        ComponentTax(
            code=e.component.code,
            name=e.component.name,
            rate=e.rate,
            taxable=net + ordinary_tax if e.component.compound else net,
            tax=t,
        )
        for e, t in taxes
    )
    return LineTax(item.key, net, tax, net + tax, components)


def _exempt_inclusive(j: Jurisdiction, table: _RateTable, item: _Item) -> LineTax:
    """An exempt buyer of a tax-inclusive price pays the net: the price less its tax."""
    total = table.of(item).total
    net = round_minor(Decimal(item.amount) / (1 + total), j.mode)
    return LineTax(item.key, net, 0, net, ())


def _breakdown(results: list[LineTax]) -> tuple[ComponentTax, ...]:
    totals: dict[tuple[str, Decimal], list[int]] = {}
    names: dict[str, str] = {}
    for line in results:
        for c in line.components:
            entry = totals.setdefault((c.code, c.rate), [0, 0])
            entry[0] += c.taxable
            entry[1] += c.tax
            names[c.code] = c.name
    return tuple(
        ComponentTax(code, names[code], rate, taxable, tax)
        for (code, rate), (taxable, tax) in totals.items()
    )
