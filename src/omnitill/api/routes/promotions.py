"""Promotion endpoints: promotions, their coupons, and coupon look-up."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from omnitill.api.deps import Cursor, DbDep, Limit, require
from omnitill.api.schemas.promotions import (
    CouponCreate,
    CouponPage,
    CouponRead,
    CouponsIssuedRead,
    CouponUpdate,
    HoursBody,
    PromotionCreate,
    PromotionPage,
    PromotionRead,
    PromotionUpdate,
    TargetBody,
    TierBody,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.promotions.model import RuleKind, Target, Tier, TimeWindow
from omnitill.services import promotions as service

router = APIRouter(prefix="/api/v1", tags=["promotions"])

Reader = Annotated[Actor, Depends(require(Permission.PRICING_READ))]
Writer = Annotated[Actor, Depends(require(Permission.PRICING_WRITE))]


@router.post(
    "/promotions",
    response_model=PromotionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a promotion",
)
def create_promotion(body: PromotionCreate, actor: Writer, db: DbDep) -> PromotionRead:
    """409 `promotion.code_taken`, `promotion.duplicate`; 422 names the field, e.g. `percent`
    with `promotion.invalid_percent`, `tiers.1.threshold` with `promotion.tiers_not_ascending`."""
    values = _domain_values(body.model_dump(exclude_unset=False), body)
    row = service.create_promotion(db=db, actor=actor, data=service.PromotionInput(**values))
    return _read(row)


@router.get("/promotions", response_model=PromotionPage, summary="List promotions")
def list_promotions(
    _actor: Reader,
    db: DbDep,
    active: Annotated[bool | None, Query(description="Only active or inactive ones.")] = None,
    kind: Annotated[RuleKind | None, Query(description="Only this kind of rule.")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> PromotionPage:
    """Promotions in code order."""
    page = service.list_promotions(
        db=db, active=active, kind=kind.value if kind else None, cursor=cursor, limit=limit
    )
    return PromotionPage(items=[_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/promotions/{promotion_id}", response_model=PromotionRead, summary="Get a promotion")
def get_promotion(promotion_id: uuid.UUID, _actor: Reader, db: DbDep) -> PromotionRead:
    """404 `promotion.not_found`."""
    return _read(service.get_promotion(db=db, promotion_id=promotion_id))


@router.patch(
    "/promotions/{promotion_id}", response_model=PromotionRead, summary="Update a promotion"
)
def update_promotion(
    promotion_id: uuid.UUID, body: PromotionUpdate, actor: Writer, db: DbDep
) -> PromotionRead:
    """Only the fields sent change and the whole promotion is checked again; `active: false`
    stops it at once."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    changes = _domain_values(sent, body)
    row = service.update_promotion(db=db, actor=actor, promotion_id=promotion_id, changes=changes)
    return _read(row)


@router.post(
    "/promotions/{promotion_id}/coupons",
    response_model=CouponsIssuedRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a coupon or generate a batch of codes",
)
def issue_coupons(
    promotion_id: uuid.UUID, body: CouponCreate, actor: Writer, db: DbDep
) -> CouponsIssuedRead:
    """`{"code"}` makes one named code; `{"count", "prefix"}` generates up to 10,000 single-use
    codes. 422 `promotion.coupon_not_required`; 409 `coupon.code_taken`."""
    issued = service.issue_coupons(
        db=db,
        actor=actor,
        promotion_id=promotion_id,
        request=service.CouponRequest(**body.model_dump()),
    )
    return CouponsIssuedRead(
        promotion_id=issued.promotion_id,
        batch_id=issued.batch_id,
        count=len(issued.codes),
        codes=list(issued.codes),
    )


