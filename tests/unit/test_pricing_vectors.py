"""The pricing engine against golden vectors (tests/vectors/pricing.json), each with its source."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from omnitill.domain.pricing.cart import (
    CartLine,
    DiscountKind,
    ManualDiscount,
    PricedCart,
    PricingContext,
    PricingInput,
)
from omnitill.domain.pricing.engine import price
from omnitill.domain.pricing.model import (
    ExchangeRate,
    PriceBook,
    PriceList,
    PriceListEntry,
    PriceRounding,
    PriceTier,
)
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import Promotion, RuleKind, Target
from omnitill.domain.tax.model import ExemptBelow, Jurisdiction, RoundingLevel, TaxComponent

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "pricing.json").read_text())


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def jurisdiction(code: str | None) -> Jurisdiction | None:
    if code is None:
        return None
    spec = VECTORS["jurisdictions"][code]
    return Jurisdiction(
        code=code,
        name=code,
        inclusive=spec["inclusive"],
        rounding=RoundingLevel(spec["rounding"]),
        components=tuple(
            TaxComponent(
                code=c["code"],
                name=c["name"],
                rates={cls: Decimal(r) for cls, r in c["rates"].items()},
                compound=c.get("compound", False),
                rounding_group=c.get("rounding_group"),
                valid_from=_day(c.get("valid_from")),
                valid_to=_day(c.get("valid_to")),
                exempt_below=tuple(ExemptBelow(**e) for e in c.get("exempt_below", [])),
            )
            for c in spec["components"]
        ),
    )


def book(spec: dict[str, Any]) -> PriceBook:
    return PriceBook(
        base_currency=spec["base_currency"],
        price_lists=tuple(
            PriceList(
                id=pl["id"],
                name=pl["name"],
                currency=pl["currency"],
                priority=pl.get("priority", 0),
                tax_inclusive=pl.get("tax_inclusive", False),
                entries={
                    e["variant_id"]: PriceListEntry(
                        variant_id=e["variant_id"],
                        unit_price=e["unit_price"],
                        compare_at=e.get("compare_at"),
                        tiers=tuple(PriceTier(q, p) for q, p in e.get("tiers", [])),
                    )
                    for e in pl["entries"]
                },
            )
            for pl in spec.get("price_lists", [])
        ),
        exchange_rates=tuple(
            ExchangeRate(
                r["base"], r["quote"], Decimal(r["rate"]), date.fromisoformat(r["valid_from"])
            )
            for r in spec.get("exchange_rates", [])
        ),
        roundings={
            r["currency"]: PriceRounding(
                r["currency"], r.get("increment", 1), r.get("charm_ending")
            )
            for r in spec.get("roundings", [])
        },
    )


def discount(spec: dict[str, str] | None) -> ManualDiscount | None:
    if spec is None:
        return None
    return ManualDiscount(DiscountKind(spec["kind"]), Decimal(spec["value"]), spec["reason"])


def promotions(specs: list[dict[str, Any]] | None) -> PromotionCatalog | None:
    if specs is None:
        return None
    return PromotionCatalog.of(
        Promotion(
            id=p["id"],
            name=p["name"],
            kind=RuleKind(p["kind"]),
            target=Target(variant_ids=frozenset(p["target"]["variant_ids"])),
            percent=Decimal(p["percent"]),
        )
        for p in specs
    )


def run(case: dict[str, Any]) -> PricedCart:
    c = case["context"]
    return price(
        PricingInput(
            context=PricingContext(
                currency=c["currency"],
                channel=c["channel"],
                at=datetime.fromisoformat(c["at"]),
                timezone=c["timezone"],
            ),
            lines=[
                CartLine(
                    key=str(i),
                    variant_id=x.get("variant_id", x["sku"]),
                    sku=x["sku"],
                    name=x["sku"].title(),
                    quantity=x["quantity"],
                    base_price=x["base_price"],
                    tax_class=x.get("tax_class", "standard"),
                    sold_by_weight=x.get("sold_by_weight", False),
                    manual_discount=discount(x.get("manual_discount")),
                )
                for i, x in enumerate(case["lines"])
            ],
            book=book(case["book"]),
            jurisdiction=jurisdiction(case["jurisdiction"]),
            order_discount=discount(case.get("order_discount")),
            promotions=promotions(case.get("promotions")),
            shipping=case.get("shipping", 0),
        )
    )


def test_every_vector_names_its_source():
    assert all(case["source"] for case in VECTORS["cases"])
    assert all(j["source"] for j in VECTORS["jurisdictions"].values())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_golden_vector(case):
    cart = run(case)
    expect = case["expect"]
    why = case["source"]
    for name in ("subtotal", "discount_total", "tax_total", "total"):
        if name in expect:
            assert getattr(cart, name) == expect[name], f"{name}: {why}"
    if "promotions" in expect:
        assert {p.promotion_id: p.amount for p in cart.promotions} == expect["promotions"], why
    if "exchange_rate" in expect:
        assert cart.exchange_rate == Decimal(expect["exchange_rate"])
    for line, wanted in zip(cart.lines, expect.get("lines", []), strict=False):
        for name, value in wanted.items():
            got = getattr(line, name)
            got = list(got) if isinstance(got, tuple) else got
            assert got == value, f"line {line.key} {name}: {why}"
    if "taxes" in expect:
        by_code: dict[str, int] = {}
        for part in cart.taxes:
            by_code[part.code] = by_code.get(part.code, 0) + part.tax
        assert by_code == expect["taxes"], why
    assert cart.total == sum(x.total for x in cart.lines) + cart.shipping + cart.shipping_tax
    assert cart.tax_total == sum(p.tax for p in cart.taxes)
