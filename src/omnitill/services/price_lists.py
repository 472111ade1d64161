"""Price lists and their per-variant prices, exchange rates and price rounding per currency.

Every rule a price list, an entry, a rate or a rounding must meet is checked by building the
domain object (`domain.pricing.model`), so the API answers 422 naming the same fields the
engine would. An entry is priced in its list's currency, which is fixed once the list exists.
Exchange rates are only ever added, never edited: a new rate is a new row for a later date.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    ExchangeRate,
    Location,
    PriceList,
    PriceListEntry,
    PriceRounding,
    Variant,
)
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.catalog.validation import raise_invalid
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.money import check_currency
from omnitill.domain.pricing import model as pricing
from omnitill.services import audit, versions
from omnitill.services.customers import clean_groups
from omnitill.services.pagination import (
    clamp_limit,
    cursor_id,
    cursor_value,
    encode_cursor,
    page_by_key,
)
from omnitill.services.uniqueness import flush_unique, taken

CHANNELS = ("in_store", "web", "marketplace", "social", "phone")
# A rate may start yesterday (UTC): a store west of Greenwich enters "today" after UTC midnight.
RATE_BACKDATE_GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PriceListInput:
    name: str
    currency: str
    priority: int = 0
    tax_inclusive: bool = False
    channels: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    customer_groups: tuple[str, ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class PriceListChanges:
    """None leaves a field alone; `clear` names the window ends to null. No currency: the
    entries are priced in it."""

    name: str | None = None
    priority: int | None = None
    tax_inclusive: bool | None = None
    channels: tuple[str, ...] | None = None
    locations: tuple[str, ...] | None = None
    customer_groups: tuple[str, ...] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EntryRecord:
    entry: PriceListEntry
    sku: str
    currency: str


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None


# --- price lists ---------------------------------------------------------------------------


def create_price_list(*, db: Database, actor: Actor, data: PriceListInput) -> PriceList:
    """Create a price list; 409 `price_list.name_taken`."""
    data = _clean(data)
    with db.uow() as uow:
        raise_invalid(_check_list(uow, data))
        if uow.session.scalar(select(PriceList.id).where(PriceList.name == data.name)):
            raise _name_taken(data.name)
        row = PriceList(
            name=data.name,
            currency=data.currency,
            priority=data.priority,
            tax_inclusive=data.tax_inclusive,
            channels=list(data.channels),
            location_codes=list(data.locations),
            customer_groups=list(data.customer_groups),
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            active=data.active,
        )
        uow.session.add(row)
        flush_unique(uow, {"price_lists.name": _name_taken(data.name)})
        _audit(uow, actor, "price_list.created", row, {"name": row.name, "currency": row.currency})
        uow.commit()
        return row


def list_price_lists(
    *,
    db: Database,
    currency: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[PriceList]:
    """Price lists in name order, optionally of one currency or activity."""
    where = []
    if currency is not None:
        where.append(PriceList.currency == currency.strip().upper())
    if active is not None:
        where.append(PriceList.active == active)
    with db.uow(write=False) as uow:
        rows, next_cursor = page_by_key(
            uow, PriceList, "name", cursor=cursor, limit=limit, where=where
        )
    return Page(tuple(rows), next_cursor)


def get_price_list(*, db: Database, price_list_id: uuid.UUID) -> PriceList:
    """One price list, or 404 `price_list.not_found`."""
    with db.uow(write=False) as uow:
        return _price_list(uow, price_list_id)


def update_price_list(
    *, db: Database, actor: Actor, price_list_id: uuid.UUID, changes: PriceListChanges
) -> PriceList:
    """Change a price list's name, priority, scope, window or activity."""
    raise_invalid(
        [
            FieldError(name, "price_list.not_nullable", "cannot be null")
            for name in sorted(changes.clear - {"starts_at", "ends_at"})
        ]
    )
    with db.uow() as uow:
        row = _price_list(uow, price_list_id)
        current = PriceListInput(
            name=row.name,
            currency=row.currency,
            priority=row.priority,
            tax_inclusive=row.tax_inclusive,
            channels=tuple(row.channels),
            locations=tuple(row.location_codes),
            customer_groups=tuple(row.customer_groups),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            active=row.active,
        )
        given = {k: v for k, v in _fields(changes).items() if v is not None}
        cleared: dict[str, Any] = dict.fromkeys(changes.clear)
        merged = _clean(replace(current, **given, **cleared))
        raise_invalid(_check_list(uow, merged))
        if merged.name != row.name and uow.session.scalar(
            select(PriceList.id).where(PriceList.name == merged.name, PriceList.id != row.id)
        ):
            raise _name_taken(merged.name)
        row.name, row.priority, row.active = merged.name, merged.priority, merged.active
        row.tax_inclusive = merged.tax_inclusive
        row.channels, row.location_codes = list(merged.channels), list(merged.locations)
        row.customer_groups = list(merged.customer_groups)
        row.starts_at, row.ends_at = merged.starts_at, merged.ends_at
        flush_unique(uow, {"price_lists.name": _name_taken(merged.name)})
        _audit(
            uow, actor, "price_list.updated", row, {"fields": sorted(set(given) | changes.clear)}
        )
        uow.commit()
        return row


