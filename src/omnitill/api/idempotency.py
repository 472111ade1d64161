"""ASGI middleware applying `Idempotency-Key` to every mutating request.

The key is scoped to the authenticated staff member, so two clients cannot collide. The
request body is read once, hashed with the method and path, and handed on unchanged. Responses
below 500 are stored and replayed; a 5xx releases the key so the client can retry.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnitill.api.errors import domain_problem
from omnitill.domain.errors import DomainError
from omnitill.services import auth as auth_service
from omnitill.services import idempotency

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
REPLAY_HEADER = b"idempotent-replayed"


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key_bytes = headers.get(b"idempotency-key")
        if key_bytes is None:
            await self.app(scope, receive, send)
            return
        key = key_bytes.decode("latin-1")
        body = await _read_body(receive)
        app_state = scope["app"].state
        db, settings = app_state.db, app_state.settings
        request_scope = await run_in_threadpool(
            _principal, db, headers.get(b"authorization"), scope
        )
        digest = hashlib.sha256(
            scope["method"].encode()
            + b" "
            + scope["path"].encode()
            + b"?"
            + scope.get("query_string", b"")
            + b"\n"
            + body
        ).hexdigest()
        try:
            outcome = await run_in_threadpool(
                idempotency.begin,
                db=db,
                settings=settings,
                scope=request_scope,
                key=key,
                method=scope["method"],
                path=scope["path"],
                request_hash=digest,
            )
        except DomainError as exc:
            await domain_problem(exc)(scope, _replay_receive(body), send)
            return
        if isinstance(outcome, idempotency.Replay):
            await _send_replay(send, outcome)
            return

        captured: dict[str, Any] = {"status": 500, "content_type": "", "chunks": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        captured["content_type"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, _replay_receive(body), capture)
        except Exception:
            await run_in_threadpool(idempotency.release, db=db, record_id=outcome.record_id)
            raise
        if captured["status"] >= 500:
            await run_in_threadpool(idempotency.release, db=db, record_id=outcome.record_id)
        else:
            await run_in_threadpool(
                idempotency.finish,
                db=db,
                record_id=outcome.record_id,
                status=captured["status"],
                content_type=captured["content_type"],
                body=b"".join(captured["chunks"]).decode("utf-8", "replace"),
            )


def _principal(db: Any, authorization: bytes | None, scope: Scope) -> str:
    """Scope keys per staff member; remember the actor so the route need not look it up."""
    if authorization and authorization.lower().startswith(b"bearer "):
        token = authorization[7:].decode("latin-1").strip()
        try:
            actor = auth_service.resolve_token(db=db, token=token)
        except DomainError:
            return "anonymous"
        scope.setdefault("state", {})["actor"] = actor
        return f"user:{actor.user_id}"
    return "anonymous"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _send_replay(send: Send, replay: idempotency.Replay) -> None:
    payload = replay.body.encode()
    await send(
        {
            "type": "http.response.start",
            "status": replay.status,
            "headers": [
                (b"content-type", replay.content_type.encode("latin-1")),
                (b"content-length", str(len(payload)).encode()),
                (REPLAY_HEADER, b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
