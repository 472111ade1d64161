"""Snapshot loaders: what the pricing, tax and promotion engines need, read inside the caller's
unit of work (they never commit) and returned as frozen domain objects.

The promotion catalog is cached in-process. Every promotion write gives the catalog a new
stamp (a UUIDv7 in `catalog_versions`, written in the same transaction); each call reads the
stamp (one primary-key lookup) and rebuilds the catalog only when it differs from the cached
one. Any number of hub processes stay consistent this way, with no clock and no messaging.
Promotions written around the services (raw SQL, a restore) need
`promotions.touch_catalog` to be seen.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import and_, case, func, or_, select, update

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Category,
    CollectionProduct,
    Coupon,
    Customer,
    ExchangeRate,
    Location,
    PriceList,
    PriceListEntry,
    PriceRounding,
    Product,
    Promotion,
    PromotionRedemption,
    TaxComponent,
    TaxJurisdiction,
)
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.pricing.model import PriceBook
from omnitill.domain.promotions import model as promo
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.tax.model import Jurisdiction
from omnitill.services.price_lists import to_exchange_rate, to_price_list, to_rounding
from omnitill.services.promotions import catalog_stamp, normalize_code, to_promotion
from omnitill.services.tax_settings import postal_key, to_jurisdiction


class CustomerPricing(NamedTuple):
    groups: frozenset[str]
    tax_exempt_certificate: str | None


def price_book(
    uow: UnitOfWork,
    *,
    currency: str,
    base_currency: str,
    variant_ids: Iterable[uuid.UUID] | None = None,
) -> PriceBook:
    """The active price lists in `currency` (with their entries for `variant_ids` only, or
    all entries when None), every `base_currency` -> `currency` rate, and the roundings of
    both currencies. Windows and scope are the engine's to judge."""
    lists = list(
        uow.session.scalars(
            select(PriceList)
            .where(PriceList.currency == currency, PriceList.active.is_(True))
            .order_by(PriceList.id)
        )
    )
    entries: dict[uuid.UUID, list[PriceListEntry]] = {}
    wanted = None if variant_ids is None else sorted(set(variant_ids))
    if lists and wanted != []:
        stmt = select(PriceListEntry).where(PriceListEntry.price_list_id.in_([p.id for p in lists]))
        if wanted is not None:
            stmt = stmt.where(PriceListEntry.variant_id.in_(wanted))
        for entry in uow.session.scalars(stmt):
            entries.setdefault(entry.price_list_id, []).append(entry)
    rates = (
        uow.session.scalars(
            select(ExchangeRate)
            .where(ExchangeRate.base == base_currency, ExchangeRate.quote == currency)
            .order_by(ExchangeRate.valid_from)
        )
        if currency != base_currency
        else ()
    )
    roundings = uow.session.scalars(
        select(PriceRounding).where(PriceRounding.currency.in_({currency, base_currency}))
    )
    return PriceBook(
        base_currency=base_currency,
        price_lists=tuple(to_price_list(p, entries.get(p.id, ())) for p in lists),
        exchange_rates=tuple(to_exchange_rate(r) for r in rates),
        roundings={r.currency: to_rounding(r) for r in roundings},
    )


def jurisdiction_for_location(uow: UnitOfWork, *, location_id: uuid.UUID) -> Jurisdiction | None:
    """The jurisdiction assigned to a location for in-store sales (None: none assigned)."""
    jurisdiction_id = uow.session.scalar(
        select(Location.tax_jurisdiction_id).where(Location.id == location_id)
    )
    if jurisdiction_id is None:
        return None
    row = uow.session.get(TaxJurisdiction, jurisdiction_id)
    return None if row is None else _jurisdiction(uow, row)


def jurisdiction_for_address(
    uow: UnitOfWork, *, country: str, region: str = "", postal_code: str = ""
) -> Jurisdiction | None:
    """The jurisdiction of a destination address: the most specific match wins.

    Only jurisdictions of the address's country apply. One with postal prefixes matches when
    the postal code starts with one of them (longest prefix first); one with a region matches
    that region (any letter case); one with neither covers the whole country. Postal beats
    region beats country; ties go to the lower code. None: nothing is configured there.
    """
    rows = uow.session.scalars(
        select(TaxJurisdiction)
        .where(TaxJurisdiction.country == country.strip().upper())
        .order_by(TaxJurisdiction.code)
    )
    best: tuple[tuple[int, int], TaxJurisdiction] | None = None
    for row in rows:
        rank = _address_rank(row, region=region, postal=postal_key(postal_code))
        if rank is not None and (best is None or rank > best[0]):
            best = (rank, row)
    return None if best is None else _jurisdiction(uow, best[1])


