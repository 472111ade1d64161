"""`omnitill serve`: the HTTP server (API, docs and web clients)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from omnitill.cli.common import describe_url, load_settings, prepare_storage, sqlite_path
from omnitill.services.database import upgrade_schema

APP_FACTORY = "omnitill.api.app:create_app"


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each is stateless).")] = 1,
) -> None:
    """Serve the REST API (/api/v1, docs at /docs) with uvicorn.

    With the embedded SQLite database the schema is migrated first; with PostgreSQL run
    `omnitill db upgrade` once per deploy instead, before starting the workers.
    """
    settings = load_settings()
    url = prepare_storage(settings)
    if sqlite_path(url) is not None:
        upgrade_schema(url)
    typer.echo(
        f"omnitill serving http://{host}:{port} (API docs at /docs) "
        f"on {describe_url(url)} with {workers} worker(s)"
    )
    # The import string (not an app object) lets uvicorn start each worker process itself;
    # the app logs every request, so uvicorn's own access log is off.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
