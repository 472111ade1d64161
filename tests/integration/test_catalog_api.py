from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, Brand, Category, Product, Variant
from tests.factories import gtin13, make_variant, token_for

PROBLEM = "application/problem+json"
UPC_A = "036000291452"  # a real UPC-A; EAN-13 readers report it as 0036000291452
EAN_13 = "4006381333931"


@pytest.fixture
def admin(db, settings) -> dict[str, str]:
    return token_for(db, settings, "admin1", "admin")


def count(db, model: Any) -> int:
    with db.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def tee(*variants: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Organic tee",
        "options": ["size", "colour"],
        "variants": list(variants)
        or [
            {
                "sku": "TEE-M",
                "option_values": {"size": "M", "colour": "black"},
                "price": 1999,
                "currency": "USD",
                "barcode": EAN_13,
            },
            {
                "sku": "TEE-L",
                "option_values": {"size": "L", "colour": "black"},
                "price": 2199,
                "currency": "USD",
            },
        ],
    }
    body.update(fields)
    return body


def variant(sku: str, **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "price": 1000, "currency": "USD", **fields}


def assert_problem(r, status: int, code: str, *fields: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == code
    named = {e["field"] for e in body.get("errors", [])}
    for field in fields:
        assert field in named, f"{field} not in {named}"


# --- creating products ---------------------------------------------------------------------


def test_creating_a_product_creates_all_its_variants(client, admin):
    r = client.post("/api/v1/products", json=tee(), headers=admin)
    assert r.status_code == 201, r.text
    product = r.json()
    assert product["status"] == "active"
    assert product["tracking"] == "none"
    assert [v["sku"] for v in product["variants"]] == ["TEE-M", "TEE-L"]
    medium = product["variants"][0]
    assert medium["name"] == "Organic tee - M / black"
    assert medium["price"] == 1999
    assert medium["currency"] == "USD"
    assert medium["barcode"] == EAN_13
    assert medium["option_values"] == {"size": "M", "colour": "black"}
    assert medium["sellable"] is True
    again = client.get(f"/api/v1/products/{product['id']}", headers=admin)
    assert again.json() == product


def test_a_product_can_have_a_category_and_a_brand(client, admin):
    category = client.post("/api/v1/categories", json={"name": "Tops"}, headers=admin).json()
    brand = client.post("/api/v1/brands", json={"name": "Acme"}, headers=admin).json()
    r = client.post(
        "/api/v1/products",
        json=tee(category_id=category["id"], brand_id=brand["id"]),
        headers=admin,
    )
    assert r.status_code == 201
    assert (r.json()["category_id"], r.json()["brand_id"]) == (category["id"], brand["id"])


def test_unknown_category_and_brand_are_both_reported(client, db, admin):
    missing = "01890000-0000-7000-8000-000000000000"
    r = client.post(
        "/api/v1/products", json=tee(category_id=missing, brand_id=missing), headers=admin
    )
    assert_problem(r, 422, "catalog.category_not_found", "category_id", "brand_id")
    assert count(db, Product) == 0


def test_an_invalid_barcode_is_refused_naming_the_variant_field(client, db, admin):
    body = tee(variant("A-1", barcode=EAN_13), variant("A-2", barcode="4006381333932"))
    r = client.post("/api/v1/products", json=body, headers=admin)
    assert_problem(r, 422, "catalog.invalid_barcode", "variants.1.barcode")
    assert [e["field"] for e in r.json()["errors"]] == ["variants.1.barcode"]
    assert count(db, Product) == 0
    assert count(db, Variant) == 0


@pytest.mark.parametrize("barcode", ["12345", "40063813339311", "4006381333931X", "0000000"])
def test_barcodes_of_the_wrong_length_or_with_letters_are_refused(client, admin, barcode):
    r = client.post("/api/v1/products", json=tee(variant("B-1", barcode=barcode)), headers=admin)
    assert_problem(r, 422, "catalog.invalid_barcode", "variants.0.barcode")


def test_every_invalid_field_is_reported_at_once(client, db, admin):
    body = tee(
        variant("OK-1"),
        variant("bad sku", price=-1, currency="XXX", barcode="123"),
        variant("OK-2", option_values={"fit": "slim"}, compare_at_price=-5, cost=-2),
        options=["size", "Size"],
    )
    r = client.post("/api/v1/products", json=body, headers=admin)
    assert r.status_code == 422
    errors = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert errors >= {
        ("options.1", "catalog.duplicate_option"),
        ("variants.1.sku", "catalog.invalid_sku"),
        ("variants.1.barcode", "catalog.invalid_barcode"),
        ("variants.1.price", "catalog.invalid_price"),
        ("variants.1.currency", "money.unknown_currency"),
        ("variants.2.option_values.fit", "catalog.unknown_option"),
        ("variants.2.compare_at_price", "catalog.invalid_price"),
        ("variants.2.cost", "catalog.invalid_cost"),
    }
    assert count(db, Variant) == 0


def test_variants_of_one_product_must_share_a_currency(client, db, admin):
    body = tee(variant("C-1"), variant("C-2", currency="EUR"))
    r = client.post("/api/v1/products", json=body, headers=admin)
    assert_problem(r, 422, "catalog.currency_mismatch", "variants.1.currency")
    assert count(db, Product) == 0


def test_the_same_sku_or_barcode_twice_in_one_request_is_refused(client, admin):
    body = tee(
        variant("D-1", barcode=UPC_A),
        variant("D-1"),
        variant("D-2", barcode="0" + UPC_A),
    )
    r = client.post("/api/v1/products", json=body, headers=admin)
    assert_problem(r, 422, "catalog.duplicate_sku", "variants.1.sku", "variants.2.barcode")


def test_a_taken_sku_is_refused_with_409_and_nothing_is_written(client, db, admin):
    make_variant(db, sku="TAKEN")
    before = count(db, Variant)
    r = client.post("/api/v1/products", json=tee(variant("FRESH"), variant("TAKEN")), headers=admin)
    assert_problem(r, 409, "catalog.sku_taken", "variants.1.sku")
    assert count(db, Variant) == before
    assert client.get("/api/v1/variants?sku=FRESH", headers=admin).json()["items"] == []


def test_a_barcode_taken_in_another_gtin_padding_is_refused(client, db, admin):
    make_variant(db, sku="CAN", barcode=UPC_A)
    body = tee(variant("E-1", barcode="0" + UPC_A), variant("E-2", barcode=gtin13(999)))
    r = client.post("/api/v1/products", json=body, headers=admin)
    assert_problem(r, 409, "catalog.barcode_taken", "variants.0.barcode")
    assert [e["field"] for e in r.json()["errors"]] == ["variants.0.barcode"]


def test_a_product_needs_at_least_one_variant(client, admin):
    r = client.post("/api/v1/products", json=tee() | {"variants": []}, headers=admin)
    assert_problem(r, 422, "request.validation_failed", "variants")


def test_an_unknown_status_is_refused_by_the_schema(client, admin):
    r = client.post("/api/v1/products", json=tee(status="for-sale"), headers=admin)
    assert_problem(r, 422, "request.validation_failed", "status")


def test_a_cashier_cannot_create_products(client, db, settings):
    cashier = token_for(db, settings, "cash1", "cashier")
    r = client.post("/api/v1/products", json=tee(), headers=cashier)
    assert_problem(r, 403, "auth.permission_denied")
    assert count(db, Product) == 0


def test_catalog_needs_a_signed_in_user(client):
    assert_problem(client.get("/api/v1/variants"), 401, "auth.required")


# --- reading and searching variants --------------------------------------------------------


def test_cashiers_can_search_variants_but_do_not_see_cost(client, db, settings, admin):
    client.post("/api/v1/products", json=tee(variant("F-1", cost=400)), headers=admin)
    cashier = token_for(db, settings, "cash1", "cashier")
    item = client.get("/api/v1/variants?sku=F-1", headers=cashier).json()["items"][0]
    assert item["cost"] is None
    assert client.get("/api/v1/variants?sku=F-1", headers=admin).json()["items"][0]["cost"] == 400


def test_variants_page_through_in_sku_order(client, db, admin):
    for n in range(7):
        make_variant(db, sku=f"PG-{n:02d}")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/variants", params=params, headers=admin).json()
        seen += [i["sku"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"PG-{n:02d}" for n in range(7)]
    assert pages == 3


def test_the_list_items_carry_the_contract_fields(client, admin):
    client.post("/api/v1/products", json=tee(), headers=admin)
    item = client.get("/api/v1/variants?sku=TEE-M", headers=admin).json()["items"][0]
    for field in (
        "id",
        "sku",
        "barcode",
        "name",
        "price",
        "currency",
        "compare_at_price",
        "status",
        "product_id",
        "option_values",
    ):
        assert field in item


def test_an_invalid_cursor_or_limit_is_refused(client, admin):
    r = client.get("/api/v1/variants?cursor=not-a-cursor", headers=admin)
    assert_problem(r, 422, "pagination.invalid_cursor", "cursor")
    r = client.get("/api/v1/variants?limit=0", headers=admin)
    assert_problem(r, 422, "pagination.invalid_limit", "limit")


def test_q_finds_variants_by_every_word_of_name_options_and_sku(client, admin):
    client.post("/api/v1/products", json=tee(), headers=admin)
    client.post(
        "/api/v1/products",
        json={"name": "Wool socks", "variants": [variant("SOCK-1")]},
        headers=admin,
    )

    def skus(q: str) -> list[str]:
        page = client.get("/api/v1/variants", params={"q": q}, headers=admin).json()
        return [i["sku"] for i in page["items"]]

    assert skus("ORGANIC") == ["TEE-L", "TEE-M"]
    assert skus("tee-l") == ["TEE-L"]
    assert skus("black tee-m") == ["TEE-M"]
    assert skus("sock") == ["SOCK-1"]
    assert skus(EAN_13[:6]) == ["TEE-M"]
    assert skus("organic sock") == []


def test_q_treats_percent_and_underscore_as_plain_characters(client, admin):
    client.post(
        "/api/v1/products",
        json={"name": "100% cotton", "variants": [variant("P_1")]},
        headers=admin,
    )
    client.post(
        "/api/v1/products", json={"name": "Linen", "variants": [variant("PX1")]}, headers=admin
    )
    page = client.get("/api/v1/variants", params={"q": "p_"}, headers=admin).json()
    assert [i["sku"] for i in page["items"]] == ["P_1"]
    page = client.get("/api/v1/variants", params={"q": "%"}, headers=admin).json()
    assert [i["sku"] for i in page["items"]] == ["P_1"]


@pytest.mark.parametrize("scanned", [UPC_A, "0" + UPC_A, "00" + UPC_A])
def test_the_barcode_filter_matches_every_gtin_padding(client, db, admin, scanned):
    make_variant(db, sku="CAN", barcode=UPC_A)
    page = client.get("/api/v1/variants", params={"barcode": scanned}, headers=admin).json()
    assert [i["sku"] for i in page["items"]] == ["CAN"]


@pytest.mark.parametrize("stored", [UPC_A, "0" + UPC_A])
@pytest.mark.parametrize("scanned", [UPC_A, "0" + UPC_A, "00" + UPC_A])
def test_lookup_finds_a_barcode_scanned_in_any_padding(client, db, admin, stored, scanned):
    make_variant(db, sku="CAN", barcode=stored)
    r = client.get(f"/api/v1/variants/lookup/{scanned}", headers=admin)
    assert r.status_code == 200
    assert r.json()["sku"] == "CAN"


def test_lookup_finds_a_typed_sku_even_with_a_slash(client, db, admin):
    make_variant(db, sku="AB/12")
    r = client.get("/api/v1/variants/lookup/AB/12", headers=admin)
    assert r.status_code == 200
    assert r.json()["sku"] == "AB/12"


def test_lookup_of_an_unknown_code_is_404(client, admin):
    r = client.get("/api/v1/variants/lookup/4006381333931", headers=admin)
    assert_problem(r, 404, "catalog.variant_not_found")


def test_unknown_ids_are_404(client, admin):
    missing = "01890000-0000-7000-8000-000000000000"
    assert_problem(
        client.get(f"/api/v1/products/{missing}", headers=admin), 404, "catalog.product_not_found"
    )
    assert_problem(
        client.get(f"/api/v1/variants/{missing}", headers=admin), 404, "catalog.variant_not_found"
    )
    assert_problem(
        client.patch(f"/api/v1/variants/{missing}", json={"price": 1}, headers=admin),
        404,
        "catalog.variant_not_found",
    )


# --- changing products and variants --------------------------------------------------------


def test_a_variant_is_sellable_only_while_it_and_its_product_are_active(client, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]

    def sellable() -> bool:
        return client.get(f"/api/v1/variants/{medium}", headers=admin).json()["sellable"]

    assert sellable()
    client.patch(f"/api/v1/products/{product['id']}", json={"status": "draft"}, headers=admin)
    assert not sellable()
    client.patch(f"/api/v1/products/{product['id']}", json={"status": "active"}, headers=admin)
    assert sellable()
    r = client.patch(f"/api/v1/variants/{medium}", json={"status": "archived"}, headers=admin)
    assert r.json()["status"] == "archived"
    assert r.json()["product_status"] == "active"
    assert not sellable()


def test_a_price_change_is_audited_and_other_edits_are_not(client, db, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]
    r = client.patch(f"/api/v1/variants/{medium}", json={"name": "Tee medium"}, headers=admin)
    assert r.status_code == 200
    r = client.patch(f"/api/v1/variants/{medium}", json={"price": 1799}, headers=admin)
    assert r.json()["price"] == 1799
    with db.uow(write=False) as uow:
        entries = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "catalog.price_changed")
        ).all()
    assert len(entries) == 1
    assert entries[0].subject_id == medium
    assert entries[0].actor == "admin1"
    assert entries[0].details["price_before"] == 1999
    assert entries[0].details["price_after"] == 1799


