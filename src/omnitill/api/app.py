"""The FastAPI application: routers, error handling, idempotency, request ids and logs."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from omnitill import __version__, web
from omnitill.api import errors
from omnitill.api import logging as api_logging
from omnitill.api.idempotency import IdempotencyMiddleware
from omnitill.api.request_context import RequestContextMiddleware
from omnitill.api.routes import ROUTERS
from omnitill.config import Settings, get_settings
from omnitill.services import idempotency, lot_expiry, order_maintenance, reservations
from omnitill.services import payments as payment_service
from omnitill.services.carriers import carrier_for
from omnitill.services.database import Database, open_database
from omnitill.services.event_hub import EventHub, RealTime
from omnitill.services.pickups import CustomerNotifier
from omnitill.services.pricing import tax_provider_for
from omnitill.services.webhook_delivery import run_webhook_dispatcher

DESCRIPTION = """
The omnitill REST API. Money fields are integers in minor units of the object's `currency`
(`{"total": 1999, "currency": "USD"}` is 19.99 USD). Errors are `application/problem+json`
with a stable `code`. Every mutating request accepts an `Idempotency-Key` header: the first
response is stored for at least 24 hours and replayed for the same key and request.
Lists use cursor pagination: pass `next_cursor` back as `cursor`.
"""


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings and database; `serve` uses the env."""
    settings = settings or get_settings()
    owns_db = db is None
    database = db or open_database(settings)
    api_logging.configure(settings.log_level, json_lines=settings.log_json)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        purger = asyncio.create_task(_purge_idempotency_keys(database))
        sweeper = asyncio.create_task(
            _sweep_reservations(database, settings.reservation_sweep_seconds)
        )
        dispatcher = asyncio.create_task(run_webhook_dispatcher(database, settings))
        orders = asyncio.create_task(_order_maintenance(_app, settings.pickup_sweep_seconds))
        realtime = RealTime(database, settings)
        await realtime.start()
        _app.state.event_hub = realtime.hub
        restore_signals = _end_streams_on_exit_signal(realtime.hub)
        try:
            yield
        finally:
            restore_signals()
            await realtime.stop()
            purger.cancel()
            sweeper.cancel()
            dispatcher.cancel()
            orders.cancel()
            if owns_db:
                database.dispose()

    app = FastAPI(
        title="omnitill",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "auth", "description": "Staff sign-in, tokens and manager overrides."},
            {"name": "catalog", "description": "Products, variants, categories and brands."},
            {"name": "locations", "description": "Stores, warehouses and registers."},
            {"name": "customers", "description": "Customers and their addresses."},
            {"name": "stock", "description": "Stock levels and the movement ledger."},
            {"name": "serials", "description": "Serial numbers and lots."},
            {"name": "purchasing", "description": "Suppliers, purchase orders, receiving."},
            {"name": "transfers", "description": "Stock transfers between locations."},
            {"name": "counts", "description": "Cycle counts."},
            {
                "name": "replenishment",
                "description": "Reorder settings, suggestions, dispositions, CSV, the feed.",
            },
            {"name": "sales", "description": "Register sales and their receipts."},
            {
                "name": "payments",
                "description": "Card and QR payments, refunds, gift cards, store credit, shifts.",
            },
            {"name": "pricing", "description": "Price lists, exchange rates and rounding."},
            {"name": "tax", "description": "Tax classes, jurisdictions and their rates."},
            {"name": "promotions", "description": "Promotions and coupons."},
            {
                "name": "orders",
                "description": "Orders from every channel, fulfillment, pickups, shipments.",
            },
            {
                "name": "returns",
                "description": "Returns and exchanges at any location: lookup, policy, refunds "
                "to the original tenders, mail-in returns, return KPIs.",
            },
            {"name": "events", "description": "Live events (SSE) and published event pages."},
            {
                "name": "webhooks",
                "description": "Webhook subscriptions, the delivery log, replays.",
            },
            {"name": "health", "description": "Liveness and readiness probes."},
        ],
    )
    app.state.settings = settings
    app.state.db = database
    app.state.tax_provider = tax_provider_for(settings)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    # The web apps' scripts, styles and icons (register, back office, customer display).
    app.mount("/static", StaticFiles(directory=Path(web.__file__).parent / "static"), name="static")
    app.add_middleware(IdempotencyMiddleware)

    app.add_middleware(RequestContextMiddleware)

    return app


