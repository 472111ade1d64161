"""Pricing endpoints: price lists and their entries, exchange rates and price rounding."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from omnitill.api.deps import Cursor, DbDep, Limit, require
from omnitill.api.schemas.pricing import (
    ExchangeRateCreate,
    ExchangeRatePage,
    ExchangeRateRead,
    PriceEntriesUpdate,
    PriceEntryPage,
    PriceEntryRead,
    PriceEntryUpdate,
    PriceListCreate,
    PriceListPage,
    PriceListRead,
    PriceListUpdate,
    PriceRoundingPage,
    PriceRoundingRead,
    PriceRoundingUpdate,
    PriceTierBody,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.pricing.model import PriceTier
from omnitill.services import price_lists as service

router = APIRouter(prefix="/api/v1", tags=["pricing"])

Reader = Annotated[Actor, Depends(require(Permission.PRICING_READ))]
Writer = Annotated[Actor, Depends(require(Permission.PRICING_WRITE))]
CurrencyFilter = Annotated[str | None, Query(max_length=3, description="ISO 4217 code.")]


@router.post(
    "/price-lists",
    response_model=PriceListRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a price list",
)
def create_price_list(body: PriceListCreate, actor: Writer, db: DbDep) -> PriceListRead:
    """409 `price_list.name_taken`; 422 `money.unknown_currency`, `pricing.invalid_window`."""
    row = service.create_price_list(
        db=db,
        actor=actor,
        data=service.PriceListInput(
            **body.model_dump(exclude={"channels", "locations", "customer_groups"}),
            channels=tuple(body.channels),
            locations=tuple(body.locations),
            customer_groups=tuple(body.customer_groups),
        ),
    )
    return _list_read(row)


@router.get("/price-lists", response_model=PriceListPage, summary="List price lists")
def list_price_lists(
    _actor: Reader,
    db: DbDep,
    currency: CurrencyFilter = None,
    active: Annotated[bool | None, Query(description="Only active or inactive lists.")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> PriceListPage:
    """Price lists in name order."""
    page = service.list_price_lists(
        db=db, currency=currency, active=active, cursor=cursor, limit=limit
    )
    return PriceListPage(items=[_list_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/price-lists/{price_list_id}", response_model=PriceListRead, summary="Get a price list"
)
def get_price_list(price_list_id: uuid.UUID, _actor: Reader, db: DbDep) -> PriceListRead:
    """404 `price_list.not_found`."""
    return _list_read(service.get_price_list(db=db, price_list_id=price_list_id))


@router.patch(
    "/price-lists/{price_list_id}", response_model=PriceListRead, summary="Update a price list"
)
def update_price_list(
    price_list_id: uuid.UUID, body: PriceListUpdate, actor: Writer, db: DbDep
) -> PriceListRead:
    """Only the fields sent change; the currency cannot (the entries are priced in it)."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in sent.items() if v is not None}
    changes = service.PriceListChanges(
        **values, clear=frozenset(k for k, v in sent.items() if v is None)
    )
    row = service.update_price_list(
        db=db, actor=actor, price_list_id=price_list_id, changes=changes
    )
    return _list_read(row)


