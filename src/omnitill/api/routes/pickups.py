"""The customer's side of buy online, pick up in store: the link in their notification.

No sign-in: the link's code (128 random bits) is the credential, as with a parcel tracking
link. It shows the order's pickup status and lets a curbside customer say they have arrived.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.schemas.pickups import ArrivalIn, PickupRead
from omnitill.services import pickups
from omnitill.web.pickup import render_pickup_page

router = APIRouter(tags=["orders"])


@router.get(
    "/api/v1/pickups/{code}",
    response_model=PickupRead,
    summary="A pickup, by the code in the customer's link (no sign-in)",
    responses={404: {"description": "`pickup.not_found`"}},
)
def get_pickup(code: str, db: DbDep) -> PickupRead:
    """Order number, store, status, items and the curbside arrival, by the link's secret code."""
    return PickupRead.model_validate(pickups.page(db=db, code=code), from_attributes=True)


@router.post(
    "/api/v1/pickups/{code}/arrival",
    response_model=PickupRead,
    summary="Curbside: the customer is here, in this bay, in this car",
    responses={
        404: {"description": "`pickup.not_found`"},
        409: {"description": "`pickup.not_waiting`: already handed over or cancelled."},
        422: {"description": "`pickup.bay_required`"},
    },
)
def arrive(code: str, body: ArrivalIn, db: DbDep) -> PickupRead:
    """The store's registers hear `order.customer_arrived` on their event stream at once."""
    view = pickups.arrive(db=db, code=code, bay=body.bay, car=body.car)
    return PickupRead.model_validate(view, from_attributes=True)


@router.get("/pickup/{code}", response_class=HTMLResponse, include_in_schema=False)
def pickup_page(code: str, db: DbDep) -> HTMLResponse:
    return HTMLResponse(render_pickup_page(pickups.page(db=db, code=code), code=code))
