"""Catalog endpoints: categories, brands, collections, products, variants and scanner
lookup."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel

from omnitill.api.deps import Cursor, DbDep, Limit, require
from omnitill.api.schemas.catalog import (
    BrandCreate,
    BrandPage,
    BrandRead,
    CategoryCreate,
    CategoryPage,
    CategoryRead,
    CollectionCreate,
    CollectionPage,
    CollectionProductPage,
    CollectionRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VariantCreate,
    VariantPage,
    VariantRead,
    VariantUpdate,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.products import (
    ProductChanges,
    ProductInput,
    Tracking,
    VariantChanges,
    VariantInput,
)
from omnitill.services import catalog as catalog_service
from omnitill.services import catalog_taxonomy as taxonomy_service
from omnitill.services import collections as collection_service

router = APIRouter(prefix="/api/v1", tags=["catalog"])

Reader = Annotated[Actor, Depends(require(Permission.CATALOG_READ))]
Writer = Annotated[Actor, Depends(require(Permission.CATALOG_WRITE))]


@router.post(
    "/categories",
    response_model=CategoryRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a category",
)
def create_category(body: CategoryCreate, actor: Writer, db: DbDep) -> CategoryRead:
    """409 `catalog.slug_taken`; 422 `catalog.invalid_slug`, `catalog.category_not_found`."""
    category = taxonomy_service.create_category(
        db=db, actor=actor, name=body.name, slug=body.slug, parent_id=body.parent_id
    )
    return CategoryRead.model_validate(category, from_attributes=True)


@router.get("/categories", response_model=CategoryPage, summary="List categories")
def list_categories(
    _actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> CategoryPage:
    """Categories in slug order."""
    page = taxonomy_service.list_categories(db=db, cursor=cursor, limit=limit)
    return CategoryPage(
        items=[CategoryRead.model_validate(c, from_attributes=True) for c in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/brands",
    response_model=BrandRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a brand",
)
def create_brand(body: BrandCreate, actor: Writer, db: DbDep) -> BrandRead:
    """409 `catalog.brand_taken` when the name exists in any letter case."""
    brand = taxonomy_service.create_brand(db=db, actor=actor, name=body.name)
    return BrandRead.model_validate(brand, from_attributes=True)


@router.get("/brands", response_model=BrandPage, summary="List brands")
def list_brands(_actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None) -> BrandPage:
    """Brands in name order."""
    page = taxonomy_service.list_brands(db=db, cursor=cursor, limit=limit)
    return BrandPage(
        items=[BrandRead.model_validate(b, from_attributes=True) for b in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/collections",
    response_model=CollectionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a collection",
)
def create_collection(body: CollectionCreate, actor: Writer, db: DbDep) -> CollectionRead:
    """409 `collection.slug_taken`; 422 `catalog.invalid_slug`."""
    record = collection_service.create_collection(
        db=db, actor=actor, name=body.name, slug=body.slug
    )
    return _collection_read(record)


@router.get("/collections", response_model=CollectionPage, summary="List collections")
def list_collections(
    _actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> CollectionPage:
    """Collections in slug order, each with its product count."""
    page = collection_service.list_collections(db=db, cursor=cursor, limit=limit)
    return CollectionPage(
        items=[_collection_read(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/collections/{slug}/products",
    response_model=CollectionProductPage,
    summary="List the products of a collection",
)
def list_collection_products(
    slug: str, _actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> CollectionProductPage:
    """Product ids in id order; 404 `collection.not_found`."""
    page = collection_service.list_products(db=db, slug=slug, cursor=cursor, limit=limit)
    return CollectionProductPage(items=list(page.items), next_cursor=page.next_cursor)


@router.put(
    "/collections/{slug}/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Put a product in a collection",
)
def add_collection_product(slug: str, product_id: uuid.UUID, actor: Writer, db: DbDep) -> None:
    """Safe to repeat; 404 `collection.not_found` or `catalog.product_not_found`."""
    collection_service.add_product(db=db, actor=actor, slug=slug, product_id=product_id)


@router.delete(
    "/collections/{slug}/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a product out of a collection",
)
def remove_collection_product(slug: str, product_id: uuid.UUID, actor: Writer, db: DbDep) -> None:
    """Safe to repeat; 404 `collection.not_found`."""
    collection_service.remove_product(db=db, actor=actor, slug=slug, product_id=product_id)


@router.post(
    "/products",
    response_model=ProductRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a product with its variants",
)
def create_product(body: ProductCreate, actor: Writer, db: DbDep) -> ProductRead:
    """422 lists every invalid field (`variants.N.barcode`...); 409 every taken SKU or barcode."""
    record = catalog_service.create_product(
        db=db,
        actor=actor,
        data=ProductInput(
            name=body.name,
            description=body.description,
            category_id=body.category_id,
            brand_id=body.brand_id,
            tax_class=body.tax_class,
            tracking=body.tracking,
            status=body.status,
            options=tuple(body.options),
            variants=tuple(_variant_input(v) for v in body.variants),
        ),
        sold_by_weight=body.sold_by_weight,
        gift_card=body.gift_card,
        keeping=[_keeping(v.unit, v.tracking) for v in body.variants],
    )
    return _product_read(record, actor)


@router.get("/products/{product_id}", response_model=ProductRead, summary="Get a product")
def get_product(product_id: uuid.UUID, actor: Reader, db: DbDep) -> ProductRead:
    """404 `catalog.product_not_found`."""
    return _product_read(catalog_service.get_product(db=db, product_id=product_id), actor)


@router.patch("/products/{product_id}", response_model=ProductRead, summary="Update a product")
def update_product(
    product_id: uuid.UUID, body: ProductUpdate, actor: Writer, db: DbDep
) -> ProductRead:
    """Only the fields sent change; 422 `catalog.option_in_use` when removing a used option.
    A new `tracking` applies to every variant (409 `catalog.tracking_locked` when one that
    would change has stock movements)."""
    values, clear = _split(body)
    if "options" in values:
        values["options"] = tuple(values["options"])
    sold_by_weight = values.pop("sold_by_weight", None)
    gift_card = values.pop("gift_card", None)
    record = catalog_service.update_product(
        db=db,
        actor=actor,
        product_id=product_id,
        changes=ProductChanges(**values, clear=clear),
        sold_by_weight=sold_by_weight,
        gift_card=gift_card,
    )
    return _product_read(record, actor)


@router.post(
    "/products/{product_id}/variants",
    response_model=VariantRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a variant to a product",
)
def add_variant(
    product_id: uuid.UUID, body: VariantCreate, actor: Writer, db: DbDep
) -> VariantRead:
    """422 `catalog.currency_mismatch` unless priced in the product's currency."""
    record = catalog_service.add_variant(
        db=db,
        actor=actor,
        product_id=product_id,
        data=_variant_input(body),
        keeping=_keeping(body.unit, body.tracking),
    )
    return _variant_read(record, actor)


