"""The snapshot loaders the pricing engine is fed from, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from omnitill.adapters.db.models import (
    Category,
    Collection,
    CollectionProduct,
    ExchangeRate,
    PriceRounding,
    Product,
    TaxComponent,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Role
from omnitill.domain.errors import ValidationFailed
from omnitill.domain.promotions.model import CouponRefusal, Usage
from omnitill.services import pricing_data, promotions, versions
from tests.factories import (
    make_coupon,
    make_customer,
    make_jurisdiction,
    make_location,
    make_price_list,
    make_promotion,
    make_variant,
)

ADMIN = Actor(uuid.uuid4(), "admin", Role.ADMIN, None)


def test_a_price_book_holds_active_lists_in_the_currency_with_only_the_asked_entries(db):
    shirt, socks = make_variant(db, price=2000), make_variant(db, price=500)
    eur = make_price_list(db, "EU retail", prices={shirt: 1900, socks: 450}, priority=5)
    make_price_list(db, "EU old", prices={shirt: 1000}, active=False)
    make_price_list(db, "UK retail", currency="GBP", prices={shirt: 1700})
    with db.uow() as uow:
        uow.session.add_all(
            [
                ExchangeRate(
                    base="USD", quote="EUR", rate=Decimal("0.9"), valid_from=date(2026, 1, 1)
                ),
                ExchangeRate(
                    base="USD", quote="GBP", rate=Decimal("0.8"), valid_from=date(2026, 1, 1)
                ),
                PriceRounding(currency="EUR", increment=5, charm_ending=None),
            ]
        )
        versions.touch(uow, versions.PRICING)  # as the services do
        uow.commit()

    with db.uow(write=False) as uow:
        book = pricing_data.price_book(
            uow, currency="EUR", base_currency="USD", variant_ids=[shirt.id]
        )

    assert [p.name for p in book.price_lists] == ["EU retail"]
    price_list = book.price_lists[0]
    assert price_list.id == str(eur.id)
    assert price_list.priority == 5
    assert set(price_list.entries) == {str(shirt.id)}
    assert price_list.entries[str(shirt.id)].unit_price == 1900
    assert [(r.base, r.quote, r.rate) for r in book.exchange_rates] == [
        ("USD", "EUR", Decimal("0.9"))
    ]
    assert book.roundings["EUR"].increment == 5
    assert book.base_currency == "USD"


def test_a_location_gets_its_assigned_jurisdiction_or_none(db):
    s01, s02 = make_location(db, "S01"), make_location(db, "S02")
    make_jurisdiction(db, "US-NY", rates={"standard": "0.08875"}, locations=[s01])
    with db.uow(write=False) as uow:
        found = pricing_data.jurisdiction_for_location(uow, location_id=s01.id)
        none = pricing_data.jurisdiction_for_location(uow, location_id=s02.id)
    assert found is not None
    assert found.code == "US-NY"
    assert found.components[0].rates == {"standard": Decimal("0.08875")}
    assert none is None


def test_the_most_specific_jurisdiction_wins_for_an_address(db):
    make_jurisdiction(db, "CA", country="CA", rates={"standard": "0.05"})
    make_jurisdiction(db, "CA-QC", country="CA", region="QC")
    make_jurisdiction(db, "US-NY", country="US", region="NY")
    make_jurisdiction(db, "US-NY-NYC", country="US", region="NY", postal_prefixes=["100", "112"])
    make_jurisdiction(db, "US-NY-MAN", country="US", region="NY", postal_prefixes=["1000"])

    def at(country: str, region: str = "", postal: str = "") -> str | None:
        with db.uow(write=False) as uow:
            found = pricing_data.jurisdiction_for_address(
                uow, country=country, region=region, postal_code=postal
            )
        return None if found is None else found.code

    assert at("US", "NY", "10003-1234") == "US-NY-MAN"  # the longest prefix
    assert at("us", "ny", "11201") == "US-NY-NYC"
    assert at("US", "NY", "12207") == "US-NY"
    assert at("US", "OR", "97201") is None  # nothing configured in Oregon
    assert at("CA", "QC", "H2X 1Y4") == "CA-QC"
    assert at("CA", "ON", "M5V 2T6") == "CA"
    assert at("DE", "", "10115") is None


def test_the_promotion_catalog_is_cached_until_a_promotion_changes(db):
    first = make_promotion(db, "ten-off")
    make_promotion(db, "retired", active=False)
    with db.uow(write=False) as uow:
        catalog = pricing_data.promotion_catalog(uow)
    with db.uow(write=False) as uow:
        again = pricing_data.promotion_catalog(uow)
    assert [p.id for p in catalog.promotions] == [str(first.id)]
    assert again is catalog

    promotions.update_promotion(
        db=db, actor=ADMIN, promotion_id=first.id, changes={"percent": Decimal(20)}
    )
    with db.uow(write=False) as uow:
        changed = pricing_data.promotion_catalog(uow)
    assert changed is not catalog
    assert changed.promotions[0].percent == Decimal(20)


def test_usage_counts_redemptions_in_total_and_by_the_customer(db):
    promo, other = make_promotion(db), make_promotion(db)
    ada, bob = make_customer(db), make_customer(db)
    with db.uow() as uow:
        for customer in (ada.id, ada.id, bob.id, None):
            refused = pricing_data.redeem(
                uow,
                promotion_id=promo.id,
                coupon_code=None,
                customer_id=customer,
                sale_id=uuid.uuid4(),
                amount=100,
                currency="USD",
            )
            assert refused is None
        uow.commit()
    with db.uow(write=False) as uow:
        usage = pricing_data.promotion_usage(
            uow, promotion_ids=[str(promo.id), str(other.id)], customer_id=ada.id
        )
        anonymous = pricing_data.promotion_usage(uow, promotion_ids=[promo.id], customer_id=None)
    assert usage == {str(promo.id): Usage(4, 2), str(other.id): Usage(0, 0)}
    assert anonymous == {str(promo.id): Usage(4, 0)}


def test_coupons_are_found_by_any_letter_case_and_keyed_normalised(db):
    promo = make_promotion(db, requires_coupon=True)
    make_coupon(db, promo, "WELCOME10", single_use=False, usage_limit=50)
    with db.uow(write=False) as uow:
        found = pricing_data.coupons_by_code(uow, [" welcome10 ", "NOPE"])
    assert list(found) == ["WELCOME10"]
    coupon = found["WELCOME10"]
    assert coupon.promotion_id == str(promo.id)
    assert (coupon.single_use, coupon.usage_limit, coupon.uses) == (False, 50, 0)


def test_a_single_use_coupon_is_redeemed_once_and_a_shared_one_up_to_its_limit(db):
    promo = make_promotion(db, requires_coupon=True)
    make_coupon(db, promo, "ONCE-ONLY")
    make_coupon(db, promo, "TWICE", single_use=False, usage_limit=2)

    def redeem(code: str) -> bool:
        with db.uow() as uow:
            ok = pricing_data.redeem(
                uow,
                promotion_id=promo.id,
                coupon_code=code.lower(),
                customer_id=None,
                sale_id=uuid.uuid4(),
                amount=500,
                currency="USD",
            )
            uow.commit()
            return ok is None

    assert [redeem("ONCE-ONLY"), redeem("ONCE-ONLY")] == [True, False]
    assert [redeem("TWICE"), redeem("TWICE"), redeem("TWICE")] == [True, True, False]
    with db.uow(write=False) as uow:
        usage = pricing_data.promotion_usage(uow, promotion_ids=[promo.id], customer_id=None)
        coupons = pricing_data.coupons_by_code(uow, ["ONCE-ONLY", "TWICE"])
    assert usage[str(promo.id)].total == 3
    assert (coupons["ONCE-ONLY"].uses, coupons["TWICE"].uses) == (1, 2)


LIMITS = {
    "single-use coupon": ({"requires_coupon": True}, "RACE-1", False),
    "promotion used once in all": ({"usage_limit": 1}, None, False),
    "once per customer": ({"per_customer_limit": 1}, None, True),
}


@pytest.mark.parametrize("limit", list(LIMITS), ids=list(LIMITS))
def test_two_sales_racing_for_the_last_use_succeed_once(db, limit):
    fields, code, same_customer = LIMITS[limit]
    promo = make_promotion(db, **fields)
    if code is not None:
        make_coupon(db, promo, code)
    customer = make_customer(db).id if same_customer else None
    barrier = threading.Barrier(2)
    results: list[object] = []
    failures: list[BaseException] = []

    def spend() -> None:
        try:
            with db.uow() as uow:
                barrier.wait(timeout=10)
                refused = pricing_data.redeem(
                    uow,
                    promotion_id=promo.id,
                    coupon_code=code,
                    customer_id=customer,
                    sale_id=uuid.uuid4(),
                    amount=500,
                    currency="USD",
                )
                uow.commit()
            results.append(refused)
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=spend) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    expected = {
        "single-use coupon": CouponRefusal.ALREADY_USED,
        "promotion used once in all": CouponRefusal.USAGE_LIMIT,
        "once per customer": CouponRefusal.CUSTOMER_LIMIT,
    }[limit]
    assert sorted(results, key=str) == sorted([None, expected], key=str)
    with db.uow(write=False) as uow:
        usage = pricing_data.promotion_usage(uow, promotion_ids=[promo.id], customer_id=None)
    assert usage[str(promo.id)].total == 1


def test_the_redemption_ledger_refuses_updates(db):
    promo = make_promotion(db)
    with db.uow() as uow:
        pricing_data.redeem(
            uow,
            promotion_id=promo.id,
            coupon_code=None,
            customer_id=None,
            sale_id=None,
            amount=1,
            currency="USD",
        )
        uow.commit()
    with pytest.raises(DBAPIError), db.uow() as uow:
        uow.session.execute(text("UPDATE promotion_redemptions SET amount_minor = 0"))


def test_a_customers_groups_and_certificate_are_loaded(db):
    vip = make_customer(db, groups=["vip", "staff"], certificate="NY-EX-123")
    with db.uow(write=False) as uow:
        found = pricing_data.customer_pricing(uow, customer_id=vip.id)
        anonymous = pricing_data.customer_pricing(uow, customer_id=None)
        groups, certificate = found
    assert (groups, certificate) == (frozenset({"vip", "staff"}), "NY-EX-123")
    assert anonymous.groups == frozenset()
    assert anonymous.tax_exempt_certificate is None
    with pytest.raises(ValidationFailed) as refused, db.uow(write=False) as uow:
        pricing_data.customer_pricing(uow, customer_id=uuid.uuid4())
    assert refused.value.code == "customer.not_found"


def test_products_carry_their_category_ancestors_and_collections(db):
    shoe, loose = make_variant(db), make_variant(db)
    with db.uow() as uow:
        root = Category(name="Apparel", slug="apparel")
        uow.session.add(root)
        uow.session.flush()
        mid = Category(name="Shoes", slug="shoes", parent_id=root.id)
        uow.session.add(mid)
        uow.session.flush()
        leaf = Category(name="Boots", slug="boots", parent_id=mid.id)
        summer = Collection(name="Summer", slug="summer")
        uow.session.add_all([leaf, summer])
        uow.session.flush()
        uow.session.get_one(Product, shoe.product_id).category_id = leaf.id
        uow.session.add(CollectionProduct(collection_id=summer.id, product_id=shoe.product_id))
        versions.touch(uow, versions.PRICING)  # as the services do
        uow.commit()
    ids = [shoe.product_id, loose.product_id]
    with db.uow(write=False) as uow:
        categories = pricing_data.category_ids_for(uow, product_ids=ids)
        collections = pricing_data.collection_ids_for(uow, product_ids=ids)
    assert categories == {shoe.product_id: frozenset(str(c.id) for c in (root, mid, leaf))}
    assert collections == {shoe.product_id: frozenset({str(summer.id)})}


def test_jurisdiction_components_come_back_in_position_order_with_every_version(db):
    juris = make_jurisdiction(db, "DE", country="DE", rates={"standard": "0.19"})
    with db.uow() as uow:
        uow.session.add(
            TaxComponent(
                jurisdiction_id=juris.id,
                code="SOLI",
                name="Levy",
                rates={"standard": "0.01"},
                position=1,
                valid_from=date(2027, 1, 1),
            )
        )
        versions.touch(uow, versions.PRICING)  # as the services do
        uow.commit()
    with db.uow(write=False) as uow:
        found = pricing_data.jurisdiction_for_address(uow, country="DE", postal_code="10115")
    assert found is not None
    assert [c.code for c in found.components] == ["TAX", "SOLI"]
    assert found.components[1].valid_from == date(2027, 1, 1)
