"""Back-office returns: the list (by status, location, kind, number), a return's page (lines
with their reasons, refunds, risk signals and approval), the returns report and the return
policy JSON editor.

Pages read with `returns.create` as GET /api/v1/returns/{id}; the report with `sales.read`
from services/return_reports.py as GET /api/v1/reports/returns; the policy is saved with
`returns.policy` through services/return_settings.save, validated by the same schema as
PUT /api/v1/returns/policy, so a bad field is refused naming it and nothing is saved.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from omnitill.api.deps import DbDep, SettingsDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.api.routes.admin_forms import refuse
from omnitill.api.routes.admin_stock import store_codes
from omnitill.api.schemas.return_settings import ReturnSettingsUpdate
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError
from omnitill.services import admin_people, return_reports, return_settings, return_views

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)


@router.get("/returns", response_class=HTMLResponse)
def returns(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    status: str = "",
    location: str = "",
    kind: str = "",
    number: str = "",
) -> Response:
    """The latest 100 returns matching the filters, newest first."""
    found = admin_people.find_returns(
        db=db, actor=actor, status=status, location=location, kind=kind, number=number
    )
    return page(
        request,
        actor,
        "returns.html",
        title="Returns",
        found=found,
        filters={"status": status, "location": location, "kind": kind, "number": number},
        stores=store_codes(db=db, actor=actor),
    )


@router.get("/returns/report", response_class=HTMLResponse)
def report(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    date_from: str = "",
    date_to: str = "",
    location: str = "",
) -> Response:
    """Return rates, reasons, turnaround and restocking over a date range (default: the
    last 30 days, UTC)."""
    actor.require(Permission.SALES_READ)
    today = datetime.now(UTC).date()
    start, end = _day(date_from, "from", today - timedelta(days=29)), _day(date_to, "to", today)
    figures = return_reports.returns_report(
        db=db, actor=actor, date_from=start, date_to=end, location=location or None
    )
    return page(
        request,
        actor,
        "returns_report.html",
        title="Returns report",
        report=figures,
        location=location,
        stores=store_codes(db=db, actor=actor),
    )


def _day(text: str, field: str, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        refuse([FieldError(field, "admin.invalid_date", "a date like 2025-01-31")])
        raise


@router.get("/returns/policy", response_class=HTMLResponse)
def policy(request: Request, actor: AdminActor, db: DbDep, settings: SettingsDep) -> Response:
    """The return policy as JSON, editable with `returns.policy`."""
    view = return_settings.get(db=db, currency=settings.base_currency)
    return page(
        request,
        actor,
        "return_policy.html",
        title="Return policy",
        document=json.dumps(return_settings.to_json(view.settings), indent=2, sort_keys=True),
        updated_at=view.updated_at,
        updated_by=view.updated_by,
    )


@router.post("/returns/policy")
def save_policy(actor: AdminActor, form: PostedForm, db: DbDep, settings: SettingsDep) -> Response:
    """Replace the policy with the JSON typed (keys left out take their defaults)."""
    actor.require(Permission.RETURNS_POLICY)
    try:
        document = json.loads(form.get("document") or "{}")
        body = ReturnSettingsUpdate.model_validate(document)
    except json.JSONDecodeError as exc:
        refuse([FieldError("document", "admin.invalid_json", f"not JSON: {exc.msg}")])
        raise
    except ValidationError as exc:
        refuse(
            [
                FieldError(".".join(str(p) for p in e["loc"]), "admin.invalid_field", e["msg"])
                for e in exc.errors()
            ]
        )
        raise
    return_settings.save(
        db=db, actor=actor, document=body.model_dump(mode="json"), currency=settings.base_currency
    )
    return redirect("/admin/returns/policy", notice="Return policy saved.")


@router.get("/returns/{return_id}", response_class=HTMLResponse)
def return_page(request: Request, return_id: uuid.UUID, actor: AdminActor, db: DbDep) -> Response:
    """A return's lines and reasons, refunds, risk signals and approval."""
    view = return_views.get(db=db, actor=actor, return_id=return_id)
    return page(request, actor, "return.html", title=f"Return {view.number}", ret=view)