def test_a_refused_price_change_writes_no_audit_entry(client, db, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]
    r = client.patch(f"/api/v1/variants/{medium}", json={"price": 1, "barcode": "1"}, headers=admin)
    assert_problem(r, 422, "catalog.invalid_barcode", "barcode")
    assert client.get(f"/api/v1/variants/{medium}", headers=admin).json()["price"] == 1999
    assert count(db, AuditEntry) == 1  # user.created only


def test_patching_a_variant_checks_sku_and_barcode_against_the_others(client, db, admin):
    make_variant(db, sku="OTHER", barcode=UPC_A)
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]
    r = client.patch(
        f"/api/v1/variants/{medium}",
        json={"sku": "OTHER", "barcode": "00" + UPC_A},
        headers=admin,
    )
    assert_problem(r, 409, "catalog.sku_taken", "sku", "barcode")
    r = client.patch(f"/api/v1/variants/{medium}", json={"sku": "TEE-M"}, headers=admin)
    assert r.status_code == 200  # its own SKU is not "taken"


def test_patching_a_variant_can_clear_its_barcode_and_reset_its_name(client, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]
    client.patch(f"/api/v1/variants/{medium}", json={"name": "Custom"}, headers=admin)
    r = client.patch(
        f"/api/v1/variants/{medium}", json={"barcode": None, "name": None}, headers=admin
    )
    assert r.json()["barcode"] is None
    assert r.json()["name"] == "Organic tee - M / black"
    lookup = client.get(f"/api/v1/variants/lookup/{EAN_13}", headers=admin)
    assert lookup.status_code == 404


