"""Catalog use cases: categories, brands, products with their variants, and variant lookup.

Input rules live in `domain.catalog.validation`; this module adds the ones that need the
database (references exist, SKU and barcode not taken) and owns each transaction. A request is
refused whole: 422 lists every invalid field, 409 every taken SKU or barcode, and nothing is
written.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Brand, Category, Product, StockMovement, Variant
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.gtin import normalize_scan
from omnitill.domain.catalog.products import (
    ProductChanges,
    ProductInput,
    Tracking,
    VariantChanges,
    VariantInput,
    is_sellable,
    search_text,
    variant_display_name,
)
from omnitill.domain.catalog.validation import (
    check_new_variants,
    check_options,
    check_options_in_use,
    check_product,
    check_product_name,
    check_tax_class,
    check_variant,
    gtin_key,
    raise_invalid,
)
from omnitill.domain.errors import Conflict, FieldError, NotFound
from omnitill.services import audit
from omnitill.services.pagination import clamp_limit, cursor_value, encode_cursor
from omnitill.services.uniqueness import flush_unique, taken


@dataclass(frozen=True, slots=True)
class VariantRecord:
    """A variant with the product it belongs to (whose status decides if it can be sold)."""

    variant: Variant
    product: Product

    @property
    def sellable(self) -> bool:
        return is_sellable(self.variant, self.product)


@dataclass(frozen=True, slots=True)
class ProductRecord:
    """A product and its variants in the order they were created."""

    product: Product
    variants: tuple[Variant, ...]


@dataclass(frozen=True, slots=True)
class VariantPage:
    items: tuple[VariantRecord, ...]
    next_cursor: str | None


UNITS = ("each", "g", "ml")  # the base units quantities count in
TRACKINGS = tuple(t.value for t in Tracking)


@dataclass(frozen=True, slots=True)
class StockKeeping:
    """How a variant's stock is counted: its base `unit` (each, g, ml) and `tracking`
    (none, lot, serial). None: on create, the product's default (grams for a product sold
    by weight; the product's tracking); on update, unchanged."""

    unit: str | None = None
    tracking: str | None = None


# --- products ------------------------------------------------------------------------------


def create_product(
    *,
    db: Database,
    actor: Actor,
    data: ProductInput,
    sold_by_weight: bool = False,
    gift_card: bool = False,
    keeping: Sequence[StockKeeping | None] = (),
) -> ProductRecord:
    """Create a product with all its variants in one transaction, or nothing at all.

    A product `sold_by_weight` is priced per kilogram and sold in grams. `keeping[i]` sets
    the unit and tracking of variant i (default: grams when sold by weight, else each; the
    product's tracking)."""
    data = dataclasses.replace(
        data,
        name=data.name.strip(),
        options=tuple(o.strip() for o in data.options),
        variants=tuple(_clean(v) for v in data.variants),
    )
    errors = check_product(data)
    for i, keep in enumerate(keeping):
        errors += _check_keeping(keep, prefix=f"variants.{i}.")
    with db.uow() as uow:
        errors += _missing_references(uow, category_id=data.category_id, brand_id=data.brand_id)
        raise_invalid(errors)
        _refuse_taken(
            uow, [(f"variants.{i}", v.sku, v.barcode) for i, v in enumerate(data.variants)]
        )
        product = Product(
            name=data.name,
            description=data.description,
            category_id=data.category_id,
            brand_id=data.brand_id,
            tax_class=data.tax_class.strip(),
            tracking=data.tracking.value,
            status=data.status.value,
            options=list(data.options),
            sold_by_weight=sold_by_weight,
            gift_card=gift_card,
        )
        uow.session.add(product)
        uow.session.flush()
        variants = tuple(
            _new_variant(product, v, keeping[i] if i < len(keeping) else None)
            for i, v in enumerate(data.variants)
        )
        uow.session.add_all(variants)
        flush_unique(uow, _VARIANT_UNIQUE)
        uow.commit()
        return ProductRecord(product, variants)


def get_product(*, db: Database, product_id: uuid.UUID) -> ProductRecord:
    """A product and its variants, or 404 `catalog.product_not_found`."""
    with db.uow(write=False) as uow:
        product = _product(uow, product_id)
        return ProductRecord(product, _variants_of(uow, product.id))


