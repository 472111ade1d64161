"""The replenishment engine: pure, over frozen snapshots."""

from __future__ import annotations

from fractions import Fraction

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.inventory.replenishment import (
    LevelSnapshot,
    ReorderSettings,
    ReplenishmentInput,
    SuggestionKind,
    SupplierOffer,
    assess,
    setting_errors,
    suggest,
)


def store(sku="TEE", location="S01", **kw) -> LevelSnapshot:
    return LevelSnapshot(sku=sku, location=location, location_kind="store", **kw)


def warehouse(sku="TEE", location="W01", **kw) -> LevelSnapshot:
    return LevelSnapshot(sku=sku, location=location, location_kind="warehouse", **kw)


def offer(sku="TEE", supplier="ACME", **kw) -> SupplierOffer:
    kw.setdefault("supplier_name", supplier.title())
    kw.setdefault("currency", "USD")
    return SupplierOffer(sku=sku, supplier=supplier, **kw)


# --- trigger and figures -------------------------------------------------------------------


def test_a_level_above_its_reorder_point_gets_no_suggestion():
    data = ReplenishmentInput(levels=(store(available=6, reorder_point=5, sold=100),), days=28)
    assert suggest(data) == ()


def test_incoming_and_in_transit_count_towards_projected_stock():
    level = store(available=1, incoming=3, in_transit=2, reorder_point=5)
    assert level.projected == 6
    assert suggest(ReplenishmentInput(levels=(level,))) == ()


def test_a_level_without_a_reorder_point_is_never_replenished():
    assert suggest(ReplenishmentInput(levels=(store(available=-4, max_level=10),))) == ()


def test_velocity_is_units_sold_over_the_window_and_sets_the_target_over_the_lead_time():
    # 14 sold in 28 days: 0.5 a day; 10 days lead time -> 5 more than the reorder point.
    level = store(available=2, reorder_point=4, sold=14)
    need = assess(level, days=28, offer=offer(lead_time_days=10))
    assert need is not None
    assert need.velocity == Fraction(1, 2)
    assert need.target == 4 + 5
    assert need.quantity == 9 - 2
    assert need.days_of_cover == 4


def test_sales_over_the_lead_time_round_up_to_a_whole_unit():
    # 10 sold in 28 days over 7 days = 2.5 -> 3.
    need = assess(store(available=0, reorder_point=2, sold=10), days=28, offer=None)
    assert need is not None
    assert need.lead_time_days == 7  # no supplier: the default lead time
    assert need.target == 5


def test_a_max_level_is_the_target_whatever_the_velocity():
    need = assess(store(available=3, reorder_point=5, max_level=20, sold=280), days=28, offer=None)
    assert need is not None
    assert (need.target, need.quantity) == (20, 17)


def test_a_line_at_its_reorder_point_with_no_sales_and_no_max_needs_nothing():
    assert suggest(ReplenishmentInput(levels=(store(available=5, reorder_point=5),))) == ()


def test_returns_never_make_velocity_negative():
    need = assess(store(available=0, reorder_point=3, sold=-4), days=28, offer=None)
    assert need is not None
    assert need.velocity == 0
    assert need.days_of_cover is None
    assert need.target == 3


def test_the_window_must_be_one_to_365_days():
    with pytest.raises(ValidationFailed) as refused:
        ReplenishmentInput(levels=(), days=0)
    assert refused.value.code == "replenishment.invalid_days"
    assert [e.field for e in refused.value.errors] == ["days"]
    with pytest.raises(ValidationFailed):
        ReplenishmentInput(levels=(), days=366)


# --- purchases ------------------------------------------------------------------------------


def test_a_purchase_rounds_up_to_whole_packs_and_estimates_the_cost():
    data = ReplenishmentInput(
        levels=(store(available=1, reorder_point=4, max_level=20),),
        offers=(offer(pack_size=12, pack_cost_minor=4800, preferred=True),),
    )
    (s,) = suggest(data)
    assert s.kind is SuggestionKind.PURCHASE
    assert s.need.quantity == 19
    assert s.purchase is not None
    assert (s.purchase.packs, s.quantity, s.purchase.estimated_cost_minor) == (2, 24, 9600)
    assert s.purchase.supplier == "ACME"
    assert "rounded up from 19" in s.reasoning[-1]
    assert "estimated cost 96.00 USD" in s.reasoning[-1]


