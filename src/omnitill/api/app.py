"""The FastAPI application: routers, error handling, idempotency, request ids and logs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from omnitill import __version__
from omnitill.api import errors
from omnitill.api import logging as api_logging
from omnitill.api.idempotency import IdempotencyMiddleware
from omnitill.api.request_context import RequestContextMiddleware
from omnitill.api.routes import ROUTERS
from omnitill.config import Settings, get_settings
from omnitill.services import idempotency, lot_expiry, reservations
from omnitill.services.database import Database, open_database
from omnitill.services.pricing import tax_provider_for

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
        try:
            yield
        finally:
            purger.cancel()
            sweeper.cancel()
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
            {"name": "health", "description": "Liveness and readiness probes."},
        ],
    )
    app.state.settings = settings
    app.state.db = database
    app.state.tax_provider = tax_provider_for(settings)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(IdempotencyMiddleware)

    app.add_middleware(RequestContextMiddleware)

    return app


PURGE_EVERY_SECONDS = 3600


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
