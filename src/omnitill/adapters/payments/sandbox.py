"""A sandbox card processor that behaves like a real one, and the P2PE terminal that feeds it.

The terminal (`SandboxTerminal`) encrypts what it reads from the card (number, expiry) with
the processor's public key, RSA-OAEP with SHA-256, as a point-to-point encryption terminal
does: omnitill passes the opaque `p2pe:v1:...` string on and can never read it. The processor
(`SandboxGateway`) decrypts it, decides by test card number, and answers with a token, the
brand, the last four digits, the expiry, an authorization code and a fingerprint (an HMAC of
the number under the processor's own secret, the same for every use of one card, so a return
can find the sale it paid without anyone keeping the number).

Test cards (any future expiry; a past expiry declines as expired_card):

| number | outcome |
| --- | --- |
| 4242 4242 4242 4242, 5555 5555 5555 4444, 3782 822463 10005 | approved |
| 4000 0000 0000 9995 | declined: insufficient_funds |
| 4000 0000 0000 0069 | declined: expired_card |
| 4000 0000 0000 0002 | declined: do_not_honour |
| 4100 0000 0000 0019 | declined: suspected_fraud |
| 4000 0000 0000 0259 | approved, but the answer is lost: `GatewayTimeout` |
| 4000 0000 0000 5126 | approved, but every refund of it is declined (`refund.declined`) |

Like a real processor it keeps its own records (a SQLite file of its own: the card network is
not omnitill's database), so every omnitill process sees the same payments; every request is
idempotent by key (a replay answers the first result; the same key with other parameters is
refused), and `lookup(key)` tells what became of a request whose answer was lost.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from omnitill.domain.payments.cards import brand_of, luhn_valid
from omnitill.domain.payments.gateway import (
    CardDetails,
    DeclineCode,
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    PaymentStatus,
)

PREFIX = "p2pe:v1:"
TIMEOUT_CARD = "4000000000000259"
REFUND_DECLINED_CARD = "4000000000005126"  # as Stripe's refund-failure test card
DECLINES: dict[str, DeclineCode] = {
    "4000000000009995": DeclineCode.INSUFFICIENT_FUNDS,
    "4000000000000069": DeclineCode.EXPIRED_CARD,
    "4000000000000002": DeclineCode.DO_NOT_HONOUR,
    "4100000000000019": DeclineCode.SUSPECTED_FRAUD,
}
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_keys (id INTEGER PRIMARY KEY CHECK (id = 1),
    private_pem TEXT NOT NULL, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandbox_requests (idempotency_key TEXT PRIMARY KEY,
    operation TEXT NOT NULL, params TEXT NOT NULL, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandbox_payments (reference TEXT PRIMARY KEY,
    status TEXT NOT NULL, amount INTEGER NOT NULL, captured INTEGER NOT NULL,
    refunded INTEGER NOT NULL, currency TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandbox_tokens (token TEXT PRIMARY KEY, payment_data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandbox_refund_declines (reference TEXT PRIMARY KEY);
"""


