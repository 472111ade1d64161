"""Catalog taxonomy: the categories and brands products are filed under."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Base, Brand, Category
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.categories import check_slug, slugify
from omnitill.domain.catalog.validation import check_product_name, raise_invalid
from omnitill.domain.errors import FieldError
from omnitill.services.pagination import page_by_key
from omnitill.services.uniqueness import flush_unique, taken

T = TypeVar("T", bound=Base)


@dataclass(frozen=True, slots=True)
class CategoryPage:
    items: tuple[Category, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class BrandPage:
    items: tuple[Brand, ...]
    next_cursor: str | None


def create_category(
    *,
    db: Database,
    actor: Actor,
    name: str,
    slug: str | None = None,
    parent_id: uuid.UUID | None = None,
) -> Category:
    """Create a category; the slug defaults to one made from the name."""
    name = name.strip()
    slug = slug.strip() if slug is not None else slugify(name)
    errors = check_product_name(name) + check_slug(slug)
    with db.uow() as uow:
        if parent_id is not None and uow.session.get(Category, parent_id) is None:
            errors.append(FieldError("parent_id", "catalog.category_not_found", "no such category"))
        raise_invalid(errors)
        if uow.session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
            raise taken("catalog.slug_taken", "slug", f"slug {slug!r} is already in use")
        category = Category(name=name, slug=slug, parent_id=parent_id)
        uow.session.add(category)
        flush_unique(
            uow, {"categories.slug": taken("catalog.slug_taken", "slug", "slug is already in use")}
        )
        uow.commit()
        return category


def list_categories(*, db: Database, cursor: str | None, limit: int | None) -> CategoryPage:
    """Categories in slug order, one page at a time."""
    rows, next_cursor = _page_by(db=db, model=Category, key="slug", cursor=cursor, limit=limit)
    return CategoryPage(rows, next_cursor)


def create_brand(*, db: Database, actor: Actor, name: str) -> Brand:
    """Create a brand; names are unique regardless of case."""
    name = name.strip()
    raise_invalid(check_product_name(name))
    with db.uow() as uow:
        clash = select(Brand.id).where(func.lower(Brand.name) == name.lower())
        if uow.session.scalar(clash) is not None:
            raise taken("catalog.brand_taken", "name", f"brand {name!r} already exists")
        brand = Brand(name=name)
        uow.session.add(brand)
        flush_unique(
            uow, {"brands.name": taken("catalog.brand_taken", "name", "name is already in use")}
        )
        uow.commit()
        return brand


def list_brands(*, db: Database, cursor: str | None, limit: int | None) -> BrandPage:
    """Brands in name order, one page at a time."""
    rows, next_cursor = _page_by(db=db, model=Brand, key="name", cursor=cursor, limit=limit)
    return BrandPage(rows, next_cursor)


def _page_by(
    *, db: Database, model: type[T], key: str, cursor: str | None, limit: int | None
) -> tuple[tuple[T, ...], str | None]:
    """One page of `model` rows in order of their unique text column `key` (keyset paging)."""
    with db.uow(write=False) as uow:
        rows, next_cursor = page_by_key(uow, model, key, cursor=cursor, limit=limit)
    return tuple(rows), next_cursor
