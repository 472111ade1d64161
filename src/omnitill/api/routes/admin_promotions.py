"""Back-office promotions and coupons: list, create and edit the common kinds (percent or
amount off items or the order), and issue coupon codes, through services/promotions.py with
`pricing.write` like POST/PATCH /api/v1/promotions and POST .../coupons. Kinds with tiers,
bundles or gifts are shown and can be switched on or off here; their rules are set through
the API."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import (
    AdminActor,
    AdminRoute,
    Form,
    PostedForm,
    minor_amount,
    page,
    redirect,
)
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.services import promotions as promotion_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)

# The kinds this page edits in full: one figure each, over all items or the whole order.
PERCENT_KINDS = ("item_percent", "order_percent")
AMOUNT_KINDS = ("item_amount", "order_amount")
SIMPLE_KINDS = PERCENT_KINDS + AMOUNT_KINDS


@router.get("/promotions", response_class=HTMLResponse)
def promotions(
    request: Request, actor: AdminActor, db: DbDep, cursor: str | None = None
) -> Response:
    """Promotions in code order (`pricing.read`)."""
    actor.require(Permission.PRICING_READ)
    found = promotion_service.list_promotions(db=db, cursor=cursor, limit=50)
    return page(request, actor, "promotions.html", title="Promotions", found=found)


@router.get("/promotions/new", response_class=HTMLResponse)
def new_promotion(request: Request, actor: AdminActor) -> Response:
    """The form of a new promotion (`pricing.write`)."""
    actor.require(Permission.PRICING_WRITE)
    return page(
        request,
        actor,
        "promotion.html",
        title="New promotion",
        row=None,
        data=None,
        kinds=SIMPLE_KINDS,
        coupons=None,
    )


@router.post("/promotions")
def create_promotion(actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Create a promotion of a simple kind over all items, as POST /api/v1/promotions."""
    actor.require(Permission.PRICING_WRITE)
    kind = form.get("kind")
    if kind not in SIMPLE_KINDS:
        raise _invalid("kind", "pick one of the kinds")
    row = promotion_service.create_promotion(
        db=db,
        actor=actor,
        data=promotion_service.PromotionInput(
            code=form.get("code"),
            name=form.get("name"),
            kind=kind,
            stacking="order" if kind.startswith("order_") else "product",
            **_figures(form, kind),
            requires_coupon=form.has("requires_coupon"),
            active=form.has("active"),
        ),
    )
    return redirect(f"/admin/promotions/{row.id}", notice="Promotion created.")


@router.get("/promotions/{promotion_id}", response_class=HTMLResponse)
def promotion_page(
    request: Request, promotion_id: uuid.UUID, actor: AdminActor, db: DbDep
) -> Response:
    """One promotion, its coupons, and (with `pricing.write`) the forms to change them."""
    actor.require(Permission.PRICING_READ)
    row = promotion_service.get_promotion(db=db, promotion_id=promotion_id)
    coupons = promotion_service.list_coupons(
        db=db, promotion_id=promotion_id, cursor=None, limit=100
    )
    return page(
        request,
        actor,
        "promotion.html",
        title=row.name,
        row=row,
        data=promotion_service.as_input(row),
        kinds=SIMPLE_KINDS,
        coupons=coupons,
    )


@router.post("/promotions/{promotion_id}")
def save_promotion(
    promotion_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep
) -> Response:
    """Name, the figure of a simple kind, coupon need and activity, as PATCH."""
    actor.require(Permission.PRICING_WRITE)
    row = promotion_service.get_promotion(db=db, promotion_id=promotion_id)
    changes: dict[str, Any] = {
        "name": form.get("name"),
        "requires_coupon": form.has("requires_coupon"),
        "active": form.has("active"),
    }
    if row.kind in SIMPLE_KINDS:
        changes.update(_figures(form, row.kind, currency=row.currency))
    promotion_service.update_promotion(
        db=db, actor=actor, promotion_id=promotion_id, changes=changes
    )
    return redirect(f"/admin/promotions/{promotion_id}", notice="Promotion saved.")


@router.post("/promotions/{promotion_id}/coupons")
def issue_coupons(
    promotion_id: uuid.UUID, actor: AdminActor, form: PostedForm, db: DbDep
) -> Response:
    """One named code, or a batch of generated single-use codes (`count`, `prefix`)."""
    actor.require(Permission.PRICING_WRITE)
    count = form.get("count")
    if count and not count.isdigit():
        raise _invalid("count", "a whole number")
    request = (
        promotion_service.CouponRequest(count=int(count), prefix=form.get("prefix"))
        if count
        else promotion_service.CouponRequest(code=form.get("code"))
    )
    issued = promotion_service.issue_coupons(
        db=db, actor=actor, promotion_id=promotion_id, request=request
    )
    return redirect(
        f"/admin/promotions/{promotion_id}", notice=f"{len(issued.codes)} coupon(s) issued."
    )


def _figures(form: Form, kind: str, *, currency: str | None = None) -> dict[str, Any]:
    """The percent, or the amount and its currency, a simple kind needs."""
    if kind in PERCENT_KINDS:
        try:
            percent = Decimal(form.get("percent"))
        except InvalidOperation:
            raise _invalid("percent", "a number like 15 or 12.5") from None
        return {"percent": percent}
    money = (currency or form.get("currency") or "USD").upper()
    return {"amount": minor_amount(form.get("amount"), money, field="amount"), "currency": money}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        "admin.invalid_field",
        f"{field}: {message}",
        errors=[FieldError(field, "admin.invalid_field", message)],
    )