def update_product(
    *,
    db: Database,
    actor: Actor,
    product_id: uuid.UUID,
    changes: ProductChanges,
    sold_by_weight: bool | None = None,
    gift_card: bool | None = None,
) -> ProductRecord:
    """Change a product's fields; variant names derived from the old name follow the new one.

    A new `tracking` applies to every variant: 409 `catalog.tracking_locked` if one whose
    tracking would change has stock movements."""
    errors = _refuse_null(changes.clear, allowed={"category_id", "brand_id"})
    with db.uow() as uow:
        product = _product(uow, product_id)
        variants = _variants_of(uow, product.id)
        name = changes.name.strip() if changes.name is not None else product.name
        options = (
            tuple(o.strip() for o in changes.options)
            if changes.options is not None
            else tuple(product.options)
        )
        if changes.name is not None:
            errors += check_product_name(name)
        if changes.tax_class is not None:
            errors += check_tax_class(changes.tax_class)
        if changes.options is not None:
            errors += check_options(options)
            errors += check_options_in_use(options, [v.option_values for v in variants])
        errors += _missing_references(
            uow, category_id=changes.category_id, brand_id=changes.brand_id
        )
        raise_invalid(errors)
        old_names = {
            v.id: variant_display_name(product.name, product.options, v.option_values)
            for v in variants
        }
        product.name = name
        product.options = list(options)
        for attr in ("description", "category_id", "brand_id", "tax_class"):
            value = getattr(changes, attr)
            if value is not None:
                setattr(product, attr, value.strip() if isinstance(value, str) else value)
        for attr in changes.clear:
            setattr(product, attr, None)
        if changes.tracking is not None:
            _retrack(uow, variants, changes.tracking.value)
            product.tracking = changes.tracking.value
        if changes.status is not None:
            product.status = changes.status.value
        if sold_by_weight is not None:
            product.sold_by_weight = sold_by_weight
        if gift_card is not None:
            product.gift_card = gift_card
        for variant in variants:
            if variant.name == old_names[variant.id]:
                variant.name = variant_display_name(name, options, variant.option_values)
            _index(variant, product)
        uow.session.flush()
        uow.commit()
        return ProductRecord(product, variants)


# --- variants ------------------------------------------------------------------------------


def add_variant(
    *,
    db: Database,
    actor: Actor,
    product_id: uuid.UUID,
    data: VariantInput,
    keeping: StockKeeping | None = None,
) -> VariantRecord:
    """Add one variant to a product, priced in the currency of its existing variants."""
    data = _clean(data)
    raise_invalid(_check_keeping(keeping, prefix=""))
    with db.uow() as uow:
        product = _product(uow, product_id)
        siblings = _variants_of(uow, product.id)
        currency = siblings[0].currency if siblings else None
        raise_invalid(
            check_new_variants(
                [data], options=product.options, prefix="", product_currency=currency
            )
        )
        _refuse_taken(uow, [("", data.sku, data.barcode)])
        variant = _new_variant(product, data, keeping)
        uow.session.add(variant)
        flush_unique(uow, _VARIANT_UNIQUE)
        uow.commit()
        return VariantRecord(variant, product)


def get_variant(*, db: Database, variant_id: uuid.UUID) -> VariantRecord:
    """A variant and its product, or 404 `catalog.variant_not_found`."""
    with db.uow(write=False) as uow:
        variant = uow.session.get(Variant, variant_id)
        if variant is None:
            raise _variant_not_found(str(variant_id))
        return VariantRecord(variant, _product(uow, variant.product_id))


