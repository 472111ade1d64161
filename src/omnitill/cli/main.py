"""`omnitill`: the command line. Each command calls services; none touches the database."""

from __future__ import annotations

import typer

from omnitill import __version__
from omnitill.cli import audit, db, demo, orders, serve, stock, users, webhooks
from omnitill.cli.common import CommandGroup

app = typer.Typer(
    cls=CommandGroup,
    name="omnitill",
    help="omnitill: open-source omnichannel point of sale. Configuration comes from "
    "OMNITILL_* environment variables (OMNITILL_DATABASE_URL, OMNITILL_DATA_DIR, ...).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.add_typer(users.app, name="user")
app.add_typer(audit.app, name="audit")
app.add_typer(stock.app, name="stock")
app.add_typer(orders.app, name="orders")
app.add_typer(webhooks.app, name="webhooks")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"omnitill {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """omnitill: open-source omnichannel point of sale."""


if __name__ == "__main__":
    app(prog_name="omnitill")
