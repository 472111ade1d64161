"""Back-office settings: registers per location (enrolment status, receipt printer) and tax
settings (classes, jurisdictions, their components in every version, a new rate version).

Registers list with `locations.read` as GET /api/v1/registers; the printer is set through
services/receipt_delivery.set_printer (`locations.write`) as PUT
/api/v1/registers/{code}/printer. Tax pages read with `pricing.read` and add a rate version
through services/tax_settings.add_component_version (`tax.write`) as POST
/api/v1/tax/jurisdictions/{code}/components.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.api.routes.admin_forms import refuse, whole_number
from omnitill.api.routes.admin_stock import store_codes
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError
from omnitill.services import locations as location_service
from omnitill.services import receipt_delivery, tax_settings

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)


@router.get("/registers", response_class=HTMLResponse)
def registers(request: Request, actor: AdminActor, db: DbDep, location: str = "") -> Response:
    """Registers by location with their enrolment and printer."""
    actor.require(Permission.LOCATIONS_READ)
    found = location_service.list_registers(
        db=db, actor=actor, location_code=location or None, limit=200
    )
    return page(
        request,
        actor,
        "registers.html",
        title="Registers",
        found=sorted(found.items, key=lambda r: (r.location_code, r.register.code)),
        location=location,
        stores=store_codes(db=db, actor=actor),
    )


@router.post("/registers/{code}/printer")
def set_printer(code: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """Set (or, with no host, remove) the register's network receipt printer."""
    host = form.get("host")
    port = whole_number(form.get("port") or "9100", field="port")
    receipt_delivery.set_printer(db=db, actor=actor, register=code, host=host or None, port=port)
    return redirect("/admin/registers", notice=f"Printer of {code} saved.")


@router.get("/tax", response_class=HTMLResponse)
def tax(request: Request, actor: AdminActor, db: DbDep) -> Response:
    """Tax classes and jurisdictions."""
    actor.require(Permission.PRICING_READ)
    classes = tax_settings.list_tax_classes(db=db, cursor=None, limit=200)
    jurisdictions = tax_settings.list_jurisdictions(db=db, limit=200)
    return page(
        request,
        actor,
        "tax.html",
        title="Tax settings",
        classes=classes.items,
        jurisdictions=jurisdictions.items,
    )


@router.get("/tax/{code}", response_class=HTMLResponse)
def jurisdiction(request: Request, code: str, actor: AdminActor, db: DbDep) -> Response:
    """A jurisdiction, its stores and every version of its components."""
    actor.require(Permission.PRICING_READ)
    record = tax_settings.get_jurisdiction(db=db, code=code)
    classes = tax_settings.list_tax_classes(db=db, cursor=None, limit=200)
    return page(
        request,
        actor,
        "jurisdiction.html",
        title=record.jurisdiction.name,
        record=record,
        classes=classes.items,
        today=datetime.now(UTC).date().isoformat(),
    )


@router.post("/tax/{code}/components")
def add_rate_version(code: str, actor: AdminActor, form: PostedForm, db: DbDep) -> Response:
    """A new version of a component (or a new component) from a date; rates typed in
    percent per tax class (blank: the class is not taxed by it)."""
    actor.require(Permission.TAX_WRITE)
    errors: list[FieldError] = []
    rates: dict[str, Decimal] = {}
    for tax_class, text in zip(form.getlist("tax_class"), form.getlist("rate"), strict=False):
        if not text:
            continue
        try:
            percent = Decimal(text)
        except InvalidOperation:
            percent = Decimal(-1)
        if not percent.is_finite() or not 0 <= percent <= 100:
            errors.append(FieldError(f"rates.{tax_class}", "admin.invalid_rate", "0 to 100 %"))
            continue
        rates[tax_class] = percent / 100
    valid_from = None
    try:
        valid_from = date.fromisoformat(form.get("valid_from"))
    except ValueError:
        errors.append(FieldError("valid_from", "admin.invalid_date", "a date like 2025-01-31"))
    refuse(errors)
    component = form.get("code")
    tax_settings.add_component_version(
        db=db,
        actor=actor,
        code=code,
        data=tax_settings.ComponentInput(
            code=component,
            name=form.get("name") or component,
            rates=rates,
            compound=form.has("compound"),
            applies_to_shipping=form.has("applies_to_shipping"),
            valid_from=valid_from,
        ),
    )
    return redirect(f"/admin/tax/{code}", notice=f"{component} from {valid_from} added.")