def update_variant(
    *,
    db: Database,
    actor: Actor,
    variant_id: uuid.UUID,
    changes: VariantChanges,
    keeping: StockKeeping | None = None,
) -> VariantRecord:
    """Change a variant. A new price or currency is audited as ``catalog.price_changed``.

    Clearing `name` (null) goes back to the name derived from the product and option values;
    a name that was derived follows new option values. A new `unit` or `tracking` is refused
    once the variant has stock movements (409 `catalog.unit_locked`,
    `catalog.tracking_locked`): the ledger counts its units the old way.
    """
    raise_invalid(
        _refuse_null(changes.clear, allowed={"barcode", "compare_at_price", "cost", "name"})
        + _check_keeping(keeping, prefix="")
    )
    with db.uow() as uow:
        variant = uow.session.get(Variant, variant_id)
        if variant is None:
            raise _variant_not_found(str(variant_id))
        product = _product(uow, variant.product_id)
        given = {
            f.name
            for f in dataclasses.fields(changes)
            if f.name != "clear" and getattr(changes, f.name) is not None
        }
        after = _clean(_merged(variant, changes))
        derived = variant_display_name(product.name, product.options, variant.option_values)
        if "option_values" in given and "name" not in given and variant.name == derived:
            after = dataclasses.replace(after, name=None)  # a derived name follows its values
        errors = [
            e
            for e in check_variant(after, options=product.options)
            if e.field.split(".")[0] in given | changes.clear
        ]
        if "currency" in given:
            others = [v for v in _variants_of(uow, product.id) if v.id != variant.id]
            if others and others[0].currency != after.currency:
                errors.append(
                    FieldError(
                        "currency",
                        "catalog.currency_mismatch",
                        f"every variant of a product is priced in one currency "
                        f"({others[0].currency})",
                    )
                )
        raise_invalid(errors)
        _refuse_taken(
            uow,
            [
                (
                    "",
                    after.sku if after.sku != variant.sku else None,
                    after.barcode if after.barcode != variant.barcode else None,
                )
            ],
        )
        if (after.price, after.currency) != (variant.price_minor, variant.currency):
            audit.record(
                uow,
                action="catalog.price_changed",
                actor=actor,
                subject_type="variant",
                subject_id=str(variant.id),
                details={
                    "sku": after.sku,
                    "price_before": variant.price_minor,
                    "currency_before": variant.currency,
                    "price_after": after.price,
                    "currency_after": after.currency,
                },
            )
        _apply(variant, product, after)
        if keeping is not None:
            _rekeep(uow, variant, keeping)
        flush_unique(uow, _VARIANT_UNIQUE)
        uow.commit()
        return VariantRecord(variant, product)


def _check_keeping(keeping: StockKeeping | None, *, prefix: str) -> list[FieldError]:
    if keeping is None:
        return []
    errors = []
    if keeping.unit is not None and keeping.unit not in UNITS:
        errors.append(
            FieldError(f"{prefix}unit", "catalog.invalid_unit", f"one of {', '.join(UNITS)}")
        )
    if keeping.tracking is not None and keeping.tracking not in TRACKINGS:
        errors.append(
            FieldError(
                f"{prefix}tracking", "catalog.invalid_tracking", f"one of {', '.join(TRACKINGS)}"
            )
        )
    return errors


