"""Variant lookups for the register sale and stock movements."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, or_, select

from omnitill.adapters.db.models import Product, Variant, table
from omnitill.domain.catalog.gtin import normalize_scan
from omnitill.domain.catalog.snapshots import VariantRef

_variants, _products = table(Variant), table(Product)
_REFS = (
    select(
        _variants.c.id,
        _variants.c.sku,
        _variants.c.barcode,
        _variants.c.name,
        _variants.c.price_minor,
        _variants.c.currency,
        _variants.c.status,
        _products.c.status,
        _products.c.id,
        _variants.c.compare_at_minor,
        _products.c.tax_class,
        _products.c.brand_id,
        _products.c.sold_by_weight,
        _products.c.category_id,
        _variants.c.unit,
        _variants.c.tracking,
        _products.c.gift_card,
    )
    .join(_products, _products.c.id == _variants.c.product_id)
    .where(
        or_(
            _variants.c.sku.in_(bindparam("skus", expanding=True)),
            _variants.c.barcode.in_(bindparam("barcodes", expanding=True)),
        )
    )
)


def variant_refs(
    conn: Connection, *, skus: Iterable[str] = (), barcodes: Iterable[str] = ()
) -> tuple[dict[str, VariantRef], dict[str, VariantRef]]:
    """Variants named by SKU and by barcode (as asked; GTIN padding tolerated), as plain
    snapshots with their product's status, in one prebuilt query."""
    sku_list = sorted(set(skus))
    scan_forms: dict[str, str] = {}
    for code in set(barcodes):
        for form in normalize_scan(code):
            scan_forms.setdefault(form, code)
    by_sku: dict[str, VariantRef] = {}
    by_barcode: dict[str, VariantRef] = {}
    if not sku_list and not scan_forms:
        return by_sku, by_barcode
    for row in conn.execute(_REFS, {"skus": sku_list, "barcodes": sorted(scan_forms)}):
        ref = VariantRef(*row)
        if ref.sku in sku_list:
            by_sku[ref.sku] = ref
        if ref.barcode is not None and ref.barcode in scan_forms:
            by_barcode[scan_forms[ref.barcode]] = ref
    return by_sku, by_barcode
