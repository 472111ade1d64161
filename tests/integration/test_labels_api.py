"""Barcode labels and shelf price tags as SVG and PDF."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import update

from omnitill.adapters.db.models import Product, Variant
from omnitill.domain.labels.barcodes import code128, ean13
from tests.factories import make_location, make_price_list, make_variant, token_for

SVG = "{http://www.w3.org/2000/svg}"
LABELS = "/api/v1/labels"


@pytest.fixture
def shop(client, db, settings):
    s01 = make_location(db, "S01", locale="de_DE", currency="EUR")
    tote = make_variant(db, sku="TOTE", price=2400, barcode="4006381333931", currency="EUR")
    make_variant(db, sku="NOGTIN", price=500, barcode="ABC-123", currency="EUR")
    apples = make_variant(db, sku="APPLES", price=399, barcode="APL-KG", currency="EUR")
    with db.uow() as uow:
        product_id = uow.session.get(Variant, apples.id).product_id
        uow.session.execute(
            update(Product).where(Product.id == product_id).values(sold_by_weight=True)
        )
        uow.commit()
    return {
        "location": s01,
        "tote": tote,
        "clerk": token_for(db, settings, "clerk", "inventory"),
    }


def bars(svg: ET.Element) -> list[ET.Element]:
    return [e for e in svg.iter(f"{SVG}rect") if e.get("class") == "bar"]


def test_a_barcode_label_is_an_svg_with_the_ean13_bars(client, shop):
    r = client.get(LABELS, headers=shop["clerk"], params={"sku": "TOTE"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(r.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "50.0mm"
    [code] = [e for e in root.iter(f"{SVG}svg") if e.get("class") == "barcode"]
    assert code.get("data-symbology") == "ean13"
    assert len(bars(root)) == len(ean13("4006381333931").bars()) == 30
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "4006381333931" in texts
    assert "Product TOTE" in texts


def test_a_sku_without_a_gtin_gets_code128(client, shop):
    r = client.get(LABELS, headers=shop["clerk"], params={"sku": "NOGTIN"})
    root = ET.fromstring(r.content)
    assert len(bars(root)) == len(code128("ABC-123").bars())
    assert any(e.get("data-symbology") == "code128" for e in root.iter(f"{SVG}svg"))


def test_a_shelf_tag_shows_the_store_price_in_its_locale(client, db, shop):
    make_price_list(db, name="Store S01", currency="EUR", prices={shop["tote"]: 1999})
    r = client.get(
        LABELS, headers=shop["clerk"], params={"sku": "TOTE", "kind": "shelf", "location": "S01"}
    )
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    price = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "price")
    assert price.text == "19,99\u00a0€"
    weighed = client.get(
        LABELS, headers=shop["clerk"], params={"sku": "APPLES", "kind": "shelf", "location": "S01"}
    )
    unit = next(
        t
        for t in ET.fromstring(weighed.content).iter(f"{SVG}text")
        if t.get("class") == "unit-price"
    )
    assert unit.text.endswith("3,99\u00a0€ per kg")


def test_several_skus_make_a_pdf_sheet(client, shop):
    r = client.get(
        LABELS,
        headers=shop["clerk"],
        params=[("sku", "TOTE"), ("sku", "NOGTIN"), ("format", "pdf"), ("copies", "3")],
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    several_svg = client.get(LABELS, headers=shop["clerk"], params=[("sku", "A"), ("sku", "B")])
    assert several_svg.status_code == 422
    assert several_svg.json()["code"] == "labels.one_per_svg"


def test_unknown_skus_and_bad_parameters_are_422_naming_each(client, shop):
    r = client.get(
        LABELS,
        headers=shop["clerk"],
        params=[("sku", "TOTE"), ("sku", "NOPE"), ("format", "pdf")],
    )
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("sku.1", "catalog.unknown_sku")
    ]
    copies = client.get(LABELS, headers=shop["clerk"], params={"sku": "TOTE", "copies": 0})
    assert [e["field"] for e in copies.json()["errors"]] == ["copies"]
    store = client.get(LABELS, headers=shop["clerk"], params={"sku": "TOTE", "location": "X9"})
    assert (store.status_code, store.json()["code"]) == (404, "location.not_found")
    assert client.get(LABELS, params={"sku": "TOTE"}).status_code == 401