@router.get("/variants", response_model=VariantPage, summary="Search variants")
def list_variants(
    actor: Reader,
    db: DbDep,
    sku: Annotated[str | None, Query(description="Exact SKU.")] = None,
    barcode: Annotated[
        str | None, Query(description="Barcode; UPC-A/EAN-13/GTIN-14 paddings match.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Words that must all appear in name, SKU or options."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> VariantPage:
    """Variants in SKU order; 422 `pagination.invalid_cursor` for a cursor we did not issue."""
    page = catalog_service.list_variants(
        db=db, sku=sku, barcode=barcode, q=q, cursor=cursor, limit=limit
    )
    return VariantPage(
        items=[_variant_read(r, actor) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/variants/lookup/{code:path}",
    response_model=VariantRead,
    summary="Find the variant a scanned or typed code names",
)
def lookup_variant(code: str, actor: Reader, db: DbDep) -> VariantRead:
    """Exact SKU, else barcode in any GTIN padding; 404 `catalog.variant_not_found`."""
    return _variant_read(catalog_service.lookup_variant(db=db, code=code), actor)


@router.get("/variants/{variant_id}", response_model=VariantRead, summary="Get a variant")
def get_variant(variant_id: uuid.UUID, actor: Reader, db: DbDep) -> VariantRead:
    """404 `catalog.variant_not_found`."""
    return _variant_read(catalog_service.get_variant(db=db, variant_id=variant_id), actor)


@router.patch("/variants/{variant_id}", response_model=VariantRead, summary="Update a variant")
def update_variant(
    variant_id: uuid.UUID, body: VariantUpdate, actor: Writer, db: DbDep
) -> VariantRead:
    """Only the fields sent change; a price change is audited as `catalog.price_changed`.
    `unit` and `tracking` cannot change once the variant has stock movements (409
    `catalog.unit_locked`, `catalog.tracking_locked`)."""
    values, clear = _split(body)
    unit, tracking = values.pop("unit", None), values.pop("tracking", None)
    clear = clear - {"unit", "tracking"}
    record = catalog_service.update_variant(
        db=db,
        actor=actor,
        variant_id=variant_id,
        changes=VariantChanges(**values, clear=clear),
        keeping=_keeping(unit, tracking),
    )
    return _variant_read(record, actor)


def _split(body: BaseModel) -> tuple[dict[str, Any], frozenset[str]]:
    """The fields a PATCH sent with a value, and those it sent as null."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    values = {k: v for k, v in sent.items() if v is not None}
    return values, frozenset(k for k, v in sent.items() if v is None)


def _variant_input(body: VariantCreate) -> VariantInput:
    return VariantInput(
        sku=body.sku,
        barcode=body.barcode,
        name=body.name,
        option_values=body.option_values,
        price=body.price,
        compare_at_price=body.compare_at_price,
        cost=body.cost,
        currency=body.currency,
        status=body.status,
    )


def _keeping(unit: str | None, tracking: Tracking | None) -> catalog_service.StockKeeping | None:
    if unit is None and tracking is None:
        return None
    return catalog_service.StockKeeping(
        unit=unit, tracking=None if tracking is None else tracking.value
    )


def _variant_read(record: catalog_service.VariantRecord, actor: Actor) -> VariantRead:
    v = record.variant
    return VariantRead(
        id=v.id,
        product_id=v.product_id,
        sku=v.sku,
        barcode=v.barcode,
        name=v.name,
        option_values=v.option_values,
        price=v.price_minor,
        compare_at_price=v.compare_at_minor,
        cost=v.cost_minor if actor.can(Permission.CATALOG_WRITE) else None,
        currency=v.currency,
        status=v.status,
        product_status=record.product.status,
        sellable=record.sellable,
        unit=v.unit,
        tracking=v.tracking,
        created_at=v.created_at,
        updated_at=v.updated_at,
    )


def _product_read(record: catalog_service.ProductRecord, actor: Actor) -> ProductRead:
    p = record.product
    return ProductRead(
        id=p.id,
        name=p.name,
        description=p.description,
        category_id=p.category_id,
        brand_id=p.brand_id,
        tax_class=p.tax_class,
        tracking=p.tracking,
        status=p.status,
        sold_by_weight=p.sold_by_weight,
        gift_card=p.gift_card,
        options=p.options,
        variants=[
            _variant_read(catalog_service.VariantRecord(v, p), actor) for v in record.variants
        ],
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def _collection_read(record: collection_service.CollectionRecord) -> CollectionRead:
    c = record.collection
    return CollectionRead(
        id=c.id,
        name=c.name,
        slug=c.slug,
        product_count=record.product_count,
        created_at=c.created_at,
    )
