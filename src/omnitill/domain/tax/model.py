"""What a tax set-up is made of: components stacked into a jurisdiction.

A *component* is one levy with its own rate per tax class: New York State 4 %, New York City
4.5 %, the MCTD surcharge 0.375 %; Canada's GST 5 % and Quebec's QST 9.975 %; a country's VAT.
A *jurisdiction* is what applies at one place: the components stacked there, whether shelf
prices include the tax, and how to round. Components that share a `rounding_group` are rounded
together at their combined rate (US sales tax is charged at the combined rate and split among
the levies afterwards); components in different groups are rounded apart (GST and QST are
separate lines on a Canadian receipt).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import Rounding


class RoundingLevel(StrEnum):
    """Round each line's tax (`line`) or only each document total (`document`)."""

    LINE = "line"
    DOCUMENT = "document"


STANDARD = "standard"
SHIPPING_CLASS = STANDARD  # shipping is taxed at a component's standard rate when it applies


@dataclass(frozen=True, slots=True)
class ExemptBelow:
    """Units of `tax_class` priced below `unit_price` (minor units) are exempt from the
    component, as New York exempts clothing and footwear under $110 an item from the state tax
    and the MCTD surcharge, and from the local tax where the locality opted in, as New York
    City did (NY Tax Bulletin ST-530)."""

    tax_class: str
    unit_price: int


@dataclass(frozen=True, slots=True)
class TaxComponent:
    code: str
    name: str
    rates: Mapping[str, Decimal]  # tax class -> rate (0.04 = 4 %); a class not listed: 0
    compound: bool = False  # taxed on the net plus the non-compound components' tax
    applies_to_shipping: bool = True
    rounding_group: str | None = None  # None: the jurisdiction's code
    valid_from: date | None = None
    valid_to: date | None = None  # inclusive
    exempt_below: tuple[ExemptBelow, ...] = ()

    def __post_init__(self) -> None:
        bad = [
            FieldError(f"rates.{cls}", "tax.invalid_rate", "a rate is between 0 and 1")
            for cls, rate in self.rates.items()
            if not Decimal(0) <= rate <= Decimal(1)
        ]
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            bad.append(FieldError("valid_to", "tax.invalid_window", "ends before it starts"))
        if bad:
            raise ValidationFailed(bad[0].code, f"tax component {self.code} is invalid", errors=bad)

    def in_force(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )

    def rate_for(self, tax_class: str, unit_price: int) -> Decimal:
        """The rate this component charges a unit of `tax_class` at `unit_price`."""
        for rule in self.exempt_below:
            if rule.tax_class == tax_class and unit_price < rule.unit_price:
                return Decimal(0)
        return self.rates.get(tax_class, Decimal(0))


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    code: str
    name: str
    components: tuple[TaxComponent, ...]
    inclusive: bool = False  # shelf prices include the tax (VAT) or not (US sales tax)
    rounding: RoundingLevel = RoundingLevel.LINE
    mode: Rounding = Rounding.HALF_UP
    exempt_channels: frozenset[str] = field(default_factory=frozenset)

    def group_of(self, component: TaxComponent) -> str:
        return component.rounding_group or self.code
