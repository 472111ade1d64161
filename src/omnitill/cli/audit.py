"""`omnitill audit ...`: the hash-chained audit trail."""

from __future__ import annotations

import typer

from omnitill.cli.common import database, load_settings, require_existing_database
from omnitill.services import audit, audit_report

app = typer.Typer(help="Check the tamper-evident audit trail.", no_args_is_help=True)

REASONS = {
    "altered": "its content no longer matches its hash",
    "missing": "the entry is missing (deleted, or the chain was cut short)",
    "relinked": "it does not link to the hash of the entry before it",
    "head_mismatch": "the chain's recorded head does not match its last entry",
    "head_missing": "entries exist for a chain that has no recorded head",
}


def _plural(n: int, word: str, plural: str) -> str:
    return f"{n} {word if n == 1 else plural}"


@app.command("verify")
def verify() -> None:
    """Recompute every chain. Exit 0 when the trail is intact; exit 1 naming, for each broken
    chain, the first bad entry (chain, sequence number, entry id and why)."""
    settings = load_settings()
    require_existing_database(settings)
    with database(settings) as db:
        breaks = audit.verify(db=db)
        totals = audit_report.summary(db=db)
    if not breaks:
        typer.echo(
            f"audit trail intact: {_plural(totals.entries, 'entry', 'entries')} "
            f"in {_plural(totals.chains, 'chain', 'chains')}"
        )
        return
    typer.echo(f"audit trail BROKEN in {_plural(len(breaks), 'chain', 'chains')}:")
    for found in breaks:
        entry = found.entry_id or "(none stored)"
        why = REASONS.get(found.reason, found.reason)
        typer.echo(f"  chain {found.chain}: seq {found.seq}, entry {entry}: {found.reason} ({why})")
    raise typer.Exit(1)