# --- entries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryInput:
    sku: str
    unit_price: int
    compare_at: int | None = None
    tiers: tuple[pricing.PriceTier, ...] = ()


MAX_ENTRIES = 5_000


def set_entry(
    *,
    db: Database,
    actor: Actor,
    price_list_id: uuid.UUID,
    sku: str,
    unit_price: int,
    compare_at: int | None = None,
    tiers: Sequence[pricing.PriceTier] = (),
) -> EntryRecord:
    """Price one SKU in a list (create or replace); 422 `catalog.unknown_sku` for an unknown
    SKU, `pricing.invalid_tier` / `pricing.tiers_not_ascending` for bad tiers."""
    entry = EntryInput(sku, unit_price, compare_at, tuple(tiers))
    return set_entries(db=db, actor=actor, price_list_id=price_list_id, entries=[entry])[0]


def set_entries(
    *, db: Database, actor: Actor, price_list_id: uuid.UUID, entries: Sequence[EntryInput]
) -> list[EntryRecord]:
    """Price many SKUs in a list at once (create or replace each; all or nothing, one audit
    entry). Errors name `entries.<i>.<field>`, or the bare field for a single entry."""
    entries = [replace(e, sku=e.sku.strip()) for e in entries]
    if len(entries) > MAX_ENTRIES:
        raise_invalid(
            [FieldError("entries", "price_list.too_many_entries", f"at most {MAX_ENTRIES}")]
        )
    with db.uow() as uow:
        row = _price_list(uow, price_list_id)
        skus = sorted({e.sku for e in entries})
        found_ids = select(Variant.sku, Variant.id).where(Variant.sku.in_(skus))
        ids: dict[str, uuid.UUID] = {sku: vid for sku, vid in uow.session.execute(found_ids)}
        prefix = "" if len(entries) == 1 else "entries.{}."
        errors: list[FieldError] = []
        for i, e in enumerate(entries):
            found = [] if e.sku in ids else [FieldError("sku", "catalog.unknown_sku", e.sku)]
            found += _entry_errors(e)
            errors += [replace(f, field=prefix.format(i) + f.field) for f in found]
        raise_invalid(errors)
        existing = {
            entry.variant_id: entry
            for entry in uow.session.scalars(
                select(PriceListEntry).where(
                    PriceListEntry.price_list_id == row.id,
                    PriceListEntry.variant_id.in_(list(ids.values())),
                )
            )
        }
        records, changes = [], []
        for e in entries:
            entry = existing.get(ids[e.sku])
            before = None if entry is None else entry.unit_price_minor
            if entry is None:
                entry = PriceListEntry(price_list_id=row.id, variant_id=ids[e.sku])
                uow.session.add(entry)
                existing[ids[e.sku]] = entry
            entry.unit_price_minor = e.unit_price
            entry.compare_at_minor = e.compare_at
            entry.tiers = [
                {"min_quantity": t.min_quantity, "unit_price": t.unit_price} for t in e.tiers
            ]
            changes.append({"sku": e.sku, "unit_price_before": before, "unit_price": e.unit_price})
            records.append(EntryRecord(entry, e.sku, row.currency))
        row.updated_at = utcnow()
        uow.session.flush()
        details: dict[str, Any] = (
            changes[0] if len(changes) == 1 else {"count": len(changes), "entries": changes}
        )
        _audit(uow, actor, "price_list.entry_set", row, details)
        uow.commit()
        return records