@router.get(
    "/price-lists/{price_list_id}/entries",
    response_model=PriceEntryPage,
    summary="List the prices of a price list",
)
def list_entries(
    price_list_id: uuid.UUID, _actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> PriceEntryPage:
    """Entries in SKU order; 404 `price_list.not_found`."""
    page = service.list_entries(db=db, price_list_id=price_list_id, cursor=cursor, limit=limit)
    return PriceEntryPage(items=[_entry_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.put(
    "/price-lists/{price_list_id}/entries",
    response_model=list[PriceEntryRead],
    summary="Set many SKUs' prices in a price list",
)
def set_entries(
    price_list_id: uuid.UUID, body: PriceEntriesUpdate, actor: Writer, db: DbDep
) -> list[PriceEntryRead]:
    """Up to 5,000 prices in one transaction: all or none. 422 errors name
    `entries.<i>.sku`, `entries.<i>.tiers.<j>.min_quantity` and so on."""
    records = service.set_entries(
        db=db,
        actor=actor,
        price_list_id=price_list_id,
        entries=[
            service.EntryInput(
                sku=e.sku,
                unit_price=e.unit_price,
                compare_at=e.compare_at,
                tiers=tuple(PriceTier(t.min_quantity, t.unit_price) for t in e.tiers),
            )
            for e in body.entries
        ],
    )
    return [_entry_read(r) for r in records]


@router.put(
    "/price-lists/{price_list_id}/entries/{sku}",
    response_model=PriceEntryRead,
    summary="Set a SKU's price in a price list",
)
def set_entry(
    price_list_id: uuid.UUID, sku: str, body: PriceEntryUpdate, actor: Writer, db: DbDep
) -> PriceEntryRead:
    """Creates or replaces; 422 `catalog.unknown_sku` (field `sku`), `pricing.invalid_tier`,
    `pricing.tiers_not_ascending`, `pricing.price_negative`."""
    record = service.set_entry(
        db=db,
        actor=actor,
        price_list_id=price_list_id,
        sku=sku,
        unit_price=body.unit_price,
        compare_at=body.compare_at,
        tiers=[PriceTier(t.min_quantity, t.unit_price) for t in body.tiers],
    )
    return _entry_read(record)


@router.delete(
    "/price-lists/{price_list_id}/entries/{sku}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a SKU's price from a price list",
)
def remove_entry(price_list_id: uuid.UUID, sku: str, actor: Writer, db: DbDep) -> None:
    """The SKU falls back to other lists or its base price; 404 `price_list.entry_not_found`."""
    service.remove_entry(db=db, actor=actor, price_list_id=price_list_id, sku=sku)


@router.post(
    "/exchange-rates",
    response_model=ExchangeRateRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add an exchange rate",
)
def add_exchange_rate(body: ExchangeRateCreate, actor: Writer, db: DbDep) -> ExchangeRateRead:
    """Rates are only added, for today or later: 422 `exchange_rate.backdated`,
    `pricing.invalid_rate`; 409 `exchange_rate.exists` for the same pair and day."""
    row = service.add_exchange_rate(
        db=db,
        actor=actor,
        base=body.base,
        quote=body.quote,
        rate=body.rate,
        valid_from=body.valid_from,
    )
    return _rate_read(row)


@router.get("/exchange-rates", response_model=ExchangeRatePage, summary="List exchange rates")
def list_exchange_rates(
    _actor: Reader,
    db: DbDep,
    base: CurrencyFilter = None,
    quote: CurrencyFilter = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> ExchangeRatePage:
    """Newest first, optionally of one currency pair."""
    page = service.list_exchange_rates(db=db, base=base, quote=quote, cursor=cursor, limit=limit)
    return ExchangeRatePage(items=[_rate_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.put(
    "/price-roundings/{currency}",
    response_model=PriceRoundingRead,
    summary="Set how converted prices round in a currency",
)
def set_rounding(
    currency: str, body: PriceRoundingUpdate, actor: Writer, db: DbDep
) -> PriceRoundingRead:
    """422 `pricing.invalid_rounding` (increment >= 1, charm ending 0-99)."""
    row = service.set_rounding(
        db=db,
        actor=actor,
        currency=currency,
        increment=body.increment,
        charm_ending=body.charm_ending,
    )
    return _rounding_read(row)


@router.get(
    "/price-roundings/{currency}",
    response_model=PriceRoundingRead,
    summary="Get a currency's price rounding",
)
def get_rounding(currency: str, _actor: Reader, db: DbDep) -> PriceRoundingRead:
    """404 `price_rounding.not_found`: converted prices round to the minor unit."""
    return _rounding_read(service.get_rounding(db=db, currency=currency))


@router.get("/price-roundings", response_model=PriceRoundingPage, summary="List price roundings")
def list_roundings(
    _actor: Reader, db: DbDep, cursor: Cursor = None, limit: Limit = None
) -> PriceRoundingPage:
    """Roundings in currency order."""
    page = service.list_roundings(db=db, cursor=cursor, limit=limit)
    return PriceRoundingPage(
        items=[_rounding_read(r) for r in page.items], next_cursor=page.next_cursor
    )


def _list_read(row: service.PriceList) -> PriceListRead:
    return PriceListRead(
        id=row.id,
        name=row.name,
        currency=row.currency,
        priority=row.priority,
        tax_inclusive=row.tax_inclusive,
        channels=row.channels,
        locations=row.location_codes,
        customer_groups=row.customer_groups,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _entry_read(record: service.EntryRecord) -> PriceEntryRead:
    e = record.entry
    return PriceEntryRead(
        sku=record.sku,
        variant_id=e.variant_id,
        unit_price=e.unit_price_minor,
        compare_at=e.compare_at_minor,
        tiers=[PriceTierBody(**t) for t in e.tiers],
        currency=record.currency,
        updated_at=e.updated_at,
    )


def _rate_read(row: service.ExchangeRate) -> ExchangeRateRead:
    return ExchangeRateRead(
        id=row.id,
        base=row.base,
        quote=row.quote,
        rate=format(Decimal(row.rate).normalize(), "f"),
        valid_from=row.valid_from,
        created_at=row.created_at,
    )


def _rounding_read(row: service.PriceRounding) -> PriceRoundingRead:
    return PriceRoundingRead(
        currency=row.currency, increment=row.increment, charm_ending=row.charm_ending
    )
