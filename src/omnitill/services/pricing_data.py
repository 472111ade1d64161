"""Snapshot loaders: what the pricing, tax and promotion engines need, read inside the caller's
unit of work (they never commit) and returned as frozen domain objects.

The reference data (price lists, rates, roundings, jurisdictions, the category tree,
collections, the promotion catalog) comes from the in-process copy of `pricing_setup`,
checked against its version stamps once per unit of work; usage counts, coupons and
customers are read fresh every time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from sqlalchemy import and_, case, func, insert, or_, select, update

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import (
    Coupon,
    Customer,
    Location,
    Product,
    Promotion,
    PromotionRedemption,
    table,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.codes import normalize_code
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.pricing.model import PriceBook
from omnitill.domain.promotions import model as promo
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.tax.model import Jurisdiction
from omnitill.services.pricing_setup import Area, category_parents, reference
from omnitill.services.tax_settings import postal_key


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
    both currencies, from the cached set-up. Windows and scope are the engine's to judge."""
    setup = reference(uow).setup
    lists = setup.lists.get(currency, ())
    if variant_ids is not None:
        wanted = {str(v) for v in variant_ids}
        lists = tuple(
            replace(p, entries={v: e for v, e in p.entries.items() if v in wanted}) for p in lists
        )
    rates = setup.rates.get((base_currency, currency), ()) if currency != base_currency else ()
    return PriceBook(
        base_currency=base_currency,
        price_lists=lists,
        exchange_rates=rates,
        roundings={c: r for c, r in setup.roundings.items() if c in {currency, base_currency}},
    )


def jurisdiction_for_location(uow: UnitOfWork, *, location_id: uuid.UUID) -> Jurisdiction | None:
    """The jurisdiction assigned to a location for in-store sales (None: none assigned)."""
    jurisdiction_id = uow.session.scalar(
        select(Location.tax_jurisdiction_id).where(Location.id == location_id)
    )
    return jurisdiction_by_id(uow, jurisdiction_id)


def jurisdiction_by_id(uow: UnitOfWork, jurisdiction_id: uuid.UUID | None) -> Jurisdiction | None:
    """A jurisdiction with every version of its components, from the cached set-up."""
    if jurisdiction_id is None:
        return None
    return reference(uow).setup.jurisdictions.get(jurisdiction_id)


def jurisdiction_for_address(
    uow: UnitOfWork, *, country: str, region: str = "", postal_code: str = ""
) -> Jurisdiction | None:
    """The jurisdiction of a destination address: the most specific match wins.

    Only jurisdictions of the address's country apply. One with postal prefixes matches when
    the postal code starts with one of them (longest prefix first); one with a region matches
    that region (any letter case); one with neither covers the whole country. Postal beats
    region beats country; ties go to the lower code. None: nothing is configured there.
    """
    setup = reference(uow).setup
    country = country.strip().upper()
    best: tuple[tuple[int, int], uuid.UUID] | None = None
    for area in setup.areas:
        if area.country != country:
            continue
        rank = _address_rank(area, region=region, postal=postal_key(postal_code))
        if rank is not None and (best is None or rank > best[0]):
            best = (rank, area.id)
    return None if best is None else setup.jurisdictions.get(best[1])


def promotion_catalog(uow: UnitOfWork) -> PromotionCatalog:
    """Every active promotion as domain objects, indexed; cached per catalog stamp."""
    return reference(uow).promotions


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


@dataclass(frozen=True, slots=True)
class Redemption:
    promotion_id: str | uuid.UUID
    coupon_code: str | None
    amount: int


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
    """Record one use of a promotion (and of its coupon); see `redeem_all`."""
    refused = redeem_all(
        uow,
        [Redemption(promotion_id, coupon_code, amount)],
        customer_id=customer_id,
        sale_id=sale_id,
        currency=currency,
        order_ref=order_ref,
    )
    return None if refused is None else refused[1]


