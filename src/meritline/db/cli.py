"""``meritline db``: create, migrate and inspect the database schema."""

from __future__ import annotations

import typer
from sqlalchemy import text

from meritline.cli.runtime import AS_JSON, Runtime, command_group, console, emit_json, safe_url
from meritline.db.migrate import current_revision, head_revision, owner_engine, upgrade

app = command_group("Create, migrate and inspect the database schema.")


@app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Create the database or migrate it to the latest schema.

    Example: MERITLINE_DATABASE_URL=postgresql+psycopg://meritline@db/meritline meritline db upgrade
    """
    settings = Runtime.of(ctx).settings
    before = upgrade(settings.owner_database_url, runtime_role=settings.database_role)
    head = head_revision()
    where = safe_url(settings.owner_database_url)
    if before == head:
        console.print(f"{where} is already at revision {head}.")
    else:
        console.print(f"{where} upgraded from {before or 'empty'} to revision {head}.")


@app.command("status")
def status_command(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Show the schema revision of the database and the one this code expects."""
    settings = Runtime.of(ctx).settings
    with owner_engine(settings.owner_database_url) as engine, engine.connect() as connection:
        current = current_revision(connection)
        connection.execute(text("SELECT 1"))
    head = head_revision()
    result = {
        "database": safe_url(settings.database_url),
        "current": current,
        "head": head,
        "up_to_date": current == head,
    }
    if as_json:
        emit_json(result)
        return
    state = "up to date" if current == head else "behind: run `meritline db upgrade`"
    console.print(f"{result['database']}: revision {current or 'none'} (code: {head}), {state}.")
