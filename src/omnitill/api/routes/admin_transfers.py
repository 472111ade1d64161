"""Back-office transfers between locations: list, request (source, destination, lines),
ship everything requested, and receive what arrived, through services/transfers.py as
POST /api/v1/transfers, .../ship, .../receive and .../cancel (the service asks for
`stock.transfer` at the source or the destination, as for the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.api.routes.admin_forms import line_rows, parse_int, refuse
from omnitill.api.routes.admin_stock import ROWS, store_codes
from omnitill.domain.errors import FieldError
from omnitill.services import transfers as transfer_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

STATUSES = ("requested", "shipped", "received", "cancelled")


@router.get("/transfers", response_class=HTMLResponse)
def transfers(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    status: str = "",
    cursor: str | None = None,
) -> Response:
    """Transfers from or to the actor's locations, newest first, and the request form."""
    found, next_cursor = transfer_service.find(
        db=db, actor=actor, status=status if status in STATUSES else None, cursor=cursor
    )
    return page(
        request,
        actor,
        "transfers.html",
        title="Transfers",
        found=found,
        status=status,
        statuses=STATUSES,
        stores=store_codes(db=db, actor=actor),
        rows=ROWS,
        next_link=f"/admin/transfers?status={status}&cursor={next_cursor}" if next_cursor else "",
    )


@router.post("/transfers")
def request_transfer(actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Ask for stock to move; nothing moves until it ships."""
    rows = line_rows(form)
    view = transfer_service.request(
        db=db,
        actor=actor,
        transfer=transfer_service.TransferRequest(
            source=form.get("source"),
            destination=form.get("destination"),
            lines=tuple(transfer_service.TransferLineInput(r.sku, r.quantity) for r in rows),
            notes=form.get("notes"),
        ),
    )
    return redirect(f"/admin/transfers/{view.number}", notice=f"Transfer {view.number} requested.")


@router.get("/transfers/{number}", response_class=HTMLResponse)
def transfer_page(request: Request, number: str, actor: AdminActor, db: DbDep) -> Response:
    """A transfer's lines, who did each step, its discrepancies and its next step."""
    view = transfer_service.get(db=db, actor=actor, number=number)
    return page(request, actor, "transfer.html", title=f"Transfer {view.number}", transfer=view)


@router.post("/transfers/{number}/ship")
def ship_transfer(number: str, actor: AdminActor, _form: PostedForm, db: DbDep) -> Response:
    """Ship everything requested: source on hand down, destination in transit up."""
    transfer_service.ship(db=db, actor=actor, number=number)
    return redirect(f"/admin/transfers/{number}", notice=f"Transfer {number} shipped.")


@router.post("/transfers/{number}/receive")
def receive_transfer(number: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Book what arrived per line; a short or over line opens a stock exception."""
    lines: list[transfer_service.ReceiveLineInput] = []
    errors: list[FieldError] = []
    for n, (sku, text) in enumerate(
        zip(form.getlist("sku"), form.getlist("received"), strict=False)
    ):
        quantity = parse_int(text, field=f"lines.{n}.quantity", errors=errors, minimum=0)
        lines.append(transfer_service.ReceiveLineInput(sku, quantity or 0, None, None))
    refuse(errors)
    view = transfer_service.receive(db=db, actor=actor, number=number, lines=lines or None)
    notice = f"Transfer {number} received."
    if view.discrepancies:
        notice += f" {len(view.discrepancies)} discrepancies opened as stock exceptions."
    return redirect(f"/admin/transfers/{number}", notice=notice)


@router.post("/transfers/{number}/cancel")
def cancel_transfer(number: str, actor: AdminActor, _form: PostedForm, db: DbDep) -> Response:
    """Withdraw a requested transfer (nothing had moved)."""
    transfer_service.cancel(db=db, actor=actor, number=number)
    return redirect(f"/admin/transfers/{number}", notice=f"Transfer {number} cancelled.")