def test_a_purchase_orders_at_least_the_minimum_packs():
    data = ReplenishmentInput(
        levels=(store(available=3, reorder_point=4, max_level=6),),
        offers=(offer(pack_size=6, min_order_packs=3),),
    )
    (s,) = suggest(data)
    assert s.purchase is not None
    assert (s.purchase.packs, s.quantity) == (3, 18)
    assert s.purchase.estimated_cost_minor is None
    assert "minimum order 3 packs" in s.reasoning[-1]
    assert "no pack cost on file" in s.reasoning[-1]


def test_the_preferred_supplier_wins_else_the_first_by_code():
    level = store(available=0, reorder_point=1, max_level=5)
    cheap = offer(supplier="AAA", pack_cost_minor=1)
    preferred = offer(supplier="ZZZ", preferred=True, lead_time_days=3)
    (s,) = suggest(ReplenishmentInput(levels=(level,), offers=(cheap, preferred)))
    assert s.purchase is not None
    assert s.purchase.supplier == "ZZZ"
    assert s.purchase.preferred is True
    assert s.need.lead_time_days == 3
    (s,) = suggest(ReplenishmentInput(levels=(level,), offers=(offer(supplier="BBB"), cheap)))
    assert s.purchase is not None
    assert s.purchase.supplier == "AAA"


def test_without_a_supplier_the_purchase_names_none_and_says_why():
    (s,) = suggest(ReplenishmentInput(levels=(store(available=0, reorder_point=2, max_level=7),)))
    assert s.kind is SuggestionKind.PURCHASE
    assert s.purchase is None
    assert s.quantity == 7
    assert "no supplier sells TEE" in s.reasoning[-1]


# --- transfers from warehouses ----------------------------------------------------------------


def test_a_warehouse_with_enough_spare_covers_the_whole_need_by_transfer():
    data = ReplenishmentInput(
        levels=(store(available=2, reorder_point=4, max_level=10),),
        warehouses=(warehouse(available=50, reorder_point=20),),
        offers=(offer(pack_size=12),),
    )
    (s,) = suggest(data)
    assert s.kind is SuggestionKind.TRANSFER
    assert (s.source_location, s.quantity) == ("W01", 8)
    assert "W01 can spare 30 (available 50 less its reorder point 20)" in s.reasoning[-1]


def test_warehouse_spare_splits_the_need_between_a_transfer_and_a_purchase():
    data = ReplenishmentInput(
        levels=(store(available=0, reorder_point=4, max_level=20),),
        warehouses=(warehouse(available=25, reorder_point=20),),
        offers=(offer(pack_size=10),),
    )
    transfer, purchase = suggest(data)
    assert (transfer.kind, transfer.quantity) == (SuggestionKind.TRANSFER, 5)
    assert purchase.kind is SuggestionKind.PURCHASE
    assert purchase.purchase is not None
    assert (purchase.purchase.packs, purchase.quantity) == (2, 20)  # 15 rounded up to packs
    assert "buy 15 from" in purchase.reasoning[-1]


def test_warehouses_give_largest_spare_first_and_without_a_reorder_point_spare_all():
    data = ReplenishmentInput(
        levels=(store(available=0, reorder_point=1, max_level=12),),
        warehouses=(warehouse(location="W01", available=4), warehouse(location="W02", available=9)),
    )
    first, second = suggest(data)
    assert (first.source_location, first.quantity) == ("W02", 9)
    assert (second.source_location, second.quantity) == ("W01", 3)


def test_spare_promised_to_a_more_urgent_store_is_not_offered_twice():
    urgent = store(location="S01", available=0, reorder_point=2, max_level=6, sold=28)
    calm = store(location="S02", available=1, reorder_point=2, max_level=6, sold=2)
    data = ReplenishmentInput(
        levels=(calm, urgent),
        warehouses=(warehouse(available=8),),
        offers=(offer(),),
    )
    out = suggest(data)
    assert [(s.need.level.location, s.kind.value, s.quantity) for s in out] == [
        ("S01", "transfer", 6),
        ("S02", "transfer", 2),
        ("S02", "purchase", 3),
    ]


