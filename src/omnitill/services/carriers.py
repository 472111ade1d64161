"""Which parcel carrier this process uses.

The order service rates parcels, buys labels and reads tracking through the
`domain.fulfillment.carrier.Carrier` contract and never names an implementation; this module
chooses one from the settings (like `services.payments.gateway_for`).
"""

from __future__ import annotations

from pathlib import Path

from omnitill.config import Settings
from omnitill.domain.fulfillment.carrier import Carrier

SANDBOX_FILE = "sandbox_carrier.db"


def sandbox_carrier_path(settings: Settings) -> Path:
    """The sandbox carrier's own records: beside the database in data_dir, else the
    working directory (where the embedded database goes too)."""
    directory = settings.data_dir if settings.data_dir is not None else Path.cwd()
    return (directory / SANDBOX_FILE).resolve()


def carrier_for(settings: Settings) -> Carrier:
    """The configured carrier (`OMNITILL_CARRIER`; the sandbox is the only one today).

    Rates are quoted in the base currency. A label's tracking link is
    ``<public_base_url>/track/<tracking number>``, the customer-facing tracking page of the
    orders feature (the sandbox has no website of its own).
    """
    from omnitill.adapters.carriers.sandbox import SandboxCarrier

    return SandboxCarrier(
        sandbox_carrier_path(settings),
        currency=settings.base_currency,
        tracking_url_template=settings.public_base_url.rstrip("/") + "/track/{tracking_number}",
    )
