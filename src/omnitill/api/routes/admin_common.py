"""What every back-office page shares: the session, the CSRF check of posted forms, the
sidebar a role may see, rendering, and how errors become pages.

Pages are server-rendered (templates in web/templates/admin/). A form POSTs to a page route,
which checks the hidden `csrf_token` field against the `ot_csrf` cookie (double-submit, see
api/web_session.py), asks for the same permission as the matching API route, calls the same
service, and redirects (post/redirect/get) with a one-line notice or the refusal in the
query string. Routes use `AdminRoute`, which turns a missing session into a redirect to the
sign-in page, a permission refusal into the 403 page and an unknown record into the 404
page; a refused form goes back to the page it came from with the error shown.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from omnitill.api import web_session
from omnitill.api.deps import DbDep
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import (
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from omnitill.domain.money import format_major, minor_units
from omnitill.services import auth as auth_service
from omnitill.web.env import render

LOGIN_PATH = "/admin/login"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 256 * 1024


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""


@dataclass(frozen=True, slots=True)
class NavItem:
    href: str
    label: str
    permission: Permission


# The sidebar, in the order a manager's day needs it; an item shows only with its permission.
NAV: tuple[NavItem, ...] = (
    NavItem("/admin", "Dashboard", Permission.SALES_READ),
    NavItem("/admin/products", "Products", Permission.CATALOG_READ),
    NavItem("/admin/price-lists", "Price lists", Permission.PRICING_READ),
    NavItem("/admin/promotions", "Promotions", Permission.PRICING_READ),
    NavItem("/admin/orders", "Orders", Permission.ORDERS_READ),
    NavItem("/admin/stock", "Inventory", Permission.STOCK_READ),
    NavItem("/admin/adjustments", "Adjustments", Permission.STOCK_ADJUST),
    NavItem("/admin/purchase-orders", "Purchase orders", Permission.STOCK_READ),
    NavItem("/admin/transfers", "Transfers", Permission.STOCK_READ),
    NavItem("/admin/counts", "Counts", Permission.STOCK_READ),
    NavItem("/admin/replenishment", "Replenishment", Permission.STOCK_READ),
    NavItem("/admin/exceptions", "Stock exceptions", Permission.STOCK_READ),
    NavItem("/admin/returns", "Returns", Permission.RETURNS_CREATE),
    NavItem("/admin/customers", "Customers", Permission.CUSTOMERS_READ),
    NavItem("/admin/users", "Staff and roles", Permission.USERS_READ),
    NavItem("/admin/registers", "Registers", Permission.LOCATIONS_READ),
    NavItem("/admin/tax", "Tax settings", Permission.PRICING_READ),
    NavItem("/admin/webhooks", "Webhooks", Permission.WEBHOOKS_MANAGE),
    NavItem("/admin/audit", "Audit trail", Permission.AUDIT_READ),
)


def _session_actor(request: Request, db: DbDep) -> Actor:
    """The staff member of the browser session (sync: FastAPI runs it in its threadpool)."""
    token = request.cookies.get(web_session.SESSION_COOKIE)
    if not token:
        raise LoginRequired
    try:
        return auth_service.resolve_token(db=db, token=token)
    except Unauthenticated as exc:
        raise LoginRequired from exc


AdminActor = Annotated[Actor, Depends(_session_actor)]


class Form:
    """A posted `application/x-www-form-urlencoded` body (the only kind our forms send)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self._fields.get(name)
        return values[0].strip() if values else default

    def getlist(self, name: str) -> list[str]:
        return [v.strip() for v in self._fields.get(name, [])]

    def has(self, name: str) -> bool:
        return name in self._fields


async def read_form(request: Request) -> Form:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PermissionDenied("admin.form_too_large", "the form is too large")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return Form(fields)


def check_csrf(request: Request, form: Form) -> None:
    """403 `auth.csrf_failed` unless the form's token equals the CSRF cookie."""
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(web_session.CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise PermissionDenied("auth.csrf_failed", "the form expired; reload the page")


async def _posted_form(request: Request) -> Form:
    form = await read_form(request)
    check_csrf(request, form)
    return form


PostedForm = Annotated[Form, Depends(_posted_form)]


def page(
    request: Request,
    actor: Actor | None,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A back-office page in the base layout, with the sidebar `actor` may see."""
    nav = [item for item in NAV if actor is not None and actor.can(item.permission)]
    html = render(
        f"admin/{template}",
        actor=actor,
        can=(lambda p: actor is not None and actor.can(Permission(p))),
        nav=nav,
        path=request.url.path,
        csrf_token=request.cookies.get(web_session.CSRF_COOKIE, ""),
        notice=request.query_params.get("notice", ""),
        error=request.query_params.get("error", ""),
        format_price=format_major,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def redirect(url: str, *, notice: str = "", error: str = "") -> RedirectResponse:
    """303 to a back-office page, carrying a one-line notice or error for it to show."""
    query = {k: v for k, v in (("notice", notice), ("error", error)) if v}
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
    return RedirectResponse(url, status_code=303)


def refusal(exc: DomainError) -> str:
    """The error of a refused form as one line: the message and each field's message."""
    fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return f"{exc.message} ({fields})" if fields else exc.message


def back_to(request: Request) -> str:
    """Where a refused form returns: the page it was posted from (same site only)."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url).rstrip("/")
    if referer.startswith(base + "/admin"):
        target = referer[len(base) :]
        for key in ("notice=", "error="):
            if key in target:
                target = target.split("?", 1)[0]
        return target
    return "/admin"


class AdminRoute(APIRoute):
    """A page route: session, permission and form refusals become pages, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = request.url.path
                if request.url.query:
                    target = f"{target}?{request.url.query}"
                return redirect(f"{LOGIN_PATH}?{urlencode({'next': target})}")
            except PermissionDenied as exc:
                actor = await run_in_threadpool(_actor_or_none, request)
                return page(request, actor, "denied.html", status_code=403, reason=exc.message)
            except NotFound as exc:
                actor = await run_in_threadpool(_actor_or_none, request)
                return page(request, actor, "missing.html", status_code=404, reason=exc.message)
            except DomainError as exc:
                if request.method == "GET":
                    raise
                return redirect(back_to(request), error=refusal(exc))

        return answer


def _actor_or_none(request: Request) -> Actor | None:
    try:
        return _session_actor(request, request.app.state.db)
    except LoginRequired:
        return None


def minor_amount(text: str, currency: str, *, field: str) -> int:
    """A typed amount ("24", "24.50") in minor units of `currency`; 422 naming `field` when
    it is not a plain non-negative number with at most the currency's decimals."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        value = Decimal(-1)
    scaled = value.scaleb(minor_units(currency)) if value.is_finite() else Decimal(-1)
    if value < 0 or scaled != scaled.to_integral_value():
        raise ValidationFailed(
            "admin.invalid_amount",
            f"{field} is not an amount in {currency}",
            errors=[FieldError(field, "admin.invalid_amount", "enter an amount like 19.99")],
        )
    return int(scaled)


def optional_id(text: str, *, field: str) -> uuid.UUID | None:
    """A chosen record id from a select (empty: none); 422 naming `field` otherwise."""
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationFailed(
            "admin.invalid_choice",
            f"{field} is not one of the choices",
            errors=[FieldError(field, "admin.invalid_choice", "pick one of the choices")],
        ) from None
