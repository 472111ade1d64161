"""Back-office stock actions: adjustments with a reason, open stock exceptions (resolve by a
count or an acknowledgement) and cycle counts (start, enter counts, submit, approve).

Each form calls the service the API route calls, with its permission: `stock.adjust` for
adjustments, resolutions and approvals (POST /api/v1/stock/adjustments, .../resolve,
/api/v1/counts/{n}/approve), `stock.count` to start and record counts. Back-office users
act under their own role, so no manager override is asked for here.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.api.routes.admin_forms import (
    choice,
    line_rows,
    optional_number,
    parse_int,
    refuse,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError
from omnitill.domain.inventory.counts import CountStatus, Uncounted
from omnitill.services import count_views, stock_exceptions
from omnitill.services import counts as count_service
from omnitill.services import locations as location_service
from omnitill.services import stock as stock_service
from omnitill.services.database import Database

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

ROWS = 5  # empty line rows offered on a form


def store_codes(*, db: Database, actor: Actor) -> list[str]:
    """The location codes the actor may see, for the selects of a form."""
    found = location_service.list_locations(db=db, actor=actor, cursor=None, limit=200)
    return [loc.code for loc in found.items]


# --- adjustments ---------------------------------------------------------------------------


@router.get("/adjustments", response_class=HTMLResponse)
def adjustment_form(request: Request, actor: AdminActor, db: DbDep) -> Response:
    """Correct on-hand at a location by signed quantities, with a reason (`stock.adjust`)."""
    actor.require(Permission.STOCK_ADJUST)
    return page(
        request,
        actor,
        "adjustments.html",
        title="Stock adjustment",
        stores=store_codes(db=db, actor=actor),
        rows=ROWS,
    )


@router.post("/adjustments")
def adjust(actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """As POST /api/v1/stock/adjustments: every line in one audited transaction."""
    actor.require(Permission.STOCK_ADJUST)
    location = form.get("location")
    rows = line_rows(form, signed=True)
    results = stock_service.adjust(
        db=db,
        actor=actor,
        location=location,
        lines=[stock_service.StockLineInput(r.sku, None, r.quantity) for r in rows],
        reason=form.get("reason"),
    )
    summary = ", ".join(f"{r.sku} {r.quantity:+d} (on hand {r.on_hand})" for r in results)
    return redirect(f"/admin/stock?location={location}", notice=f"Adjusted: {summary}.")


# --- stock exceptions ------------------------------------------------------------------------


@router.get("/exceptions", response_class=HTMLResponse)
def exceptions(request: Request, actor: AdminActor, db: DbDep) -> Response:
    """Open stock exceptions, oldest first, each with its resolve form."""
    rows = stock_service.open_exceptions(db=db, actor=actor)
    return page(request, actor, "exceptions.html", title="Stock exceptions", rows=rows)


@router.post("/exceptions/{exception_id}/resolve")
def resolve_exception(
    exception_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep
) -> Response:
    """By a shelf count (on-hand set to it) or acknowledged, as .../exceptions/{id}/resolve."""
    actor.require(Permission.STOCK_ADJUST)
    counted = optional_number(form.get("counted"), field="counted", minimum=0)
    done = stock_exceptions.resolve_exception(
        db=db, actor=actor, exception_id=exception_id, reason=form.get("reason"), counted=counted
    )
    return redirect(
        "/admin/exceptions",
        notice=f"{done.sku} at {done.location} {done.resolution}; on hand {done.on_hand}.",
    )


# --- cycle counts ----------------------------------------------------------------------------


@router.get("/counts", response_class=HTMLResponse)
def counts(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    status: str = "",
    cursor: str | None = None,
) -> Response:
    """Count sessions, newest first, and the form to start one."""
    statuses = [s.value for s in CountStatus]
    found, next_cursor = count_views.find(
        db=db, actor=actor, status=status if status in statuses else None, cursor=cursor
    )
    return page(
        request,
        actor,
        "counts.html",
        title="Cycle counts",
        found=found,
        status=status,
        statuses=statuses,
        stores=store_codes(db=db, actor=actor),
        next_link=f"/admin/counts?status={status}&cursor={next_cursor}" if next_cursor else "",
    )


@router.post("/counts")
def start_count(actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Open a count of a location or a category at it, as POST /api/v1/counts."""
    view = count_service.start(
        db=db,
        actor=actor,
        location=form.get("location"),
        category=form.get("category") or None,
        blind=form.has("blind"),
    )
    return redirect(f"/admin/counts/{view.number}", notice=f"Count {view.number} started.")


@router.get("/counts/{number}", response_class=HTMLResponse)
def count_page(request: Request, number: str, actor: AdminActor, db: DbDep) -> Response:
    """A count's lines (expected figures when the role may see them) and its next steps."""
    view = count_views.get(db=db, actor=actor, number=number)
    return page(
        request,
        actor,
        "count.html",
        title=f"Count {view.number}",
        count=view,
        uncounted=[u.value for u in Uncounted],
    )


@router.post("/counts/{number}/lines")
def record_counts(number: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """The counted quantities typed (blank: not counted yet), as PUT .../counts/{n}/lines."""
    entries: list[count_service.CountEntry] = []
    errors: list[FieldError] = []
    for n, (sku, text) in enumerate(
        zip(form.getlist("sku"), form.getlist("counted"), strict=False)
    ):
        if text:
            counted = parse_int(text, field=f"lines.{n}.counted", errors=errors, minimum=0)
            entries.append(count_service.CountEntry(sku, counted or 0))
    if not entries:
        errors.append(FieldError("lines", "admin.required", "enter at least one count"))
    refuse(errors)
    count_service.record(db=db, actor=actor, number=number, lines=entries)
    return redirect(f"/admin/counts/{number}", notice=f"{len(entries)} counts recorded.")


@router.post("/counts/{number}/submit")
def submit_count(number: str, actor: AdminActor, _form: PostedForm, db: DbDep) -> Response:
    """The counters are done: open -> submitted."""
    count_service.submit(db=db, actor=actor, number=number)
    return redirect(f"/admin/counts/{number}", notice="Count submitted.")


@router.post("/counts/{number}/approve")
def approve_count(number: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Book the variances (`stock.adjust`), uncounted lines skipped or counted as none."""
    actor.require(Permission.STOCK_ADJUST)
    policy = choice(
        form.get("uncounted", Uncounted.SKIP), [u.value for u in Uncounted], field="uncounted"
    )
    count_service.approve(
        db=db, actor=actor, number=number, uncounted=policy, reason=form.get("reason") or None
    )
    return redirect(f"/admin/counts/{number}", notice="Count approved; variances booked.")


@router.post("/counts/{number}/cancel")
def cancel_count(number: str, actor: AdminActor, _form: PostedForm, db: DbDep) -> Response:
    """Cancel an open or submitted count; nothing is booked."""
    count_service.cancel(db=db, actor=actor, number=number)
    return redirect(f"/admin/counts/{number}", notice="Count cancelled.")
