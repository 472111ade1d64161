"""A cart that can never be priced is refused, naming every field at fault."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.pricing.cart import (
    CartLine,
    DiscountKind,
    ManualDiscount,
    PricingContext,
    PricingInput,
)
from omnitill.domain.pricing.engine import price
from omnitill.domain.pricing.model import PriceBook

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def line(key: str = "0", **kw) -> CartLine:
    fields = {"quantity": 1, "base_price": 1000, **kw}
    return CartLine(key=key, variant_id=f"v{key}", sku=f"SKU-{key}", name="Item", **fields)


def refusal(*lines: CartLine, **kw) -> ValidationFailed:
    context = {"currency": "USD", "channel": "in_store", "at": NOW, **kw.pop("context", {})}
    with pytest.raises(ValidationFailed) as err:
        price(
            PricingInput(
                context=PricingContext(**context),
                lines=lines,
                book=PriceBook("USD"),
                **kw,
            )
        )
    return err.value


def fields(err: ValidationFailed) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in err.errors]


def test_an_empty_cart_is_refused():
    err = refusal()
    assert err.code == "pricing.no_lines"
    assert fields(err) == [("lines", "pricing.no_lines")]


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_refused(quantity):
    err = refusal(line(quantity=quantity))
    assert fields(err) == [("lines.0.quantity", "pricing.quantity_not_positive")]


def test_a_negative_override_is_refused():
    err = refusal(line(unit_price_override=-1))
    assert fields(err) == [("lines.0.unit_price_override", "pricing.price_negative")]


def test_a_negative_base_price_is_refused():
    assert fields(refusal(line(base_price=-5))) == [
        ("lines.0.base_price", "pricing.price_negative")
    ]


@pytest.mark.parametrize("value", ["0", "-5", "100.01", "NaN", "Infinity"])
def test_a_manual_percent_outside_0_to_100_is_refused(value):
    discount = ManualDiscount(DiscountKind.PERCENT, Decimal(value), "why")
    err = refusal(line(manual_discount=discount))
    assert fields(err) == [("lines.0.manual_discount.value", "pricing.invalid_percent")]


@pytest.mark.parametrize("value", ["0", "-100", "0.5", "NaN"])
def test_a_manual_amount_must_be_a_positive_whole_number_of_minor_units(value):
    discount = ManualDiscount(DiscountKind.AMOUNT, Decimal(value), "why")
    err = refusal(line(), order_discount=discount)
    assert fields(err) == [("order_discount.value", "pricing.invalid_amount")]


def test_a_percent_of_exactly_100_is_allowed():
    discount = ManualDiscount(DiscountKind.PERCENT, Decimal(100), "staff gift")
    cart = price(
        PricingInput(
            context=PricingContext("USD", "in_store", NOW),
            lines=[line(manual_discount=discount)],
            book=PriceBook("USD"),
        )
    )
    assert cart.total == 0


def test_an_unknown_currency_is_refused():
    err = refusal(line(), context={"currency": "XYZ"})
    assert err.code == "money.unknown_currency"
    assert fields(err) == [("context.currency", "money.unknown_currency")]


def test_a_naive_time_and_an_unknown_timezone_are_refused():
    err = refusal(line(), context={"at": datetime(2026, 11, 30, 15), "timezone": "Mars/Olympus"})
    assert fields(err) == [
        ("context.at", "pricing.naive_time"),
        ("context.timezone", "pricing.unknown_timezone"),
    ]


def test_negative_shipping_and_duplicate_line_keys_are_refused():
    err = refusal(line("a"), line("a"), shipping=-1)
    assert fields(err) == [
        ("lines.1.key", "pricing.duplicate_key"),
        ("shipping", "pricing.price_negative"),
    ]


def test_every_bad_line_is_named_not_just_the_first():
    err = refusal(
        line("0", quantity=0),
        line("1"),
        line("2", unit_price_override=-10, quantity=-2),
        line("3", manual_discount=ManualDiscount(DiscountKind.AMOUNT, Decimal(0), "x")),
        order_discount=ManualDiscount(DiscountKind.PERCENT, Decimal(150), "x"),
    )
    assert err.code == "pricing.quantity_not_positive"
    assert fields(err) == [
        ("lines.0.quantity", "pricing.quantity_not_positive"),
        ("lines.2.quantity", "pricing.quantity_not_positive"),
        ("lines.2.unit_price_override", "pricing.price_negative"),
        ("lines.3.manual_discount.value", "pricing.invalid_amount"),
        ("order_discount.value", "pricing.invalid_percent"),
    ]
