"""What register tests share: a card taken on the sandbox terminal before a sale."""

from __future__ import annotations

import uuid
from typing import Any

VISA = "4242424242424242"


def card_payment(
    client: Any,
    headers: dict[str, str],
    terminal: Any,
    sale_id: uuid.UUID | str,
    amount: int,
    *,
    pan: str = VISA,
    register: str = "S01-R1",
    entry_mode: str = "emv_chip",
) -> str:
    """Authorize and capture `amount` on the terminal for the sale about to be posted; the
    payment id the sale's card tender names."""
    r = client.post(
        "/api/v1/payments",
        headers=headers,
        json={
            "id": str(uuid.uuid4()),
            "register": register,
            "sale_id": str(sale_id),
            "amount": amount,
            "payment_data": terminal.read_card(pan, 12, 2031),
            "entry_mode": entry_mode,
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])
