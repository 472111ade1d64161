"""POST one signed webhook payload and report what the endpoint answered.

Standard library only (urllib). The timeout bounds the connection and each read. Redirects
are not followed: a 3xx answer is a failure, as with Stripe and Svix, because a payload must
not be re-sent as a GET or to a host the merchant never named. When private addresses are
refused (`webhook_allow_private_urls` off, for hubs that face the internet), the host is
resolved before every attempt and any address that is not global (loopback, RFC 1918,
link-local, ...) refuses the attempt without connecting.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from omnitill import __version__

READ_BYTES = 2000  # enough for the 500 characters the delivery log keeps
ERROR_CHARS = 500
USER_AGENT = f"omnitill-webhooks/{__version__}"


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What one attempt got: the status code (None when no answer came), the start of the
    body, the error (timeout, refused connection, ...) and how long it took."""

    status_code: int | None
    body: str
    error: str | None
    duration_ms: int


def private_addresses(url: str) -> list[str]:
    """The addresses of the URL's host that are not global; raises OSError when the host
    does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if not ipaddress.ip_address(address).is_global and address not in found:
            found.append(address)
    return found


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


class WebhookHttpClient:
    """Sends webhook attempts; safe to share between threads."""

    def __init__(self, *, timeout_seconds: float, allow_private: bool = True) -> None:
        self.timeout = timeout_seconds
        self.allow_private = allow_private

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        """POST `body` as JSON; never raises for what the endpoint or the network did."""
        started = time.monotonic()

        def answer(status: int | None, text: str = "", error: str | None = None) -> HttpAnswer:
            elapsed = int((time.monotonic() - started) * 1000)
            return HttpAnswer(status, text, error[:ERROR_CHARS] if error else None, elapsed)

        if not self.allow_private:
            try:
                refused = private_addresses(url)
            except OSError as exc:
                return answer(None, error=f"host does not resolve: {exc}")
            if refused:
                return answer(None, error=f"refused: private address {', '.join(refused)}")
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked on subscribing
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        opener = urllib.request.build_opener(_NoRedirect())
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return answer(response.status, _text(response.read(READ_BYTES)))
        except urllib.error.HTTPError as exc:
            try:
                text = _text(exc.read(READ_BYTES))
            except (OSError, http.client.HTTPException, AttributeError):
                text = ""  # the error answer had no readable body
            finally:
                exc.close()
            return answer(exc.code, text)
        except urllib.error.URLError as exc:
            return answer(None, error=_describe(exc.reason))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return answer(None, error=_describe(exc))


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _describe(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    return str(reason)
