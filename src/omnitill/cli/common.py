"""What every command shares: settings, the database handle, and how errors are reported.

Business errors (`DomainError`) are reported in one place, `CommandGroup`, as
``error: <code>: <message>`` on stderr with exit status 1, whichever command raised them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from omnitill.config import Settings, get_settings
from omnitill.domain.errors import DomainError
from omnitill.services.database import Database, open_database

_SQLITE_FILE = re.compile(r"^sqlite(\+\w+)?:///(?P<path>[^?]+)")
_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/@]+):[^@]*@")


class CommandGroup(TyperGroup):
    """The root command group: turns any `DomainError` into a one-line error and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            report_domain_error(exc)
            raise typer.Exit(1) from exc


def report_domain_error(exc: DomainError) -> None:
    """``error: <code>: <message>`` on stderr, then any details and field errors indented."""
    typer.echo(f"error: {exc.code}: {exc.message}", err=True)
    lines: list[str] = []
    for key, value in exc.details.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
        lines.append(f"  {key}: {shown}")
    lines += [f"  {e.field}: {e.message}" for e in exc.errors]
    for line in dict.fromkeys(lines):  # details and field errors often say the same thing
        typer.echo(line, err=True)


def fail(message: str, *, code: str) -> NoReturn:
    """Report an error the command itself detected, in the same form as a `DomainError`."""
    typer.echo(f"error: {code}: {message}", err=True)
    raise typer.Exit(1)


def load_settings() -> Settings:
    """The settings from the environment; a bad value is an error message, not a traceback."""
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        fail(str(exc).replace("\n", " "), code="config.invalid")


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    match = _SQLITE_FILE.match(url)
    if match is None or match["path"] in ("", ":memory:"):
        return None
    return Path(match["path"])


def describe_url(url: str) -> str:
    """The database URL with any password masked, fit to print."""
    return _PASSWORD_IN_URL.sub(r"\g<head>:***@", url)


def prepare_storage(settings: Settings) -> str:
    """Create the data directory (and the SQLite file's folder) if missing; return the URL."""
    if settings.data_dir is not None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return url


def require_existing_database(settings: Settings) -> None:
    """Refuse to run against a SQLite file that does not exist (SQLite would create it)."""
    path = sqlite_path(settings.resolved_database_url)
    if path is not None and not path.exists():
        fail(
            f"no database at {path}; run `omnitill db upgrade` (or `omnitill demo`) first",
            code="database.not_found",
        )


@contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """A database handle for one command, disposed of when the command ends."""
    db = open_database(settings)
    try:
        yield db
    finally:
        db.dispose()