class SandboxGateway:
    """The processor. `path` is its own SQLite file (":memory:" keeps it in this process)."""

    name = "sandbox"

    def __init__(self, path: str | Path = ":memory:") -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.executescript(_SCHEMA)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        with self._tx():
            row = self._conn.execute("SELECT private_pem, secret FROM sandbox_keys").fetchone()
            if row is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                pem = key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode()
                row = (pem, secrets.token_hex(32))
                self._conn.execute("INSERT INTO sandbox_keys VALUES (1, ?, ?)", row)
        self._key = serialization.load_pem_private_key(row[0].encode(), password=None)
        assert isinstance(self._key, rsa.RSAPrivateKey)
        self._secret = bytes.fromhex(row[1])
        self.calls: list[str] = []  # operations asked, in order (tests count charges)

    # --- what a terminal needs ---------------------------------------------------------

    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def tokenize(self, payment_data: str) -> CardDetails:
        """A card-not-present token (`tok_...`) for encrypted card data, as a web shop's
        payment form gets from the processor: omnitill authorizes orders with the token and
        never sees the card. The processor keeps the encrypted data, never the number."""
        card, _ = self._read(payment_data, "online")
        with self._tx():
            self._conn.execute(
                "INSERT INTO sandbox_tokens VALUES (?, ?)", (card.token, payment_data)
            )
        return card

    # --- the gateway contract ------------------------------------------------------------

    def authorize(
        self,
        *,
        amount: int,
        currency: str,
        payment_data: str,
        entry_mode: str,
        idempotency_key: str,
        capture: bool = True,
    ) -> GatewayResult:
        card, pan = self._read(payment_data, entry_mode)
        params = {  # a retry may carry the card encrypted afresh: compare the card itself
            "amount": amount,
            "currency": currency,
            "card": card.fingerprint,
            "entry_mode": entry_mode,
            "capture": capture,
        }
        with self._tx():
            self.calls.append("authorize")
            replay = self._replay(idempotency_key, "authorize", params)
            if replay is not None:
                return replay  # a retry after a lost answer gets the first result
            reference = "pay_" + secrets.token_hex(12)
            decline = DECLINES.get(pan)
            now = datetime.now(UTC)
            if decline is None and (card.exp_year, card.exp_month) < (now.year, now.month):
                decline = DeclineCode.EXPIRED_CARD
            if amount <= 0:
                raise GatewayError("gateway.invalid_amount", "the amount must be positive")
            if decline is not None:
                result = GatewayResult(
                    PaymentStatus.DECLINED,
                    reference,
                    amount,
                    currency,
                    idempotency_key,
                    decline_code=str(decline),
                    message=f"declined: {decline}",
                    card=card,
                )
            else:
                status = PaymentStatus.CAPTURED if capture else PaymentStatus.AUTHORIZED
                result = GatewayResult(
                    status,
                    reference,
                    amount,
                    currency,
                    idempotency_key,
                    auth_code=f"{secrets.randbelow(10**6):06d}",
                    message="approved",
                    card=card,
                )
                self._conn.execute(
                    "INSERT INTO sandbox_payments VALUES (?, ?, ?, ?, 0, ?)",
                    (reference, status, amount, amount if capture else 0, currency),
                )
                if pan == REFUND_DECLINED_CARD:
                    self._conn.execute(
                        "INSERT INTO sandbox_refund_declines VALUES (?)", (reference,)
                    )
            self._remember(idempotency_key, "authorize", params, result)
        if pan == TIMEOUT_CARD:
            raise GatewayTimeout("the sandbox processor did not answer in time")
        return result

    def capture(self, *, reference: str, amount: int | None, idempotency_key: str) -> GatewayResult:
        params = {"reference": reference, "amount": amount}
        with self._tx():
            self.calls.append("capture")
            replay = self._replay(idempotency_key, "capture", params)
            if replay is not None:
                return replay
            status, authorized, _, _, currency = self._payment(reference)
            if status == PaymentStatus.VOIDED:
                raise GatewayError("payment.capture_after_void", "the payment was voided")
            if status != PaymentStatus.AUTHORIZED:
                raise GatewayError("payment.not_capturable", f"the payment is {status}")
            take = authorized if amount is None else amount
            if not 0 < take <= authorized:
                raise GatewayError(
                    "payment.capture_exceeds_authorization",
                    f"capture {take} of an authorization of {authorized}",
                )
            self._conn.execute(
                "UPDATE sandbox_payments SET status = ?, captured = ? WHERE reference = ?",
                (PaymentStatus.CAPTURED, take, reference),
            )
            result = GatewayResult(
                PaymentStatus.CAPTURED, reference, take, currency, idempotency_key, message="ok"
            )
            self._remember(idempotency_key, "capture", params, result)
            return result

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        params = {"reference": reference}
        with self._tx():
            self.calls.append("void")
            replay = self._replay(idempotency_key, "void", params)
            if replay is not None:
                return replay
            status, authorized, _, _, currency = self._payment(reference)
            if status != PaymentStatus.AUTHORIZED:
                raise GatewayError(
                    "payment.not_voidable", f"the payment is {status}: refund it instead"
                )
            self._conn.execute(
                "UPDATE sandbox_payments SET status = ? WHERE reference = ?",
                (PaymentStatus.VOIDED, reference),
            )
            result = GatewayResult(
                PaymentStatus.VOIDED, reference, authorized, currency, idempotency_key
            )
            self._remember(idempotency_key, "void", params, result)
            return result

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        params = {"reference": reference, "amount": amount}
        with self._tx():
            self.calls.append("refund")
            replay = self._replay(idempotency_key, "refund", params)
            if replay is not None:
                return replay
            status, _, captured, refunded, currency = self._payment(reference)
            if status != PaymentStatus.CAPTURED:
                raise GatewayError("payment.not_refundable", f"the payment is {status}")
            if self._conn.execute(
                "SELECT 1 FROM sandbox_refund_declines WHERE reference = ?", (reference,)
            ).fetchone():
                raise GatewayError("refund.declined", "the card issuer declined the refund")
            if not 0 < amount <= captured - refunded:
                raise GatewayError(
                    "refund.exceeds_payment",
                    f"refund {amount} with {captured - refunded} left to refund",
                )
            self._conn.execute(
                "UPDATE sandbox_payments SET refunded = refunded + ? WHERE reference = ?",
                (amount, reference),
            )
            result = GatewayResult(
                PaymentStatus.REFUNDED,
                "re_" + secrets.token_hex(12),
                amount,
                currency,
                idempotency_key,
                payment_reference=reference,
            )
            self._remember(idempotency_key, "refund", params, result)
            return result

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        with self._tx():
            self.calls.append("lookup")
            row = self._conn.execute(
                "SELECT result FROM sandbox_requests WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
        return None if row is None else _load(row[0])

    def inspect_card(self, *, payment_data: str) -> CardDetails:
        """The card the terminal read (or a token's card), decrypted as `authorize` does;
        nothing is charged, held or kept."""
        with self._lock:
            self.calls.append("inspect_card")
            card, _ = self._read(payment_data, "card_present")
        return card

    # --- inside the processor --------------------------------------------------------------

    def _tx(self) -> _Transaction:
        return _Transaction(self._lock, self._conn)

    def _read(self, payment_data: str, entry_mode: str) -> tuple[CardDetails, str]:
        token = None
        if payment_data.startswith("tok_"):
            row = self._conn.execute(
                "SELECT payment_data FROM sandbox_tokens WHERE token = ?", (payment_data,)
            ).fetchone()
            if row is None:
                raise GatewayError("gateway.unknown_token", "no such card token")
            token, payment_data = payment_data, row[0]
        if not payment_data.startswith(PREFIX):
            raise GatewayError("gateway.invalid_payment_data", "not sandbox P2PE data")
        try:
            raw = self._key.decrypt(base64.b64decode(payment_data[len(PREFIX) :]), _OAEP)
            card = json.loads(raw)
            pan, month, year = str(card["pan"]), int(card["exp_month"]), int(card["exp_year"])
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayError("gateway.invalid_payment_data", "unreadable card data") from exc
        if not luhn_valid(pan) or not 1 <= month <= 12:
            raise GatewayError("gateway.invalid_card", "not a valid card number or expiry")
        fingerprint = hmac.new(self._secret, pan.encode(), hashlib.sha256).hexdigest()[:32]
        details = CardDetails(
            token=token or "tok_" + secrets.token_hex(12),
            brand=brand_of(pan),
            last4=pan[-4:],
            exp_month=month,
            exp_year=year,
            entry_mode=entry_mode,
            fingerprint=fingerprint,
        )
        return details, pan

    def _payment(self, reference: str) -> tuple[str, int, int, int, str]:
        row = self._conn.execute(
            "SELECT status, amount, captured, refunded, currency FROM sandbox_payments "
            "WHERE reference = ?",
            (reference,),
        ).fetchone()
        if row is None:
            raise GatewayError("payment.unknown_reference", f"no payment {reference!r}")
        return row[0], int(row[1]), int(row[2]), int(row[3]), row[4]

    def _replay(self, key: str, operation: str, params: dict[str, Any]) -> GatewayResult | None:
        row = self._conn.execute(
            "SELECT operation, params, result FROM sandbox_requests WHERE idempotency_key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        if row[0] != operation or json.loads(row[1]) != params:
            raise GatewayError(
                "gateway.idempotency_mismatch",
                "this idempotency key was used for another request",
            )
        return _load(row[2])

    def _remember(
        self, key: str, operation: str, params: dict[str, Any], result: GatewayResult
    ) -> None:
        self._conn.execute(
            "INSERT INTO sandbox_requests VALUES (?, ?, ?, ?)",
            (key, operation, json.dumps(params, sort_keys=True), _dump(result)),
        )


class _Transaction:
    """One processor request: serialised in this process by a lock, across processes by
    SQLite's write lock (BEGIN IMMEDIATE)."""

    def __init__(self, lock: threading.Lock, conn: sqlite3.Connection) -> None:
        self._lock, self._conn = lock, conn

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            self._conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        finally:
            self._lock.release()


def _dump(result: GatewayResult) -> str:
    return json.dumps(asdict(result), sort_keys=True)


def _load(text: str) -> GatewayResult:
    data = json.loads(text)
    card = data.pop("card")
    return GatewayResult(
        **{**data, "status": PaymentStatus(data["status"])},
        card=None if card is None else CardDetails(**card),
    )


class SandboxTerminal:
    """A simulated P2PE card terminal: reads a card and encrypts it for the processor only."""

    def __init__(self, public_key_pem: str) -> None:
        key = serialization.load_pem_public_key(public_key_pem.encode())
        assert isinstance(key, rsa.RSAPublicKey)
        self._key = key

    def read_card(self, pan: str, exp_month: int, exp_year: int) -> str:
        """What the terminal sends: the card, encrypted; nothing here is kept."""
        plain = json.dumps(
            {"pan": pan.replace(" ", ""), "exp_month": exp_month, "exp_year": exp_year}
        ).encode()
        return PREFIX + base64.b64encode(self._key.encrypt(plain, _OAEP)).decode()
