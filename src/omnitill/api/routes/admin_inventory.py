"""Back-office inventory: stock levels per location, searched by SKU, as GET /api/v1/stock
(`stock.read`; staff bound to stores see their stores only)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, page
from omnitill.services import locations as location_service
from omnitill.services import stock as stock_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)


@router.get("/stock", response_class=HTMLResponse)
def stock_levels(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    sku: str = "",
    location: str = "",
    cursor: str | None = None,
) -> Response:
    """On hand, reserved, available and the other buckets per SKU and location."""
    rows, next_cursor = stock_service.levels(
        db=db,
        actor=actor,
        sku=sku.strip() or None,
        location=location or None,
        cursor=cursor,
        limit=100,
    )
    stores = location_service.list_locations(db=db, actor=actor, cursor=None, limit=200).items
    query = urlencode({k: v for k, v in (("sku", sku), ("location", location)) if v})
    return page(
        request,
        actor,
        "stock.html",
        title="Inventory",
        rows=rows,
        sku=sku,
        location=location,
        stores=[s.code for s in stores],
        next_link=(f"/admin/stock?{query}&cursor={next_cursor}" if next_cursor else ""),
    )
