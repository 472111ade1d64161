"""Settings from the environment (prefix ``OMNITILL_``) and an optional ``.env`` file."""

from __future__ import annotations

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
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _remote_tax_needs_a_url(self) -> Settings:
        if self.tax_provider == "remote" and not self.tax_service_url:
            raise ValueError("OMNITILL_TAX_PROVIDER=remote needs OMNITILL_TAX_SERVICE_URL")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == "development-only-secret":  # noqa: S105
            raise ValueError("OMNITILL_SECRET_KEY must be set in production")
        return self

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