def promotion_catalog(uow: UnitOfWork) -> PromotionCatalog:
    """Every active promotion as domain objects, indexed; cached per catalog stamp."""
    stamp = catalog_stamp(uow)
    database = str(uow.connection.engine.url)
    with _cache_lock:
        cached = _catalogs.get(database)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1]
    rows = uow.session.scalars(
        select(Promotion).where(Promotion.active.is_(True)).order_by(Promotion.id)
    )
    catalog = PromotionCatalog.of(to_promotion(row) for row in rows)
    if stamp is not None:
        with _cache_lock:
            _catalogs[database] = (stamp, catalog)
    return catalog


def promotion_usage(
    uow: UnitOfWork,
    *,
    promotion_ids: Iterable[str | uuid.UUID],
    customer_id: uuid.UUID | None,
) -> dict[str, promo.Usage]:
    """Redemptions so far of each promotion, in total and by `customer_id`."""
    ids = sorted({uuid.UUID(str(i)) for i in promotion_ids})
    usage = {str(i): promo.Usage() for i in ids}
    if not ids:
        return usage
    mine = (
        func.sum(case((PromotionRedemption.customer_id == customer_id, 1), else_=0))
        if customer_id is not None
        else func.sum(0)
    )
    stmt = (
        select(PromotionRedemption.promotion_id, func.count(), mine)
        .where(PromotionRedemption.promotion_id.in_(ids))
        .group_by(PromotionRedemption.promotion_id)
    )
    for promotion_id, total, by_customer in uow.session.execute(stmt):
        usage[str(promotion_id)] = promo.Usage(total=int(total), by_customer=int(by_customer or 0))
    return usage


def coupons_by_code(uow: UnitOfWork, codes: Iterable[str]) -> dict[str, promo.Coupon]:
    """The coupons entered codes name, keyed by the normalised (upper-case) code; codes that
    name no coupon are left out."""
    wanted = sorted({normalize_code(c) for c in codes})
    if not wanted:
        return {}
    rows = uow.session.scalars(select(Coupon).where(Coupon.code.in_(wanted)))
    return {
        row.code: promo.Coupon(
            code=row.code,
            promotion_id=str(row.promotion_id),
            single_use=row.single_use,
            uses=row.uses,
            usage_limit=1 if row.single_use else row.usage_limit,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            active=row.active,
        )
        for row in rows
    }