def _has_movements(uow: UnitOfWork, variant_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these variants have any stock movement."""
    if not variant_ids:
        return set()
    return set(
        uow.session.scalars(
            select(StockMovement.variant_id)
            .where(StockMovement.variant_id.in_(list(variant_ids)))
            .distinct()
        )
    )


def _locked(code: str, what: str, skus: list[str]) -> Conflict:
    return Conflict(
        code,
        f"the {what} of a variant with stock movements cannot change: {', '.join(skus)}",
        {"skus": skus},
        errors=[FieldError(what, code, "the variant has stock movements")],
    )


def _retrack(uow: UnitOfWork, variants: Sequence[Variant], tracking: str) -> None:
    """Give every variant of a product the product's new tracking (none with stock)."""
    changing = [v for v in variants if v.tracking != tracking]
    moved = _has_movements(uow, [v.id for v in changing])
    if moved:
        skus = sorted(v.sku for v in changing if v.id in moved)
        raise _locked("catalog.tracking_locked", "tracking", skus)
    for v in changing:
        v.tracking = tracking


def _rekeep(uow: UnitOfWork, variant: Variant, keeping: StockKeeping) -> None:
    """Change a variant's unit and tracking, unless its ledger already counts it."""
    unit_changes = keeping.unit is not None and keeping.unit != variant.unit
    tracking_changes = keeping.tracking is not None and keeping.tracking != variant.tracking
    if (unit_changes or tracking_changes) and _has_movements(uow, [variant.id]):
        if tracking_changes:
            raise _locked("catalog.tracking_locked", "tracking", [variant.sku])
        raise _locked("catalog.unit_locked", "unit", [variant.sku])
    if keeping.unit is not None:
        variant.unit = keeping.unit
    if keeping.tracking is not None:
        variant.tracking = keeping.tracking


def list_variants(
    *,
    db: Database,
    sku: str | None = None,
    barcode: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> VariantPage:
    """Variants in SKU order, filtered by exact SKU, barcode (any GTIN padding) and words of
    `q`, each of which must appear in the variant's name, SKU, barcode or option values."""
    size = clamp_limit(limit)
    after = cursor_value(cursor, "sku")
    stmt = select(Variant, Product).join(Product, Product.id == Variant.product_id)
    if sku is not None:
        stmt = stmt.where(Variant.sku == sku.strip())
    if barcode is not None:
        stmt = stmt.where(Variant.barcode.in_(normalize_scan(barcode)))
    for word in (q or "").lower().split():
        stmt = stmt.where(Variant.search_text.contains(word, autoescape=True))
    if after is not None:
        stmt = stmt.where(Variant.sku > after)
    stmt = stmt.order_by(Variant.sku).limit(size + 1)
    with db.uow(write=False) as uow:
        rows = [VariantRecord(v, p) for v, p in uow.session.execute(stmt)]
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode_cursor({"sku": rows[-1].variant.sku}) if more and rows else None
    return VariantPage(tuple(rows), next_cursor)


def lookup_variant(*, db: Database, code: str) -> VariantRecord:
    """The variant a scanner or a cashier's typed code names: its SKU, or its barcode in any
    GTIN-12/13/14 padding. 404 `catalog.variant_not_found` when nothing matches.

    A SKU match wins over a barcode match. One prepared statement that also brings the
    product: this runs on every scan.
    """
    code = code.strip()
    forms = normalize_scan(code)
    if len(forms) > len(_SCAN_FORMS):
        forms = forms[: len(_SCAN_FORMS)]
    params = {"code": code} | {
        name: forms[i] if i < len(forms) else forms[0] for i, name in enumerate(_SCAN_FORMS)
    }
    with db.uow(write=False) as uow:
        rows = uow.session.execute(_LOOKUP, params).all()
        if not rows:
            raise _variant_not_found(code)
        variant, product = next(((v, p) for v, p in rows if v.sku == code), rows[0])
        return VariantRecord(variant, product)


# A scan has at most three equivalent forms (as scanned, and its GTIN-12/13/14 paddings).
_SCAN_FORMS = ("form1", "form2", "form3")
_LOOKUP = (
    select(Variant, Product)
    .join(Product, Product.id == Variant.product_id)
    .where(
        or_(
            Variant.sku == bindparam("code"),
            Variant.barcode.in_([bindparam(name) for name in _SCAN_FORMS]),
        )
    )
    .limit(2)
)


# --- helpers -------------------------------------------------------------------------------

_VARIANT_UNIQUE = {
    "variants.sku": taken("catalog.sku_taken", "sku", "sku is already in use"),
    "variants.barcode": taken("catalog.barcode_taken", "barcode", "barcode is already in use"),
}


def _clean(variant: VariantInput) -> VariantInput:
    barcode = variant.barcode.strip() if variant.barcode is not None else None
    return dataclasses.replace(
        variant,
        sku=variant.sku.strip(),
        barcode=barcode or None,
        name=variant.name.strip() if variant.name is not None else None,
        currency=variant.currency.strip().upper(),
        option_values={k.strip(): str(v).strip() for k, v in variant.option_values.items()},
    )


def _merged(variant: Variant, changes: VariantChanges) -> VariantInput:
    """The variant as it would be after `changes`, for validation."""

    def pick(attr: str, current: Any) -> Any:
        if attr in changes.clear:
            return None
        value = getattr(changes, attr)
        return current if value is None else value

    return VariantInput(
        sku=pick("sku", variant.sku),
        barcode=pick("barcode", variant.barcode),
        name=pick("name", variant.name),
        option_values=pick("option_values", variant.option_values),
        price=pick("price", variant.price_minor),
        compare_at_price=pick("compare_at_price", variant.compare_at_minor),
        cost=pick("cost", variant.cost_minor),
        currency=pick("currency", variant.currency),
        status=pick("status", variant.status),
    )


def _new_variant(
    product: Product, data: VariantInput, keeping: StockKeeping | None = None
) -> Variant:
    keeping = keeping or StockKeeping()
    variant = Variant(
        product_id=product.id,
        unit=keeping.unit or ("g" if product.sold_by_weight else "each"),
        tracking=keeping.tracking or product.tracking,
    )
    _apply(variant, product, data)
    return variant


def _apply(variant: Variant, product: Product, data: VariantInput) -> None:
    variant.sku = data.sku
    variant.barcode = data.barcode
    variant.option_values = dict(data.option_values)
    variant.name = data.name or variant_display_name(
        product.name, product.options, data.option_values
    )
    variant.price_minor = data.price
    variant.compare_at_minor = data.compare_at_price
    variant.cost_minor = data.cost
    variant.currency = data.currency
    variant.status = str(data.status)
    _index(variant, product)


def _index(variant: Variant, product: Product) -> None:
    variant.search_text = search_text(
        product_name=product.name,
        variant_name=variant.name,
        sku=variant.sku,
        barcode=variant.barcode,
        option_values=variant.option_values,
    )


def _product(uow: UnitOfWork, product_id: uuid.UUID) -> Product:
    product = uow.session.get(Product, product_id)
    if product is None:
        raise NotFound(
            "catalog.product_not_found", f"no product {product_id}", {"id": str(product_id)}
        )
    return product


def _variants_of(uow: UnitOfWork, product_id: uuid.UUID) -> tuple[Variant, ...]:
    stmt = select(Variant).where(Variant.product_id == product_id).order_by(Variant.id)
    return tuple(uow.session.scalars(stmt))


def _variant_not_found(code: str) -> NotFound:
    return NotFound("catalog.variant_not_found", f"no variant matches {code!r}", {"code": code})


def _missing_references(
    uow: UnitOfWork, *, category_id: uuid.UUID | None, brand_id: uuid.UUID | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if category_id is not None and uow.session.get(Category, category_id) is None:
        errors.append(FieldError("category_id", "catalog.category_not_found", "no such category"))
    if brand_id is not None and uow.session.get(Brand, brand_id) is None:
        errors.append(FieldError("brand_id", "catalog.brand_not_found", "no such brand"))
    return errors


def _refuse_null(clear: frozenset[str], *, allowed: set[str]) -> list[FieldError]:
    return [
        FieldError(name, "catalog.not_nullable", "cannot be null")
        for name in sorted(clear - allowed)
    ]


def _refuse_taken(uow: UnitOfWork, wanted: Sequence[tuple[str, str | None, str | None]]) -> None:
    """409 listing every SKU and barcode already used by another variant.

    `wanted` holds (field prefix, SKU, barcode); None skips a check. A barcode is taken when a
    stored barcode is any GTIN padding of it, because a scan could not tell them apart.
    """
    skus = {sku for _, sku, _ in wanted if sku}
    forms = sorted({form for _, _, code in wanted if code for form in normalize_scan(code)})
    used_skus = set(uow.session.scalars(select(Variant.sku).where(Variant.sku.in_(skus))))
    used_codes = {
        gtin_key(code)
        for code in uow.session.scalars(select(Variant.barcode).where(Variant.barcode.in_(forms)))
        if code is not None
    }
    errors: list[FieldError] = []
    for prefix, sku, code in wanted:
        at = f"{prefix}." if prefix else ""
        if sku in used_skus:
            errors.append(FieldError(f"{at}sku", "catalog.sku_taken", f"SKU {sku!r} is in use"))
        if code is not None and gtin_key(code) in used_codes:
            errors.append(
                FieldError(f"{at}barcode", "catalog.barcode_taken", f"barcode {code} is in use")
            )
    if errors:
        raise Conflict(
            errors[0].code,
            "; ".join(f"{e.field}: {e.message}" for e in errors),
            errors=errors,
        )
