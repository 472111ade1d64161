"""Money as integer minor units of an ISO 4217 currency.

Never float, never Decimal in storage: an amount is an `int` count of the currency's minor unit
(cents for USD, yen for JPY, fils for BHD). Rates and percentages are `Decimal`. Every rounding
goes through `round_minor`, with an explicit mode; splits go through `allocate`, whose parts
always sum to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum

from omnitill.domain.errors import ValidationFailed

# ISO 4217 exponents that are not 2. Everything in ISO_4217_CODES not listed here uses 2.
_EXPONENTS: dict[str, int] = {
    # zero decimals
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # three decimals
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # four decimals
    "CLF": 4,
    "UYW": 4,
}

ISO_4217_CODES: frozenset[str] = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWL",
    ]
)


class Rounding(StrEnum):
    """How a fractional minor unit becomes whole. Half-up is the retail default."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"

    @property
    def decimal_mode(self) -> str:
        return ROUND_HALF_UP if self is Rounding.HALF_UP else ROUND_HALF_EVEN


def check_currency(code: str) -> str:
    """Return `code` if it is an ISO 4217 currency, else raise `money.unknown_currency`."""
    if code not in ISO_4217_CODES:
        raise ValidationFailed(
            "money.unknown_currency",
            f"{code!r} is not an ISO 4217 currency code",
            {"currency": code},
        )
    return code


def minor_units(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (JPY 0, USD 2, BHD 3)."""
    return _EXPONENTS.get(check_currency(currency), 2)


def round_minor(amount: Decimal, mode: Rounding = Rounding.HALF_UP) -> int:
    """Round a fractional amount of minor units to a whole number of minor units."""
    return int(amount.quantize(Decimal(1), rounding=mode.decimal_mode))


def to_minor(major: Decimal | str, currency: str, mode: Rounding = Rounding.HALF_UP) -> int:
    """Convert a major-unit amount ("19.99") to minor units (1999) in `currency`."""
    scaled = Decimal(major).scaleb(minor_units(currency))
    return round_minor(scaled, mode)


def format_major(amount: int, currency: str) -> str:
    """Render minor units as a plain major-unit string: 1999 USD -> '19.99', 500 JPY -> '500'."""
    exp = minor_units(currency)
    if exp == 0:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}"


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` minor units in proportion to `weights` by largest remainder.

    The parts always sum to `total`. Ties on the remainder go to the earlier weight, so the
    result is deterministic. All-zero weights split evenly. Negative totals split as the
    negation of the positive split; weights must be non-negative.
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    if total < 0:
        return [-part for part in allocate(-total, weights)]
    effective = list(weights) if any(weights) else [1] * len(weights)
    denominator = sum(effective)
    floors = [total * w // denominator for w in effective]
    remainders = [total * w % denominator for w in effective]
    short = total - sum(floors)
    order = sorted(range(len(effective)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return floors


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in integer minor units of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValidationFailed(
                "money.currency_mismatch",
                f"cannot combine {self.currency} with {other.currency}",
                {"currencies": [self.currency, other.currency]},
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def times(self, quantity: int) -> Money:
        """The amount for `quantity` units at this unit amount."""
        return Money(self.amount * quantity, self.currency)

    def apply_rate(self, rate: Decimal, mode: Rounding = Rounding.HALF_UP) -> Money:
        """This amount multiplied by a rate (0.0825 for 8.25 %), rounded once."""
        return Money(round_minor(Decimal(self.amount) * rate, mode), self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split by largest remainder; parts sum to this amount exactly."""
        return [Money(part, self.currency) for part in allocate(self.amount, weights)]

    def __str__(self) -> str:
        return f"{format_major(self.amount, self.currency)} {self.currency}"
