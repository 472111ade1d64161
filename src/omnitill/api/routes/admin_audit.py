"""The back office's audit trail viewer and its "verify the chain" button (`audit.read`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from omnitill.api.deps import DbDep
from omnitill.api.routes.admin_common import AdminActor, AdminRoute, PostedForm, page, redirect
from omnitill.domain.auth.permissions import Permission
from omnitill.services import admin_audit
from omnitill.services import audit as audit_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)


@router.get("/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request,
    actor: AdminActor,
    db: DbDep,
    action: str = "",
    by: str = "",
    subject: str = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Entries newest first, filtered by action (or `prefix.`), actor and subject."""
    found = admin_audit.find_entries(
        db=db, actor=actor, action=action.strip(), by=by, subject=subject.strip(), page=page_no
    )
    filters = {"action": action, "by": by, "subject": subject}
    query = urlencode({k: v for k, v in filters.items() if v})
    return page(
        request,
        actor,
        "audit.html",
        title="Audit trail",
        found=found,
        filters=filters,
        pager_base=f"/admin/audit?{query}&" if query else "/admin/audit?",
    )


@router.post("/audit/verify")
def verify(actor: AdminActor, _form: PostedForm, db: DbDep) -> Response:
    """Check every hash chain, as `omnitill audit verify`; the first break is shown."""
    actor.require(Permission.AUDIT_READ)
    breaks = audit_service.verify(db=db)
    if not breaks:
        return redirect("/admin/audit", notice="The audit trail is intact.")
    first = breaks[0]
    return redirect(
        "/admin/audit",
        error=f"The audit trail is broken: chain {first.chain}, entry {first.seq} "
        f"({first.reason}); {len(breaks)} chain(s) affected.",
    )
