"""A local tax service speaking the `remote` wire format, for tests and demos.

It keeps its own rate table (jurisdiction code -> levies) and computes each levy per line,
rounded half-up, the way many hosted engines do, so its figures can differ from the built-in
tables by design. Like a real service it can misbehave on request, by jurisdiction code:
`SANDBOX-SLOW` answers after `slow_seconds`, `SANDBOX-ERROR` answers 500 and
`SANDBOX-BAD` answers figures that do not add up.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Levy = tuple[str, str, Decimal]  # code, name, rate


class SandboxTaxService:
    """Serve `/v1/calculate` on 127.0.0.1 in a background thread (`with` starts and stops)."""

    def __init__(self, table: Mapping[str, list[Levy]], *, slow_seconds: float = 5.0) -> None:
        self.table = dict(table)
        self.slow_seconds = slow_seconds
        self.requests = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                service.requests += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = service.answer(body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> SandboxTaxService:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        code = body["jurisdiction"]
        if code == "SANDBOX-SLOW":
            time.sleep(self.slow_seconds)
        if code == "SANDBOX-ERROR":
            return 500, {"error": "internal"}
        levies = [] if body.get("exemption_certificate") else self.table.get(code, [])
        lines = [self._line(x, levies, body["inclusive"]) for x in body["lines"]]
        if code == "SANDBOX-BAD":
            for line in lines:
                line["tax"] += 1
        shipping = None
        if body.get("shipping"):
            shipping = self._line(
                {"key": "shipping", "amount": body["shipping"]}, levies, body["inclusive"]
            )
        exempt = body.get("exemption_certificate")
        return 200, {
            "lines": lines,
            "shipping": shipping,
            "exempt_reason": f"certificate {exempt}" if exempt else None,
        }

    @staticmethod
    def _line(line: dict[str, Any], levies: list[Levy], default_inclusive: bool) -> dict[str, Any]:
        amount = Decimal(line["amount"])
        inclusive = line.get("inclusive")
        if inclusive is None:
            inclusive = default_inclusive
        total_rate = sum((rate for _, _, rate in levies), Decimal(0))
        net_exact = amount / (1 + total_rate) if inclusive else amount
        components = []
        for code, name, rate in levies:
            tax = int((net_exact * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            components.append(
                {"code": code, "name": name, "rate": str(rate), "taxable": 0, "tax": tax}
            )
        tax_total = sum(c["tax"] for c in components)
        net = int(amount) - tax_total if inclusive else int(amount)
        for c in components:
            c["taxable"] = net
        return {"key": line["key"], "net": net, "tax": tax_total, "components": components}