def redeem(
    uow: UnitOfWork,
    *,
    promotion_id: str | uuid.UUID,
    coupon_code: str | None,
    customer_id: uuid.UUID | None,
    sale_id: uuid.UUID | None,
    amount: int,
    currency: str,
    order_ref: str | None = None,
) -> promo.CouponRefusal | None:
    """Record one use of a promotion (and of its coupon) in the caller's transaction; None
    when recorded, else why not (and nothing is recorded: the caller refuses an online sale,
    or opens an exception for an offline one).

    Limits hold under concurrency:
    - the coupon's `uses` is raised by one conditional UPDATE that only matches while the
      code has uses left, so of two sales spending one single-use code exactly one succeeds;
    - a promotion with a total or per-customer limit has its row locked (`FOR UPDATE`)
      before its redemptions are counted, so concurrent sales of it queue there and each
      counts the others' committed uses. Callers redeem in promotion id order, so two sales
      never wait on each other's locks in opposite orders."""
    pid = uuid.UUID(str(promotion_id))
    refusal = _promotion_limit_reached(uow, pid, customer_id)
    if refusal is not None:
        return refusal
    coupon_id = None
    if coupon_code is not None:
        left = or_(
            and_(Coupon.single_use.is_(True), Coupon.uses < 1),
            and_(
                Coupon.single_use.is_(False),
                or_(Coupon.usage_limit.is_(None), Coupon.uses < Coupon.usage_limit),
            ),
        )
        coupon_id = uow.session.execute(
            update(Coupon)
            .where(Coupon.code == normalize_code(coupon_code), Coupon.promotion_id == pid, left)
            .values(uses=Coupon.uses + 1)
            .returning(Coupon.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if coupon_id is None:
            return promo.CouponRefusal.ALREADY_USED
    uow.session.add(
        PromotionRedemption(
            promotion_id=pid,
            coupon_id=coupon_id,
            customer_id=customer_id,
            sale_id=sale_id,
            order_ref=order_ref,
            amount_minor=amount,
            currency=currency,
        )
    )
    uow.session.flush()
    return None


def _promotion_limit_reached(
    uow: UnitOfWork, promotion_id: uuid.UUID, customer_id: uuid.UUID | None
) -> promo.CouponRefusal | None:
    limits = uow.session.execute(
        select(Promotion.usage_limit, Promotion.per_customer_limit)
        .where(Promotion.id == promotion_id)
        .with_for_update()
    ).one_or_none()
    if limits is None or (limits.usage_limit is None and limits.per_customer_limit is None):
        return None
    used = promotion_usage(uow, promotion_ids=[promotion_id], customer_id=customer_id)
    usage = used[str(promotion_id)]
    if limits.usage_limit is not None and usage.total >= limits.usage_limit:
        return promo.CouponRefusal.USAGE_LIMIT
    if (
        limits.per_customer_limit is not None
        and customer_id is not None
        and usage.by_customer >= limits.per_customer_limit
    ):
        return promo.CouponRefusal.CUSTOMER_LIMIT
    return None


def customer_pricing(uow: UnitOfWork, *, customer_id: uuid.UUID | None) -> CustomerPricing:
    """A customer's groups and tax-exemption certificate; nothing for an anonymous sale.
    422 `customer.not_found` for an unknown customer."""
    if customer_id is None:
        return CustomerPricing(frozenset(), None)
    found = uow.session.execute(
        select(Customer.groups, Customer.tax_exempt_certificate).where(Customer.id == customer_id)
    ).one_or_none()
    if found is None:
        raise ValidationFailed(
            "customer.not_found",
            "no such customer",
            errors=[FieldError("customer", "customer.not_found", str(customer_id))],
        )
    return CustomerPricing(frozenset(found[0] or ()), found[1])


def category_ids_for(
    uow: UnitOfWork, *, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, frozenset[str]]:
    """Each product's category and all its ancestors (ids as text); products without a
    category are left out. One query per level of the tree."""
    stmt = select(Product.id, Product.category_id).where(
        Product.id.in_(list(product_ids)), Product.category_id.is_not(None)
    )
    direct = {product: category for product, category in uow.session.execute(stmt)}
    parent: dict[uuid.UUID, uuid.UUID | None] = {}
    frontier = {c for c in direct.values() if c is not None}
    while frontier:
        rows = uow.session.execute(
            select(Category.id, Category.parent_id).where(Category.id.in_(frontier))
        )
        parent.update({category: up for category, up in rows})
        frontier = {p for p in parent.values() if p is not None and p not in parent}
    return {
        product: frozenset(str(c) for c in _lineage(category, parent))
        for product, category in direct.items()
        if category is not None
    }


def collection_ids_for(
    uow: UnitOfWork, *, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, frozenset[str]]:
    """The collections each product is in (ids as text); products in none are left out."""
    found: dict[uuid.UUID, set[str]] = {}
    stmt = select(CollectionProduct.product_id, CollectionProduct.collection_id).where(
        CollectionProduct.product_id.in_(list(product_ids))
    )
    for product, collection in uow.session.execute(stmt):
        found.setdefault(product, set()).add(str(collection))
    return {product: frozenset(ids) for product, ids in found.items()}


# --- helpers -------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_catalogs: dict[str, tuple[uuid.UUID, PromotionCatalog]] = {}  # by database URL


def _jurisdiction(uow: UnitOfWork, row: TaxJurisdiction) -> Jurisdiction:
    components = uow.session.scalars(
        select(TaxComponent)
        .where(TaxComponent.jurisdiction_id == row.id)
        .order_by(TaxComponent.position, TaxComponent.valid_from.nulls_first(), TaxComponent.id)
    )
    return to_jurisdiction(row, components)


def _address_rank(row: TaxJurisdiction, *, region: str, postal: str) -> tuple[int, int] | None:
    """How specifically `row` covers an address (higher wins), or None when it does not."""
    if row.region and row.region.strip().lower() != region.strip().lower():
        return None
    if row.postal_prefixes:
        matched = [len(p) for p in row.postal_prefixes if postal.startswith(p)]
        return (2, max(matched)) if matched else None
    return (1, 0) if row.region else (0, 0)


def _lineage(category: uuid.UUID, parent: dict[uuid.UUID, uuid.UUID | None]) -> list[uuid.UUID]:
    chain: list[uuid.UUID] = []
    current: uuid.UUID | None = category
    while current is not None and current not in chain:  # a cycle ends the walk
        chain.append(current)
        current = parent.get(current)
    return chain
