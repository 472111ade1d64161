"""`omnitill stock export` and `omnitill stock import`: stock levels as CSV files.

Both show a progress bar on stderr, so stdout stays clean for the data (export without
`--output`) or the summary (import).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from omnitill.cli.common import database, load_settings, require_existing_database
from omnitill.domain.inventory.stock_csv import (
    EXPORT_COLUMNS,
    decode_csv,
    format_csv,
    report_rows,
)
from omnitill.services import stock_csv

_SHOWN_ERRORS = 20


@contextmanager
def _progress(label: str, total: int) -> Iterator[Progress]:
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with bar:
        bar.add_task(label, total=total)
        yield bar


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


def export_levels(
    location: Annotated[
        str | None, typer.Option("--location", help="Only this location's levels (its code).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="CSV file to write; standard output when omitted."),
    ] = None,
) -> None:
    """Write every stock level as CSV: sku, location, on_hand, reserved, available,
    safety_stock, reorder_point, max_level, quarantine, damaged, qc, expired, incoming,
    in_transit, updated_at. Streams page by page, with a progress bar on stderr."""
    settings = load_settings()
    require_existing_database(settings)
    written = 0
    with database(settings) as db:
        total = stock_csv.count_levels(db=db, actor=None, location=location)
        pages = stock_csv.export_pages(db=db, actor=None, location=location)
        with _output(output) as out, _progress("exporting", total) as bar:
            out.write(format_csv([EXPORT_COLUMNS]))
            for page in pages:
                out.write(format_csv(row.values() for row in page))
                written += len(page)
                bar.advance(bar.task_ids[0], len(page))
    where = f" to {output}" if output is not None else ""
    typer.echo(f"exported {written} level(s){where}", err=True)


def import_levels(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file to import."),
    ],
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="`set`: quantity is the counted on_hand; `adjust`: a signed change."
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why; recorded on every movement.")],
    errors: Annotated[
        Path | None,
        typer.Option("--errors", help="Write the per-row error report (CSV) to this file."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Username to act as (its permissions and locations apply). Without it the "
            "import runs as the system operator of this command line.",
        ),
    ] = None,
) -> None:
    """Import `sku,location,quantity` rows, each applied on its own: bad rows are reported
    with their line number and code, and never stop the good ones. Exit 0 when every row
    applied, 1 when any failed (or the file was refused as a whole)."""
    settings = load_settings()
    require_existing_database(settings)
    lines = decode_csv(file.read_bytes())
    total = sum(1 for line in lines[1:] if line.strip())
    with database(settings) as db:
        who = stock_csv.actor_named(db=db, username=actor) if actor else None
        with _progress("importing", total) as bar:
            report = stock_csv.import_levels(
                db=db,
                actor=who,
                lines=lines,
                mode=mode,
                reason=reason,
                progress=lambda n: bar.advance(bar.task_ids[0], n),
            )
    if errors is not None:
        errors.write_text(format_csv(report_rows(report.errors)), encoding="utf-8")
    typer.echo(
        f"import {report.import_id} ({report.mode}): {report.rows} row(s), "
        f"{report.applied} applied ({report.changed} changed), {report.failed} failed"
    )
    if not report.failed:
        return
    if errors is not None:
        typer.echo(f"error report: {errors}", err=True)
    else:
        for e in report.errors[:_SHOWN_ERRORS]:
            typer.echo(f"  line {e.line}: {e.code}: {e.message}", err=True)
        if report.failed > _SHOWN_ERRORS:
            more = report.failed - _SHOWN_ERRORS
            typer.echo(f"  ... and {more} more (write them all with --errors FILE)", err=True)
    raise typer.Exit(1)
