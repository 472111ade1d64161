"""Settings from the environment (prefix ``OMNITILL_``) and an optional ``.env`` file."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob omnitill reads. Defaults suit the embedded single-shop mode."""

    model_config = SettingsConfigDict(env_prefix="OMNITILL_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path | None = Field(
        default=None, description="Where the embedded SQLite database lives."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; postgresql+psycopg://... in production. "
        "Default: SQLite omnitill.db in data_dir, else in the working directory.",
    )
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_pre_ping: bool = Field(
        default=False, description="Test each pooled connection before use (one round trip)."
    )
    sqlite_busy_timeout_ms: int = 15_000

    secret_key: str = Field(
        default="development-only-secret",
        description="Signs what omnitill hands out (webhooks); must be set in production.",
    )
    token_ttl_seconds: int = 12 * 3600
    login_max_failures: int = 5
    login_lockout_seconds: int = 15 * 60
    override_ttl_seconds: int = 300
    idempotency_ttl_hours: int = 48
    idempotency_in_flight_timeout_seconds: int = 120
    reservation_sweep_seconds: int = Field(
        default=30,
        description="How often the server expires reservations past their time; 0 = never.",
    )

    base_currency: str = "USD"
    tax_provider: Literal["builtin", "remote"] = Field(
        default="builtin",
        description="Where tax figures come from: omnitill's tables, or a tax service "
        "(tax_service_url) with the tables as fallback when it is slow or down.",
    )
    tax_service_url: str | None = None
    tax_service_timeout_seconds: float = 2.0
    payment_gateway: Literal["sandbox", "stripe"] = Field(
        default="sandbox",
        description="The card processor: the built-in sandbox (test cards, no real money) "
        "or Stripe (OMNITILL_STRIPE_API_KEY).",
    )
    sandbox_gateway_path: Path | None = Field(
        default=None,
        description="The sandbox processor's own records (SQLite). Default: "
        "sandbox_gateway.db beside the database in data_dir, else the working directory.",
    )
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    gateway_timeout_seconds: float = 10.0
    gateway_attempts: int = Field(
        default=3,
        description="Times a request whose answer was lost is asked after (by its "
        "idempotency key) and resent with the same key before the outcome is left unknown.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where customers reach this server (QR payment links).",
    )
    qr_callback_secret: str | None = Field(
        default=None,
        description="Shared secret of the QR payment provider's signed callbacks. Default: "
        "derived from OMNITILL_SECRET_KEY.",
    )
    # --- real-time events (services/event_relay.py, api/routes/events.py) ---------------
    event_fanout: Literal["auto", "postgres", "nats"] = Field(
        default="auto",
        description="How hub processes learn of new events: auto (PostgreSQL LISTEN/NOTIFY "
        "on PostgreSQL, in-process on SQLite), postgres, or nats (NATS JetStream).",
    )
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "OMNITILL_EVENTS"
    event_relay_seconds: float = Field(
        default=1.0,
        description="How often the relay publishes outbox events when no wake-up came; 0 "
        "stops the relay in this process.",
    )
    sse_heartbeat_seconds: float = 15.0
    # --- webhooks (services/webhook_delivery.py) -----------------------------------------
    webhook_dispatch_seconds: float = Field(
        default=1.0, description="How often due webhook deliveries are sent; 0 stops them."
    )
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_hours: float = Field(
        default=72.0,
        description="An endpoint whose every attempt has failed for this long is disabled.",
    )
    webhook_allow_private_urls: bool = Field(
        default=True,
        description="Allow webhook URLs on private or loopback addresses (off in production "
        "deployments that face the internet).",
    )
    # --- fulfillment: carriers and customer notifications --------------------------------
    carrier: Literal["sandbox"] = "sandbox"
    smtp_host: str | None = Field(
        default=None, description="SMTP server for customer email; None: email is not sent."
    )
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "omnitill <no-reply@omnitill.invalid>"
    smtp_timeout_seconds: float = 10.0
    sms_provider: Literal["sandbox"] = "sandbox"
    pickup_sweep_seconds: float = Field(
        default=300.0,
        description="How often uncollected pickups are reminded and expired; 0 stops it.",
    )
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _remote_tax_needs_a_url(self) -> Settings:
        if self.tax_provider == "remote" and not self.tax_service_url:
            raise ValueError("OMNITILL_TAX_PROVIDER=remote needs OMNITILL_TAX_SERVICE_URL")
        return self

    @model_validator(mode="after")
    def _stripe_needs_a_key(self) -> Settings:
        if self.payment_gateway == "stripe" and not self.stripe_api_key:
            raise ValueError("OMNITILL_PAYMENT_GATEWAY=stripe needs OMNITILL_STRIPE_API_KEY")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == "development-only-secret":  # noqa: S105
            raise ValueError("OMNITILL_SECRET_KEY must be set in production")
        return self

    @property
    def resolved_qr_callback_secret(self) -> str:
        if self.qr_callback_secret:
            return self.qr_callback_secret
        return hmac.new(self.secret_key.encode(), b"qr-callback", hashlib.sha256).hexdigest()

    @property
    def resolved_sandbox_gateway_path(self) -> Path:
        if self.sandbox_gateway_path is not None:
            return self.sandbox_gateway_path
        directory = self.data_dir if self.data_dir is not None else Path.cwd()
        return (directory / "sandbox_gateway.db").resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        directory = self.data_dir if self.data_dir is not None else Path.cwd()
        return f"sqlite:///{(directory / 'omnitill.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