def test_a_warehouse_below_its_own_reorder_point_spares_nothing():
    data = ReplenishmentInput(
        levels=(store(available=0, reorder_point=1, max_level=4),),
        warehouses=(warehouse(available=5, reorder_point=10),),
    )
    (s,) = suggest(data)
    assert s.kind is SuggestionKind.PURCHASE
    assert "no warehouse has stock to spare" in s.reasoning


def test_warehouses_are_replenished_from_suppliers_only():
    wh = warehouse(available=1, reorder_point=10, max_level=40)
    data = ReplenishmentInput(
        levels=(wh,), warehouses=(wh, warehouse(location="W02", available=500))
    )
    (s,) = suggest(data)
    assert s.kind is SuggestionKind.PURCHASE
    assert s.quantity == 39
    assert "warehouses are replenished from suppliers only" in s.reasoning


# --- urgency and reasoning ------------------------------------------------------------------


def test_suggestions_are_sorted_by_days_of_cover_and_lines_without_sales_come_last():
    levels = (
        store(sku="IDLE", available=0, reorder_point=2, max_level=4),
        store(sku="SLOW", available=3, reorder_point=3, max_level=9, sold=3),  # 28 days
        store(sku="FAST", available=3, reorder_point=3, max_level=9, sold=84),  # 1 day
        store(sku="GONE", available=-2, reorder_point=3, max_level=9, sold=1),  # 0 days
    )
    out = suggest(ReplenishmentInput(levels=levels))
    assert [s.need.level.sku for s in out] == ["GONE", "FAST", "SLOW", "IDLE"]
    assert out[0].need.days_of_cover == 0
    assert out[-1].need.days_of_cover is None


def test_every_suggestion_states_its_facts():
    data = ReplenishmentInput(
        levels=(store(available=1, incoming=1, reorder_point=4, sold=14),),
        offers=(offer(lead_time_days=10, pack_size=1, preferred=True),),
    )
    (s,) = suggest(data)
    facts = s.reasoning
    assert facts[0] == (
        "projected 2 = available 1 + incoming 1 + in transit 0, at or below the reorder point 4"
    )
    assert facts[1] == "14 sold here in the last 28 days: 0.50 per day, 4.0 days of cover"
    assert facts[2].startswith("target 9 = reorder point 4 + 5 sold over 10 days lead time")
    assert facts[3] == "need 7 = target 9 - projected 2"
    assert facts[-1].startswith("buy 7 from Acme (ACME), the preferred supplier")


# --- reorder settings -----------------------------------------------------------------------


def test_settings_refuse_negatives_a_null_safety_stock_and_unknown_names():
    errors = setting_errors({"reorder_point": -1, "safety_stock": None, "colour": 3}, None)
    assert sorted((e.field, e.code) for e in errors) == [
        ("colour", "inventory.unknown_setting"),
        ("reorder_point", "inventory.invalid_quantity"),
        ("safety_stock", "inventory.invalid_quantity"),
    ]


def test_max_level_may_not_fall_below_the_reorder_point_once_applied():
    current = ReorderSettings(reorder_point=10, max_level=30)
    after = current.changed({"max_level": 8})
    (error,) = setting_errors({"max_level": 8}, after, prefix="items.2.")
    assert (error.field, error.code) == ("items.2.max_level", "inventory.max_below_reorder_point")
    (raised,) = setting_errors({"reorder_point": 31}, current.changed({"reorder_point": 31}))
    assert (raised.field, raised.code) == ("reorder_point", "inventory.max_below_reorder_point")
    assert setting_errors({"reorder_point": None}, current.changed({"reorder_point": None})) == []


def test_a_settings_change_keeps_what_it_does_not_name():
    current = ReorderSettings(reorder_point=4, max_level=12, safety_stock=2)
    assert current.changed({"max_level": None}) == ReorderSettings(4, None, 2)
    assert current.changed({}) == current
