"""The promotion engine against golden vectors (tests/vectors/promotions.json)."""

from __future__ import annotations

import json
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from omnitill.domain.promotions.model import (
    Coupon,
    Promotion,
    RuleKind,
    StackingClass,
    Target,
    Tier,
    TimeWindow,
)
from tests.unit.test_promotions_builders import check_invariants, line, line_discounts, run

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "promotions.json").read_text())


def _target(spec: dict[str, Any]) -> Target:
    return Target(
        variant_ids=frozenset(spec.get("variants", ())),
        category_ids=frozenset(spec.get("categories", ())),
        collection_ids=frozenset(spec.get("collections", ())),
        brand_ids=frozenset(spec.get("brands", ())),
        all_items=spec.get("all", False),
    )


def _promotion(spec: dict[str, Any], currency: str) -> Promotion:
    fields = dict(spec)
    fields["kind"] = RuleKind(fields["kind"])
    fields["name"] = fields.get("name", fields["id"])
    fields["stacking"] = StackingClass(fields.get("stacking", "product"))
    if "target" in fields:
        fields["target"] = _target(fields["target"])
    for name in ("percent", "get_percent"):
        if name in fields:
            fields[name] = Decimal(fields[name])
    fields["tiers"] = tuple(
        Tier(t["threshold"], Decimal(t["percent"]) if "percent" in t else None, t.get("amount"))
        for t in fields.get("tiers", ())
    )
    fields["hours"] = tuple(
        TimeWindow(
            frozenset(h["weekdays"]), time.fromisoformat(h["start"]), time.fromisoformat(h["end"])
        )
        for h in fields.get("hours", ())
    )
    if any(k in fields for k in ("amount", "price", "min_spend")) or fields["tiers"]:
        fields.setdefault("currency", currency)
    return Promotion(**fields)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_golden_vector(case):
    context = dict(case.get("context", {}))
    if "at" in context:
        context["at"] = datetime.fromisoformat(context["at"])
    currency = context.get("currency", "USD")
    lines = [
        line(
            x["variant"],
            x["price"],
            x.get("quantity", 1),
            categories=x.get("categories", ()),
            weighed=x.get("weighed", False),
        )
        for x in case["lines"]
    ]
    result = run(
        lines,
        [_promotion(p, currency) for p in case["promotions"]],
        codes=case.get("codes", ()),
        coupons=[Coupon(**c) for c in case.get("coupons", ())],
        **context,
    )
    expected = case["expected"]
    assert sum(line_discounts(result)) == expected["total"], case["work"]
    assert line_discounts(result) == expected["lines"], case["work"]
    assert {a.promotion_id: a.amount for a in result.applied} == expected["applied"]
    if "unit_discounts" in expected:
        assert [list(x.unit_discounts) for x in result.lines] == expected["unit_discounts"]
    if "coupons" in expected:
        assert [c.refusal.value if c.refusal else "accepted" for c in result.coupons] == (
            expected["coupons"]
        )
    check_invariants(lines, result)


def test_every_vector_names_its_source():
    assert all(case["source"] and case["work"] for case in VECTORS["cases"])
