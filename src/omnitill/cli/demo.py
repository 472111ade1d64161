"""`omnitill demo`: seed the demo retailer."""

from __future__ import annotations

import typer

from omnitill.cli.common import database, load_settings, prepare_storage
from omnitill.services import demo as demo_service
from omnitill.services.database import upgrade_schema


def demo() -> None:
    """Seed the demo retailer, Northwind Outfitters (idempotent), and print the demo logins.

    Stores S01 (New York) and S02 (Jersey City), warehouse W01, registers S01-R1 and S02-R1,
    about 200 variants stocked everywhere, and staff for every role. Migrates the database to
    the latest schema first. Running it again creates only what is missing.
    """
    settings = load_settings()
    url = prepare_storage(settings)
    upgrade_schema(url)
    with database(settings) as db:
        result = demo_service.seed(db=db)
    if result.created_anything:
        made = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result.as_dict().items())
        typer.echo(f"demo retailer seeded: {made}")
    else:
        typer.echo("demo retailer already present: nothing to add")
    print_logins()


def print_logins() -> None:
    """The demo staff logins, one per line."""
    typer.echo(f"demo logins (password for all: {demo_service.DEMO_PASSWORD}):")
    for staff in demo_service.STAFF:
        where = ", ".join(staff.locations) if staff.locations else "all locations"
        typer.echo(f"  {staff.username:<11} {staff.role:<10} {where}")