def test_a_derived_variant_name_follows_new_option_values(client, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]
    url = f"/api/v1/variants/{medium}"
    r = client.patch(url, json={"option_values": {"size": "M", "colour": "navy"}}, headers=admin)
    assert r.json()["name"] == "Organic tee - M / navy"
    page = client.get("/api/v1/variants", params={"q": "navy"}, headers=admin).json()
    assert [i["sku"] for i in page["items"]] == ["TEE-M"]
    r = client.patch(url, json={"option_values": {"fit": "slim"}}, headers=admin)
    assert_problem(r, 422, "catalog.unknown_option", "option_values.fit")


def test_null_is_refused_for_fields_that_cannot_be_empty(client, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]
    r = client.patch(f"/api/v1/variants/{medium}", json={"price": None, "sku": None}, headers=admin)
    assert_problem(r, 422, "catalog.not_nullable", "price", "sku")
    r = client.patch(f"/api/v1/products/{product['id']}", json={"name": None}, headers=admin)
    assert_problem(r, 422, "catalog.not_nullable", "name")


def test_a_variant_cannot_move_to_another_currency_than_its_siblings(client, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    medium = product["variants"][0]["id"]
    r = client.patch(f"/api/v1/variants/{medium}", json={"currency": "EUR"}, headers=admin)
    assert_problem(r, 422, "catalog.currency_mismatch", "currency")


def test_renaming_a_product_renames_derived_variant_names_and_search(client, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    large = product["variants"][1]["id"]
    client.patch(f"/api/v1/variants/{large}", json={"name": "Big tee"}, headers=admin)
    r = client.patch(
        f"/api/v1/products/{product['id']}", json={"name": "Hemp shirt"}, headers=admin
    )
    assert r.status_code == 200
    names = [v["name"] for v in r.json()["variants"]]
    assert names == ["Hemp shirt - M / black", "Big tee"]
    page = client.get("/api/v1/variants", params={"q": "hemp"}, headers=admin).json()
    assert [i["sku"] for i in page["items"]] == ["TEE-L", "TEE-M"]
    assert (
        client.get("/api/v1/variants", params={"q": "organic"}, headers=admin).json()["items"] == []
    )


def test_an_option_still_used_by_a_variant_cannot_be_removed(client, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    r = client.patch(f"/api/v1/products/{product['id']}", json={"options": ["size"]}, headers=admin)
    assert_problem(r, 422, "catalog.option_in_use", "options")
    r = client.patch(
        f"/api/v1/products/{product['id']}",
        json={"options": ["size", "colour", "fit"]},
        headers=admin,
    )
    assert r.json()["options"] == ["size", "colour", "fit"]


def test_variants_added_later_follow_the_product_rules(client, db, admin):
    product = client.post("/api/v1/products", json=tee(), headers=admin).json()
    url = f"/api/v1/products/{product['id']}/variants"
    r = client.post(
        url, json=variant("TEE-S", currency="EUR", option_values={"fit": "x"}), headers=admin
    )
    assert_problem(r, 422, "catalog.unknown_option", "option_values.fit", "currency")
    r = client.post(url, json=variant("TEE-M"), headers=admin)
    assert_problem(r, 409, "catalog.sku_taken", "sku")
    r = client.post(
        url,
        json=variant("TEE-S", barcode=UPC_A, option_values={"size": "S", "colour": "black"}),
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Organic tee - S / black"
    assert client.get(f"/api/v1/variants/lookup/0{UPC_A}", headers=admin).json()["sku"] == "TEE-S"


# --- categories and brands -----------------------------------------------------------------


def test_categories_get_a_slug_from_their_name_and_nest(client, admin):
    r = client.post("/api/v1/categories", json={"name": "Crème & Soaps"}, headers=admin)
    assert r.status_code == 201
    parent = r.json()
    assert parent["slug"] == "creme-soaps"
    r = client.post(
        "/api/v1/categories", json={"name": "Bars", "parent_id": parent["id"]}, headers=admin
    )
    assert r.json()["parent_id"] == parent["id"]


def test_a_taken_or_malformed_slug_is_refused(client, db, admin):
    client.post("/api/v1/categories", json={"name": "Shoes"}, headers=admin)
    r = client.post(
        "/api/v1/categories", json={"name": "Other shoes", "slug": "shoes"}, headers=admin
    )
    assert_problem(r, 409, "catalog.slug_taken", "slug")
    missing = "01890000-0000-7000-8000-000000000000"
    r = client.post(
        "/api/v1/categories",
        json={"name": "Boots", "slug": "Boots!", "parent_id": missing},
        headers=admin,
    )
    assert_problem(r, 422, "catalog.invalid_slug", "slug", "parent_id")
    assert count(db, Category) == 1


def test_categories_page_through_in_slug_order(client, admin):
    for name in ["delta", "alpha", "charlie", "bravo", "echo"]:
        client.post("/api/v1/categories", json={"name": name}, headers=admin)
    first = client.get("/api/v1/categories?limit=2", headers=admin).json()
    rest = client.get(
        f"/api/v1/categories?limit=5&cursor={first['next_cursor']}", headers=admin
    ).json()
    slugs = [c["slug"] for c in first["items"] + rest["items"]]
    assert slugs == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert rest["next_cursor"] is None


def test_brand_names_are_unique_regardless_of_case(client, db, admin):
    assert client.post("/api/v1/brands", json={"name": "Acme"}, headers=admin).status_code == 201
    r = client.post("/api/v1/brands", json={"name": "ACME"}, headers=admin)
    assert_problem(r, 409, "catalog.brand_taken", "name")
    assert count(db, Brand) == 1
    client.post("/api/v1/brands", json={"name": "Zenith"}, headers=admin)
    page = client.get("/api/v1/brands", headers=admin).json()
    assert [b["name"] for b in page["items"]] == ["Acme", "Zenith"]


@pytest.mark.parametrize(
    ("field", "code"), [("sku", "catalog.sku_taken"), ("barcode", "catalog.barcode_taken")]
)
def test_a_unique_index_lost_to_a_concurrent_writer_is_still_a_409(
    client, db, admin, monkeypatch, field, code
):
    from omnitill.services import catalog

    make_variant(db, sku="RACE", barcode=UPC_A)
    monkeypatch.setattr(catalog, "_refuse_taken", lambda uow, wanted: None)  # lose the race
    clash = {"sku": "RACE"} if field == "sku" else {"sku": "NEW", "barcode": UPC_A}
    r = client.post("/api/v1/products", json=tee(variant(**clash)), headers=admin)
    assert_problem(r, 409, code, field)
    assert count(db, Product) == 1
