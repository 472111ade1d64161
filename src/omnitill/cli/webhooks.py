"""`omnitill webhooks ...`: the webhook dispatcher, outside the server."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from omnitill.cli.common import database, load_settings, require_existing_database
from omnitill.services import event_relay, webhook_delivery

app = typer.Typer(help="Deliver webhooks.", no_args_is_help=True)


@app.command("dispatch")
def dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="One pass, then exit (for cron or a test).")
    ] = False,
) -> None:
    """Publish committed events, create their deliveries and send what is due (retries and
    queued replays included), every OMNITILL_WEBHOOK_DISPATCH_SECONDS until interrupted.
    Safe while servers dispatch too: each attempt is claimed by one process only."""
    settings = load_settings()
    require_existing_database(settings)
    every = settings.webhook_dispatch_seconds if settings.webhook_dispatch_seconds > 0 else 1.0
    with database(settings) as db:
        try:
            while True:
                # A dispatcher may run where no server publishes the outbox: publish first.
                event_relay.publish_pending(db)
                report = webhook_delivery.dispatch_once(db=db, settings=settings)
                if once or report.attempts or report.deliveries:
                    typer.echo(
                        f"{report.events} event(s), {report.deliveries} new deliveries, "
                        f"{report.attempts} attempt(s), {report.succeeded} succeeded, "
                        f"{report.endpoints_disabled} endpoint(s) disabled"
                    )
                if once:
                    return
                time.sleep(every)
        except KeyboardInterrupt:
            return
