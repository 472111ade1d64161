"""Collections: hand-picked sets of products (``summer-picks``) that promotions can target.

A product may be in any number of collections; adding it twice or removing it when absent
changes nothing, so both calls are safe to retry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Collection, CollectionProduct, Product
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.categories import check_slug, slugify
from omnitill.domain.catalog.validation import check_product_name, raise_invalid
from omnitill.domain.errors import NotFound
from omnitill.services import versions
from omnitill.services.pagination import (
    clamp_limit,
    cursor_id,
    encode_cursor,
    page_by_key,
)
from omnitill.services.uniqueness import flush_unique, taken


@dataclass(frozen=True, slots=True)
class CollectionRecord:
    collection: Collection
    product_count: int


@dataclass(frozen=True, slots=True)
class CollectionPage:
    items: tuple[CollectionRecord, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class MemberPage:
    items: tuple[uuid.UUID, ...]
    next_cursor: str | None


def create_collection(
    *, db: Database, actor: Actor, name: str, slug: str | None = None
) -> CollectionRecord:
    """Create a collection; 409 `collection.slug_taken`."""
    name = name.strip()
    slug = slug.strip() if slug is not None else slugify(name)
    raise_invalid(check_product_name(name) + check_slug(slug))
    clash = taken("collection.slug_taken", "slug", f"slug {slug!r} is already in use")
    with db.uow() as uow:
        if uow.session.scalar(select(Collection.id).where(Collection.slug == slug)) is not None:
            raise clash
        collection = Collection(name=name, slug=slug)
        uow.session.add(collection)
        flush_unique(uow, {"collections.slug": clash})
        _audit(uow, actor, "collection.created", collection, {"name": name})
        uow.commit()
        return CollectionRecord(collection, 0)


def list_collections(*, db: Database, cursor: str | None, limit: int | None) -> CollectionPage:
    """Collections in slug order, with how many products each holds."""
    with db.uow(write=False) as uow:
        rows, next_cursor = page_by_key(uow, Collection, "slug", cursor=cursor, limit=limit)
        counted = (
            select(CollectionProduct.collection_id, func.count())
            .where(CollectionProduct.collection_id.in_([c.id for c in rows]))
            .group_by(CollectionProduct.collection_id)
        )
        counts = {collection: n for collection, n in uow.session.execute(counted)}
    items = tuple(CollectionRecord(c, counts.get(c.id, 0)) for c in rows)
    return CollectionPage(items, next_cursor)


def add_product(*, db: Database, actor: Actor, slug: str, product_id: uuid.UUID) -> None:
    """Put a product in a collection; 404 `collection.not_found` or
    `catalog.product_not_found`."""
    with db.uow() as uow:
        collection = _collection(uow, slug)
        if uow.session.get(Product, product_id) is None:
            raise NotFound(
                "catalog.product_not_found", f"no product {product_id}", {"id": str(product_id)}
            )
        if uow.session.get(CollectionProduct, (collection.id, product_id)) is None:
            uow.session.add(CollectionProduct(collection_id=collection.id, product_id=product_id))
            _audit(uow, actor, "collection.product_added", collection, {"product": str(product_id)})
        uow.commit()


def remove_product(*, db: Database, actor: Actor, slug: str, product_id: uuid.UUID) -> None:
    """Take a product out of a collection (nothing happens when it is not in it)."""
    with db.uow() as uow:
        collection = _collection(uow, slug)
        gone = uow.session.execute(
            delete(CollectionProduct).where(
                CollectionProduct.collection_id == collection.id,
                CollectionProduct.product_id == product_id,
            )
        )
        if getattr(gone, "rowcount", 0):
            _audit(
                uow, actor, "collection.product_removed", collection, {"product": str(product_id)}
            )
        uow.commit()


def list_products(*, db: Database, slug: str, cursor: str | None, limit: int | None) -> MemberPage:
    """The ids of a collection's products, in id order."""
    size = clamp_limit(limit)
    after = cursor_id(cursor)
    with db.uow(write=False) as uow:
        collection = _collection(uow, slug)
        stmt = (
            select(CollectionProduct.product_id)
            .where(CollectionProduct.collection_id == collection.id)
            .order_by(CollectionProduct.product_id)
            .limit(size + 1)
        )
        if after is not None:
            stmt = stmt.where(CollectionProduct.product_id > after)
        ids = list(uow.session.scalars(stmt))
    more = len(ids) > size
    ids = ids[:size]
    return MemberPage(tuple(ids), encode_cursor({"id": str(ids[-1])}) if more else None)


def _collection(uow: UnitOfWork, slug: str) -> Collection:
    found = uow.session.scalars(select(Collection).where(Collection.slug == slug)).one_or_none()
    if found is None:
        raise NotFound("collection.not_found", f"no collection {slug!r}", {"slug": slug})
    return found


def _audit(
    uow: UnitOfWork, actor: Actor, action: str, collection: Collection, details: dict[str, str]
) -> None:
    versions.record_change(
        uow,
        versions.PRICING,
        actor=actor,
        action=action,
        subject_type="collection",
        subject_id=str(collection.id),
        details={"slug": collection.slug, **details},
    )
