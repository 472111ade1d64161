"""`omnitill stock ...`: the stock ledger."""

from __future__ import annotations

import typer

from omnitill.cli.common import database, load_settings, require_existing_database
from omnitill.services import lot_expiry, reservations, stock

app = typer.Typer(
    help="Check stock levels against the movement ledger; expire due reservations.",
    no_args_is_help=True,
)


@app.command("verify")
def verify() -> None:
    """Check that every stock level equals the sum of its movements. Exit 0 when all do;
    exit 1 listing each (sku, location, on_hand, ledger_sum) that does not."""
    settings = load_settings()
    require_existing_database(settings)
    with database(settings) as db:
        found = stock.verify(db=db)
    if not found:
        typer.echo("stock ledger intact: every level equals the sum of its movements")
        return
    typer.echo(f"stock ledger BROKEN: {len(found)} level(s) differ from their movements")
    typer.echo(f"  {'sku':<20} {'location':<8} {'on_hand':>8} {'ledger_sum':>10}")
    for d in found:
        bucket = "" if d.bucket == "on_hand" else f"  ({d.bucket})"
        lot = f" lot {d.lot}" if d.lot else ""
        line = f"  {d.sku:<20} {d.location:<8} {d.on_hand:>8} {d.ledger_sum:>10}{bucket}{lot}"
        typer.echo(line)
    raise typer.Exit(1)


@app.command("sweep")
def sweep() -> None:
    """Expire every active reservation whose time has passed, giving its units back, and
    move the units of lots past their expiry date out of sellable stock. Prints how many
    reservations expired and, when there were any, how many lot units. Safe to run while
    servers sweep too."""
    settings = load_settings()
    require_existing_database(settings)
    with database(settings) as db:
        expired = reservations.sweep(db=db)
        units = lot_expiry.sweep(db=db)
    typer.echo(f"expired {expired} reservation(s)")
    if units:
        typer.echo(f"expired {units} unit(s) of lots past their expiry date")


# CSV export and import of stock levels (cli/stock_csv.py).
from omnitill.cli import stock_csv  # noqa: E402

app.command("export")(stock_csv.export_levels)
app.command("import")(stock_csv.import_levels)
