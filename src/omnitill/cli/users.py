"""`omnitill user ...`: staff accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from omnitill.cli.common import database, load_settings, require_existing_database
from omnitill.services import auth

app = typer.Typer(help="Manage staff accounts.", no_args_is_help=True)


@app.command("create")
def create(
    username: Annotated[str, typer.Option(help="Sign-in name (stored lower-case).")],
    role: Annotated[str, typer.Option(help="One of admin, manager, cashier, inventory, analyst.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters; asked for when omitted.",
        ),
    ],
    location: Annotated[
        list[str] | None,
        typer.Option(
            "--location",
            help="Code of a location the user works at (repeat for several). Admins and "
            "analysts see every location; other roles only the ones given here.",
        ),
    ] = None,
    display_name: Annotated[str, typer.Option(help="Name shown on receipts and reports.")] = "",
) -> None:
    """Create a staff account. Refused (exit 1) for a taken username, unknown role or
    location, or a password shorter than 12 characters."""
    settings = load_settings()
    require_existing_database(settings)
    with database(settings) as db:
        user = auth.create_user(
            db=db,
            username=username,
            password=password,
            role=role,
            location_codes=list(location or []),
            display_name=display_name,
            actor="system:cli",
        )
    where = ", ".join(sorted(set(location or []))) or "no location bindings"
    typer.echo(f"created user {user.username} ({user.role}; {where})")
