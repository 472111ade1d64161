"""Promotions and their coupons.

A promotion is checked by building the domain `Promotion` (`validate_promotion` names every
contradictory field: a percent over 100, tiers not ascending, a fixed amount without a
currency...), then against the database: its scope and targets name things that exist, its
code is free, and no active promotion has the very same rule, scope and window.

Coupons are stored upper-case. Generated codes are unguessable: 13 random characters (65
bits) and a check character, so a mistyped code is told apart from an unknown one
(`domain/codes.py`).

Every promotion write changes the promotion catalog's stamp (`catalog_versions`), which is
how each process knows its cached catalog is stale (see `pricing_data.promotion_catalog`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    Brand,
    Category,
    Collection,
    Coupon,
    CouponBatch,
    Promotion,
    Variant,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain import codes
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.validation import raise_invalid
from omnitill.domain.codes import normalize_code
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.promotions import model as promo
from omnitill.services import audit, versions
from omnitill.services.customers import clean_groups
from omnitill.services.pagination import clamp_limit, cursor_value, encode_cursor, page_by_key
from omnitill.services.price_lists import Page, check_scope, errors_of
from omnitill.services.uniqueness import flush_unique, taken

CATALOG = "promotions"
MAX_BATCH = 10_000
RANDOM_CHARS = 13  # 13 x 5 bits = 65 bits
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_COUPON = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,63}$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,20}$")
_NULLABLE = frozenset(
    {
        "percent",
        "amount",
        "price",
        "currency",
        "get_target",
        "max_applications",
        "gift_variant_id",
        "min_spend",
        "starts_at",
        "ends_at",
        "usage_limit",
        "per_customer_limit",
    }
)


@dataclass(frozen=True, slots=True)
class PromotionInput:
    """A promotion as entered: the domain `Promotion`'s fields, a code, and scope as lists."""

    code: str
    name: str
    kind: str
    target: promo.Target = field(default_factory=lambda: promo.Target(all_items=True))
    stacking: str = "product"
    priority: int = 0
    percent: Decimal | None = None
    amount: int | None = None
    price: int | None = None
    currency: str | None = None
    tiers: tuple[promo.Tier, ...] = ()
    buy_quantity: int = 0
    get_quantity: int = 0
    get_percent: Decimal = Decimal(100)
    get_target: promo.Target | None = None
    max_applications: int | None = None
    bundle_quantity: int = 0
    gift_variant_id: str | None = None
    min_spend: int | None = None
    requires_coupon: bool = False
    channels: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    customer_groups: tuple[str, ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    hours: tuple[promo.TimeWindow, ...] = ()
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class CouponRequest:
    """One named code (`code`), or `count` generated single-use codes starting `prefix`."""

    code: str | None = None
    count: int | None = None
    prefix: str = ""
    single_use: bool | None = None  # named codes default to shared, generated ones are single
    usage_limit: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CouponsIssued:
    promotion_id: uuid.UUID
    batch_id: uuid.UUID | None
    codes: tuple[str, ...]


# --- promotions ----------------------------------------------------------------------------


def create_promotion(*, db: Database, actor: Actor, data: PromotionInput) -> Promotion:
    """Create a promotion; 409 `promotion.code_taken` or `promotion.duplicate`."""
    data = _clean(data)
    row_id = uuid7()
    errors = [] if _SLUG.match(data.code) and len(data.code) <= 64 else [_bad_code()]
    with db.uow() as uow:
        errors += _check(uow, data, row_id)
        raise_invalid(errors)
        if uow.session.scalar(select(Promotion.id).where(Promotion.code == data.code)):
            raise _code_taken(data.code)
        row = Promotion(id=row_id, code=data.code)
        _apply(row, data)
        _refuse_duplicate(uow, row)
        uow.session.add(row)
        flush_unique(uow, {"promotions.code": _code_taken(data.code)})
        touch_catalog(uow)
        _audit(uow, actor, "promotion.created", row, {"kind": row.kind, "name": row.name})
        uow.commit()
        return row


def list_promotions(
    *,
    db: Database,
    active: bool | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Promotion]:
    """Promotions in code order, optionally only active ones or of one kind."""
    where = []
    if active is not None:
        where.append(Promotion.active == active)
    if kind is not None:
        where.append(Promotion.kind == kind)
    with db.uow(write=False) as uow:
        rows, next_cursor = page_by_key(
            uow, Promotion, "code", cursor=cursor, limit=limit, where=where
        )
    return Page(tuple(rows), next_cursor)


def get_promotion(*, db: Database, promotion_id: uuid.UUID) -> Promotion:
    """One promotion, or 404 `promotion.not_found`."""
    with db.uow(write=False) as uow:
        return _promotion(uow, promotion_id)


def update_promotion(
    *, db: Database, actor: Actor, promotion_id: uuid.UUID, changes: Mapping[str, Any]
) -> Promotion:
    """Change any field but the code; the whole promotion is checked again. `changes` maps
    field names of `PromotionInput` to new values (None clears a nullable one)."""
    names = {f.name for f in fields(PromotionInput)} - {"code"}
    raise_invalid(
        [
            FieldError(k, "promotion.unknown_field", "cannot be changed")
            for k in changes
            if k not in names
        ]
        + [
            FieldError(k, "promotion.not_nullable", "cannot be null")
            for k, v in changes.items()
            if v is None and k in names and k not in _NULLABLE
        ]
    )
    with db.uow() as uow:
        row = _promotion(uow, promotion_id)
        merged = _clean(replace(as_input(row), **changes))
        raise_invalid(_check(uow, merged, row.id))
        _apply(row, merged)
        _refuse_duplicate(uow, row)
        row.updated_at = utcnow()
        uow.session.flush()
        touch_catalog(uow)
        _audit(uow, actor, "promotion.updated", row, {"fields": sorted(changes)})
        uow.commit()
        return row


# --- coupons -------------------------------------------------------------------------------


def issue_coupons(
    *, db: Database, actor: Actor, promotion_id: uuid.UUID, request: CouponRequest
) -> CouponsIssued:
    """Create one named coupon, or a batch of generated single-use ones (up to 10,000, one
    bulk insert). 422 `promotion.coupon_not_required` when the promotion applies without one."""
    named = (request.code or "").strip()
    prefix = request.prefix.strip().upper()
    raise_invalid(_check_coupon_request(request, named, prefix))
    with db.uow() as uow:
        row = _promotion(uow, promotion_id)
        if not row.requires_coupon:
            raise ValidationFailed(
                "promotion.coupon_not_required",
                f"{row.code} applies without a coupon; set requires_coupon first",
                errors=[FieldError("promotion", "promotion.coupon_not_required", row.code)],
            )
        if request.count is None:
            return _issue_named(uow, actor, row, request, normalize_code(named))
        batch = CouponBatch(
            promotion_id=row.id, prefix=prefix, count=request.count, created_by=actor.username
        )
        uow.session.add(batch)
        uow.session.flush()
        codes = _generate(request.count, prefix)
        now = utcnow()
        uow.session.execute(
            insert(Coupon),
            [
                {
                    "id": uuid7(),
                    "code": code,
                    "promotion_id": row.id,
                    "batch_id": batch.id,
                    "single_use": True,
                    "usage_limit": None,
                    "uses": 0,
                    "starts_at": request.starts_at,
                    "ends_at": request.ends_at,
                    "active": True,
                    "created_at": now,
                }
                for code in codes
            ],
        )
        _audit(
            uow,
            actor,
            "promotion.coupons_generated",
            row,
            {"batch": str(batch.id), "count": len(codes), "prefix": prefix},
        )
        uow.commit()
        return CouponsIssued(row.id, batch.id, codes)


def list_coupons(
    *, db: Database, promotion_id: uuid.UUID, cursor: str | None, limit: int | None
) -> Page[Coupon]:
    """A promotion's coupons in code order."""
    size = clamp_limit(limit)
    after = cursor_value(cursor, "code")
    stmt = (
        select(Coupon)
        .where(Coupon.promotion_id == promotion_id)
        .order_by(Coupon.code)
        .limit(size + 1)
    )
    if after is not None:
        stmt = stmt.where(Coupon.code > after)
    with db.uow(write=False) as uow:
        _promotion(uow, promotion_id)
        rows = list(uow.session.scalars(stmt))
    more = len(rows) > size
    rows = rows[:size]
    return Page(tuple(rows), encode_cursor({"code": rows[-1].code}) if more else None)


def get_coupon(*, db: Database, code: str) -> Coupon:
    """A coupon by code in any letter case; 422 `coupon.mistyped` when a generated code's
    check character does not match (a typo), else 404 `coupon.not_found`."""
    with db.uow(write=False) as uow:
        return _coupon(uow, code)


def update_coupon(
    *,
    db: Database,
    actor: Actor,
    code: str,
    active: bool | None = None,
    ends_at: datetime | None = None,
    usage_limit: int | None = None,
) -> Coupon:
    """Deactivate (or reactivate) a coupon, end it, or change a shared code's limit."""
    if usage_limit is not None and usage_limit < 1:
        raise_invalid([FieldError("usage_limit", "promotion.invalid_limit", "at least 1")])
    with db.uow() as uow:
        row = _coupon(uow, code)
        if usage_limit is not None and row.single_use:
            raise_invalid(
                [FieldError("usage_limit", "coupon.single_use", "a single-use code is used once")]
            )
        before = {"active": row.active, "ends_at": _iso(row.ends_at), "limit": row.usage_limit}
        row.active = row.active if active is None else active
        row.ends_at = row.ends_at if ends_at is None else ends_at
        row.usage_limit = row.usage_limit if usage_limit is None else usage_limit
        uow.session.flush()
        audit.record(
            uow,
            action="coupon.updated",
            actor=actor,
            subject_type="coupon",
            subject_id=str(row.id),
            details={
                "before": before,
                "after": {
                    "active": row.active,
                    "ends_at": _iso(row.ends_at),
                    "limit": row.usage_limit,
                },
            },
        )
        uow.commit()
        return row


def is_mistyped(code: str) -> bool:
    """True for a code shaped like a generated one whose check character does not match."""
    return codes.is_mistyped(code, RANDOM_CHARS)


# --- the catalog version -------------------------------------------------------------------


def touch_catalog(uow: UnitOfWork) -> None:
    """Give the promotion catalog a new stamp, in the caller's transaction."""
    versions.touch(uow, versions.PROMOTIONS)


def catalog_stamp(uow: UnitOfWork) -> uuid.UUID | None:
    """The promotion catalog's current stamp (None before the first promotion write)."""
    return versions.stamps(uow).get(versions.PROMOTIONS)


# --- rows as domain objects ----------------------------------------------------------------


def to_promotion(row: Promotion) -> promo.Promotion:
    """The domain promotion a row holds (its rule fields live in `definition`)."""
    d = row.definition
    return promo.Promotion(
        id=str(row.id),
        name=row.name,
        kind=promo.RuleKind(row.kind),
        stacking=promo.StackingClass(row.stacking),
        priority=row.priority,
        currency=row.currency,
        requires_coupon=row.requires_coupon,
        channels=frozenset(row.channels),
        locations=frozenset(row.location_codes),
        customer_groups=frozenset(row.customer_groups),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        usage_limit=row.usage_limit,
        per_customer_limit=row.per_customer_limit,
        active=row.active,
        target=_target(d.get("target")) or promo.Target(all_items=True),
        percent=_decimal(d.get("percent")),
        amount=d.get("amount"),
        price=d.get("price"),
        tiers=tuple(
            promo.Tier(t["threshold"], _decimal(t.get("percent")), t.get("amount"))
            for t in d.get("tiers", ())
        ),
        buy_quantity=d.get("buy_quantity", 0),
        get_quantity=d.get("get_quantity", 0),
        get_percent=_decimal(d.get("get_percent")) or Decimal(100),
        get_target=_target(d.get("get_target")),
        max_applications=d.get("max_applications"),
        bundle_quantity=d.get("bundle_quantity", 0),
        gift_variant_id=d.get("gift_variant_id"),
        min_spend=d.get("min_spend"),
        hours=tuple(
            promo.TimeWindow(
                frozenset(h["weekdays"]),
                time.fromisoformat(h["start"]),
                time.fromisoformat(h["end"]),
            )
            for h in d.get("hours", ())
        ),
    )


def as_input(row: Promotion) -> PromotionInput:
    """A stored promotion as input, to merge a partial update into."""
    p = to_promotion(row)
    return PromotionInput(
        code=row.code,
        channels=tuple(row.channels),
        locations=tuple(row.location_codes),
        customer_groups=tuple(row.customer_groups),
        kind=row.kind,
        stacking=row.stacking,
        **{
            f.name: getattr(p, f.name)
            for f in fields(PromotionInput)
            if f.name not in _SCOPE_FIELDS
        },
    )


def _definition(data: PromotionInput) -> dict[str, Any]:
    """The rule-specific fields as JSON: Decimals as strings, times as HH:MM[:SS]."""
    return {
        "target": _target_json(data.target),
        "percent": _text(data.percent),
        "amount": data.amount,
        "price": data.price,
        "tiers": [
            {"threshold": t.threshold, "percent": _text(t.percent), "amount": t.amount}
            for t in data.tiers
        ],
        "buy_quantity": data.buy_quantity,
        "get_quantity": data.get_quantity,
        "get_percent": _text(data.get_percent),
        "get_target": _target_json(data.get_target) if data.get_target else None,
        "max_applications": data.max_applications,
        "bundle_quantity": data.bundle_quantity,
        "gift_variant_id": data.gift_variant_id,
        "min_spend": data.min_spend,
        "hours": [
            {"weekdays": sorted(h.weekdays), "start": h.start.isoformat(), "end": h.end.isoformat()}
            for h in data.hours
        ],
    }


def _domain(data: PromotionInput, row_id: uuid.UUID) -> promo.Promotion:
    return promo.Promotion(
        id=str(row_id),
        kind=promo.RuleKind(data.kind),
        stacking=promo.StackingClass(data.stacking),
        channels=frozenset(data.channels),
        locations=frozenset(data.locations),
        customer_groups=frozenset(data.customer_groups),
        **{f.name: getattr(data, f.name) for f in fields(data) if f.name not in _SCOPE_FIELDS},
    )


_SCOPE_FIELDS = frozenset({"code", "kind", "stacking", "channels", "locations", "customer_groups"})


# --- rules ---------------------------------------------------------------------------------


def _check(uow: UnitOfWork, data: PromotionInput, row_id: uuid.UUID) -> list[FieldError]:
    """The domain's rules (by building the promotion), a name, a known kind and stacking
    class, a scope of known channels and locations, and targets that exist."""
    errors: list[FieldError] = []
    if not data.name:
        errors.append(FieldError("name", "promotion.invalid_name", "must not be blank"))
    if data.kind not in set(promo.RuleKind):
        errors.append(FieldError("kind", "promotion.invalid_kind", ", ".join(promo.RuleKind)))
    if data.stacking not in set(promo.StackingClass):
        errors.append(
            FieldError("stacking", "promotion.invalid_stacking", ", ".join(promo.StackingClass))
        )
    if not errors:
        errors += errors_of(lambda: _domain(data, row_id))
    errors += check_scope(
        uow, channels=data.channels, locations=data.locations, customer_groups=data.customer_groups
    )
    errors += _missing_targets(uow, data.target, "target")
    if data.get_target is not None:
        errors += _missing_targets(uow, data.get_target, "get_target")
    if data.gift_variant_id is not None and not _existing(uow, Variant, [data.gift_variant_id]):
        errors.append(FieldError("gift_variant_id", "catalog.variant_not_found", "no such variant"))
    return errors


def _missing_targets(uow: UnitOfWork, target: promo.Target, at: str) -> list[FieldError]:
    checks: Sequence[tuple[str, Any, frozenset[str], str]] = (
        ("variant_ids", Variant, target.variant_ids, "catalog.variant_not_found"),
        ("category_ids", Category, target.category_ids, "catalog.category_not_found"),
        ("collection_ids", Collection, target.collection_ids, "collection.not_found"),
        ("brand_ids", Brand, target.brand_ids, "catalog.brand_not_found"),
    )
    errors: list[FieldError] = []
    for name, model, ids, code in checks:
        found = _existing(uow, model, ids)
        errors += [
            FieldError(f"{at}.{name}", code, f"no such id {i}")
            for i in sorted(ids)
            if i not in found
        ]
    return errors


def _existing(uow: UnitOfWork, model: Any, ids: Sequence[str] | frozenset[str]) -> set[str]:
    """Which of `ids` (UUID text) name a row of `model`."""
    parsed = []
    for i in ids:
        try:
            parsed.append(uuid.UUID(i))
        except ValueError:
            continue
    if not parsed:
        return set()
    return {str(x) for x in uow.session.scalars(select(model.id).where(model.id.in_(parsed)))}


def _refuse_duplicate(uow: UnitOfWork, row: Promotion) -> None:
    """Two active promotions with the very same rule, scope and window would apply twice
    (or compete for nothing): refuse the second, 409 `promotion.duplicate`."""
    if not row.active:
        return
    same = select(Promotion).where(
        Promotion.kind == row.kind, Promotion.active.is_(True), Promotion.id != row.id
    )
    for other in uow.session.scalars(same):
        if _signature(other) == _signature(row):
            raise Conflict(
                "promotion.duplicate",
                f"active promotion {other.code} has the same rule, scope and window",
                {"promotion": other.code},
                errors=[FieldError("kind", "promotion.duplicate", f"same as {other.code}")],
            )


def _signature(row: Promotion) -> tuple[Any, ...]:
    return (
        row.kind,
        row.stacking,
        row.definition,
        row.currency,
        row.requires_coupon,
        sorted(row.channels),
        sorted(row.location_codes),
        sorted(row.customer_groups),
        row.starts_at,
        row.ends_at,
        row.usage_limit,
        row.per_customer_limit,
    )


def _check_coupon_request(request: CouponRequest, named: str, prefix: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if (request.count is None) == (not named):
        errors.append(FieldError("code", "coupon.code_or_count", "send either code or count"))
    if named and not _COUPON.match(normalize_code(named)):
        errors.append(FieldError("code", "coupon.invalid_code", "3-64 letters, digits, - or _"))
    if request.count is not None:
        if not 1 <= request.count <= MAX_BATCH:
            errors.append(FieldError("count", "coupon.invalid_count", f"1 to {MAX_BATCH}"))
        if prefix and not _PREFIX.match(prefix):
            errors.append(FieldError("prefix", "coupon.invalid_prefix", "1-20 letters or digits"))
        if request.single_use is False or request.usage_limit is not None:
            errors.append(
                FieldError(
                    "single_use", "coupon.batch_single_use", "generated codes are single-use"
                )
            )
    if request.usage_limit is not None and request.usage_limit < 1:
        errors.append(FieldError("usage_limit", "promotion.invalid_limit", "at least 1"))
    if request.starts_at and request.ends_at and request.ends_at <= request.starts_at:
        errors.append(FieldError("ends_at", "promotion.invalid_window", "ends before it starts"))
    return errors


# --- helpers -------------------------------------------------------------------------------


def _issue_named(
    uow: UnitOfWork, actor: Actor, row: Promotion, request: CouponRequest, code: str
) -> CouponsIssued:
    clash = taken("coupon.code_taken", "code", f"coupon {code} exists")
    if uow.session.scalar(select(Coupon.id).where(Coupon.code == code)) is not None:
        raise clash
    single = bool(request.single_use)
    coupon = Coupon(
        code=code,
        promotion_id=row.id,
        single_use=single,
        usage_limit=None if single else request.usage_limit,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
    )
    uow.session.add(coupon)
    flush_unique(uow, {"coupons.code": clash})
    _audit(uow, actor, "promotion.coupon_created", row, {"coupon": str(coupon.id)})
    uow.commit()
    return CouponsIssued(row.id, None, (code,))


def _generate(count: int, prefix: str) -> tuple[str, ...]:
    """`count` distinct codes ``PREFIX-XXXX-XXXX-XXXX-XC`` (C the check character)."""
    generated: dict[str, None] = {}
    while len(generated) < count:
        generated[codes.generate(RANDOM_CHARS, prefix)] = None
    return tuple(generated)


def _clean(data: PromotionInput) -> PromotionInput:
    currency = data.currency.strip().upper() if data.currency else None
    return replace(
        data,
        code=data.code.strip().lower(),
        name=data.name.strip(),
        currency=currency or None,
        channels=tuple(sorted({c.strip().lower() for c in data.channels})),
        locations=tuple(sorted({c.strip() for c in data.locations})),
        customer_groups=clean_groups(data.customer_groups, field="customer_groups")[0],
    )


def _apply(row: Promotion, data: PromotionInput) -> None:
    row.name, row.kind, row.stacking, row.priority = (
        data.name,
        data.kind,
        data.stacking,
        data.priority,
    )
    row.definition = _definition(data)
    row.currency, row.requires_coupon, row.active = data.currency, data.requires_coupon, data.active
    row.channels, row.location_codes = list(data.channels), list(data.locations)
    row.customer_groups = list(data.customer_groups)
    row.starts_at, row.ends_at = data.starts_at, data.ends_at
    row.usage_limit, row.per_customer_limit = data.usage_limit, data.per_customer_limit


def _target(value: Mapping[str, Any] | None) -> promo.Target | None:
    if value is None:
        return None
    return promo.Target(
        variant_ids=frozenset(value.get("variant_ids", ())),
        category_ids=frozenset(value.get("category_ids", ())),
        collection_ids=frozenset(value.get("collection_ids", ())),
        brand_ids=frozenset(value.get("brand_ids", ())),
        all_items=bool(value.get("all_items", False)),
    )


def _target_json(target: promo.Target) -> dict[str, Any]:
    return {
        "variant_ids": sorted(target.variant_ids),
        "category_ids": sorted(target.category_ids),
        "collection_ids": sorted(target.collection_ids),
        "brand_ids": sorted(target.brand_ids),
        "all_items": target.all_items,
    }


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _promotion(uow: UnitOfWork, promotion_id: uuid.UUID) -> Promotion:
    row = uow.session.get(Promotion, promotion_id)
    if row is None:
        raise NotFound(
            "promotion.not_found", f"no promotion {promotion_id}", {"id": str(promotion_id)}
        )
    return row


def _coupon(uow: UnitOfWork, code: str) -> Coupon:
    row = uow.session.scalars(
        select(Coupon).where(Coupon.code == normalize_code(code))
    ).one_or_none()
    if row is not None:
        return row
    if is_mistyped(code):
        raise ValidationFailed(
            "coupon.mistyped",
            "the code's check character does not match: a character was mistyped",
            errors=[FieldError("code", "coupon.mistyped", "check the code for a typo")],
        )
    raise NotFound("coupon.not_found", "no such coupon", {"code": normalize_code(code)})


def _bad_code() -> FieldError:
    return FieldError("code", "promotion.invalid_code", "1-64 lower-case letters, digits, - or _")


def _code_taken(code: str) -> Conflict:
    return taken("promotion.code_taken", "code", f"promotion code {code!r} is in use")


def _audit(
    uow: UnitOfWork, actor: Actor, action: str, row: Promotion, details: dict[str, Any]
) -> None:
    audit.record(
        uow,
        action=action,
        actor=actor,
        subject_type="promotion",
        subject_id=str(row.id),
        details={"code": row.code, **details},
    )