def _entry_errors(e: EntryInput) -> list[FieldError]:
    found = errors_of(lambda: pricing.PriceListEntry(e.sku, e.unit_price, e.compare_at, e.tiers))
    return found + _tiers_not_ascending(e.tiers, found)


def remove_entry(*, db: Database, actor: Actor, price_list_id: uuid.UUID, sku: str) -> None:
    """Stop pricing a SKU in a list; 404 `price_list.entry_not_found`."""
    with db.uow() as uow:
        row = _price_list(uow, price_list_id)
        entry = uow.session.scalars(
            select(PriceListEntry)
            .join(Variant, Variant.id == PriceListEntry.variant_id)
            .where(PriceListEntry.price_list_id == row.id, Variant.sku == sku.strip())
        ).one_or_none()
        if entry is None:
            raise NotFound(
                "price_list.entry_not_found", f"the list does not price {sku!r}", {"sku": sku}
            )
        uow.session.delete(entry)
        row.updated_at = utcnow()
        _audit(uow, actor, "price_list.entry_removed", row, {"sku": sku.strip()})
        uow.commit()


def list_entries(
    *, db: Database, price_list_id: uuid.UUID, cursor: str | None, limit: int | None
) -> Page[EntryRecord]:
    """A list's prices in SKU order."""
    size = clamp_limit(limit)
    after = cursor_value(cursor, "sku")
    stmt = (
        select(PriceListEntry, Variant.sku)
        .join(Variant, Variant.id == PriceListEntry.variant_id)
        .where(PriceListEntry.price_list_id == price_list_id)
        .order_by(Variant.sku)
        .limit(size + 1)
    )
    if after is not None:
        stmt = stmt.where(Variant.sku > after)
    with db.uow(write=False) as uow:
        row = _price_list(uow, price_list_id)
        items = [EntryRecord(e, s, row.currency) for e, s in uow.session.execute(stmt)]
    more = len(items) > size
    items = items[:size]
    return Page(tuple(items), encode_cursor({"sku": items[-1].sku}) if more else None)


# --- exchange rates and rounding -----------------------------------------------------------


def add_exchange_rate(
    *, db: Database, actor: Actor, base: str, quote: str, rate: Decimal, valid_from: date
) -> ExchangeRate:
    """Add a rate from `valid_from` on. Past rates are never edited, and a new one may not start
    before yesterday: 422 `exchange_rate.backdated`; 409 `exchange_rate.exists` for the day."""
    base, quote = base.strip().upper(), quote.strip().upper()
    errors = errors_of(lambda: pricing.ExchangeRate(base, quote, rate, valid_from))
    if valid_from < utcnow().date() - RATE_BACKDATE_GRACE:
        errors.append(
            FieldError("valid_from", "exchange_rate.backdated", "rates start today or later")
        )
    if rate.is_finite() and rate != rate.quantize(Decimal("1e-8")):
        errors.append(FieldError("rate", "pricing.invalid_rate", "at most 8 decimals"))
    raise_invalid(errors)
    exists = taken(
        "exchange_rate.exists",
        "valid_from",
        f"a {base}/{quote} rate from {valid_from} exists; add one for a later date",
    )
    with db.uow() as uow:
        clash = select(ExchangeRate.id).where(
            ExchangeRate.base == base,
            ExchangeRate.quote == quote,
            ExchangeRate.valid_from == valid_from,
        )
        if uow.session.scalar(clash) is not None:
            raise exists
        row = ExchangeRate(base=base, quote=quote, rate=rate, valid_from=valid_from)
        uow.session.add(row)
        flush_unique(uow, {"exchange_rates.base": exists})
        versions.touch(uow, versions.PRICING)
        audit.record(
            uow,
            action="exchange_rate.created",
            actor=actor,
            subject_type="exchange_rate",
            subject_id=str(row.id),
            details={"pair": f"{base}/{quote}", "rate": str(rate), "from": str(valid_from)},
        )
        uow.commit()
        return row