def redeem_all(
    uow: UnitOfWork,
    redemptions: Sequence[Redemption],
    *,
    customer_id: uuid.UUID | None,
    sale_id: uuid.UUID | None,
    currency: str,
    order_ref: str | None = None,
) -> tuple[Redemption, promo.CouponRefusal] | None:
    """Record the uses of the promotions (and coupons) one sale or order applied, in the
    caller's transaction, in one insert; None when all are recorded, else the first refused
    and why (nothing is recorded then: the caller refuses an online sale, or opens an
    exception for an offline one).

    Limits hold under concurrency:
    - a coupon's `uses` is raised by one conditional UPDATE that only matches while the code
      has uses left, so of two sales spending one single-use code exactly one succeeds;
    - a promotion with a total or per-customer limit has its row locked (`FOR UPDATE`)
      before its redemptions are counted, so concurrent sales of it queue there and each
      counts the others' committed uses; unlimited promotions take no lock. Promotions are
      claimed in id order, so two sales never wait on each other's locks in opposite orders."""
    rows = []
    for r in sorted(redemptions, key=lambda r: str(r.promotion_id)):
        pid = uuid.UUID(str(r.promotion_id))
        refusal = _promotion_limit_reached(uow, pid, customer_id)
        coupon_id = None
        if refusal is None and r.coupon_code is not None:
            coupon_id = _spend_coupon(uow, pid, r.coupon_code)
            refusal = promo.CouponRefusal.ALREADY_USED if coupon_id is None else None
        if refusal is not None:
            return r, refusal
        rows.append(
            {
                "id": uuid7(),
                "promotion_id": pid,
                "coupon_id": coupon_id,
                "customer_id": customer_id,
                "sale_id": sale_id,
                "order_ref": order_ref,
                "amount_minor": r.amount,
                "currency": currency,
                "created_at": utcnow(),
            }
        )
    if rows:
        uow.connection.execute(insert(table(PromotionRedemption)), rows)
    return None


def _spend_coupon(uow: UnitOfWork, promotion_id: uuid.UUID, code: str) -> uuid.UUID | None:
    left = or_(
        and_(Coupon.single_use.is_(True), Coupon.uses < 1),
        and_(
            Coupon.single_use.is_(False),
            or_(Coupon.usage_limit.is_(None), Coupon.uses < Coupon.usage_limit),
        ),
    )
    spent: uuid.UUID | None = uow.session.execute(
        update(Coupon)
        .where(Coupon.code == normalize_code(code), Coupon.promotion_id == promotion_id, left)
        .values(uses=Coupon.uses + 1)
        .returning(Coupon.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return spent


def _promotion_limit_reached(
    uow: UnitOfWork, promotion_id: uuid.UUID, customer_id: uuid.UUID | None
) -> promo.CouponRefusal | None:
    known = reference(uow).promotions.by_id(str(promotion_id))
    if known is not None and known.usage_limit is None and known.per_customer_limit is None:
        return None  # unlimited (as of this unit of work): no lock, so sales never queue on it
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
    category are left out."""
    stmt = select(Product.id, Product.category_id).where(
        Product.id.in_(list(product_ids)), Product.category_id.is_not(None)
    )
    direct = {product: category for product, category in uow.session.execute(stmt)}
    lineage = category_lineage(uow, {c for c in direct.values() if c is not None})
    return {p: lineage[c] for p, c in direct.items() if c is not None}


def category_lineage(
    uow: UnitOfWork, category_ids: set[uuid.UUID]
) -> dict[uuid.UUID, frozenset[str]]:
    """Each category with all its ancestors (ids as text), from the cached category tree."""
    parent = category_parents(uow, category_ids)
    return {c: frozenset(str(x) for x in _lineage(c, parent)) for c in category_ids}


def collection_ids_for(
    uow: UnitOfWork, *, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, frozenset[str]]:
    """The collections each product is in (ids as text); products in none are left out."""
    members = reference(uow).setup.collections
    return {p: members[p] for p in product_ids if p in members}


# --- helpers -------------------------------------------------------------------------------


def _address_rank(row: Area, *, region: str, postal: str) -> tuple[int, int] | None:
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
