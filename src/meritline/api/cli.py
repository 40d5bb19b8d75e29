"""``meritline serve``: run the HTTP API."""

from __future__ import annotations

import typer

from meritline.cli.runtime import Runtime, err_console


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the REST API (OpenAPI docs at /docs). Example: meritline serve --port 8000."""
    # imported here: the web stack takes a second to load and no other command needs it
    import uvicorn

    from meritline.api.app import create_app

    runtime = Runtime.of(ctx)
    database = runtime.database()
    err_console.print(f"meritline API on http://{host}:{port} (docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(runtime.settings, database), host=host, port=port, log_level="info")
