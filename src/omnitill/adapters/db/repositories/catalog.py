"""Variant lookups for the register sale and stock movements."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, or_, select

from omnitill.adapters.db.models import Product, Variant
from omnitill.domain.catalog.gtin import normalize_scan
from omnitill.domain.catalog.snapshots import VariantRef

_REF_COLUMNS = (
    Variant.id,
    Variant.sku,
    Variant.barcode,
    Variant.name,
    Variant.price_minor,
    Variant.currency,
    Variant.status,
    Product.status.label("product_status"),
)


def variant_refs(
    conn: Connection, *, skus: Iterable[str] = (), barcodes: Iterable[str] = ()
) -> tuple[dict[str, VariantRef], dict[str, VariantRef]]:
    """Variants named by SKU and by barcode (as asked; GTIN padding tolerated), as plain
    snapshots with their product's status, in one Core query."""
    sku_list = sorted(set(skus))
    scan_forms: dict[str, str] = {}
    for code in set(barcodes):
        for form in normalize_scan(code):
            scan_forms.setdefault(form, code)
    conditions = []
    if sku_list:
        conditions.append(Variant.sku.in_(sku_list))
    if scan_forms:
        conditions.append(Variant.barcode.in_(sorted(scan_forms)))
    by_sku: dict[str, VariantRef] = {}
    by_barcode: dict[str, VariantRef] = {}
    if not conditions:
        return by_sku, by_barcode
    stmt = select(*_REF_COLUMNS).join(Product, Product.id == Variant.product_id)
    for row in conn.execute(stmt.where(or_(*conditions))):
        ref = VariantRef(*row)
        if ref.sku in sku_list:
            by_sku[ref.sku] = ref
        if ref.barcode is not None and ref.barcode in scan_forms:
            by_barcode[scan_forms[ref.barcode]] = ref
    return by_sku, by_barcode
