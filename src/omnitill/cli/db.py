"""`omnitill db ...`: the database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from omnitill.cli.common import describe_url, load_settings, prepare_storage
from omnitill.services.database import upgrade_schema

app = typer.Typer(help="Manage the database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: Annotated[
        str, typer.Option(help="Migrate to this revision instead of the latest.")
    ] = "head",
) -> None:
    """Apply migrations to OMNITILL_DATABASE_URL (default: omnitill.db in OMNITILL_DATA_DIR,
    else in the working directory). Safe to run again: an up-to-date database is left alone."""
    url = prepare_storage(load_settings())
    upgrade_schema(url, revision)
    typer.echo(f"database {describe_url(url)} is at revision {revision}")
