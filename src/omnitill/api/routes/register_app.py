"""The register web app: server-rendered pages under /register, their session sign-in and
sign-out, and the PWA files (manifest, service worker).

Pages are thin shells (templates in web/templates/register/, scripts in
web/static/register/): the scripts call the JSON API with the session cookie and the CSRF
header (api/web_session.py), so a page never holds a bearer token. Which till this browser
is lives in the browser (localStorage, written at enrolment), so pages that need the
register read it there; the server only checks that a sale screen has a valid session.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from omnitill.api import web_session
from omnitill.api.deps import CurrentActor, DbDep, SettingsDep
from omnitill.api.schemas.register_access import PinLogin
from omnitill.domain.auth.actor import Actor
from omnitill.domain.errors import Unauthenticated
from omnitill.domain.payments.cash import DENOMINATIONS
from omnitill.services import auth as auth_service
from omnitill.services import register_access
from omnitill.services.database import Database
from omnitill.web.env import render

router = APIRouter(prefix="/register", tags=["register app"], include_in_schema=False)

LOGIN_PATH = "/register/login"
# Everything the service worker keeps for offline start-up: the pages' shells and their
# static files, never an API answer.
APP_SHELL = (
    "/register/login",
    "/register/display",
    "/static/shared/base.css",
    "/static/shared/api.js",
    "/static/register/app.css",
    "/static/register/device.js",
    "/static/register/pinpad.js",
    "/static/register/login.js",
    "/static/register/enroll.js",
    "/static/register/shift.js",
    "/static/register/sale.js",
    "/static/register/cart.js",
    "/static/register/dialogs.js",
    "/static/register/tender.js",
    "/static/register/terminal.js",
    "/static/register/display.js",
    "/static/register/flows.css",
    "/static/register/catalog.js",
    "/static/register/counting.js",
    "/static/register/exchange.js",
    "/static/register/returns.js",
    "/static/register/return_view.js",
    "/static/register/pickups.js",
    "/static/register/aisle.js",
    "/static/register/stock.js",
    "/static/register/close.js",
    "/static/register/icon.svg",
    "/static/register/icon-192.png",
    "/static/register/icon-512.png",
)
# Bump with any change to the shell's files, so installed apps fetch the new ones.
SHELL_VERSION = "register-shell-2"


def _page(template: str, **context: object) -> HTMLResponse:
    return HTMLResponse(render(f"register/{template}", **context))


def _session_actor(request: Request, db: Database) -> Actor | None:
    """The staff member of the browser session, or None (no cookie, expired, revoked)."""
    token = request.cookies.get(web_session.SESSION_COOKIE)
    if not token:
        return None
    try:
        return auth_service.resolve_token(db=db, token=token)
    except Unauthenticated:
        return None


@router.get("/enroll", response_class=HTMLResponse)
def enroll_page() -> HTMLResponse:
    """A manager signs in and enrols this browser as one of the store's registers."""
    return _page("enroll.html", title="Enrol this register")


@router.get("/login", response_class=HTMLResponse)
def login_page() -> HTMLResponse:
    """The PIN pad of an enrolled register."""
    return _page("login.html", title="Sign in")


@router.post("/login")
def login(body: PinLogin, request: Request, db: DbDep, settings: SettingsDep) -> Response:
    """PIN sign-in that starts the browser session (cookies), answering who signed in."""
    done = register_access.pin_sign_in(
        db=db, settings=settings, register=body.register, device_key=body.device_key, pin=body.pin
    )
    response = Response(status_code=status.HTTP_200_OK, media_type="application/json")
    web_session.start(
        response,
        token=done.token.access_token,
        expires_in=done.token.expires_in,
        secure=request.url.scheme == "https",
    )
    response.body = json.dumps(
        {
            "username": done.username,
            "display_name": done.display_name,
            "register": done.register,
            "location": done.location,
        }
    ).encode()
    response.headers["content-length"] = str(len(response.body))
    return response


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(actor: CurrentActor, db: DbDep) -> Response:
    """End the session: the token is revoked and the cookies cleared."""
    auth_service.logout(db=db, actor=actor)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    web_session.end(response)
    return response


@router.post("/unlock", status_code=status.HTTP_204_NO_CONTENT)
def unlock(body: PinLogin, actor: CurrentActor, db: DbDep, settings: SettingsDep) -> None:
    """Unlock the lock screen with the signed-in staff member's own PIN."""
    register_access.confirm_pin(
        db=db,
        settings=settings,
        actor=actor,
        register=body.register,
        device_key=body.device_key,
        pin=body.pin,
    )


def _staff_page(request: Request, db: Database, template: str, **context: object) -> Response:
    """A page for signed-in staff only; others go to the PIN pad."""
    actor = _session_actor(request, db)
    if actor is None:
        return RedirectResponse(LOGIN_PATH, status_code=status.HTTP_303_SEE_OTHER)
    return _page(template, username=actor.username, **context)


@router.get("", response_class=HTMLResponse)
def sale_page(request: Request, db: DbDep) -> Response:
    """The sale screen (signed-in staff only; others go to the PIN pad)."""
    return _staff_page(request, db, "sale.html", title="Sale")


@router.get("/shift", response_class=HTMLResponse)
def shift_page(request: Request, db: DbDep) -> Response:
    """Open the shift with the float counted by denomination."""
    return _staff_page(
        request, db, "shift.html", title="Open shift", denominations=json.dumps(DENOMINATIONS)
    )


@router.get("/returns", response_class=HTMLResponse)
def returns_page(request: Request, db: DbDep) -> Response:
    """Returns and exchanges: find the sale, pick lines, see the policy, refund."""
    return _staff_page(request, db, "returns.html", title="Returns")


@router.get("/pickups", response_class=HTMLResponse)
def pickups_page(request: Request, db: DbDep) -> Response:
    """The store's pickup queue, live from the event stream, with curbside arrivals."""
    return _staff_page(request, db, "pickups.html", title="Pickups")


@router.get("/aisle", response_class=HTMLResponse)
def aisle_page(request: Request, db: DbDep) -> Response:
    """Endless aisle: stock everywhere, ordered for the customer and paid at the till."""
    return _staff_page(request, db, "aisle.html", title="Endless aisle")


@router.get("/stock", response_class=HTMLResponse)
def stock_page(request: Request, db: DbDep) -> Response:
    """Stock lookup and price check."""
    return _staff_page(request, db, "stock.html", title="Stock and price")


@router.get("/close", response_class=HTMLResponse)
def close_page(request: Request, db: DbDep) -> Response:
    """The shift's X report, and closing it with a blind count and the Z report."""
    return _staff_page(
        request, db, "close.html", title="Shift", denominations=json.dumps(DENOMINATIONS)
    )


@router.get("/display", response_class=HTMLResponse)
def display_page() -> HTMLResponse:
    """The customer-facing display: mirrors the cart of the register in the same browser."""
    return _page("display.html", title="Welcome")


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: installable, standalone, starting at the sale screen."""
    body = {
        "name": "omnitill register",
        "short_name": "Register",
        "start_url": "/register",
        "scope": "/register/",
        "display": "standalone",
        "background_color": "#0f172a",
        "theme_color": "#0f172a",
        "icons": [
            {"src": "/static/register/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/register/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/register/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(json.dumps(body), media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker (scope /register/), caching the app shell only."""
    script = render(
        "register/sw.js", version=SHELL_VERSION, shell=json.dumps(list(APP_SHELL), indent=2)
    )
    return Response(
        script,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/register/"},
    )
