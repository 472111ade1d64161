"""Price resolution: price lists, tiers, base prices, converted prices and overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.money import Rounding
from omnitill.domain.pricing.cart import (
    CartLine,
    PricedCart,
    PriceSource,
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
from omnitill.domain.pricing.prices import round_price
from omnitill.domain.tax.model import Jurisdiction, TaxComponent

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
DE = Jurisdiction(
    "DE", "Germany", (TaxComponent("DE-VAT", "MwSt", {"standard": Decimal("0.19")}),), True
)
US = Jurisdiction(
    "US-X", "Exclusive", (TaxComponent("X", "Sales tax", {"standard": Decimal("0.1")}),)
)


def line(variant: str = "v1", quantity: int = 1, base_price: int = 1000, **kw: object) -> CartLine:
    return CartLine(
        key=kw.pop("key", variant),
        variant_id=variant,
        sku=variant.upper(),
        name=variant,
        quantity=quantity,
        base_price=base_price,
        **kw,
    )


def plist(
    id: str, currency: str = "USD", prices: dict[str, int] | None = None, **kw: object
) -> PriceList:
    entries = {v: PriceListEntry(v, p) for v, p in (prices or {"v1": 900}).items()}
    return PriceList(id=id, name=id, currency=currency, entries=entries, **kw)


def run(
    *lines: CartLine,
    currency: str = "USD",
    book: PriceBook | None = None,
    at: datetime = NOW,
    jurisdiction: Jurisdiction | None = None,
    **context: object,
) -> PricedCart:
    return price(
        PricingInput(
            context=PricingContext(
                currency=currency, channel=context.pop("channel", "in_store"), at=at, **context
            ),
            lines=lines or (line(),),
            book=book or PriceBook("USD"),
            jurisdiction=jurisdiction,
        )
    )


def test_without_a_list_a_cart_in_the_base_currency_pays_the_base_price():
    (priced,) = run(line(base_price=1299, compare_at=1599)).lines
    assert (priced.unit_price, priced.list_price, priced.compare_at) == (1299, 1299, 1599)
    assert priced.price_source is PriceSource.BASE
    assert priced.price_list_id is None


def test_the_highest_priority_list_that_prices_the_variant_wins():
    book = PriceBook(
        "USD",
        price_lists=(
            plist("retail", prices={"v1": 900}, priority=1),
            plist("vip", prices={"v1": 800}, priority=5),
            plist("clearance", prices={"v2": 100}, priority=9),
        ),
    )
    (priced,) = run(line(), book=book).lines
    assert (priced.unit_price, priced.price_list_id) == (800, "vip")
    assert priced.price_source is PriceSource.PRICE_LIST


def test_equal_priorities_go_to_the_lowest_list_id_whatever_the_load_order():
    lists = (plist("b", prices={"v1": 700}), plist("a", prices={"v1": 750}))
    for ordered in (lists, lists[::-1]):
        (priced,) = run(book=PriceBook("USD", price_lists=ordered)).lines
        assert priced.price_list_id == "a"


@pytest.mark.parametrize(
    "scope",
    [
        {"channels": frozenset({"web"})},
        {"locations": frozenset({"S02"})},
        {"customer_groups": frozenset({"trade"})},
        {"starts_at": datetime(2026, 12, 1, tzinfo=UTC)},
        {"ends_at": NOW},
        {"active": False},
        {"currency": "EUR"},
    ],
    ids=lambda s: next(iter(s)),
)
def test_lists_outside_the_carts_scope_are_ignored(scope):
    book = PriceBook("USD", price_lists=(plist("scoped", **scope),))
    (priced,) = run(book=book, location="S01").lines
    assert priced.price_source is PriceSource.BASE


def test_a_customer_group_list_prices_the_groups_members():
    book = PriceBook("USD", price_lists=(plist("trade", customer_groups=frozenset({"trade"})),))
    (priced,) = run(book=book, customer_groups=frozenset({"trade", "vip"})).lines
    assert priced.price_list_id == "trade"


def test_quantity_tiers_price_the_line_at_the_deepest_tier_reached():
    entry = PriceListEntry("v1", 200, tiers=(PriceTier(50, 150), PriceTier(10, 180)))
    book = PriceBook("USD", price_lists=(PriceList("w", "w", "USD", {"v1": entry}),))
    found = [run(line(quantity=q), book=book).lines[0] for q in (9, 10, 49, 50)]
    assert [(x.unit_price, x.subtotal) for x in found] == [
        (200, 1800),
        (180, 1800),
        (180, 8820),
        (150, 7500),
    ]


def test_compare_at_comes_from_the_entry_else_from_the_line():
    entries = {"v1": PriceListEntry("v1", 900, compare_at=1500), "v2": PriceListEntry("v2", 400)}
    book = PriceBook("USD", price_lists=(PriceList("l", "l", "USD", entries),))
    a, b = run(line("v1", compare_at=1200), line("v2", compare_at=600), book=book).lines
    assert (a.compare_at, b.compare_at) == (1500, 600)


def test_a_tax_inclusive_list_is_the_lines_price_basis():
    book = PriceBook("USD", price_lists=(plist("gross", prices={"v1": 1100}, tax_inclusive=True),))
    listed, base = run(line("v1"), line("v2", base_price=1000), book=book, jurisdiction=US).lines
    assert (listed.tax_inclusive, listed.tax_total, listed.total) == (True, 100, 1100)
    assert (base.tax_inclusive, base.tax_total, base.total) == (False, 100, 1100)


def test_base_prices_follow_the_jurisdictions_basis_and_are_exclusive_untaxed():
    assert run(jurisdiction=DE).lines[0].tax_inclusive is True
    assert run(jurisdiction=US).lines[0].tax_inclusive is False
    assert run().lines[0].tax_inclusive is False


def rates(*found: tuple[str, str, str, date]) -> tuple[ExchangeRate, ...]:
    return tuple(ExchangeRate(b, q, Decimal(r), d) for b, q, r, d in found)


def test_a_foreign_cart_pays_the_base_price_at_the_latest_rate_in_force():
    book = PriceBook(
        "USD",
        exchange_rates=rates(
            ("USD", "EUR", "0.95", date(2026, 1, 1)),
            ("USD", "EUR", "0.90", date(2026, 11, 1)),
            ("USD", "EUR", "0.50", date(2026, 12, 1)),
            ("USD", "GBP", "0.10", date(2026, 11, 1)),
        ),
    )
    cart = run(line(base_price=1999, compare_at=2999), currency="EUR", book=book)
    (priced,) = cart.lines
    assert (priced.unit_price, priced.compare_at) == (1799, 2699)  # 17.991, 26.991
    assert priced.price_source is PriceSource.CONVERTED
    assert cart.exchange_rate == Decimal("0.90")


def test_the_rate_date_is_the_utc_date_of_the_sale():
    book = PriceBook(
        "USD",
        exchange_rates=rates(
            ("USD", "EUR", "0.90", date(2026, 5, 1)), ("USD", "EUR", "0.80", date(2026, 6, 1))
        ),
    )
    late_evening_in_new_york = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    cart = run(currency="EUR", book=book, at=late_evening_in_new_york, timezone="America/New_York")
    assert cart.exchange_rate == Decimal("0.80")


def test_of_two_rates_from_one_day_the_later_entry_wins():
    day = date(2026, 11, 1)
    book = PriceBook(
        "USD", exchange_rates=rates(("USD", "EUR", "0.9", day), ("USD", "EUR", "0.8", day))
    )
    assert run(currency="EUR", book=book).exchange_rate == Decimal("0.8")


@pytest.mark.parametrize(
    ("base", "quote", "rate", "amount", "expected"),
    [
        ("USD", "JPY", "151.37", 1999, 3026),  # 19.99 USD -> 3,025.89 yen
        ("JPY", "USD", "0.0066", 1000, 660),  # 1,000 yen -> 6.60 USD
        ("USD", "BHD", "0.376", 1999, 7516),  # 19.99 USD -> 7.51624 BHD
        ("BHD", "JPY", "402.5", 1250, 503),  # 1.250 BHD -> 503.125 yen
    ],
)
def test_conversion_scales_between_the_currencies_minor_units(base, quote, rate, amount, expected):
    book = PriceBook(base, exchange_rates=rates((base, quote, rate, date(2026, 1, 1))))
    (priced,) = run(line(base_price=amount), currency=quote, book=book).lines
    assert priced.unit_price == expected


def test_converted_prices_land_on_the_currencys_increment_and_charm_ending():
    book = PriceBook(
        "EUR",
        exchange_rates=rates(("EUR", "CHF", "0.9412", date(2026, 1, 1))),
        roundings={"CHF": PriceRounding("CHF", increment=5, charm_ending=95)},
    )
    (priced,) = run(line(base_price=2499), currency="CHF", book=book).lines
    assert priced.unit_price == 2395  # 23.5206 -> 23.50 -> 23.95


@pytest.mark.parametrize(
    ("amount", "rounding", "expected"),
    [
        ("1230.4", None, 1230),
        ("1230.5", None, 1231),
        ("1230", PriceRounding("USD", charm_ending=99), 1299),
        ("1299", PriceRounding("USD", charm_ending=99), 1299),
        ("1240", PriceRounding("USD", charm_ending=0, increment=100), 1200),
        ("1250", PriceRounding("USD", charm_ending=0, increment=100), 1300),
        ("1250", PriceRounding("USD", increment=100, mode=Rounding.HALF_EVEN), 1200),
        ("312.5", PriceRounding("CHF", increment=5), 315),
        ("0.4", PriceRounding("USD", charm_ending=99), 0),
    ],
)
def test_price_rounding(amount, rounding, expected):
    assert round_price(Decimal(amount), rounding) == expected


def test_an_inverse_rate_is_not_used():
    book = PriceBook("USD", exchange_rates=rates(("EUR", "USD", "1.1", date(2026, 1, 1))))
    with pytest.raises(ValidationFailed) as err:
        run(currency="EUR", book=book)
    assert err.value.code == "pricing.no_price"


def test_a_line_without_a_price_is_refused_naming_every_such_line_and_the_currency():
    book = PriceBook("USD", price_lists=(plist("eu", currency="EUR", prices={"v2": 500}),))
    with pytest.raises(ValidationFailed) as err:
        run(line("v1"), line("v2"), line("v3"), currency="EUR", book=book)
    assert err.value.code == "pricing.no_price"
    assert [e.field for e in err.value.errors] == ["lines.0", "lines.2"]
    assert {e.code for e in err.value.errors} == {"pricing.no_price"}
    assert err.value.details["currency"] == "EUR"


def test_a_foreign_cart_priced_entirely_by_lists_records_no_rate():
    book = PriceBook(
        "USD",
        price_lists=(plist("eu", currency="EUR", prices={"v1": 500}),),
        exchange_rates=rates(("USD", "EUR", "0.9", date(2026, 1, 1))),
    )
    cart = run(line("v1", compare_at=999), currency="EUR", book=book)
    assert cart.exchange_rate is None
    assert cart.lines[0].compare_at is None  # the line's compare-at is in dollars


def test_an_override_replaces_the_price_and_keeps_the_resolved_one_as_list_price():
    book = PriceBook("USD", price_lists=(plist("gross", prices={"v1": 900}, tax_inclusive=True),))
    (priced,) = run(line(quantity=2, unit_price_override=750), book=book).lines
    assert (priced.unit_price, priced.list_price, priced.subtotal) == (750, 900, 1500)
    assert priced.price_source is PriceSource.OVERRIDE
    assert (priced.price_list_id, priced.tax_inclusive) == ("gross", True)


def test_an_override_of_zero_gives_the_item_away():
    (priced,) = run(replace(line(), unit_price_override=0)).lines
    assert (priced.unit_price, priced.total) == (0, 0)
