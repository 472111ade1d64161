"""Cycle counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from omnitill.api.deps import CurrentActor, Cursor, DbDep, Limit, LocationFilter, OverrideHeader
from omnitill.api.schemas.counts import (
    CountApprove,
    CountCreate,
    CountLineRead,
    CountLinesUpdate,
    CountPage,
    CountRead,
    CountTotalsRead,
)
from omnitill.services import counts as count_service

router = APIRouter(prefix="/api/v1", tags=["counts"])


def to_read(view: count_service.CountView) -> CountRead:
    t = view.totals
    return CountRead(
        number=view.number,
        id=str(view.id),
        location=view.location,
        category=view.category,
        blind=view.blind,
        status=view.status,
        expected_visible=view.expected_visible,
        started_by=view.started_by,
        started_at=view.started_at,
        submitted_at=view.submitted_at,
        approved_by=view.approved_by,
        approved_at=view.approved_at,
        cancelled_at=view.cancelled_at,
        lines=[
            CountLineRead(
                sku=line.sku,
                name=line.name,
                tracking=line.tracking,
                status="uncounted" if line.counted is None else "counted",
                counted=line.counted,
                counted_at=line.counted_at,
                counted_by=line.counted_by,
                expected_at_start=line.expected_at_start,
                movements_during=line.movements_during,
                expected_at_count=line.expected_at_count,
                variance=line.variance,
                variance_value=line.variance_value,
                unit_cost=line.unit_cost,
                currency=line.currency,
            )
            for line in view.lines
        ],
        totals=None
        if t is None
        else CountTotalsRead(
            lines=t.lines,
            counted=t.counted,
            uncounted=t.uncounted,
            units_over=t.units_over,
            units_short=t.units_short,
            net_units=t.net_units,
            value_over=t.value_over,
            value_short=t.value_short,
            net_value=t.net_value,
            lines_without_cost=t.lines_without_cost,
        ),
    )


@router.post(
    "/counts",
    response_model=CountRead,
    status_code=status.HTTP_201_CREATED,
    summary="Open a cycle count of a location or a category at it",
    responses={
        409: {"description": "`count.already_open`."},
        422: {"description": "`count.category_not_found`, `location.not_found`."},
    },
)
def create_count(body: CountCreate, actor: CurrentActor, db: DbDep) -> CountRead:
    """One line per variant stocked there (in the category and its subcategories, if
    given), expecting its on_hand now. Needs stock.count at the location.

    Errors: 409 `count.already_open` (`details.number`: the count of the same scope still
    open or submitted); 422 `count.category_not_found` (field `category`),
    `location.not_found`; 403 `auth.location_forbidden`.
    """
    return to_read(
        count_service.start(
            db=db, actor=actor, location=body.location, category=body.category, blind=body.blind
        )
    )


@router.get("/counts", response_model=CountPage, summary="Find count sessions, newest first")
def list_counts(
    actor: CurrentActor,
    db: DbDep,
    location: LocationFilter = None,
    status_: Annotated[
        str | None, Query(alias="status", description="open, submitted, approved, cancelled.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> CountPage:
    """Sessions at the caller's locations, without lines. Errors: 422 `count.invalid_status`."""
    views, next_cursor = count_service.find(
        db=db, actor=actor, location=location, status=status_, cursor=cursor, limit=limit
    )
    return CountPage(items=[to_read(v) for v in views], next_cursor=next_cursor)


@router.get("/counts/{number}", response_model=CountRead, summary="One count session")
def get_count(number: str, actor: CurrentActor, db: DbDep) -> CountRead:
    """Blind counting: while a blind count is open, callers without stock.adjust see each
    line's sku, name and count only (expected figures null, `expected_visible` false).
    Errors: 404 `count.not_found`."""
    return to_read(count_service.get(db=db, actor=actor, number=number))


@router.put(
    "/counts/{number}/lines",
    response_model=CountRead,
    summary="Record counted quantities",
    responses={
        409: {"description": "`count.not_open`."},
        422: {
            "description": "`stock.count_negative`, `catalog.unknown_sku`, "
            "`count.duplicate_sku`, `count.sku_out_of_scope`."
        },
    },
)
def record_counts(number: str, body: CountLinesUpdate, actor: CurrentActor, db: DbDep) -> CountRead:
    """Each count is stamped now with the counter; a later count of a SKU replaces the
    earlier one; a SKU not in the session is added. Needs stock.count.

    Errors: 422 `stock.count_negative` (`lines.N.counted`), `catalog.unknown_sku` and
    `count.duplicate_sku` (`lines.N.sku`), `count.sku_out_of_scope` (outside the counted
    category); 409 `count.not_open`; 404 `count.not_found`.
    """
    return to_read(
        count_service.record(
            db=db,
            actor=actor,
            number=number,
            lines=[count_service.CountEntry(line.sku, line.counted) for line in body.lines],
        )
    )


@router.post(
    "/counts/{number}/submit",
    response_model=CountRead,
    summary="Finish counting (open -> submitted)",
    responses={409: {"description": "`count.not_open`."}},
)
def submit_count(number: str, actor: CurrentActor, db: DbDep) -> CountRead:
    """The counters are done; the variance report opens to everyone on the count.
    Errors: 409 `count.not_open`; 404 `count.not_found`."""
    return to_read(count_service.submit(db=db, actor=actor, number=number))


@router.get(
    "/counts/{number}/variances",
    response_model=CountRead,
    summary="The variance report",
    responses={403: {"description": "`count.blind`."}},
)
def count_variances(number: str, actor: CurrentActor, db: DbDep) -> CountRead:
    """Per line: expected at start, on-hand movements between the start and the count
    (sales and receipts made while counting; counts excluded), expected at count, counted,
    variance and its value at cost; uncounted lines have status `uncounted`.
    Errors: 403 `count.blind` (an open blind count, without stock.adjust); 404
    `count.not_found`."""
    return to_read(count_service.variances(db=db, actor=actor, number=number))


@router.post(
    "/counts/{number}/approve",
    response_model=CountRead,
    summary="Approve: book the variances (audited)",
    responses={409: {"description": "`count.not_approvable`."}},
)
def approve_count(
    number: str,
    actor: CurrentActor,
    db: DbDep,
    body: CountApprove | None = None,
    override: OverrideHeader = None,
) -> CountRead:
    """Each nonzero variance becomes a `count` movement (an increment of on_hand, so sales
    after the count stay booked). Needs stock.adjust, or a manager override token in
    X-Manager-Override.

    Errors: 409 `count.not_approvable` (not submitted, e.g. approved already); 403
    `auth.permission_denied`, `override.invalid`; 404 `count.not_found`.
    """
    body = body or CountApprove()
    return to_read(
        count_service.approve(
            db=db,
            actor=actor,
            number=number,
            uncounted=body.uncounted,
            reason=body.reason,
            override_token=override,
        )
    )


@router.post(
    "/counts/{number}/cancel",
    response_model=CountRead,
    summary="Cancel a count (nothing is booked)",
    responses={409: {"description": "`count.not_cancellable`."}},
)
def cancel_count(number: str, actor: CurrentActor, db: DbDep) -> CountRead:
    """From open or submitted. Errors: 409 `count.not_cancellable`; 404 `count.not_found`."""
    return to_read(count_service.cancel(db=db, actor=actor, number=number))
