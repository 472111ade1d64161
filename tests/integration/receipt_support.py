"""What the receipt tests share: a store with a policy, a sale paid by card and cash, and a
real TCP listener standing in for a network receipt printer."""

from __future__ import annotations

import socket
import threading
import uuid
from typing import Any

from omnitill.adapters.payments.sandbox import SandboxGateway, SandboxTerminal
from tests.factories import make_location, make_register, make_variant, token_for
from tests.integration.till_support import card_payment

POLICY = "Returns within 30 days\nwith this receipt."


class FakePrinter:
    """A socket server on 127.0.0.1 (random port) that keeps each job it is sent."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(10)
        self.port = int(self.server.getsockname()[1])
        self.jobs: list[bytes] = []
        self.received = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
            self.jobs.append(b"".join(chunks))
            self.received.set()

    def job(self) -> bytes:
        assert self.received.wait(10), "the printer received nothing"
        self.received.clear()
        return self.jobs[-1]

    def close(self) -> None:
        self.server.close()
        self._thread.join(10)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_shop(client: Any, db: Any, settings: Any) -> dict[str, Any]:
    s01 = make_location(
        db,
        "S01",
        address_line1="12 Spring St",
        city="New York",
        receipt_header="Open 9-9 every day",
        receipt_footer=POLICY,
    )
    make_register(db, s01, "S01-R1")
    make_variant(db, sku="TOTE", price=2400, stock={s01: 10})
    make_variant(db, sku="MUG", price=1000, stock={s01: 10})
    gateway = SandboxGateway(settings.data_dir / "sandbox.db")
    client.app.state.gateway = gateway
    return {
        "cashier": token_for(db, settings, "c1", "cashier", ["S01"]),
        "manager": token_for(db, settings, "m1", "manager", ["S01"]),
        "admin": token_for(db, settings, "a1", "admin"),
        "terminal": SandboxTerminal(gateway.public_key_pem()),
    }


def card_and_cash_sale(client: Any, shop: dict[str, Any], card: int = 2000) -> dict[str, Any]:
    """Tote and two mugs (44.00 + 8.875 % tax), part on a Visa ending 4242, the rest cash."""
    sale_id = uuid.uuid4()
    lines = [{"sku": "TOTE", "quantity": 1}, {"sku": "MUG", "quantity": 2}]
    total = 4791  # 44.00 + 3.905 tax, half-up
    payments: list[dict[str, Any]] = [{"method": "cash", "amount": total - card + 500}]
    if card:
        paid = card_payment(client, shop["cashier"], shop["terminal"], sale_id, card)
        payments.insert(0, {"method": "card", "amount": card, "payment_id": paid})
    r = client.post(
        "/api/v1/sales",
        headers=shop["cashier"],
        json={
            "id": str(sale_id),
            "location": "S01",
            "register": "S01-R1",
            "lines": lines,
            "payments": payments,
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def card_only_sale(client: Any, shop: dict[str, Any]) -> dict[str, Any]:
    sale_id = uuid.uuid4()
    lines = [{"sku": "MUG", "quantity": 1}]
    total = 1089  # 10.00 + 8.875 % tax
    paid = card_payment(client, shop["cashier"], shop["terminal"], sale_id, total)
    r = client.post(
        "/api/v1/sales",
        headers=shop["cashier"],
        json={
            "id": str(sale_id),
            "location": "S01",
            "register": "S01-R1",
            "lines": lines,
            "payments": [{"method": "card", "amount": total, "payment_id": paid}],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def set_printer(client: Any, headers: dict[str, str], port: int, host: str = "127.0.0.1") -> Any:
    return client.put(
        "/api/v1/registers/S01-R1/printer", headers=headers, json={"host": host, "port": port}
    )
