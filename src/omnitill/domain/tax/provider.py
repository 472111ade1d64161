"""Where tax figures come from: the built-in tables, or an external tax service.

The pricing engine asks a `TaxProvider` for the taxes of a document it has priced. The
built-in provider is the pure table engine (`compute_tax`); an adapter for an external
service (see `omnitill.adapters.tax`) implements the same protocol, so a retailer can swap
in a tax service without any other part of omnitill knowing. Whatever answers, the result
is checked the same way: every line's tax must be accounted for, and the figures are stored
on the sale as charged.
"""

from __future__ import annotations

from typing import Protocol

from omnitill.domain.tax.engine import TaxInput, TaxResult, compute_tax


class TaxProvider(Protocol):
    """Computes the taxes of a priced document."""

    @property
    def name(self) -> str: ...

    def calculate(self, data: TaxInput) -> TaxResult: ...


class BuiltinTaxTables:
    """The default: omnitill's own jurisdictions and rates, computed by `compute_tax`."""

    name = "builtin"

    def calculate(self, data: TaxInput) -> TaxResult:
        return compute_tax(data)


BUILTIN = BuiltinTaxTables()
