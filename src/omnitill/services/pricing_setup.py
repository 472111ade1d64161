"""The pricing set-up every quote and sale reads, cached in-process per version stamp.

Price lists with their entries, exchange rates, price roundings, tax jurisdictions with their
components, the category tree and collection memberships change a few times a day and are
read on every checkout. Each process keeps one built copy per database and reads the stamps
(`versions`, one query) on every request; it rebuilds only when the `pricing` stamp moved, so
a sale costs one round trip for all of it instead of one per table. The promotion catalog is
cached the same way under the `promotions` stamp.

The category tree is also refreshed when a product names a category the copy lacks (a
category added since), so a new category never needs a stamp of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from sqlalchemy import select

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Category,
    CollectionProduct,
    ExchangeRate,
    PriceList,
    PriceListEntry,
    PriceRounding,
    Promotion,
    TaxComponent,
    TaxJurisdiction,
)
from omnitill.domain.pricing import model as pricing
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.tax.model import Jurisdiction
from omnitill.services import versions
from omnitill.services.price_lists import to_exchange_rate, to_price_list, to_rounding
from omnitill.services.promotions import to_promotion
from omnitill.services.tax_settings import to_jurisdiction

T = TypeVar("T")
_KEPT_DATABASES = 8  # tests open many databases; keep the latest few


class Area(NamedTuple):
    """Where a jurisdiction applies, for matching a destination address."""

    id: uuid.UUID
    code: str
    country: str
    region: str
    postal_prefixes: list[str]


@dataclass(frozen=True, slots=True)
class PricingSetup:
    lists: dict[str, tuple[pricing.PriceList, ...]]  # by currency, active only
    rates: dict[tuple[str, str], tuple[pricing.ExchangeRate, ...]]  # (base, quote)
    roundings: dict[str, pricing.PriceRounding]
    jurisdictions: dict[uuid.UUID, Jurisdiction]
    areas: tuple[Area, ...]  # ordered by code
    collections: dict[uuid.UUID, frozenset[str]]  # product id -> collection ids


@dataclass(slots=True)
class _Cached:
    stamps: dict[str, uuid.UUID | None] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)


_lock = threading.Lock()
_caches: OrderedDict[str, _Cached] = OrderedDict()


def _cached(uow: UnitOfWork, name: str, stamp: uuid.UUID | None, build: Callable[[], T]) -> T:
    """The value cached under `name` for this database while its stamp is `stamp`, else built
    afresh. A cache never written has no stamp; its copy is kept under "none" until the first
    write gives it one."""
    database = uow.database_key
    with _lock:
        cache = _caches.get(database)
        if cache is not None and name in cache.values and cache.stamps.get(name) == stamp:
            return cache.values[name]  # type: ignore[return-value]
    value = build()
    with _lock:
        cache = _caches.setdefault(database, _Cached())
        _caches.move_to_end(database)
        cache.stamps[name], cache.values[name] = stamp, value
        while len(_caches) > _KEPT_DATABASES:
            _caches.popitem(last=False)
    return value


@dataclass(frozen=True, slots=True)
class Reference:
    """The cached reference data of one request."""

    setup: PricingSetup
    promotions: PromotionCatalog


def reference(uow: UnitOfWork) -> Reference:
    """The pricing set-up and the promotion catalog, current as of this unit of work (read
    once per unit of work: its stamps in one query, the data only when a stamp moved)."""
    found = uow.memo.get("pricing_reference")
    if isinstance(found, Reference):
        return found
    stamps = versions.stamps(uow)
    ref = Reference(
        setup=_cached(uow, versions.PRICING, stamps.get(versions.PRICING), lambda: _build(uow)),
        promotions=_cached(
            uow,
            versions.PROMOTIONS,
            stamps.get(versions.PROMOTIONS),
            lambda: _build_promotions(uow),
        ),
    )
    uow.memo["pricing_reference"] = ref
    return ref


def category_parents(uow: UnitOfWork, wanted: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    """The category tree (child -> parent), refreshed when it lacks a category in `wanted`."""
    database = uow.database_key
    with _lock:
        cache = _caches.get(database)
        tree = None if cache is None else cache.values.get("categories")
    if isinstance(tree, dict) and wanted <= tree.keys():
        return tree
    fresh: dict[uuid.UUID, uuid.UUID | None] = {
        c: p for c, p in uow.session.execute(select(Category.id, Category.parent_id))
    }
    with _lock:
        cache = _caches.setdefault(database, _Cached())
        cache.values["categories"] = fresh
    return fresh


def _build(uow: UnitOfWork) -> PricingSetup:
    rows = list(
        uow.session.scalars(
            select(PriceList).where(PriceList.active.is_(True)).order_by(PriceList.id)
        )
    )
    entries: dict[uuid.UUID, list[PriceListEntry]] = {}
    if rows:
        for entry in uow.session.scalars(
            select(PriceListEntry).where(PriceListEntry.price_list_id.in_([r.id for r in rows]))
        ):
            entries.setdefault(entry.price_list_id, []).append(entry)
    lists: dict[str, list[pricing.PriceList]] = {}
    for row in rows:
        lists.setdefault(row.currency, []).append(to_price_list(row, entries.get(row.id, ())))
    rates: dict[tuple[str, str], list[pricing.ExchangeRate]] = {}
    for rate in uow.session.scalars(select(ExchangeRate).order_by(ExchangeRate.valid_from)):
        rates.setdefault((rate.base, rate.quote), []).append(to_exchange_rate(rate))
    roundings = {r.currency: to_rounding(r) for r in uow.session.scalars(select(PriceRounding))}
    areas = list(uow.session.scalars(select(TaxJurisdiction).order_by(TaxJurisdiction.code)))
    components: dict[uuid.UUID, list[TaxComponent]] = {}
    for c in uow.session.scalars(
        select(TaxComponent).order_by(
            TaxComponent.position, TaxComponent.valid_from.nulls_first(), TaxComponent.id
        )
    ):
        components.setdefault(c.jurisdiction_id, []).append(c)
    members: dict[uuid.UUID, set[str]] = {}
    for product, collection in uow.session.execute(
        select(CollectionProduct.product_id, CollectionProduct.collection_id)
    ):
        members.setdefault(product, set()).add(str(collection))
    return PricingSetup(
        lists={currency: tuple(found) for currency, found in lists.items()},
        rates={pair: tuple(found) for pair, found in rates.items()},
        roundings=roundings,
        jurisdictions={j.id: to_jurisdiction(j, components.get(j.id, ())) for j in areas},
        areas=tuple(
            Area(j.id, j.code, j.country, j.region, list(j.postal_prefixes)) for j in areas
        ),
        collections={product: frozenset(ids) for product, ids in members.items()},
    )


def _build_promotions(uow: UnitOfWork) -> PromotionCatalog:
    rows = uow.session.scalars(
        select(Promotion).where(Promotion.active.is_(True)).order_by(Promotion.id)
    )
    return PromotionCatalog.of(to_promotion(row) for row in rows)
