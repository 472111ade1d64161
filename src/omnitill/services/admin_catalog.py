"""Read models of the back office's catalog pages: the product list with search and page
numbers, and the choices an edit form offers (categories, brands). Writes go through
services/catalog.py like the API's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Brand, Category, Product, Variant
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission

PER_PAGE = 25
MAX_CHOICES = 500


@dataclass(frozen=True, slots=True)
class ProductRow:
    id: uuid.UUID
    name: str
    status: str
    category: str | None
    brand: str | None
    variants: int
    skus: tuple[str, ...]  # the first few, for the list
    min_price: int | None
    max_price: int | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class ProductList:
    items: tuple[ProductRow, ...]
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class Choice:
    id: uuid.UUID
    name: str


def find_products(
    *, db: Database, actor: Actor, q: str = "", status: str = "", page: int = 1
) -> ProductList:
    """Products in name order, `PER_PAGE` a page. Every word of `q` must appear in the
    product's name or in one of its variants' name, SKU or barcode."""
    actor.require(Permission.CATALOG_READ)
    page = max(page, 1)
    stmt = (
        select(Product, Category.name, Brand.name)
        .outerjoin(Category, Category.id == Product.category_id)
        .outerjoin(Brand, Brand.id == Product.brand_id)
    )
    for word in q.lower().split():
        stmt = stmt.where(
            or_(
                func.lower(Product.name).contains(word, autoescape=True),
                Product.id.in_(
                    select(Variant.product_id).where(
                        Variant.search_text.contains(word, autoescape=True)
                    )
                ),
            )
        )
    if status:
        stmt = stmt.where(Product.status == status)
    stmt = (
        stmt.order_by(func.lower(Product.name), Product.id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
    )
    with db.uow(write=False) as uow:
        found = list(uow.session.execute(stmt))
        ids = [row[0].id for row in found[:PER_PAGE]]
        variants = uow.session.scalars(
            select(Variant).where(Variant.product_id.in_(ids)).order_by(Variant.sku)
        ).all()
    by_product: dict[uuid.UUID, list[Variant]] = {}
    for variant in variants:
        by_product.setdefault(variant.product_id, []).append(variant)
    items = []
    for product, category, brand in found[:PER_PAGE]:
        own = by_product.get(product.id, [])
        prices = [v.price_minor for v in own]
        items.append(
            ProductRow(
                id=product.id,
                name=product.name,
                status=product.status,
                category=category,
                brand=brand,
                variants=len(own),
                skus=tuple(v.sku for v in own[:3]),
                min_price=min(prices) if prices else None,
                max_price=max(prices) if prices else None,
                currency=own[0].currency if own else None,
            )
        )
    return ProductList(tuple(items), page, len(found) > PER_PAGE)


def categories(*, db: Database) -> tuple[Choice, ...]:
    """Every category by name (the edit form's choices)."""
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(Category.id, Category.name).order_by(Category.name).limit(MAX_CHOICES)
        )
        return tuple(Choice(r[0], r[1]) for r in rows)


def brands(*, db: Database) -> tuple[Choice, ...]:
    """Every brand by name (the edit form's choices)."""
    with db.uow(write=False) as uow:
        rows = uow.session.execute(
            select(Brand.id, Brand.name).order_by(Brand.name).limit(MAX_CHOICES)
        )
        return tuple(Choice(r[0], r[1]) for r in rows)
