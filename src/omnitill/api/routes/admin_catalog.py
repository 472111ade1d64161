"""Back-office catalog pages: the product list, the product edit page (product fields, and
each variant's SKU, barcode and price) and price lists.

Each form changes one record through services/catalog.py, exactly as PATCH
/api/v1/products/{id} and PATCH /api/v1/variants/{id} do (`catalog.write`), so one POST is
one transaction and a price change is audited as `catalog.price_changed`.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import (
    AdminActor,
    AdminRoute,
    PostedForm,
    minor_amount,
    optional_id,
    page,
    redirect,
)
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.catalog.products import CatalogStatus, ProductChanges, VariantChanges
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.services import admin_catalog
from omnitill.services import catalog as catalog_service
from omnitill.services import price_lists as price_list_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

STATUSES = tuple(s.value for s in CatalogStatus)


@router.get("/products", response_class=HTMLResponse)
def products(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    q: str = "",
    status: str = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    """Products with search (name, SKU, barcode) and page numbers."""
    found = admin_catalog.find_products(
        db=db, actor=actor, q=q, status=status if status in STATUSES else "", page=page_no
    )
    query = urlencode({k: v for k, v in (("q", q), ("status", status)) if v})
    return page(
        request,
        actor,
        "products.html",
        title="Products",
        found=found,
        q=q,
        status=status,
        statuses=STATUSES,
        pager_base=f"/admin/products?{query}&" if query else "/admin/products?",
    )


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(request: Request, product_id: uuid.UUID, actor: AdminActor, db: DbDep) -> Response:
    """Edit a product and its variants (`catalog.write`)."""
    actor.require(Permission.CATALOG_WRITE)
    record = catalog_service.get_product(db=db, product_id=product_id)
    return page(
        request,
        actor,
        "product.html",
        title=record.product.name,
        product=record.product,
        variants=record.variants,
        statuses=STATUSES,
        categories=admin_catalog.categories(db=db),
        brands=admin_catalog.brands(db=db),
    )


@router.post("/products/{product_id}")
def save_product(product_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Name, status, category and brand, as PATCH /api/v1/products/{id}."""
    actor.require(Permission.CATALOG_WRITE)
    status = form.get("status")
    if status not in STATUSES:
        raise ValidationFailed(
            "admin.invalid_choice",
            "status is not one of the choices",
            errors=[FieldError("status", "admin.invalid_choice", "pick one of the choices")],
        )
    category_id = optional_id(form.get("category_id"), field="category")
    brand_id = optional_id(form.get("brand_id"), field="brand")
    clear = frozenset(
        name for name, value in (("category_id", category_id), ("brand_id", brand_id)) if not value
    )
    catalog_service.update_product(
        db=db,
        actor=actor,
        product_id=product_id,
        changes=ProductChanges(
            name=form.get("name"),
            status=CatalogStatus(status),
            category_id=category_id,
            brand_id=brand_id,
            clear=clear,
        ),
    )
    return redirect(f"/admin/products/{product_id}", notice="Product saved.")


@router.post("/variants/{variant_id}")
def save_variant(variant_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """SKU, barcode and price of one variant, as PATCH /api/v1/variants/{id}."""
    actor.require(Permission.CATALOG_WRITE)
    current = catalog_service.get_variant(db=db, variant_id=variant_id).variant
    price = minor_amount(form.get("price"), current.currency, field="price")
    barcode = form.get("barcode")
    catalog_service.update_variant(
        db=db,
        actor=actor,
        variant_id=variant_id,
        changes=VariantChanges(
            sku=form.get("sku"),
            barcode=barcode or None,
            price=price,
            clear=frozenset() if barcode else frozenset({"barcode"}),
        ),
    )
    return redirect(
        f"/admin/products/{current.product_id}", notice=f"Variant {form.get('sku')} saved."
    )


@router.get("/price-lists", response_class=HTMLResponse)
def price_lists(
    request: Request, actor: AdminActor, db: DbDep, cursor: str | None = None
) -> Response:
    """Price lists in name order, with their scope and dates."""
    actor.require(Permission.PRICING_READ)
    found = price_list_service.list_price_lists(db=db, cursor=cursor, limit=50)
    return page(request, actor, "price_lists.html", title="Price lists", found=found)


@router.get("/price-lists/{price_list_id}", response_class=HTMLResponse)
def price_list_page(
    request: Request,
    price_list_id: uuid.UUID,
    actor: AdminActor,
    db: DbDep,
    cursor: str | None = None,
) -> Response:
    """One price list and its prices in SKU order."""
    actor.require(Permission.PRICING_READ)
    row = price_list_service.get_price_list(db=db, price_list_id=price_list_id)
    entries = price_list_service.list_entries(
        db=db, price_list_id=price_list_id, cursor=cursor, limit=100
    )
    return page(request, actor, "price_list.html", title=row.name, price_list=row, entries=entries)


@router.post("/price-lists/{price_list_id}/entries")
def set_price_list_entry(
    price_list_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep
) -> Response:
    """Set one SKU's price in the list, as PUT /api/v1/price-lists/{id}/entries/{sku}."""
    actor.require(Permission.PRICING_WRITE)
    row = price_list_service.get_price_list(db=db, price_list_id=price_list_id)
    sku = form.get("sku")
    price_list_service.set_entry(
        db=db,
        actor=actor,
        price_list_id=price_list_id,
        sku=sku,
        unit_price=minor_amount(form.get("price"), row.currency, field="price"),
    )
    return redirect(f"/admin/price-lists/{price_list_id}", notice=f"Price of {sku} saved.")