def list_exchange_rates(
    *,
    db: Database,
    base: str | None = None,
    quote: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[ExchangeRate]:
    """Rates newest first, optionally of one pair."""
    size = clamp_limit(limit)
    after = cursor_id(cursor)
    stmt = select(ExchangeRate).order_by(ExchangeRate.id.desc()).limit(size + 1)
    if base is not None:
        stmt = stmt.where(ExchangeRate.base == base.strip().upper())
    if quote is not None:
        stmt = stmt.where(ExchangeRate.quote == quote.strip().upper())
    if after is not None:
        stmt = stmt.where(ExchangeRate.id < after)
    with db.uow(write=False) as uow:
        rows = list(uow.session.scalars(stmt))
    more = len(rows) > size
    rows = rows[:size]
    return Page(tuple(rows), encode_cursor({"id": str(rows[-1].id)}) if more else None)


def set_rounding(
    *, db: Database, actor: Actor, currency: str, increment: int, charm_ending: int | None
) -> PriceRounding:
    """Set how converted prices in `currency` are rounded (create or replace)."""
    currency = currency.strip().upper()
    errors = errors_of(lambda: pricing.PriceRounding(currency, increment, charm_ending))
    errors += errors_of(lambda: check_currency(currency), field="currency")
    raise_invalid(errors)
    with db.uow() as uow:
        row = uow.session.get(PriceRounding, currency)
        if row is None:
            row = PriceRounding(currency=currency)
            uow.session.add(row)
        row.increment, row.charm_ending = increment, charm_ending
        uow.session.flush()
        versions.touch(uow, versions.PRICING)
        audit.record(
            uow,
            action="price_rounding.set",
            actor=actor,
            subject_type="price_rounding",
            subject_id=currency,
            details={"increment": increment, "charm_ending": charm_ending},
        )
        uow.commit()
        return row


def get_rounding(*, db: Database, currency: str) -> PriceRounding:
    """The rounding of one currency, or 404 `price_rounding.not_found`."""
    currency = currency.strip().upper()
    with db.uow(write=False) as uow:
        row = uow.session.get(PriceRounding, currency)
    if row is None:
        raise NotFound(
            "price_rounding.not_found", f"no rounding set for {currency}", {"currency": currency}
        )
    return row


def list_roundings(*, db: Database, cursor: str | None, limit: int | None) -> Page[PriceRounding]:
    """Roundings in currency order."""
    with db.uow(write=False) as uow:
        rows, next_cursor = page_by_key(uow, PriceRounding, "currency", cursor=cursor, limit=limit)
    return Page(tuple(rows), next_cursor)


# --- rows as domain objects ----------------------------------------------------------------


def to_entry(row: PriceListEntry) -> pricing.PriceListEntry:
    return pricing.PriceListEntry(
        variant_id=str(row.variant_id),
        unit_price=row.unit_price_minor,
        compare_at=row.compare_at_minor,
        tiers=tuple(pricing.PriceTier(t["min_quantity"], t["unit_price"]) for t in row.tiers),
    )


def to_price_list(row: PriceList, entries: Iterable[PriceListEntry]) -> pricing.PriceList:
    return pricing.PriceList(
        id=str(row.id),
        name=row.name,
        currency=row.currency,
        entries={str(e.variant_id): to_entry(e) for e in entries},
        priority=row.priority,
        tax_inclusive=row.tax_inclusive,
        channels=frozenset(row.channels),
        locations=frozenset(row.location_codes),
        customer_groups=frozenset(row.customer_groups),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        active=row.active,
    )


def to_exchange_rate(row: ExchangeRate) -> pricing.ExchangeRate:
    return pricing.ExchangeRate(row.base, row.quote, Decimal(row.rate), row.valid_from)


def to_rounding(row: PriceRounding) -> pricing.PriceRounding:
    return pricing.PriceRounding(row.currency, row.increment, row.charm_ending)


# --- rules shared by price lists, promotions and tax ---------------------------------------


def errors_of(build: Callable[[], object], *, field: str = "body") -> list[FieldError]:
    """The field errors a domain constructor raises, so they join the service's own (an error
    naming no field is put on `field`)."""
    try:
        build()
    except ValidationFailed as exc:
        return list(exc.errors) or [FieldError(field, exc.code, exc.message)]
    return []


def check_scope(
    uow: UnitOfWork,
    *,
    channels: Sequence[str],
    locations: Sequence[str],
    customer_groups: Sequence[str] = (),
) -> list[FieldError]:
    """Channels are known ones, locations exist, group codes are well formed."""
    errors = [
        FieldError(f"channels.{i}", "pricing.unknown_channel", f"one of {', '.join(CHANNELS)}")
        for i, c in enumerate(channels)
        if c not in CHANNELS
    ]
    known = set(uow.session.scalars(select(Location.code).where(Location.code.in_(locations))))
    errors += [
        FieldError(f"locations.{i}", "location.not_found", f"no location {code!r}")
        for i, code in enumerate(locations)
        if code not in known
    ]
    return errors + clean_groups(customer_groups, field="customer_groups")[1]


def _check_list(uow: UnitOfWork, data: PriceListInput) -> list[FieldError]:
    errors: list[FieldError] = []
    if not data.name:
        errors.append(FieldError("name", "price_list.invalid_name", "must not be blank"))
    errors += errors_of(
        lambda: pricing.PriceList(
            "-", data.name, data.currency, {}, starts_at=data.starts_at, ends_at=data.ends_at
        )
    )
    return errors + check_scope(
        uow,
        channels=data.channels,
        locations=data.locations,
        customer_groups=data.customer_groups,
    )


def _tiers_not_ascending(
    tiers: Sequence[pricing.PriceTier], found: Sequence[FieldError]
) -> list[FieldError]:
    """Tiers are listed in ascending order of their minimum, so a price list reads as a table.
    (The domain refuses duplicates and minimums under 2; this adds the order.)"""
    flagged = {e.field for e in found}
    return [
        FieldError(f"tiers.{i}.min_quantity", "pricing.tiers_not_ascending", "minimums ascend")
        for i in range(1, len(tiers))
        if tiers[i].min_quantity < tiers[i - 1].min_quantity
        and f"tiers.{i}.min_quantity" not in flagged
    ]


def _clean(data: PriceListInput) -> PriceListInput:
    groups, _ = clean_groups(data.customer_groups, field="customer_groups")
    return replace(
        data,
        name=data.name.strip(),
        currency=data.currency.strip().upper(),
        channels=tuple(sorted({c.strip().lower() for c in data.channels})),
        locations=tuple(sorted({code.strip() for code in data.locations})),
        customer_groups=groups,
    )


def _fields(changes: PriceListChanges) -> dict[str, Any]:
    return {
        name: getattr(changes, name)
        for name in PriceListChanges.__dataclass_fields__
        if name != "clear"
    }


def _price_list(uow: UnitOfWork, price_list_id: uuid.UUID) -> PriceList:
    row = uow.session.get(PriceList, price_list_id)
    if row is None:
        raise NotFound(
            "price_list.not_found", f"no price list {price_list_id}", {"id": str(price_list_id)}
        )
    return row


def _name_taken(name: str) -> Conflict:
    return taken("price_list.name_taken", "name", f"a price list is named {name!r}")


def _audit(
    uow: UnitOfWork, actor: Actor, action: str, row: PriceList, details: dict[str, Any]
) -> None:
    versions.record_change(
        uow,
        versions.PRICING,
        actor=actor,
        action=action,
        subject_type="price_list",
        subject_id=str(row.id),
        details=details,
    )
