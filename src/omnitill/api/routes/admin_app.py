"""The back office at /admin: sign-in, sign-out and the dashboard (other sections live in
admin_catalog.py, admin_orders.py, admin_inventory.py, admin_people.py, admin_audit.py).

Sign-in uses the same password check and token as POST /api/v1/auth/token, kept in the
HttpOnly session cookie (api/web_session.py). The sign-in form carries a CSRF token too: the
page sets a fresh `ot_csrf` cookie when the browser has none.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from omnitill.api import web_session
from omnitill.api.deps import DbDep, SettingsDep
from omnitill.api.routes.admin_common import (
    CSRF_FIELD,
    AdminActor,
    AdminRoute,
    PostedForm,
    check_csrf,
    page,
    read_form,
    redirect,
)
from omnitill.domain.errors import TooManyRequests, Unauthenticated
from omnitill.services import admin_dashboard
from omnitill.services import auth as auth_service

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)


def _safe_next(target: str) -> str:
    """Only back-office paths, so the sign-in page cannot send anyone off-site."""
    if target.startswith("/admin") and not target.startswith("/admin/login"):
        return target
    return "/admin"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/admin") -> Response:
    """The sign-in form (username and password)."""
    return _login_form(request, next_path=_safe_next(next))


def _login_form(
    request: Request, *, next_path: str, message: str = "", status_code: int = 200
) -> Response:
    csrf = request.cookies.get(web_session.CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(
        request,
        None,
        "login.html",
        status_code=status_code,
        title="Sign in",
        next_path=next_path,
        message=message,
        login_csrf=csrf,
    )
    if web_session.CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            web_session.CSRF_COOKIE,
            csrf,
            httponly=False,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


@router.post("/login")
async def login(request: Request, db: DbDep, settings: SettingsDep) -> Response:
    """Check the password (throttled like the API) and start the session; back to the
    form with the reason otherwise."""
    form = await read_form(request)
    next_path = _safe_next(form.get("next", "/admin"))
    if not form.get(CSRF_FIELD):
        return _login_form(request, next_path=next_path, message="Reload the page and try again.")
    check_csrf(request, form)
    try:
        issued = await run_in_threadpool(
            lambda: auth_service.login(
                db=db,
                settings=settings,
                username=form.get("username"),
                password=form.get("password", ""),
            )
        )
    except (Unauthenticated, TooManyRequests) as exc:
        return _login_form(
            request, next_path=next_path, message=exc.message, status_code=exc.status
        )
    response = redirect(next_path)
    web_session.start(
        response,
        token=issued.access_token,
        expires_in=issued.expires_in,
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(actor: AdminActor, _form: PostedForm, db: DbDep) -> Response:
    """Revoke the session's token and clear the cookies."""
    auth_service.logout(db=db, actor=actor)
    response = redirect("/admin/login")
    web_session.end(response)
    return response


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, actor: AdminActor, db: DbDep) -> Response:
    """Today's sales by store and channel, open orders, open stock exceptions, returns."""
    figures = admin_dashboard.today(db=db, actor=actor)
    return page(request, actor, "dashboard.html", title="Dashboard", board=figures)
