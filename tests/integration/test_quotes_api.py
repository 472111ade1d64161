"""POST /api/v1/quotes: a cart priced, discounted and taxed as a sale would be, writing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import (
    AuditEntry,
    Coupon,
    ManagerOverride,
    PromotionRedemption,
    Sale,
)
from omnitill.domain.ids import uuid7
from tests.factories import (
    PASSWORD,
    make_customer,
    make_location,
    make_price_list,
    make_register,
    make_variant,
    set_tax_class,
    token_for,
)

NOW = datetime.now(UTC)


def iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


@pytest.fixture
def admin(db, settings) -> dict[str, str]:
    return token_for(db, settings, "admin1", "admin")


@pytest.fixture
def shop(db, settings) -> dict[str, Any]:
    """S01 (New York, 8.875 % store rate), S02 (New Jersey, 6.625 %), a euro list for TEE."""
    s01 = make_location(db, "S01", tax_rate="0.08875")
    make_location(db, "S02", tax_rate="0.06625")
    make_register(db, s01, "S01-R1")
    tee = make_variant(db, sku="TEE", price=2000)
    make_variant(db, sku="MUG", price=1000)
    make_price_list(db, "Euro", currency="EUR", prices={tee: 1800})
    return {"tee": tee, "cashier": token_for(db, settings, "till1", "cashier", ["S01", "S02"])}


@pytest.fixture
def nyc(client, db, admin, shop) -> dict[str, Any]:
    """New York City's stacked sales tax, one rounding group, assigned to S01; clothing under
    110.00 an item is exempt from all three levies (NY Tax Bulletin ST-530: the state tax and
    the MCTD surcharge, and the city's, which opted in)."""
    client.post("/api/v1/tax/classes", json={"code": "clothing", "name": "Clothing"}, headers=admin)
    under_110 = [{"tax_class": "clothing", "unit_price": 11000}]

    def levy(code: str, name: str, rate: str, exempt: list[Any]) -> dict[str, Any]:
        rates = {"standard": rate, "clothing": rate}
        return dict(code=code, name=name, rates=rates, rounding_group="NYC", exempt_below=exempt)

    body = {
        "code": "US-NY-NYC",
        "name": "New York City",
        "country": "US",
        "region": "NY",
        "postal_prefixes": ["100"],
        "components": [
            levy("NYS", "New York State", "0.04", under_110),
            levy("NYC", "New York City", "0.045", under_110),
            levy("MCTD", "MCTD", "0.00375", under_110),
        ],
    }
    r = client.post("/api/v1/tax/jurisdictions", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert client.put("/api/v1/tax/jurisdictions/US-NY-NYC/locations/S01", headers=admin).is_success
    make_variant(db, sku="LAMP", price=20000)
    make_variant(db, sku="CANDLE", price=1300)
    for sku, price in (("JEANS", 9900), ("COAT", 12000)):
        set_tax_class(db, make_variant(db, sku=sku, price=price), "clothing")
    return body


@pytest.fixture
def coupons(client, admin, shop) -> dict[str, str]:
    """Five off a spend of fifty (USD, by coupon) with codes in every state; ten off on the
    web only."""
    five = {"code": "five-off", "name": "Five off fifty", "kind": "order_amount", "amount": 500}
    five |= {"stacking": "order", "currency": "USD", "min_spend": 5000}
    web = {"code": "web-ten", "name": "Web ten", "kind": "item_percent", "percent": "10"}
    five_codes = [
        {"code": "SAVE5"},
        {"code": "ONCE", "single_use": True},
        {"code": "LIMITED", "usage_limit": 1},
        {"code": "OLD", "starts_at": iso(timedelta(days=-9)), "ends_at": iso(timedelta(-1))},
        {"code": "SOON", "starts_at": iso(timedelta(days=1))},
    ]
    ids = {}
    for promotion, codes in (
        (five, five_codes),
        (web | {"channels": ["web"]}, [{"code": "WEB10"}]),
    ):
        body = promotion | {"requires_coupon": True}
        r = client.post("/api/v1/promotions", json=body, headers=admin)
        assert r.status_code == 201, r.text
        ids[promotion["code"]] = r.json()["id"]
        for code in codes:
            url = f"/api/v1/promotions/{r.json()['id']}/coupons"
            assert client.post(url, json=code, headers=admin).status_code == 201
    return ids


def quote(client, headers, *lines: tuple[str, int], **body: Any):
    cart = {"location": "S01", "lines": [{"sku": s, "quantity": q} for s, q in lines]}
    return client.post("/api/v1/quotes", json=cart | body, headers=headers)


def ok(r) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code, r.json()
    named = [e["field"] for e in r.json().get("errors", [])]
    assert set(fields) <= set(named), named


def by_code(taxes: list[dict[str, Any]]) -> dict[str, tuple[Decimal, int, int]]:
    return {t["code"]: (Decimal(t["rate"]), t["taxable"], t["tax"]) for t in taxes}


def override(client, db, settings, headers, permission: str = "sales.manual_discount") -> str:
    token_for(db, settings, "boss", "manager", ["S01"])
    body = {"manager_username": "boss", "manager_password": PASSWORD, "permission": permission}
    r = client.post("/api/v1/overrides", json=body | {"reason": "scuffed"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["override_token"]


# --- prices --------------------------------------------------------------------------------


def test_the_winning_price_list_prices_the_line_with_its_tiers_and_others_fall_back_to_base(
    client, admin, shop
):
    def price_list(name: str, priority: int, location: str, price: int, **entry: Any) -> str:
        body = {"name": name, "currency": "USD", "priority": priority, "locations": [location]}
        made = client.post("/api/v1/price-lists", json=body, headers=admin).json()
        url = f"/api/v1/price-lists/{made['id']}/entries/TEE"
        assert client.put(url, json={"unit_price": price, **entry}, headers=admin).is_success
        return made["id"]

    price_list("Outlet", 1, "S01", 1900)
    best = price_list("Members", 10, "S01", 1800, tiers=[{"min_quantity": 3, "unit_price": 1500}])
    price_list("Jersey", 99, "S02", 1000)
    lines = ok(quote(client, shop["cashier"], ("TEE", 1), ("TEE", 3), ("MUG", 1)))["lines"]
    seen = [(x["unit_price"], x["price_source"], x["price_list_id"]) for x in lines]
    assert seen == [(1800, "price_list", best), (1500, "price_list", best), (1000, "base", None)]
    assert lines[1]["subtotal"] == 4500


# --- tax -----------------------------------------------------------------------------------


def test_new_york_city_tax_is_stacked_per_levy_and_cheap_clothing_pays_none(client, nyc, shop):
    body = ok(quote(client, shop["cashier"], ("LAMP", 1), ("JEANS", 1), ("COAT", 1)))
    lamp, jeans, coat = body["lines"]
    assert by_code(lamp["taxes"]) == {
        "NYS": (Decimal("0.04"), 20000, 800),
        "NYC": (Decimal("0.045"), 20000, 900),
        "MCTD": (Decimal("0.00375"), 20000, 75),
    }
    assert (lamp["tax_total"], lamp["total"]) == (1775, 21775)
    assert by_code(jeans["taxes"]) == {}
    assert (jeans["tax_total"], jeans["total"], coat["tax_total"]) == (0, 9900, 1065)
    assert by_code(body["taxes"]) == {
        "NYS": (Decimal("0.04"), 32000, 1280),
        "NYC": (Decimal("0.045"), 32000, 1440),
        "MCTD": (Decimal("0.00375"), 32000, 120),
    }
    assert (body["subtotal"], body["tax_total"], body["total"]) == (41900, 2840, 44740)


def test_levies_of_one_rounding_group_are_rounded_together_then_split(client, nyc, shop):
    (line,) = ok(quote(client, shop["cashier"], ("CANDLE", 1)))["lines"]
    # 13.00 x 8.875 % = 1.15375 -> 1.15, split 0.52 / 0.58 / 0.05 by largest remainder;
    # levy by levy it would be 0.52 + 0.59 (0.585) + 0.05 = 1.16
    assert line["tax_total"] == 115
    assert {t["code"]: t["tax"] for t in line["taxes"]} == {"NYS": 52, "NYC": 58, "MCTD": 5}


def test_a_vat_inclusive_store_charges_the_shelf_price_and_carves_the_tax_out(
    client, db, settings, admin, shop
):
    make_location(db, "B01", currency="EUR", tax_rate="0", timezone="Europe/Berlin")
    vat = {"code": "VAT", "name": "MwSt", "rates": {"standard": "0.19"}}
    body = {"code": "DE", "name": "Germany", "country": "DE", "inclusive": True}
    client.post("/api/v1/tax/jurisdictions", json=body | {"components": [vat]}, headers=admin)
    client.put("/api/v1/tax/jurisdictions/DE/locations/B01", headers=admin)
    make_price_list(
        db,
        "Berlin",
        prices={shop["tee"]: 2380},
        priority=5,
        tax_inclusive=True,
        location_codes=["B01"],
    )
    manager = token_for(db, settings, "filialleiter", "manager", ["B01"])
    half = {"kind": "percent", "value": "50", "reason": "display model"}
    cart = {"location": "B01", "lines": [{"sku": "TEE", "quantity": 1}]}
    cart["lines"].append({"sku": "TEE", "quantity": 1, "discount": half})
    r = ok(client.post("/api/v1/quotes", json=cart, headers=manager))
    full, halved = r["lines"]
    assert r["currency"] == "EUR"
    assert (full["tax_inclusive"], full["total"], full["tax_total"]) == (True, 2380, 380)
    assert by_code(full["taxes"]) == {"VAT": (Decimal("0.19"), 2000, 380)}
    assert (halved["discount_total"], halved["total"], halved["tax_total"]) == (1190, 1190, 190)
    assert halved["adjustments"] == [
        {
            "source": "manual",
            "name": "Line discount",
            "amount": 1190,
            "coupon": None,
            "reason": "display model",
        }
    ]
    assert (r["total"], r["tax_total"]) == (3570, 570)


# --- currency ------------------------------------------------------------------------------


def test_a_foreign_cart_uses_its_price_list_else_a_rounded_conversion_else_is_refused(
    client, admin, shop
):
    web = {"location": None, "channel": "web"}
    euro = ok(quote(client, shop["cashier"], ("TEE", 1), currency="EUR", **web))
    assert [(x["unit_price"], x["price_source"]) for x in euro["lines"]] == [(1800, "price_list")]
    assert euro["exchange_rate"] is None
    rate = {"base": "USD", "quote": "CHF", "rate": "0.8765", "valid_from": str(NOW.date())}
    assert client.post("/api/v1/exchange-rates", json=rate, headers=admin).status_code == 201
    client.put("/api/v1/price-roundings/CHF", json={"increment": 5}, headers=admin)
    franc = ok(quote(client, shop["cashier"], ("TEE", 1), ("MUG", 1), currency="CHF", **web))
    # 20.00 x 0.8765 = 17.53 -> 17.55; 10.00 x 0.8765 = 8.765 -> 8.75
    assert [(x["unit_price"], x["price_source"]) for x in franc["lines"]] == [
        (1755, "converted"),
        (875, "converted"),
    ]
    assert Decimal(franc["exchange_rate"]) == Decimal("0.8765")
    refused = quote(client, shop["cashier"], ("TEE", 1), ("MUG", 1), currency="GBP", **web)
    assert_problem(refused, 422, "pricing.no_price", "lines.0", "lines.1")


# --- promotions and coupons ----------------------------------------------------------------


def test_an_automatic_promotion_is_an_adjustment_split_over_the_units(client, admin, shop):
    deal = {"code": "third-off", "name": "A third off", "kind": "item_percent", "percent": "33"}
    promotion = client.post("/api/v1/promotions", json=deal, headers=admin).json()
    body = ok(quote(client, shop["cashier"], ("MUG", 3)))
    (line,) = body["lines"]
    assert [(a["source"], a["name"]) for a in line["adjustments"]] == [
        (promotion["id"], "A third off")
    ]
    assert line["discount_total"] == line["adjustments"][0]["amount"] == 990
    assert len(line["unit_discounts"]) == 3
    assert sum(line["unit_discounts"]) == line["discount_total"]
    assert [p["name"] for p in body["promotions"]] == ["A third off"]


def test_a_coupon_promotion_applies_only_with_its_code(client, shop, coupons):
    without = ok(quote(client, shop["cashier"], ("TEE", 3)))
    assert (without["discount_total"], without["promotions"]) == (0, [])
    entered = ok(quote(client, shop["cashier"], ("TEE", 3), coupons=["save5"]))
    assert entered["discount_total"] == 500
    assert [(p["promotion_id"], p["coupon"]) for p in entered["promotions"]] == [
        (coupons["five-off"], "save5")
    ]
    assert [c["accepted"] for c in entered["coupons"]] == [True]


def spend(client, headers, code: str) -> None:
    sale = {"id": str(uuid7()), "location": "S01", "register": "S01-R1", "coupons": [code]}
    sale |= {
        "lines": [{"sku": "TEE", "quantity": 3}],
        "payments": [{"method": "cash", "amount": 9000}],
    }
    assert client.post("/api/v1/sales", json=sale, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("codes", "cart", "spent", "reason", "field"),
    [
        (["SAVE5", "NOPE"], {}, None, "unknown", "coupons.1"),
        (["SAVE5", "OLD"], {}, None, "expired", "coupons.1"),
        (["SAVE5", "SOON"], {}, None, "not_yet_valid", "coupons.1"),
        (["SAVE5"], {"quantity": 1}, None, "minimum_spend_not_met", "coupons.0"),
        (["SAVE5"], {"currency": "EUR"}, None, "wrong_currency", "coupons.0"),
        (["ONCE"], {}, "ONCE", "already_used", "coupons.0"),
        (["LIMITED"], {}, "LIMITED", "usage_limit_reached", "coupons.0"),
        (["SAVE5", "WEB10"], {}, None, "not_for_channel", "coupons.1"),
    ],
)
def test_a_refused_coupon_answers_422_naming_its_reason_and_place(
    client, shop, coupons, codes, cart, spent, reason, field
):
    if spent:
        spend(client, shop["cashier"], spent)
    body = {"coupons": codes, "quantity": 3} | cart
    r = quote(client, shop["cashier"], ("TEE", body.pop("quantity")), **body)
    assert_problem(r, 422, f"promotion.coupon_{reason}", field)


# --- manual discounts ----------------------------------------------------------------------


def test_a_manual_discount_needs_permission_and_a_quote_leaves_the_override_unspent(
    client, db, settings, shop
):
    cashier = shop["cashier"]
    line = {"sku": "TEE", "quantity": 1}
    line["discount"] = {"kind": "percent", "value": "10", "reason": "scuffed"}
    r = client.post("/api/v1/quotes", json={"location": "S01", "lines": [line]}, headers=cashier)
    assert_problem(r, 403, "auth.permission_denied")
    approved = cashier | {"X-Manager-Override": override(client, db, settings, cashier)}
    for _ in range(2):
        body = ok(
            client.post(
                "/api/v1/quotes", json={"location": "S01", "lines": [line]}, headers=approved
            )
        )
        assert body["lines"][0]["discount_total"] == 200
    sale = {"id": str(uuid7()), "location": "S01", "register": "S01-R1", "lines": [line]}
    sale["payments"] = [{"method": "cash", "amount": 2000}]
    sold = client.post("/api/v1/sales", json=sale, headers=approved)
    assert sold.status_code == 201, sold.text
    assert sold.json()["total"] == body["total"]
    again = client.post("/api/v1/sales", json=sale | {"id": str(uuid7())}, headers=approved)
    assert_problem(again, 403, "override.invalid")


# --- where tax is charged ------------------------------------------------------------------


def test_tax_follows_the_place_of_supply_and_an_exempt_customer_pays_none(client, db, nyc, shop):
    cashier = shop["cashier"]
    manhattan = {"country": "US", "region": "NY", "postal_code": "10001"}
    shipped = ok(
        quote(client, cashier, ("LAMP", 1), location="S02", fulfillment="ship", ship_to=manhattan)
    )
    assert set(by_code(shipped["taxes"])) == {"NYS", "NYC", "MCTD"}
    assert shipped["tax_total"] == 1775
    missing = quote(client, cashier, ("LAMP", 1), location="S02", fulfillment="ship")
    assert_problem(missing, 422, "pricing.ship_to_required", "ship_to")
    picked_up = ok(
        quote(client, cashier, ("LAMP", 1), location="S02", fulfillment="pickup", ship_to=manhattan)
    )
    assert by_code(picked_up["taxes"]) == {"TAX": (Decimal("0.06625"), 20000, 1325)}
    exempt = make_customer(db, certificate="NY-EX-42")
    body = ok(quote(client, cashier, ("LAMP", 1), customer=str(exempt.id)))
    assert (body["tax_total"], body["total"], body["taxes"]) == (0, 20000, [])
    assert body["tax_exempt_reason"] == "exemption certificate NY-EX-42"


# --- side effects --------------------------------------------------------------------------


def written(db) -> tuple[int, ...]:
    with db.uow(write=False) as uow:
        count = func.count()
        return (
            uow.session.scalar(select(count).select_from(Sale)),
            uow.session.scalar(select(count).select_from(PromotionRedemption)),
            uow.session.scalar(select(func.coalesce(func.sum(Coupon.uses), 0))),
            uow.session.scalar(select(count).select_from(AuditEntry)),
            uow.session.scalar(
                select(count)
                .select_from(ManagerOverride)
                .where(ManagerOverride.used_at.is_not(None))
            ),
        )


def test_a_quote_writes_nothing(client, db, settings, shop, coupons):
    cashier = shop["cashier"]
    approved = cashier | {"X-Manager-Override": override(client, db, settings, cashier)}
    before = written(db)
    discount = {"kind": "amount", "value": "100", "reason": "loyal"}
    body = ok(quote(client, approved, ("TEE", 3), coupons=["ONCE"], discount=discount))
    assert body["discount_total"] == 600
    assert written(db) == before