@router.get(
    "/promotions/{promotion_id}/coupons",
    response_model=CouponPage,
    summary="List a promotion's coupons",
)
def list_coupons(
    promotion_id: uuid.UUID, _actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> CouponPage:
    """Coupons in code order; 404 `promotion.not_found`."""
    page = service.list_coupons(db=db, promotion_id=promotion_id, cursor=cursor, limit=limit)
    return CouponPage(items=[_coupon_read(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/coupons/{code}", response_model=CouponRead, summary="Look up a coupon")
def get_coupon(code: str, _actor: Reader, db: DbDep) -> CouponRead:
    """Any letter case; 422 `coupon.mistyped` when a generated code's check character is
    wrong, else 404 `coupon.not_found`."""
    return _coupon_read(service.get_coupon(db=db, code=code))


@router.patch("/coupons/{code}", response_model=CouponRead, summary="Update a coupon")
def update_coupon(code: str, body: CouponUpdate, actor: Writer, db: DbDep) -> CouponRead:
    """Deactivate (`active: false`), end, or change a shared code's `usage_limit`."""
    row = service.update_coupon(
        db=db,
        actor=actor,
        code=code,
        active=body.active,
        ends_at=body.ends_at,
        usage_limit=body.usage_limit,
    )
    return _coupon_read(row)


def _target(body: TargetBody) -> Target:
    return Target(
        variant_ids=frozenset(str(i) for i in body.variant_ids),
        category_ids=frozenset(str(i) for i in body.category_ids),
        collection_ids=frozenset(str(i) for i in body.collection_ids),
        brand_ids=frozenset(str(i) for i in body.brand_ids),
        all_items=body.all_items,
    )


def _domain_values(
    values: dict[str, Any], body: PromotionCreate | PromotionUpdate
) -> dict[str, Any]:
    """Body fields as the service takes them: domain targets, tiers and hours; tuples."""
    out = dict(values)
    for name in ("target", "get_target"):
        if out.get(name) is not None:
            out[name] = _target(getattr(body, name))
    if out.get("tiers") is not None:
        out["tiers"] = tuple(Tier(t.threshold, t.percent, t.amount) for t in body.tiers or ())
    if out.get("hours") is not None:
        out["hours"] = tuple(
            TimeWindow(frozenset(h.weekdays), h.start, h.end) for h in body.hours or ()
        )
    for name in ("channels", "locations", "customer_groups"):
        if out.get(name) is not None:
            out[name] = tuple(out[name])
    for name in ("kind", "stacking"):
        if out.get(name) is not None:
            out[name] = str(getattr(body, name))
    if out.get("gift_variant_id") is not None:
        out["gift_variant_id"] = str(out["gift_variant_id"])
    return out


def _target_body(target: Target) -> TargetBody:
    return TargetBody(
        variant_ids=[uuid.UUID(i) for i in sorted(target.variant_ids)],
        category_ids=[uuid.UUID(i) for i in sorted(target.category_ids)],
        collection_ids=[uuid.UUID(i) for i in sorted(target.collection_ids)],
        brand_ids=[uuid.UUID(i) for i in sorted(target.brand_ids)],
        all_items=target.all_items,
    )


def _text(value: Any) -> str | None:
    return None if value is None else format(value, "f")


def _read(row: service.Promotion) -> PromotionRead:
    p = service.to_promotion(row)
    return PromotionRead(
        id=row.id,
        code=row.code,
        name=p.name,
        kind=p.kind,
        stacking=p.stacking,
        priority=p.priority,
        target=_target_body(p.target),
        percent=_text(p.percent),
        amount=p.amount,
        price=p.price,
        currency=p.currency,
        tiers=[
            TierBody(threshold=t.threshold, percent=t.percent, amount=t.amount) for t in p.tiers
        ],
        buy_quantity=p.buy_quantity,
        get_quantity=p.get_quantity,
        get_percent=format(p.get_percent, "f"),
        get_target=_target_body(p.get_target) if p.get_target else None,
        max_applications=p.max_applications,
        bundle_quantity=p.bundle_quantity,
        gift_variant_id=uuid.UUID(p.gift_variant_id) if p.gift_variant_id else None,
        min_spend=p.min_spend,
        requires_coupon=p.requires_coupon,
        channels=list(row.channels),
        locations=list(row.location_codes),
        customer_groups=list(row.customer_groups),
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        hours=[HoursBody(weekdays=sorted(h.weekdays), start=h.start, end=h.end) for h in p.hours],
        usage_limit=p.usage_limit,
        per_customer_limit=p.per_customer_limit,
        active=p.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _coupon_read(row: service.Coupon) -> CouponRead:
    return CouponRead.model_validate(row, from_attributes=True)
