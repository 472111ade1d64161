"""The browser session of the web apps (register, back office, customer display).

A page signs in through the same token service as the API and keeps the token in an
HttpOnly cookie (`ot_session`, SameSite=Strict), so page scripts never hold it. The JSON API
accepts that cookie in place of `Authorization: Bearer`; a state-changing request made with
the cookie must also send the `X-CSRF-Token` header equal to the readable `ot_csrf` cookie
(double-submit), which a page on another site cannot read. Requests with a bearer token are
unaffected.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from omnitill.domain.errors import PermissionDenied

SESSION_COOKIE = "ot_session"
CSRF_COOKIE = "ot_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def start(response: Response, *, token: str, expires_in: int, secure: bool) -> str:
    """Set the session and CSRF cookies on `response`; the CSRF value (pages put it in a
    meta tag for their scripts)."""
    csrf = secrets.token_urlsafe(24)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=expires_in,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=expires_in, httponly=False, samesite="strict", secure=secure
    )
    return csrf


def end(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def token_of(request: Request) -> str | None:
    """The session token of a browser request, checking the CSRF header on writes (403
    `auth.csrf_failed`); None without a session cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = request.cookies.get(CSRF_COOKIE, "")
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            raise PermissionDenied(
                "auth.csrf_failed", f"send the {CSRF_HEADER} header with the page's token"
            )
    return token
