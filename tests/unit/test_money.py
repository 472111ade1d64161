from __future__ import annotations

import random
from decimal import Decimal

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.money import (
    Money,
    Rounding,
    allocate,
    check_currency,
    format_major,
    minor_units,
    round_minor,
    to_minor,
)

# --- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "half_up", "half_even"),
    [
        ("0.5", 1, 0),
        ("1.5", 2, 2),
        ("2.5", 3, 2),
        ("2.4999", 2, 2),
        ("2.5001", 3, 3),
        ("-0.5", -1, 0),
        ("-2.5", -3, -2),
        ("-1.5", -2, -2),
        ("7", 7, 7),
    ],
)
def test_half_up_rounds_ties_away_from_zero_and_half_even_to_the_even_unit(
    amount, half_up, half_even
):
    assert round_minor(Decimal(amount)) == half_up
    assert round_minor(Decimal(amount), Rounding.HALF_UP) == half_up
    assert round_minor(Decimal(amount), Rounding.HALF_EVEN) == half_even


def test_half_up_is_the_default_mode():
    assert to_minor("0.125", "USD") == 13
    assert to_minor("0.125", "USD", Rounding.HALF_EVEN) == 12


# --- currencies and their minor units ------------------------------------------------------


@pytest.mark.parametrize(("currency", "places"), [("JPY", 0), ("USD", 2), ("EUR", 2), ("BHD", 3)])
def test_each_currency_has_its_own_number_of_decimals(currency, places):
    assert minor_units(currency) == places


@pytest.mark.parametrize(
    ("major", "currency", "minor"),
    [
        ("19.99", "USD", 1999),
        ("0.01", "USD", 1),
        ("1.005", "USD", 101),
        ("500", "JPY", 500),
        ("499.5", "JPY", 500),
        ("1.234", "BHD", 1234),
        ("1.2345", "BHD", 1235),
        ("-19.99", "USD", -1999),
    ],
)
def test_major_amounts_become_minor_units_in_the_currencys_decimals(major, currency, minor):
    assert to_minor(major, currency) == minor


def test_to_minor_takes_the_rounding_mode():
    assert to_minor("1.005", "USD", Rounding.HALF_EVEN) == 100
    assert to_minor("1.0005", "BHD", Rounding.HALF_EVEN) == 1000
    assert to_minor("1.0005", "BHD", Rounding.HALF_UP) == 1001
    assert to_minor("0.5", "JPY", Rounding.HALF_EVEN) == 0


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1999, "USD", "19.99"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (0, "USD", "0.00"),
        (500, "JPY", "500"),
        (-500, "JPY", "-500"),
        (1234, "BHD", "1.234"),
        (1, "BHD", "0.001"),
        (-1001, "BHD", "-1.001"),
    ],
)
def test_format_major_writes_every_minor_digit(minor, currency, text):
    assert format_major(minor, currency) == text


@pytest.mark.parametrize("currency", ["JPY", "USD", "BHD"])
def test_format_major_and_to_minor_round_trip(currency):
    rng = random.Random(4217)
    for _ in range(500):
        amount = rng.randint(-(10**9), 10**9)
        assert to_minor(format_major(amount, currency), currency) == amount


@pytest.mark.parametrize("code", ["usd", "XXX", "US", "DOLLARS", ""])
def test_unknown_currency_codes_are_refused(code):
    with pytest.raises(ValidationFailed) as err:
        check_currency(code)
    assert err.value.code == "money.unknown_currency"


# --- allocation ----------------------------------------------------------------------------


def test_a_split_gives_the_leftover_unit_to_the_largest_remainder():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [3, 7]) == [3, 7]
    assert allocate(5, [1, 2]) == [2, 3]


def test_ties_on_the_remainder_go_to_the_earlier_part():
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]


def test_a_negative_total_splits_as_the_mirror_of_the_positive_one():
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(-1, [1, 1]) == [-1, 0]


def test_zero_weights_get_nothing_unless_all_are_zero():
    assert allocate(100, [0, 1, 0]) == [0, 100, 0]
    assert allocate(100, [0, 0, 0]) == [34, 33, 33]
    assert allocate(0, [5, 3]) == [0, 0]


def test_allocation_refuses_no_weights_or_negative_weights():
    with pytest.raises(ValueError, match="at least one"):
        allocate(100, [])
    with pytest.raises(ValueError, match="non-negative"):
        allocate(100, [1, -1])


def test_parts_always_sum_to_the_total_and_stay_within_one_unit_of_the_exact_share():
    rng = random.Random(20240917)
    for _ in range(5000):
        total = rng.randint(-(10**7), 10**7)
        weights = [rng.choice([0, 0, 1, rng.randint(0, 10**6)]) for _ in range(rng.randint(1, 9))]
        parts = allocate(total, weights)
        assert sum(parts) == total, (total, weights, parts)
        assert len(parts) == len(weights)
        effective = weights if any(weights) else [1] * len(weights)
        for part, weight in zip(parts, effective, strict=True):
            exact = Decimal(total) * weight / sum(effective)
            assert abs(Decimal(part) - exact) < 1, (total, weights, parts)
            if weight == 0:
                assert part == 0
        # every part has the sign of the total (or is zero)
        assert all(part * total >= 0 for part in parts)


# --- Money ---------------------------------------------------------------------------------


def test_money_adds_and_subtracts_in_one_currency():
    assert Money(1999, "USD") + Money(1, "USD") == Money(2000, "USD")
    assert Money(1999, "USD") - Money(2000, "USD") == Money(-1, "USD")
    assert -Money(5, "JPY") == Money(-5, "JPY")
    assert Money(250, "USD").times(3) == Money(750, "USD")
    assert Money(1, "USD") < Money(2, "USD") <= Money(2, "USD")


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
    ],
)
def test_money_of_two_currencies_cannot_be_combined(combine):
    with pytest.raises(ValidationFailed) as err:
        combine(Money(100, "USD"), Money(100, "EUR"))
    assert err.value.code == "money.currency_mismatch"
    assert err.value.details == {"currencies": ["USD", "EUR"]}


@pytest.mark.parametrize("amount", [19.99, Decimal("19.99"), True, "1999"])
def test_money_holds_only_integer_minor_units(amount):
    with pytest.raises(TypeError):
        Money(amount, "USD")


def test_money_refuses_an_unknown_currency():
    with pytest.raises(ValidationFailed):
        Money(100, "ABC")


def test_a_rate_is_applied_and_rounded_once():
    assert Money(1000, "USD").apply_rate(Decimal("0.08875")) == Money(89, "USD")  # 88.75
    assert Money(1000, "USD").apply_rate(Decimal("0.08875"), Rounding.HALF_EVEN) == Money(89, "USD")
    assert Money(100, "USD").apply_rate(Decimal("0.125")) == Money(13, "USD")  # 12.5
    assert Money(100, "USD").apply_rate(Decimal("0.125"), Rounding.HALF_EVEN) == Money(12, "USD")


def test_money_allocates_into_parts_that_sum_to_it():
    parts = Money(1000, "BHD").allocate([1, 1, 1])
    assert [p.amount for p in parts] == [334, 333, 333]
    assert all(p.currency == "BHD" for p in parts)


def test_money_prints_in_major_units_with_its_code():
    assert str(Money(1999, "USD")) == "19.99 USD"
    assert str(Money(500, "JPY")) == "500 JPY"
    assert str(Money(-1234, "BHD")) == "-1.234 BHD"
