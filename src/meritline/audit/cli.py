"""``meritline audit``: verify the hash chain and read recent events."""

from __future__ import annotations

import typer
from rich.table import Table

from meritline.audit import service
from meritline.cli.runtime import AS_JSON, Runtime, command_group, console, emit_json
from meritline.errors import IntegrityViolation

app = command_group("Verify and read the tamper-evident audit log.")


@app.command("verify")
def verify(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Recompute the tenant's hash chain. Exits 1 naming the first broken sequence number
    when any event was edited, deleted, inserted or reordered.

    Keep the printed head hash somewhere else: it lets you detect a rewrite of the whole chain.
    """
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        result = service.verify(session, subject)
    if as_json:
        emit_json(result)
        if not result.ok:
            raise typer.Exit(1)
        return
    if not result.ok:
        raise IntegrityViolation(
            f"audit chain broken at sequence {result.broken_seq}: {result.reason} "
            f"({result.events_checked} events checked)."
        )
    console.print(
        f"Audit chain intact: {result.events_checked} events, head {result.head_seq} "
        f"{result.head_hash}."
    )


@app.command("log")
def log(
    ctx: typer.Context,
    limit: int = typer.Option(20, min=1, max=100_000, help="How many events."),
    as_json: bool = AS_JSON,
) -> None:
    """Show the latest audit events, newest first."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        events = service.recent(session, subject, limit=limit)
    if as_json:
        emit_json(events)
        return
    table = Table("seq", "time (UTC)", "actor", "action", "entity")
    for e in events:
        table.add_row(
            str(e.seq),
            f"{e.occurred_at:%Y-%m-%d %H:%M:%S}",
            e.actor,
            e.action,
            f"{e.entity_type}:{e.entity_id or ''}",
        )
    console.print(table)
