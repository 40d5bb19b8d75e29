"""``meritline destination`` and ``meritline outbox``: where outcomes go, and sending them."""

from __future__ import annotations

import typer
from rich.table import Table

from meritline.cli.runtime import AS_JSON, Runtime, command_group, console, emit_json, validated
from meritline.writeback import delivery, service
from meritline.writeback.schemas import DestinationCreate

destination_app = command_group("Writeback destinations: signed webhooks and CSV files.")
outbox_app = command_group("The outbox of outcomes for HR and compensation systems.")


@destination_app.command("add")
def add(
    ctx: typer.Context,
    kind: str = typer.Argument(..., metavar="webhook|csv"),
    name: str = typer.Argument(..., help="A short name, e.g. workday."),
    target: str = typer.Argument(..., help="The webhook's URL, or the CSV file's path."),
    secret: str | None = typer.Option(None, help="The webhook's signing secret (16+ chars)."),
    topic: list[str] = typer.Option([], help="Only these topics; repeatable (default: all)."),
    as_json: bool = AS_JSON,
) -> None:
    """Add a destination. Example: meritline destination add csv hris exports/ratings.csv;
    meritline destination add webhook comp https://comp.example.com/hooks --secret ...
    """
    data = validated(
        DestinationCreate,
        "destination",
        name=name,
        type=kind,
        target=target,
        secret=secret,
        topics=topic,
    )
    runtime = Runtime.of(ctx)
    with runtime.operator() as (session, subject):
        added = service.add_destination(session, subject, data, settings=runtime.settings)
    if as_json:
        emit_json(added)
    else:
        console.print(f"Added {added.type} destination {added.name!r} -> {added.target}.")


@destination_app.command("list")
def list_(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Every destination (never its secret)."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        found = service.list_destinations(session, subject)
    if as_json:
        emit_json(found)
        return
    table = Table("name", "type", "target", "topics")
    for d in found:
        table.add_row(d.name, d.type, d.target, ", ".join(d.topics) or "all")
    console.print(table)


@outbox_app.command("status")
def status(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Outcomes waiting, delivered and given up on."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        found = service.status(session, subject)
    if as_json:
        emit_json(found)
        return
    d = found.deliveries
    console.print(
        f"{found.events} outcome(s); deliveries: {d['pending']} pending, "
        f"{d['delivered']} delivered, {d['dead']} dead."
    )
    for line in found.dead:
        console.print(f"  dead: {line}", markup=False)


@outbox_app.command("deliver")
def deliver(
    ctx: typer.Context,
    max_attempts: int = typer.Option(delivery.MAX_ATTEMPTS, min=1, help="Then give up (dead)."),
    as_json: bool = AS_JSON,
) -> None:
    """Send every due outcome to its destinations (safe to run again, or from cron)."""
    runtime = Runtime.of(ctx)
    runtime.database()  # the schema check, before any work
    report = delivery.deliver(
        runtime.operator, settings=runtime.settings, max_attempts=max_attempts
    )
    if as_json:
        emit_json(report)
        return
    console.print(
        f"Delivered {report.delivered}; {report.retrying} will be retried, {report.dead} gave "
        f"up; {report.waiting} still pending."
    )
    for line in report.errors:
        console.print(f"  {line}", markup=False)
