"""The retailer's return policy, fraud-check limits and refund routing: one JSON document in
the `return_policies` row coded `default`.

The document has three parts: `policy` (the domain's `ReturnPolicy` without its currency,
which is the return's), `risk` (`RiskPolicy`) and `refunds` (`RefundRules`, how the return
flow routes money back). A key left out takes its default, and a missing row means every
default, so a retailer that never set a policy gets the common 30-day one. Saving replaces
the whole document after checking every field (the domain's own checks, plus known
categories and channels and sane day counts), and is audited with what changed.
docs/returns-settings.md describes the JSON.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Category, Channel, ReturnPolicySetting, User
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.returns import tenders
from omnitill.domain.returns.model import HolidayWindow, ReturnPolicy, WindowRule
from omnitill.domain.returns.policy import check_policy
from omnitill.domain.returns.risk import RiskInput, RiskPolicy, check_risk
from omnitill.services import audit
from omnitill.services.price_lists import CHANNELS

CODE = "default"
INVALID = "returns.invalid_policy"
# Day counts past ten years are typing mistakes, and would overflow date arithmetic.
MAX_DAYS = 3650


class Fallback(StrEnum):
    """How money goes back when no original tender can take it."""

    STORE_CREDIT = "store_credit"
    CASH = "cash"


class ShippingRefund(StrEnum):
    """When an order's shipping charge is refunded: never; when the return leaves nothing of
    the order kept (`full_return`); or always, prorated by the value returned."""

    NEVER = "never"
    FULL_RETURN = "full_return"
    ALWAYS_PRORATED = "always_prorated"


@dataclass(frozen=True, slots=True)
class RefundRules:
    """Refund routing the return flow applies.

    A card payment older than `card_refund_max_days` cannot be refunded to the card (card
    networks refuse late refunds); `card_present_required` asks for the card at the counter
    before refunding to it; `fallback` is what the customer gets instead (`Fallback`);
    `shipping_refund` says when shipping comes back (`ShippingRefund`).
    """

    card_refund_max_days: int = 540
    card_present_required: bool = False
    fallback: str = Fallback.STORE_CREDIT.value
    shipping_refund: str = ShippingRefund.FULL_RETURN.value

    def for_plan(self) -> tenders.RefundRules:
        """The part the refund plan over tenders reads (domain/returns/tenders.py)."""
        return tenders.RefundRules(
            card_max_days=self.card_refund_max_days,
            card_present_required=self.card_present_required,
            fallback=tenders.Fallback(self.fallback),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a return is decided by."""

    policy: ReturnPolicy
    risk: RiskPolicy
    refunds: RefundRules


@dataclass(frozen=True, slots=True)
class SettingsView:
    """The settings with who last saved them and when (None: never saved, all defaults)."""

    settings: Settings
    updated_at: datetime | None
    updated_by: str | None


def load(uow: UnitOfWork, currency: str) -> Settings:
    """The retailer's settings in the caller's transaction, the policy in `currency`."""
    row = uow.session.get(ReturnPolicySetting, CODE)
    return from_json(row.policy if row is not None else {}, currency)


def get(*, db: Database, currency: str) -> SettingsView:
    """The settings as stored (defaults when never saved)."""
    with db.uow(write=False) as uow:
        return _view(uow, uow.session.get(ReturnPolicySetting, CODE), currency)


def save(*, db: Database, actor: Actor, document: Mapping[str, Any], currency: str) -> SettingsView:
    """Replace the settings with `document` (keys left out take their defaults).

    422 `returns.invalid_policy` naming every bad field (`policy.default_window_days`,
    `risk.card_limit`, `refunds.fallback`, ...); audited as `returns.policy` with each
    changed field's old and new value."""
    settings = _parse(document, currency)
    with db.uow() as uow:
        _raise_if_any(check(uow, settings))
        row = _locked_row(uow)
        before = to_json(from_json(row.policy, currency))
        after = to_json(settings)
        row.policy = after
        row.updated_by_id = actor.user_id
        row.updated_at = utcnow()
        uow.session.flush()
        audit.record(
            uow,
            action="returns.policy",
            actor=actor,
            subject_type="return_policy",
            subject_id=CODE,
            details={"changes": _changes(before, after)},
        )
        uow.commit()
        return _view(uow, row, currency)