def _end_streams_on_exit_signal(hub: EventHub) -> Callable[[], None]:
    """Uvicorn waits for open responses to finish before it shuts the app down, and an
    event stream never finishes by itself: on SIGINT or SIGTERM end every stream first
    (clients reconnect to another process and resume), then let uvicorn's handler run.
    Signals are only caught in the main thread; returns the function restoring them."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handle(sig: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(hub.shut)
        handler = previous[signal.Signals(sig)]
        if callable(handler):
            handler(sig, frame)
        elif handler == signal.SIG_DFL:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)

    for sig in previous:
        signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is handle:
                signal.signal(sig, handler)

    return restore


PURGE_EVERY_SECONDS = 3600


async def _order_maintenance(app: FastAPI, every_seconds: float) -> None:
    """Every few minutes, remind and expire uncollected pickups and follow parcels (safe in
    several processes: each item is claimed under a row lock)."""
    if every_seconds <= 0:
        return
    log = logging.getLogger("omnitill.maintenance")
    state = app.state
    while True:
        await asyncio.sleep(every_seconds)
        try:
            if getattr(state, "gateway", None) is None:
                state.gateway = payment_service.gateway_for(state.settings)
            if getattr(state, "carrier", None) is None:
                state.carrier = carrier_for(state.settings)
            if getattr(state, "notifier", None) is None:
                state.notifier = CustomerNotifier(state.settings)
            done = await asyncio.to_thread(
                order_maintenance.sweep,
                db=state.db,
                gateway=state.gateway,
                carrier=state.carrier,
                notifier=state.notifier,
            )
            if done.reminded or done.expired or done.delivered or done.allocated:
                log.info("order maintenance", extra={"fields": asdict(done)})
        except Exception:
            log.exception("order maintenance failed")


async def _purge_idempotency_keys(db: Database) -> None:
    """Hourly, forget idempotency keys past their retention (kept at least 24 hours)."""
    log = logging.getLogger("omnitill.maintenance")
    while True:
        await asyncio.sleep(PURGE_EVERY_SECONDS)
        try:
            removed = await asyncio.to_thread(idempotency.purge_expired, db=db)
            log.info("purged idempotency keys", extra={"fields": {"removed": removed}})
        except Exception:
            log.exception("idempotency key purge failed")


LOT_SWEEP_EVERY_SECONDS = 60  # a lot expires at a store's midnight: a minute late is fine


async def _sweep_reservations(db: Database, every_seconds: int) -> None:
    """Every few seconds, expire reservations past their time; every minute or so, move
    the units of expired lots out of sellable stock (both safe in several processes)."""
    if every_seconds <= 0:
        return
    log = logging.getLogger("omnitill.maintenance")
    lots_swept_at = 0.0
    while True:
        await asyncio.sleep(every_seconds)
        try:
            expired = await asyncio.to_thread(reservations.sweep, db=db)
            if expired:
                log.info("expired reservations", extra={"fields": {"expired": expired}})
        except Exception:
            log.exception("reservation sweep failed")
        if time.monotonic() - lots_swept_at < LOT_SWEEP_EVERY_SECONDS:
            continue
        lots_swept_at = time.monotonic()
        try:
            units = await asyncio.to_thread(lot_expiry.sweep, db=db)
            if units:
                log.info("expired lot units", extra={"fields": {"units": units}})
        except Exception:
            log.exception("lot expiry sweep failed")
