"""Back-office purchasing: purchase orders (list, create a draft with lines, send, receive a
delivery against one, cancel) and replenishment suggestions (with their reasoning; a
purchase suggestion becomes a draft PO, a transfer suggestion a transfer request).

Forms call what the API calls with its permissions: services/purchasing.py with
`purchasing.write` (POST /api/v1/purchase-orders, .../send, .../cancel),
services/purchase_receipts.py with `stock.receive` (POST .../receipts), and
services/replenishment.suggestions with `stock.read`.
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.api.routes.admin_forms import line_rows, parse_int, refuse, whole_number
from omnitill.api.routes.admin_stock import ROWS, store_codes
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError
from omnitill.domain.inventory.purchasing import OrderLineRequest
from omnitill.domain.inventory.replenishment import SuggestionKind
from omnitill.services import purchase_receipts, replenishment, suppliers
from omnitill.services import purchasing as po_service
from omnitill.services import transfers as transfer_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

STATUSES = ("draft", "sent", "partially_received", "received", "closed", "cancelled")


@router.get("/purchase-orders", response_class=HTMLResponse)
def purchase_orders(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    status: str = "",
    cursor: str | None = None,
) -> Response:
    """Purchase orders, newest first, and the form for a new draft."""
    found, next_cursor = po_service.list_orders(
        db=db, actor=actor, status=status if status in STATUSES else None, cursor=cursor
    )
    active, _ = suppliers.list_suppliers(db=db, actor=actor, active=True, limit=200)
    return page(
        request,
        actor,
        "purchase_orders.html",
        title="Purchase orders",
        found=found,
        status=status,
        statuses=STATUSES,
        suppliers=active,
        stores=store_codes(db=db, actor=actor),
        rows=ROWS,
        next_link=(
            f"/admin/purchase-orders?status={status}&cursor={next_cursor}" if next_cursor else ""
        ),
    )


@router.post("/purchase-orders")
def create_order(actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """A draft in the supplier's currency; unit costs from what the supplier sells. Lines
    come as base units (`quantity`) or, from a suggestion, as whole `packs`."""
    actor.require(Permission.PURCHASING_WRITE)
    if form.has("packs"):
        lines = _pack_lines(form.getlist("sku"), form.getlist("packs"))
    else:
        lines = tuple(OrderLineRequest(sku=r.sku, quantity=r.quantity) for r in line_rows(form))
    view = po_service.create_order(
        db=db,
        actor=actor,
        data=po_service.PurchaseOrderInput(
            supplier=form.get("supplier"),
            location=form.get("location"),
            lines=lines,
            notes=form.get("notes"),
        ),
    )
    return redirect(f"/admin/purchase-orders/{view.number}", notice=f"{view.number} drafted.")


def _pack_lines(skus: list[str], packs: list[str]) -> tuple[OrderLineRequest, ...]:
    errors: list[FieldError] = []
    lines = []
    for n, (sku, text) in enumerate(zip(skus, packs, strict=False)):
        count = parse_int(text, field=f"lines.{n}.packs", errors=errors, minimum=1)
        lines.append(OrderLineRequest(sku=sku, packs=count or 1))
    refuse(errors)
    return tuple(lines)


@router.get("/purchase-orders/{number}", response_class=HTMLResponse)
def purchase_order(request: Request, number: str, actor: AdminActor, db: DbDep) -> Response:
    """A purchase order's lines, receipts and next steps."""
    view = po_service.get_order(db=db, actor=actor, number=number)
    return page(request, actor, "purchase_order.html", title=view.number, po=view)


@router.post("/purchase-orders/{number}/send")
def send_order(number: str, actor: AdminActor, _form: PostedForm, db: DbDep) -> Response:
    """draft -> sent: the ordered units become incoming at the ship-to location."""
    actor.require(Permission.PURCHASING_WRITE)
    po_service.send_order(db=db, actor=actor, number=number)
    return redirect(f"/admin/purchase-orders/{number}", notice=f"{number} sent.")


@router.post("/purchase-orders/{number}/cancel")
def cancel_order(number: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Cancel an order nothing was received on; its incoming is released."""
    actor.require(Permission.PURCHASING_WRITE)
    po_service.cancel_order(db=db, actor=actor, number=number, reason=form.get("reason"))
    return redirect(f"/admin/purchase-orders/{number}", notice=f"{number} cancelled.")


@router.post("/purchase-orders/{number}/receipts")
def receive_order(number: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """A delivery against the order: each line's quantity that came (blank or 0: none)."""
    actor.require(Permission.STOCK_RECEIVE)
    errors: list[FieldError] = []
    lines = []
    for n, (line_no, text) in enumerate(
        zip(form.getlist("line_no"), form.getlist("quantity"), strict=False)
    ):
        quantity = parse_int(text or "0", field=f"lines.{n}.quantity", errors=errors, minimum=0)
        if quantity:
            lines.append(
                purchase_receipts.ReceiptLineInput(quantity=quantity, line_no=int(line_no))
            )
    if not lines and not errors:
        errors.append(FieldError("lines", "admin.required", "enter what arrived"))
    refuse(errors)
    result = purchase_receipts.receive(
        db=db,
        actor=actor,
        number=number,
        request=purchase_receipts.ReceiptInput(
            lines=tuple(lines), reference=form.get("reference") or None
        ),
    )
    units = sum(line.quantity for line in result.lines)
    return redirect(
        f"/admin/purchase-orders/{number}", notice=f"Received {units} units; {result.status}."
    )


# --- replenishment ---------------------------------------------------------------------------


@router.get("/replenishment", response_class=HTMLResponse)
def suggestions(
    request: Request, actor: AdminActor, db: DbDep, location: str = "", days: str = "28"
) -> Response:
    """Suggested transfers and purchases, most urgent first, each with its reasoning;
    purchases grouped by supplier and ship-to location into one draft PO each."""
    window = whole_number(days, field="days", minimum=1)
    found = replenishment.suggestions(db=db, actor=actor, location=location or None, days=window)
    purchases: dict[tuple[str, str], list[object]] = defaultdict(list)
    for s in found.items:
        if s.kind is SuggestionKind.PURCHASE and s.purchase is not None:
            purchases[(s.purchase.supplier, s.need.level.location)].append(s)
    return page(
        request,
        actor,
        "replenishment.html",
        title="Replenishment",
        found=found,
        purchases=purchases,
        location=location,
        days=window,
        stores=store_codes(db=db, actor=actor),
    )


@router.post("/replenishment/transfer")
def suggested_transfer(actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """A transfer suggestion turned into a transfer request."""
    quantity = whole_number(form.get("quantity"), field="quantity", minimum=1)
    view = transfer_service.request(
        db=db,
        actor=actor,
        transfer=transfer_service.TransferRequest(
            source=form.get("source"),
            destination=form.get("destination"),
            lines=(transfer_service.TransferLineInput(form.get("sku"), quantity),),
            notes="replenishment suggestion",
        ),
    )
    return redirect(f"/admin/transfers/{view.number}", notice=f"Transfer {view.number} requested.")