def check(uow: UnitOfWork, settings: Settings) -> list[FieldError]:
    """Every problem with `settings`: the domain's policy and risk checks, the refund rules,
    day counts up to `MAX_DAYS`, and categories and channels that exist."""
    errors = check_policy(settings.policy)
    errors += [
        FieldError("risk." + e.field.removeprefix("policy."), e.code, e.message)
        for e in check_risk(RiskInput(refund_value=0), settings.risk)
    ]
    errors += check_refunds(settings.refunds)
    errors += _day_limits(settings)
    errors += _references(uow, settings.policy)
    return errors


def check_refunds(rules: RefundRules) -> list[FieldError]:
    """A non-negative card age and known fallback and shipping choices."""
    errors: list[FieldError] = []
    if rules.card_refund_max_days < 0:
        errors.append(FieldError("refunds.card_refund_max_days", INVALID, "must be >= 0"))
    if rules.fallback not in set(Fallback):
        errors.append(FieldError("refunds.fallback", INVALID, _one_of(Fallback)))
    if rules.shipping_refund not in set(ShippingRefund):
        errors.append(FieldError("refunds.shipping_refund", INVALID, _one_of(ShippingRefund)))
    return errors


# --- JSON <-> domain -----------------------------------------------------------------------


def to_json(settings: Settings) -> dict[str, Any]:
    """The stored (and API) form: dates ISO, percents as strings, sets sorted."""
    p = settings.policy
    policy: dict[str, Any] = {
        "default_window_days": p.default_window_days,
        "window_rules": [
            {"days": r.days, "category_id": r.category_id, "channel": r.channel}
            for r in p.window_rules
        ],
        "holiday_windows": [
            {
                "purchased_from": h.purchased_from.isoformat(),
                "purchased_until": h.purchased_until.isoformat(),
                "return_until": h.return_until.isoformat(),
            }
            for h in p.holiday_windows
        ],
        "final_sale_category_ids": sorted(p.final_sale_category_ids),
        "restocking_fee_percent": {
            k: _percent_text(v) for k, v in sorted(p.restocking_fee_percent.items())
        },
        "accept_damaged": p.accept_damaged,
        "no_receipt_allowed": p.no_receipt_allowed,
        "no_receipt_price_days": p.no_receipt_price_days,
        "no_receipt_period_days": p.no_receipt_period_days,
        "no_receipt_max_count": p.no_receipt_max_count,
        "no_receipt_max_value": p.no_receipt_max_value,
        "overridable": sorted(p.overridable),
    }
    risk = {f.name: getattr(settings.risk, f.name) for f in fields(RiskPolicy)}
    refunds = {f.name: getattr(settings.refunds, f.name) for f in fields(RefundRules)}
    return {"policy": policy, "risk": risk, "refunds": refunds}


def from_json(document: Mapping[str, Any], currency: str) -> Settings:
    """Settings from their JSON form; a key left out takes its default. Assumes the types
    are right (the API schema checks them; stored documents were written by `to_json`)."""
    p: Mapping[str, Any] = document.get("policy") or {}
    base = ReturnPolicy(currency=currency)
    policy = ReturnPolicy(
        currency=currency,
        default_window_days=int(p.get("default_window_days", base.default_window_days)),
        window_rules=tuple(
            WindowRule(
                days=int(r["days"]),
                category_id=_category_key(r.get("category_id")),
                channel=r.get("channel"),
            )
            for r in p.get("window_rules", ())
        ),
        holiday_windows=tuple(
            HolidayWindow(
                purchased_from=date.fromisoformat(h["purchased_from"]),
                purchased_until=date.fromisoformat(h["purchased_until"]),
                return_until=date.fromisoformat(h["return_until"]),
            )
            for h in p.get("holiday_windows", ())
        ),
        final_sale_category_ids=frozenset(
            _category_key(c) or "" for c in p.get("final_sale_category_ids", ())
        ),
        restocking_fee_percent={
            _category_key(k) or "": Decimal(str(v))
            for k, v in (p.get("restocking_fee_percent") or {}).items()
        },
        accept_damaged=bool(p.get("accept_damaged", base.accept_damaged)),
        no_receipt_allowed=bool(p.get("no_receipt_allowed", base.no_receipt_allowed)),
        no_receipt_price_days=int(p.get("no_receipt_price_days", base.no_receipt_price_days)),
        no_receipt_period_days=int(p.get("no_receipt_period_days", base.no_receipt_period_days)),
        no_receipt_max_count=int(p.get("no_receipt_max_count", base.no_receipt_max_count)),
        no_receipt_max_value=int(p.get("no_receipt_max_value", base.no_receipt_max_value)),
        overridable=frozenset(p.get("overridable", base.overridable)),
    )
    return Settings(
        policy=policy,
        risk=RiskPolicy(**_known(RiskPolicy, document.get("risk"))),
        refunds=RefundRules(**_known(RefundRules, document.get("refunds"))),
    )


