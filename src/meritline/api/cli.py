"""``meritline serve``: run the HTTP API."""

from __future__ import annotations

import os

import typer

from meritline.cli.runtime import Runtime, err_console


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, max=64, help="Worker processes (one per core is a good start)."
    ),
) -> None:
    """Serve the REST API (OpenAPI docs at /docs). Example: meritline serve --workers 2."""
    # imported here: the web stack takes a second to load and no other command needs it
    import uvicorn

    from meritline.api.app import create_app

    runtime = Runtime.of(ctx)
    database = runtime.database()  # checks (and on SQLite upgrades) the schema once, up front
    err_console.print(f"meritline API on http://{host}:{port} (docs: http://{host}:{port}/docs)")
    if workers == 1:
        uvicorn.run(create_app(runtime.settings, database), host=host, port=port, log_level="info")
        return
    database.dispose()
    # each worker builds its own app from the environment, so pass on what the options chose
    os.environ["MERITLINE_DATABASE_URL"] = runtime.settings.database_url
    os.environ["MERITLINE_TENANT"] = runtime.settings.tenant
    uvicorn.run(
        "meritline.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
