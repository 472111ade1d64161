"""A real webhook endpoint for tests: a threaded HTTP server on a free local port.

It checks every request's signature twice, with omnitill's own `verify` and independently
by the published Standard Webhooks scheme (HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed
with the base64-decoded secret), answers 401 to a request that fails either, and otherwise
the status the test asked for (`fail_next` failures of `fail_status` first).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from omnitill.domain.errors import Unauthenticated
from omnitill.domain.integrations import webhooks


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: str
    answered: int
    signature_ok: bool

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


def independently_signed(secret: str, headers: dict[str, str], body: str) -> bool:
    """The published scheme, written out without omnitill's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = headers["webhook-signature"].split()
    return any(hmac.compare_digest(expected, s) for s in offered)


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.fail_next = 0
        self.fail_status = 503
        self.ok_status = 200
        self.delay = 0.0
        self.received: list[Received] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                owner._answer(self, body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def _answer(self, handler: BaseHTTPRequestHandler, body: str) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            webhooks.verify(self.secret, headers, body, now=int(time.time()))
            ok = independently_signed(self.secret, headers, body)
        except (Unauthenticated, KeyError, ValueError):
            ok = False
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            if not ok:
                status = 401
            elif self.fail_next > 0:
                self.fail_next -= 1
                status = self.fail_status
            else:
                status = self.ok_status
            self.received.append(Received(headers, body, status, ok))
        reply = b'{"ok": true}' if status < 300 else b"endpoint says no " * 50
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)

    def delivered(self) -> list[Received]:
        """The requests answered 2xx."""
        return [r for r in self.received if 200 <= r.answered < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()
