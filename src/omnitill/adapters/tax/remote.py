"""A tax service over HTTP, in place of the built-in tables.

The wire format is omnitill's own, modelled on what hosted tax engines take (a dated
document of lines with tax classes, in a jurisdiction, with shipping and exemption) and
answer (per line: net, tax and the levies that make it up). A connector for a particular
vendor translates to and from this shape; `omnitill.adapters.tax.sandbox` serves it locally.

A register must keep selling when the tax service is slow or down, so a timeout, a refused
connection, an error status or an answer that does not add up falls back to the built-in
tables for that document, and the fallback is logged. `last_source` tells which answered.

    POST {url}/v1/calculate
    {"date": "2026-11-30", "jurisdiction": "US-NY-NYC", "inclusive": false,
     "channel": "in_store", "exemption_certificate": null, "shipping": 0,
     "lines": [{"key": "0", "tax_class": "standard", "quantity": 1, "amount": 1000,
                "inclusive": null}]}
    -> 200 {"lines": [{"key": "0", "net": 1000, "tax": 89,
                       "components": [{"code", "name", "rate": "0.08875", "taxable", "tax"}]}],
            "shipping": null | {...same as a line...}, "exempt_reason": null}
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from typing import Any

from omnitill.domain.tax.engine import (
    SHIPPING_KEY,
    ComponentTax,
    LineTax,
    TaxInput,
    TaxResult,
    compute_tax,
)

log = logging.getLogger(__name__)


class TaxServiceError(Exception):
    """The service's answer cannot be used."""


class RemoteTaxService:
    """`TaxProvider` backed by an HTTP tax service, falling back to the built-in tables."""

    name = "remote"

    def __init__(self, url: str, *, timeout_seconds: float = 2.0) -> None:
        self.url = url.rstrip("/") + "/v1/calculate"
        self.timeout = timeout_seconds
        self._local = threading.local()

    @property
    def last_source(self) -> str:
        """`remote` or `builtin` (fallback) for the last document this thread priced."""
        return getattr(self._local, "source", "")

    def calculate(self, data: TaxInput) -> TaxResult:
        try:
            result = self._ask(data)
            self._local.source = "remote"
            return result
        except (OSError, TaxServiceError, ValueError) as exc:
            log.warning(
                "tax service unavailable, using the built-in tables",
                extra={"tax_service": self.url, "error": str(exc)},
            )
            self._local.source = "builtin"
            return compute_tax(data)

    def _ask(self, data: TaxInput) -> TaxResult:
        body = json.dumps(request_body(data)).encode()
        req = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                answer = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise TaxServiceError(f"status {exc.code}") from exc
        return parse_answer(data, answer)


def request_body(data: TaxInput) -> dict[str, Any]:
    return {
        "date": data.on.isoformat(),
        "jurisdiction": data.jurisdiction.code,
        "inclusive": data.jurisdiction.inclusive,
        "channel": data.channel,
        "exemption_certificate": data.exemption_certificate,
        "shipping": data.shipping,
        "lines": [
            {
                "key": x.key,
                "tax_class": x.tax_class,
                "quantity": x.quantity,
                "amount": x.amount,
                "inclusive": x.inclusive,
            }
            for x in data.lines
        ],
    }


def parse_answer(data: TaxInput, answer: Any) -> TaxResult:
    """The service's answer as a `TaxResult`, refused unless it covers every line sent and
    each line's figures add up (net + tax = gross, levies sum to the tax)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("lines"), list):
        raise TaxServiceError("answer has no lines")
    by_key = {str(x.get("key")): x for x in answer["lines"] if isinstance(x, dict)}
    lines = tuple(_line(by_key.get(x.key), x.key) for x in data.lines)
    shipping = None
    if data.shipping:
        shipping = _line(answer.get("shipping"), SHIPPING_KEY)
    everything = [*lines, *([shipping] if shipping else [])]
    breakdown: dict[tuple[str, Decimal], ComponentTax] = {}
    for line in everything:
        for c in line.components:
            seen = breakdown.get((c.code, c.rate))
            breakdown[(c.code, c.rate)] = ComponentTax(
                c.code,
                c.name,
                c.rate,
                c.taxable + (seen.taxable if seen else 0),
                c.tax + (seen.tax if seen else 0),
            )
    exempt = answer.get("exempt_reason")
    return TaxResult(
        lines=lines,
        shipping=shipping,
        breakdown=tuple(breakdown.values()),
        net_total=sum(x.net for x in everything),
        tax_total=sum(x.tax for x in everything),
        gross_total=sum(x.gross for x in everything),
        exempt_reason=str(exempt) if exempt else None,
    )


def _line(raw: Any, key: str) -> LineTax:
    if not isinstance(raw, dict):
        raise TaxServiceError(f"no answer for line {key}")
    try:
        net, tax = int(raw["net"]), int(raw["tax"])
        components = tuple(
            ComponentTax(
                str(c["code"]),
                str(c.get("name", c["code"])),
                Decimal(str(c["rate"])),
                int(c["taxable"]),
                int(c["tax"]),
            )
            for c in raw.get("components", [])
        )
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise TaxServiceError(f"line {key} is malformed") from exc
    if tax < 0 or net < 0 or sum(c.tax for c in components) != tax:
        raise TaxServiceError(f"line {key} does not add up")
    return LineTax(key, net, tax, net + tax, components)
