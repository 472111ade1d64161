"""Catalog taxonomy: the categories and brands products are filed under."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from omnitill.adapters.db.database import Database
from omnitill.adapters.db.models import Brand, Category
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.categories import check_slug, slugify
from omnitill.domain.catalog.validation import check_product_name, raise_invalid
from omnitill.domain.errors import FieldError
from omnitill.services.pagination import clamp_limit, cursor_value, encode_cursor
from omnitill.services.uniqueness import flush_unique, taken


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
    size = clamp_limit(limit)
    after = cursor_value(cursor, "slug")
    with db.uow(write=False) as uow:
        stmt = select(Category).order_by(Category.slug).limit(size + 1)
        if after is not None:
            stmt = stmt.where(Category.slug > after)
        rows = list(uow.session.scalars(stmt))
    more = len(rows) > size
    rows = rows[:size]
    return CategoryPage(
        tuple(rows), encode_cursor({"slug": rows[-1].slug}) if more and rows else None
    )


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
    size = clamp_limit(limit)
    after = cursor_value(cursor, "name")
    with db.uow(write=False) as uow:
        stmt = select(Brand).order_by(Brand.name).limit(size + 1)
        if after is not None:
            stmt = stmt.where(Brand.name > after)
        rows = list(uow.session.scalars(stmt))
    more = len(rows) > size
    rows = rows[:size]
    return BrandPage(tuple(rows), encode_cursor({"name": rows[-1].name}) if more and rows else None)
