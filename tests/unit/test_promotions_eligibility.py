"""When and where a promotion runs: windows, scope, currency, happy hours and usage limits."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from omnitill.domain.promotions.model import RuleKind, TimeWindow, Usage
from tests.unit.test_promotions_builders import MONDAY_4PM_UTC, line, on, promo, run, total

TEN_PERCENT = {"kind": RuleKind.ITEM_PERCENT, "target": on("A"), "percent": 10}
CART = [line("A", 1000)]


def ten_percent(**fields: object) -> object:
    return promo("p", **{**TEN_PERCENT, **fields})


def test_inactive_promotions_do_not_run():
    assert total(run(CART, [ten_percent(active=False)])) == 0


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "runs"),
    [
        (MONDAY_4PM_UTC, None, True),  # starts_at is inclusive
        (None, MONDAY_4PM_UTC, False),  # ends_at is exclusive
        (datetime(2026, 5, 5, tzinfo=UTC), None, False),
        (None, datetime(2026, 5, 4, 16, 1, tzinfo=UTC), True),
    ],
)
def test_date_window_includes_its_start_and_excludes_its_end(starts_at, ends_at, runs):
    result = run(CART, [ten_percent(starts_at=starts_at, ends_at=ends_at)])
    assert (total(result) == 100) is runs


def test_channel_scope():
    p = ten_percent(channels=frozenset({"web"}))
    assert total(run(CART, [p], channel="web")) == 100
    assert total(run(CART, [p], channel="in_store")) == 0


def test_location_scope_is_by_code():
    p = ten_percent(locations=frozenset({"S02"}))
    assert total(run(CART, [p], location="S02")) == 100
    assert total(run(CART, [p], location="S01")) == 0


def test_customer_group_scope():
    p = ten_percent(customer_groups=frozenset({"staff"}))
    assert total(run(CART, [p], customer_groups=frozenset({"staff", "vip"}))) == 100
    assert total(run(CART, [p], customer_groups=frozenset({"vip"}))) == 0


def test_a_promotion_with_a_currency_runs_only_in_that_currency():
    p = promo("p", RuleKind.ITEM_AMOUNT, target=on("A"), amount=100, currency="EUR")
    assert total(run(CART, [p], currency="EUR")) == 100
    assert total(run(CART, [p], currency="USD")) == 0


HAPPY_HOUR = (TimeWindow(frozenset({0, 1, 2, 3, 4}), time(17, 0), time(19, 0)),)


@pytest.mark.parametrize(
    ("at", "runs"),
    [
        (datetime(2026, 5, 4, 21, 30, tzinfo=UTC), True),  # 17:30 in New York (EDT)
        (datetime(2026, 5, 4, 17, 30, tzinfo=UTC), False),  # 13:30 in New York
        (datetime(2026, 5, 4, 23, 0, tzinfo=UTC), False),  # 19:00 there: the end is exclusive
        (datetime(2026, 5, 9, 21, 30, tzinfo=UTC), False),  # a Saturday
    ],
)
def test_happy_hour_is_read_on_the_stores_clock(at, runs):
    p = ten_percent(hours=HAPPY_HOUR)
    assert (total(run(CART, [p], at=at, timezone="America/New_York")) == 100) is runs


def test_happy_hour_weekday_is_the_local_weekday():
    friday_night = (TimeWindow(frozenset({4}), time(20, 0), time(22, 0)),)
    saturday_utc = datetime(2026, 5, 2, 0, 30, tzinfo=UTC)  # Friday 20:30 in New York
    p = ten_percent(hours=friday_night)
    assert total(run(CART, [p], at=saturday_utc, timezone="America/New_York")) == 100
    assert total(run(CART, [p], at=saturday_utc, timezone="UTC")) == 0


def test_usage_limit_counts_every_redemption():
    p = ten_percent(usage_limit=100)
    assert total(run(CART, [p], usage={"p": Usage(total=99)})) == 100
    assert total(run(CART, [p], usage={"p": Usage(total=100)})) == 0


def test_per_customer_limit_counts_the_customers_redemptions():
    p = ten_percent(per_customer_limit=1)
    assert total(run(CART, [p], customer_id="c1", usage={"p": Usage(by_customer=0)})) == 100
    assert total(run(CART, [p], customer_id="c1", usage={"p": Usage(by_customer=1)})) == 0


def test_per_customer_limit_needs_a_known_customer():
    assert total(run(CART, [ten_percent(per_customer_limit=1)])) == 0


def test_requires_coupon_promotions_wait_for_their_code():
    assert total(run(CART, [ten_percent(requires_coupon=True)])) == 0


def test_min_spend_is_on_the_targeted_subtotal():
    p = promo("p", RuleKind.ITEM_PERCENT, target=on("A"), percent=10, min_spend=2000)
    assert total(run([line("A", 1000), line("B", 5000)], [p])) == 0
    assert total(run([line("A", 1000, 2), line("B", 5000)], [p])) == 200
