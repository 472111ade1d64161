"""Dependencies shared by every router: the database, settings and the acting staff member."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from omnitill.api import web_session
from omnitill.config import Settings
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Unauthenticated
from omnitill.domain.fulfillment.carrier import Carrier
from omnitill.domain.payments.gateway import PaymentGateway
from omnitill.domain.tax.provider import TaxProvider
from omnitill.services import auth as auth_service
from omnitill.services import payments as payment_service
from omnitill.services.carriers import carrier_for
from omnitill.services.database import Database
from omnitill.services.pickups import CustomerNotifier

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_tax_provider(request: Request) -> TaxProvider:
    provider: TaxProvider = request.app.state.tax_provider
    return provider


_gateway_lock = threading.Lock()


def get_gateway(request: Request) -> PaymentGateway:
    """The card processor, built on first use (the sandbox makes a key pair once) and kept
    for the app's life; tests may set `app.state.gateway` beforehand."""
    state = request.app.state
    gateway: PaymentGateway | None = getattr(state, "gateway", None)
    if gateway is None:
        with _gateway_lock:
            gateway = getattr(state, "gateway", None)
            if gateway is None:
                gateway = payment_service.gateway_for(state.settings)
                state.gateway = gateway
    return gateway


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TaxProviderDep = Annotated[TaxProvider, Depends(get_tax_provider)]
GatewayDep = Annotated[PaymentGateway, Depends(get_gateway)]


@dataclass(slots=True)
class Principal:
    """The bearer token of a request, resolved to its staff member on first use."""

    request: Request
    db: Database
    token: str

    def actor(self) -> Actor:
        """The staff member (401 with the reason otherwise); blocking, so call it from a
        sync route or dependency, which FastAPI runs in its threadpool."""
        cached = getattr(self.request.state, "actor", None)
        if isinstance(cached, Actor):
            return cached
        actor = auth_service.resolve_token(db=self.db, token=self.token)
        self.request.state.actor = actor
        return actor


async def get_principal(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The request's bearer token (or a web app's session cookie, see api/web_session.py),
    not yet looked up (async: no threadpool hop)."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return Principal(request, db, credentials.credentials)
    token = web_session.token_of(request)
    if token is None:
        raise Unauthenticated("auth.required", "send Authorization: Bearer <token>")
    return Principal(request, db, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_actor(principal: PrincipalDep) -> Actor:
    """The staff member behind the bearer token (401 with the reason otherwise)."""
    return principal.actor()


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require(permission: Permission) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets the request through only with `permission`."""

    async def check(actor: CurrentActor) -> Actor:
        actor.require(permission)
        return actor

    return check


OverrideHeader = Annotated[
    str | None,
    Header(
        alias="X-Manager-Override",
        description="A one-time token from POST /api/v1/overrides, when the action needs a "
        "permission your role lacks.",
    ),
]


# Query parameters every list endpoint shares. The service checks the limit, so a bad one
# answers with the stable code `pagination.invalid_limit`.
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
Limit = Annotated[int | None, Query(description="Page size, 1 to 200 (default 50).")]
SkuFilter = Annotated[str | None, Query(description="Exact SKU.")]
LocationFilter = Annotated[str | None, Query(description="Location code, e.g. S01.")]


def get_notifier(request: Request) -> CustomerNotifier:
    """The customer messages sender (email over SMTP when configured, SMS), built on first use
    and kept for the app's life; tests may set `app.state.notifier` beforehand."""
    state = request.app.state
    notifier: CustomerNotifier | None = getattr(state, "notifier", None)
    if notifier is None:
        notifier = CustomerNotifier(state.settings)
        state.notifier = notifier
    return notifier


NotifierDep = Annotated[CustomerNotifier, Depends(get_notifier)]


def get_carrier(request: Request) -> Carrier:
    """The parcel carrier, built on first use; tests may set `app.state.carrier`."""
    state = request.app.state
    carrier: Carrier | None = getattr(state, "carrier", None)
    if carrier is None:
        carrier = carrier_for(state.settings)
        state.carrier = carrier
    return carrier


def labels_dir(settings: Settings) -> Path:
    """Where shipping label PDFs are kept: `labels/` in the data directory."""
    base = settings.data_dir if settings.data_dir is not None else Path.cwd()
    return base / "labels"


CarrierDep = Annotated[Carrier, Depends(get_carrier)]
