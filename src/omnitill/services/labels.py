"""Barcode labels and shelf price tags for SKUs, priced as a store sells them.

The barcode is the variant's own (EAN-13 when it is a valid GTIN-13, else Code 128), or its
SKU in Code 128 when it has none. A shelf tag's price is the one the register would start
from at that store today: the store's price lists, else the base price (converted when the
store trades in another currency), before promotions, which come and go faster than paper
tags. Goods sold by weight show their price per kg. Without a `location`, tags show the base
price in the variant's currency, in the default locale.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.snapshots import VariantRef
from omnitill.domain.errors import FieldError, NotFound, ValidationFailed
from omnitill.domain.labels.barcodes import product_barcode
from omnitill.domain.labels.tags import Label, LabelKind, check_request
from omnitill.domain.pricing.cart import CartLine, PricingContext
from omnitill.domain.pricing.prices import resolve_prices
from omnitill.services import pricing_data
from omnitill.services.receipts import money_text

GRAMS_PER_KG = 1000


def build_labels(
    *,
    db: Database,
    actor: Actor,
    skus: list[str],
    kind: LabelKind,
    location: str | None = None,
    copies: int = 1,
) -> list[Label]:
    """One label per SKU, in the order asked; 422 `catalog.unknown_sku` naming each unknown."""
    actor.require(Permission.CATALOG_READ)
    wanted = check_request(skus, copies)
    with db.uow(write=False) as uow:
        store = _location(uow, actor, location)
        by_sku, _ = catalog_repo.variant_refs(uow.connection, skus=wanted)
        unknown = [
            FieldError(f"sku.{i}", "catalog.unknown_sku", f"no variant with SKU {s!r}")
            for i, s in enumerate(wanted)
            if s not in by_sku
        ]
        if unknown:
            raise ValidationFailed("catalog.unknown_sku", "unknown SKU", errors=unknown)
        refs = [by_sku[s] for s in wanted]
        now = utcnow()
        return [_label(uow, ref, kind, store, now, field=f"sku.{i}") for i, ref in enumerate(refs)]


def _label(
    uow: UnitOfWork,
    ref: VariantRef,
    kind: LabelKind,
    store: Location | None,
    now: datetime,
    *,
    field: str,
) -> Label:
    barcode = product_barcode(ref.barcode or ref.sku, field=field)
    if kind is LabelKind.BARCODE:
        return Label(kind, ref.sku, ref.name, barcode)
    amount, currency = _shelf_price(uow, ref, store, now, field=field)
    price = money_text(amount, currency, store.locale if store else "en_US")
    if ref.sold_by_weight:
        return Label(kind, ref.sku, ref.name, barcode, f"{price} / kg", f"{price} per kg")
    return Label(kind, ref.sku, ref.name, barcode, price)


def _shelf_price(
    uow: UnitOfWork, ref: VariantRef, store: Location | None, now: datetime, *, field: str
) -> tuple[int, str]:
    """The unit price (per kg when weighed) the store's register would start from."""
    if store is None:
        return ref.price_minor, ref.currency
    line = CartLine(
        key="0",
        variant_id=str(ref.id),
        sku=ref.sku,
        name=ref.name,
        quantity=GRAMS_PER_KG if ref.sold_by_weight else 1,
        base_price=ref.price_minor,
        compare_at=ref.compare_at_minor,
        tax_class=ref.tax_class,
        sold_by_weight=ref.sold_by_weight,
    )
    book = pricing_data.price_book(
        uow, currency=store.currency, base_currency=ref.currency, variant_ids=[ref.id]
    )
    context = PricingContext(
        currency=store.currency,
        channel="in_store",
        at=now,
        timezone=store.timezone,
        location=store.code,
    )
    try:
        resolved = resolve_prices(
            [line], book=book, context=context, base_inclusive=store.prices_include_tax
        )
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.code,
            exc.message,
            exc.details,
            errors=[FieldError(field, e.code, e.message) for e in exc.errors],
        ) from exc
    return resolved.lines[0].unit_price, store.currency


def _location(uow: UnitOfWork, actor: Actor, code: str | None) -> Location | None:
    if code is None:
        return None
    found = uow.session.scalars(select(Location).where(Location.code == code)).one_or_none()
    if found is None or not actor.may_access(found.id):
        raise NotFound(
            "location.not_found",
            f"no location {code!r}",
            {"location": code},
            errors=[FieldError("location", "location.not_found", "no such location")],
        )
    return found
