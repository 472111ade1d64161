"""Replenishment suggestions, reorder settings, dispositions, stock CSV and the stock feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, status
from fastapi.responses import StreamingResponse

from omnitill.api.deps import (
    CurrentActor,
    Cursor,
    DbDep,
    LocationFilter,
    OverrideHeader,
    SkuFilter,
)
from omnitill.api.schemas.replenishment import (
    DispositionCreate,
    DispositionLot,
    DispositionRead,
    FeedItem,
    FeedPage,
    ImportReportRead,
    ImportRowError,
    ReorderSettingList,
    ReorderSettingRead,
    ReorderSettingsUpdate,
    ReorderSettingValues,
    SuggestionList,
    SuggestionRead,
    SupplierRef,
)
from omnitill.domain.inventory.replenishment import Suggestion, rounded
from omnitill.domain.inventory.stock_csv import EXPORT_COLUMNS, decode_csv, format_csv
from omnitill.services import dispositions, replenishment, stock_csv, stock_feed

router = APIRouter(prefix="/api/v1", tags=["replenishment"])

MAX_IMPORT_ROWS = 10_000
_SETTING_NAMES = ("reorder_point", "max_level", "safety_stock")


def _setting_read(r: replenishment.ReorderSettingResult) -> ReorderSettingRead:
    return ReorderSettingRead(
        sku=r.sku,
        location=r.location,
        reorder_point=r.settings.reorder_point,
        max_level=r.settings.max_level,
        safety_stock=r.settings.safety_stock,
        previous=ReorderSettingValues(
            reorder_point=r.previous.reorder_point,
            max_level=r.previous.max_level,
            safety_stock=r.previous.safety_stock,
        ),
    )


@router.put(
    "/stock/reorder-settings",
    response_model=ReorderSettingRead | ReorderSettingList,
    summary="Set reorder point, max level and safety stock (one level or up to 1,000; audited)",
)
def set_reorder_settings(
    body: ReorderSettingsUpdate,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> ReorderSettingRead | ReorderSettingList:
    """A setting left out keeps its value; `null` clears reorder_point or max_level. Creates
    the stock level if there is none. A list in `items` applies all or nothing, and its
    answer is `{"items": [...]}`. Needs stock.adjust or a manager override.

    Errors: 422 `inventory.value_required`, `catalog.unknown_sku`, `location.not_found`,
    `inventory.invalid_quantity`, `inventory.max_below_reorder_point`,
    `inventory.duplicate_setting` (each naming its field, `items.N.<field>` in a list),
    `request.validation_failed` (items and sku/location together, or over 1,000 items);
    403 `auth.permission_denied`, `auth.location_forbidden`.
    """
    batch = body.items is not None
    sources = body.items if body.items is not None else [body]
    items = [
        replenishment.ReorderSettingInput(
            sku=item.sku or "",
            location=item.location or "",
            changes={n: getattr(item, n) for n in _SETTING_NAMES if n in item.model_fields_set},
        )
        for item in sources
    ]
    results = replenishment.set_reorder_settings(
        db=db, actor=actor, items=items, batch=batch, override_token=override
    )
    if batch:
        return ReorderSettingList(items=[_setting_read(r) for r in results])
    return _setting_read(results[0])


def _suggestion_read(s: Suggestion) -> SuggestionRead:
    need, level, plan = s.need, s.need.level, s.purchase
    cover = need.days_of_cover
    return SuggestionRead(
        kind=s.kind.value,
        sku=level.sku,
        location=level.location,
        location_kind=level.location_kind,
        quantity=s.quantity,
        from_location=s.source_location,
        supplier=(
            SupplierRef(code=plan.supplier, name=plan.supplier_name, preferred=plan.preferred)
            if plan is not None
            else None
        ),
        packs=plan.packs if plan else None,
        pack_size=plan.pack_size if plan else None,
        estimated_cost=plan.estimated_cost_minor if plan else None,
        currency=plan.currency if plan else None,
        projected=level.projected,
        available=level.available,
        incoming=level.incoming,
        in_transit=level.in_transit,
        reorder_point=level.reorder_point or 0,
        max_level=level.max_level,
        target=need.target,
        need=need.quantity,
        sold=max(0, level.sold),
        velocity_per_day=float(rounded(need.velocity, 2)),
        days_of_cover=None if cover is None else float(rounded(cover, 1)),
        lead_time_days=need.lead_time_days,
        reasoning=list(s.reasoning),
    )


@router.get(
    "/replenishment/suggestions",
    response_model=SuggestionList,
    summary="Transfers and purchase orders that restock levels at their reorder point",
)
def list_suggestions(
    actor: CurrentActor,
    db: DbDep,
    location: LocationFilter = None,
    sku: SkuFilter = None,
    days: Annotated[int, Query(description="Sales velocity window in days (1 to 365).")] = 28,
) -> SuggestionList:
    """For every level (in your locations) whose available + incoming + in_transit is at or
    below its reorder point: transfers from warehouses with spare stock first, then a
    purchase from the preferred supplier in whole packs. Each suggestion states its figures
    and its reasoning. Most urgent (fewest days of cover) first. Read-only; needs stock.read.

    Errors: 422 `replenishment.invalid_days`, `location.not_found`; 403
    `auth.location_forbidden`, `auth.permission_denied`.
    """
    found = replenishment.suggestions(db=db, actor=actor, location=location, sku=sku, days=days)
    return SuggestionList(
        items=[_suggestion_read(s) for s in found.items],
        days=found.days,
        sales_since=found.since,
        generated_at=found.generated_at,
    )


@router.post(
    "/stock/dispositions",
    response_model=DispositionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Write stock off or return it to the vendor (audited)",
)
def create_disposition(
    body: DispositionCreate,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> DispositionRead:
    """Units leave on_hand and the bucket they are taken `from` (sellable: free units only),
    in one conditional write; a movement per bucket that changes (`write_off` or
    `return_to_vendor`). Needs stock.adjust or a manager override.

    Errors: 422 `inventory.unknown_bucket`, `inventory.unknown_action`,
    `inventory.invalid_quantity`, `stock.reason_required`, `inventory.supplier_required`,
    `inventory.supplier_not_expected`, `supplier.not_found`, `catalog.unknown_sku`,
    `location.not_found`, `inventory.bucket_insufficient`, lot and serial errors
    (`inventory.lot_*`, `inventory.serial_*`, `inventory.not_tracked`); 403
    `auth.permission_denied`, `auth.location_forbidden`.
    """
    result = dispositions.dispose(
        db=db,
        actor=actor,
        data=dispositions.DispositionInput(
            sku=body.sku,
            location=body.location,
            source=body.source,
            action=body.action,
            quantity=body.quantity,
            reason=body.reason,
            supplier=body.supplier,
            lot=body.lot,
            serials=tuple(body.serials),
        ),
        override_token=override,
    )
    return DispositionRead(
        sku=result.sku,
        location=result.location,
        source=result.source,
        action=result.action,
        quantity=result.quantity,
        supplier=result.supplier,
        on_hand=result.on_hand,
        lots=[
            DispositionLot(lot=p.lot, quantity=p.quantity, serials=list(p.serials))
            for p in result.portions
        ],
        movements=[str(m) for m in result.movement_ids],
    )


@router.get(
    "/stock/export",
    response_class=StreamingResponse,
    summary="Every stock level as CSV (streamed)",
    responses={200: {"content": {"text/csv": {}}, "description": "CSV with a header row."}},
)
def export_stock(
    actor: CurrentActor, db: DbDep, location: LocationFilter = None
) -> StreamingResponse:
    """Columns: sku, location, on_hand, reserved, available, safety_stock, reorder_point,
    max_level, quarantine, damaged, qc, expired, incoming, in_transit, updated_at; by SKU
    then location, your locations only. Needs stock.read.

    Errors: 422 `location.not_found`; 403 `auth.location_forbidden`, `auth.permission_denied`.
    """
    pages = stock_csv.export_pages(db=db, actor=actor, location=location)

    def body() -> Iterator[str]:
        yield format_csv([EXPORT_COLUMNS])
        for page in pages:
            yield format_csv(row.values() for row in page)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="stock-levels.csv"'},
    )


@router.post(
    "/stock/imports",
    response_model=ImportReportRead,
    summary="Import counts or adjustments from CSV, row by row (audited)",
)
def import_stock(
    body: Annotated[
        bytes,
        Body(
            media_type="text/csv",
            description="UTF-8 CSV with a header: sku,location,quantity (at most 10,000 rows).",
        ),
    ],
    actor: CurrentActor,
    db: DbDep,
    mode: Annotated[
        str, Query(description="`set`: quantity is the counted on_hand; `adjust`: a change.")
    ],
    reason: Annotated[str, Query(max_length=160, description="Why; required and audited.")],
    override: OverrideHeader = None,
) -> ImportReportRead:
    """Each row applies on its own: a bad row is reported (line, row, code, message) and the
    good ones still apply. `set` writes an `import` movement of the difference (none when
    on_hand already matches); `adjust` never takes on_hand below zero. In `set` mode a
    file without `quantity` uses `on_hand`, so an export imports as is. Needs stock.adjust
    or a manager override.

    Whole-file errors (422, nothing applied): `stock_csv.invalid_mode`,
    `stock.reason_required`, `stock_csv.not_utf8`, `stock_csv.empty_file`,
    `stock_csv.missing_columns`, `stock_csv.too_many_rows`; 403 `auth.permission_denied`.
    Row errors: `stock_csv.missing_value`, `stock_csv.invalid_quantity`,
    `stock.count_negative`, `stock_csv.duplicate_row`, `catalog.unknown_sku`,
    `location.not_found`, `auth.location_forbidden`, `stock_csv.tracked_variant`,
    `stock.would_go_negative`.
    """
    report = stock_csv.import_levels(
        db=db,
        actor=actor,
        lines=decode_csv(body),
        mode=mode,
        reason=reason,
        override_token=override,
        max_rows=MAX_IMPORT_ROWS,
    )
    return ImportReportRead(
        import_id=str(report.import_id),
        mode=report.mode,
        rows=report.rows,
        applied=report.applied,
        changed=report.changed,
        failed=report.failed,
        errors=[
            ImportRowError(line=e.line, row=e.row, code=e.code, message=e.message)
            for e in report.errors
        ],
    )


@router.get(
    "/stock/feed",
    response_model=FeedPage,
    summary="Stock levels changed since a time, in bulk (for catalog sync)",
)
def stock_feed_page(
    actor: CurrentActor,
    db: DbDep,
    since: Annotated[
        datetime | None,
        Query(description="ISO 8601; levels changed at or after it (naive means UTC)."),
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int | None, Query(description="Page size, 1 to 1,000 (default 500).")] = None,
    location: LocationFilter = None,
) -> FeedPage:
    """Ordered by (updated_at, variant, location). Page with `next_cursor` until it is
    null, then poll again with `since` = `next_since`: the scan's start less a 60-second
    overlap, because transactions commit out of timestamp order. Rows may repeat; apply
    them idempotently by (sku, location). Your locations only; needs stock.read.

    Errors: 422 `pagination.invalid_limit`, `pagination.invalid_cursor`,
    `location.not_found`; 403 `auth.location_forbidden`, `auth.permission_denied`.
    """
    page = stock_feed.feed(
        db=db, actor=actor, since=since, cursor=cursor, limit=limit, location=location
    )
    return FeedPage(
        items=[
            FeedItem(
                sku=r.sku,
                location=r.location,
                on_hand=r.on_hand,
                available=r.available,
                reserved=r.reserved,
                incoming=r.incoming,
                in_transit=r.in_transit,
                updated_at=r.updated_at,
            )
            for r in page.items
        ],
        next_cursor=page.next_cursor,
        next_since=page.next_since,
    )