def _known(kind: type[RiskPolicy] | type[RefundRules], values: Any) -> dict[str, Any]:
    """The keys of `values` that are fields of `kind` (the others take their defaults)."""
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in (values or {}).items() if k in names}


def _category_key(value: Any) -> str | None:
    """Category ids in canonical UUID text, as the return flow writes them; anything that is
    not a UUID is kept as given, for `check` to name."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


# --- rules ---------------------------------------------------------------------------------


def _parse(document: Mapping[str, Any], currency: str) -> Settings:
    """`from_json`, refusing percents that are not numbers with the field named."""
    fees = (document.get("policy") or {}).get("restocking_fee_percent") or {}
    bad = []
    for key, value in fees.items():
        try:
            finite = Decimal(str(value)).is_finite()
        except InvalidOperation:
            finite = False
        if not finite:
            bad.append(FieldError(f"policy.restocking_fee_percent.{key}", INVALID, "a number"))
    _raise_if_any(bad)
    return from_json(document, currency)


def _day_limits(settings: Settings) -> list[FieldError]:
    p, r = settings.policy, settings.risk
    days = {
        "policy.default_window_days": p.default_window_days,
        "policy.no_receipt_price_days": p.no_receipt_price_days,
        "policy.no_receipt_period_days": p.no_receipt_period_days,
        "risk.velocity_window_days": r.velocity_window_days,
        "risk.no_receipt_window_days": r.no_receipt_window_days,
        "refunds.card_refund_max_days": settings.refunds.card_refund_max_days,
    }
    days |= {f"policy.window_rules.{i}.days": w.days for i, w in enumerate(p.window_rules)}
    return [
        FieldError(path, INVALID, f"at most {MAX_DAYS} days")
        for path, value in days.items()
        if value > MAX_DAYS
    ]


def _references(uow: UnitOfWork, policy: ReturnPolicy) -> list[FieldError]:
    """Category ids name categories; window rule channels name channels."""
    used: list[tuple[str, str]] = [
        (f"policy.window_rules.{i}.category_id", r.category_id)
        for i, r in enumerate(policy.window_rules)
        if r.category_id is not None
    ]
    used += [("policy.final_sale_category_ids", c) for c in sorted(policy.final_sale_category_ids)]
    used += [(f"policy.restocking_fee_percent.{c}", c) for c in policy.restocking_fee_percent]
    ids = {c: _uuid(c) for _, c in used}
    wanted = {i for i in ids.values() if i is not None}
    found = set(uow.session.scalars(select(Category.id).where(Category.id.in_(wanted))))
    errors = [
        FieldError(path, "returns.unknown_category", f"no category {c!r}")
        for path, c in used
        if ids[c] not in found
    ]
    channels = set(CHANNELS) | set(uow.session.scalars(select(Channel.code)))
    errors += [
        FieldError(f"policy.window_rules.{i}.channel", "returns.unknown_channel", _one_of(channels))
        for i, r in enumerate(policy.window_rules)
        if r.channel is not None and r.channel not in channels
    ]
    return errors


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _one_of(values: Any) -> str:
    return "one of " + ", ".join(sorted(str(v) for v in values))


def _raise_if_any(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(
            INVALID,
            "; ".join(f"{e.field}: {e.message}" for e in errors),
            errors=errors,
        )


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each changed field, `part.name`, with its old and new value."""
    return {
        f"{part}.{name}": {"from": before[part].get(name), "to": value}
        for part, values in after.items()
        for name, value in values.items()
        if before[part].get(name) != value
    }


def _locked_row(uow: UnitOfWork) -> ReturnPolicySetting:
    """The settings row, created empty if missing, locked until the transaction ends (two
    saves at once apply one after the other)."""
    upsert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    stmt = upsert(ReturnPolicySetting).values(code=CODE, policy={}, updated_at=utcnow())
    uow.session.execute(stmt.on_conflict_do_nothing(index_elements=["code"]))
    return uow.session.get_one(
        ReturnPolicySetting, CODE, with_for_update=True, populate_existing=True
    )


def _view(uow: UnitOfWork, row: ReturnPolicySetting | None, currency: str) -> SettingsView:
    if row is None:
        return SettingsView(from_json({}, currency), None, None)
    by = uow.session.get(User, row.updated_by_id) if row.updated_by_id else None
    return SettingsView(
        from_json(row.policy, currency), row.updated_at, by.username if by else None
    )
