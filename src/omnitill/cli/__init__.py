"""The `omnitill` command line: thin typer commands over the services."""
