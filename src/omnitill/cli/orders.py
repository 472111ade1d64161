"""`omnitill orders ...`: the background work of orders, on demand."""

from __future__ import annotations

import typer

from omnitill.cli.common import database, load_settings, require_existing_database
from omnitill.services import order_maintenance
from omnitill.services.carriers import carrier_for
from omnitill.services.payments import gateway_for
from omnitill.services.pickups import CustomerNotifier

app = typer.Typer(
    help="Orders: pickup reminders and expiry, parcel tracking.", no_args_is_help=True
)


@app.command("sweep")
def sweep() -> None:
    """Remind pickups waiting past their store's reminder days, cancel those past its hold
    days (stock released, card charged less), and read the tracking of parcels in transit
    (delivered ones complete their orders), and route backordered units against the stock
    that has arrived. The server does this every few minutes."""
    settings = load_settings()
    require_existing_database(settings)
    with database(settings) as db:
        done = order_maintenance.sweep(
            db=db,
            gateway=gateway_for(settings),
            carrier=carrier_for(settings),
            notifier=CustomerNotifier(settings),
        )
    typer.echo(
        f"pickups reminded: {done.reminded}, expired: {done.expired}; "
        f"parcels tracked: {done.tracked}, delivered: {done.delivered}; "
        f"backordered orders allocated: {done.allocated}"
    )
