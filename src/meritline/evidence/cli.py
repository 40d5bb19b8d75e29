"""Evidence commands: connectors, signal imports, ingestion status and quarantine, identity
mappings and aggregates.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from meritline.cli.runtime import (
    AS_JSON,
    Runtime,
    command_group,
    console,
    emit_json,
    err_console,
    parse_date,
)
from meritline.clock import utctoday
from meritline.errors import InvalidInput
from meritline.evidence import aggregates, identities, ingestion
from meritline.evidence.connectors import file_connectors
from meritline.evidence.schemas import IngestSummary, WindowRow

connectors_app = command_group("Webhook sources (GitHub, Jira).")
ingest_app = command_group("The state of evidence ingestion: counts, quarantine, retry.")
identities_app = command_group(
    "Which work-tool account (GitHub login, Jira accountId, e-mail) is which employee."
)
aggregates_app = command_group(
    "Rolling windows of evidence (7/30/90/365 days, quarter and year to date)."
)


@connectors_app.command("add")
def add_connector(
    ctx: typer.Context,
    connector_type: str = typer.Argument(..., metavar="TYPE", help="github or jira."),
    secret: str = typer.Option(
        ..., "--secret", prompt=True, hide_input=True, help="The webhook secret set in the tool."
    ),
    name: str | None = typer.Option(None, help="A label, e.g. the GitHub organisation."),
    as_json: bool = AS_JSON,
) -> None:
    """Add a webhook source and print the path to configure in the tool.

    Example: meritline connectors add github --secret "$GITHUB_WEBHOOK_SECRET" --json
    """
    runtime = Runtime.of(ctx)
    with runtime.operator(create_tenant=True) as (session, subject):
        created = ingestion.add_connector(
            session,
            subject,
            runtime.settings,
            connector_type=connector_type.lower(),
            secret=secret,
            name=name,
        )
    if as_json:
        emit_json({"id": created.id, "webhook_path": created.webhook_path})
        return
    console.print(f"Added {created.type} connector [bold]{created.id}[/].")
    console.print(f"Webhook URL: https://<your meritline host>{created.webhook_path}")
    console.print(
        "Content type application/json; the same secret; then send a test delivery and check "
        "`meritline ingest status`."
    )


@connectors_app.command("list")
def list_connectors(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """List webhook sources (never their secrets)."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        found = ingestion.list_connectors(session, subject)
    if as_json:
        emit_json(found)
        return
    table = Table("id", "type", "name", "webhook path", "created")
    for c in found:
        table.add_row(c.id, c.type, c.name, c.webhook_path, f"{c.created_at:%Y-%m-%d}")
    console.print(table)


def import_signals(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A signals file (see README, Evidence connectors)."),
    file_format: str | None = typer.Option(
        None, "--format", help="Format; inferred from the file when omitted."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import evidence from a file: bad lines go to quarantine with their line number and
    reason, good lines still land; re-importing a file stores nothing twice.

    Formats: signals_csv, signals_jsonl (generic), calendar_ics, lms_csv, hrms_csv, kudos_csv.

    Example: meritline import signals zendesk-2026.jsonl
    """
    known = file_connectors()
    if file_format is not None and file_format not in known:
        raise InvalidInput(f"Unknown format {file_format!r}; one of: {', '.join(sorted(known))}.")
    with (
        Runtime.of(ctx).operator(create_tenant=True) as (session, subject),
        _progress(as_json) as progress,
    ):
        task = progress.add_task(f"importing {file.name}", total=None)
        summary = ingestion.import_file(
            session,
            subject,
            file,
            file_format=file_format,
            progress=lambda n: progress.advance(task, n),
        )
    if as_json:
        emit_json(summary)
        return
    print_ingest_summary(summary, file.name)


def print_ingest_summary(summary: IngestSummary, what: str) -> None:
    """Show what an import did, in words."""
    console.print(
        f"{what} ({summary.source}): {summary.events} events, {summary.signals} signals stored, "
        f"{summary.duplicates} duplicates, {summary.quarantined} quarantined."
    )
    if summary.identities_matched_by_email:
        console.print(f"{summary.identities_matched_by_email} account(s) matched by e-mail.")
    if summary.quarantined:
        err_console.print(
            "[yellow]Some events are in quarantine:[/] `meritline ingest quarantine` lists them "
            "with the reason; after fixing a mapping, run `meritline ingest retry`."
        )


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} events"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,
        transient=True,
    )


@ingest_app.command("status")
def status(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Counts of signals, quarantined events, ignored events and duplicate deliveries."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        result = ingestion.status(session, subject)
    if as_json:
        emit_json(result.model_dump(include={"signals", "quarantined", "ignored", "duplicates"}))
        return
    console.print(
        f"{result.signals:,} signals; {result.quarantined:,} quarantined; "
        f"{result.ignored:,} ignored; {result.duplicates:,} duplicates; "
        f"{result.aggregate_backlog:,} employee-type months waiting for "
        "`meritline aggregates refresh`."
    )
    if result.by_source:
        table = Table("source", "type", "signals")
        for row in result.by_source:
            table.add_row(row["source"], row["type"], f"{row['signals']:,}")
        console.print(table)


@ingest_app.command("quarantine")
def quarantine(
    ctx: typer.Context,
    state: str = typer.Option("open", "--status", help="open, resolved or discarded."),
    reason: str | None = typer.Option(
        None, help="unknown_person, invalid_row or malformed_payload."
    ),
    limit: int = typer.Option(50, min=1, max=10_000),
    offset: int = typer.Option(0, min=0, max=2**31 - 1),
    as_json: bool = AS_JSON,
) -> None:
    """List quarantined events with why they were held."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        page = ingestion.quarantine(
            session, subject, status=state, reason_code=reason, limit=limit, offset=offset
        )
    if as_json:
        emit_json(page)
        return
    table = Table("id", "source", "origin", "line", "reason")
    for q in page.items:
        table.add_row(str(q.id), q.source, q.origin, str(q.line or ""), q.reason)
    console.print(table)
    console.print(f"{page.total} {state} in quarantine.")


@ingest_app.command("retry")
def retry(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """Re-process quarantined events whose person was unknown (after adding mappings)."""
    with Runtime.of(ctx).operator() as (session, subject):
        result = ingestion.retry(session, subject)
    if as_json:
        emit_json(result)
        return
    console.print(
        f"Retried {result.retried}: {result.signals} stored, {result.duplicates} already stored, "
        f"{result.still_unknown} still without a known person."
    )


@ingest_app.command("discard")
def discard(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., help="Quarantine ids (from `ingest quarantine`)."),
) -> None:
    """Give up on quarantined events; they stay listed with status discarded."""
    with Runtime.of(ctx).operator() as (session, subject):
        count = ingestion.discard(session, subject, ids)
    console.print(f"Discarded {count}.")


@identities_app.command("add")
def add_identity(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="github, jira, email, calendar, ..."),
    value: str = typer.Argument(..., help="The login, accountId or address."),
    employee_id: str = typer.Argument(..., help="The HRIS employee id."),
) -> None:
    """Map one account to an employee. Example: meritline identities add github octocat E0042."""
    with Runtime.of(ctx).operator() as (session, subject):
        identities.add_mapping(
            session, subject, kind=kind, value=value, employee_number=employee_id
        )
    console.print(f"Mapped {kind} {value!r} to {employee_id}; now run `meritline ingest retry`.")


@identities_app.command("import")
def import_identities(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV: employee_id,kind,value."),
    as_json: bool = AS_JSON,
) -> None:
    """Import account mappings; on any bad line nothing is written and every one is listed."""
    with Runtime.of(ctx).operator() as (session, subject):
        summary = identities.import_file(session, subject, file)
    if as_json:
        emit_json(summary)
        return
    console.print(f"Mapped {summary.mappings} account(s); now run `meritline ingest retry`.")


@aggregates_app.command("refresh")
def refresh(
    ctx: typer.Context,
    full: bool = typer.Option(False, "--full", help="Recompute everything, not just changes."),
    as_json: bool = AS_JSON,
) -> None:
    """Update the daily rollup with what changed since the last refresh."""
    with Runtime.of(ctx).operator() as (session, subject):
        result = aggregates.refresh(session, subject, full=full)
    if as_json:
        emit_json(result)
        return
    console.print(
        f"Refreshed ({result.mode}) {result.months:,} employee-type months: "
        f"{result.buckets:,} day buckets holding {result.signals:,} signals."
    )


@aggregates_app.command("show")
def show(
    ctx: typer.Context,
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD; default today."),
    employee_id: str | None = typer.Option(None, "--employee", help="One employee."),
    signal_type: str | None = typer.Option(None, "--type", help="One signal type."),
    as_json: bool = AS_JSON,
) -> None:
    """Totals per employee and signal type over the standard windows, as of a date."""
    day = parse_date(as_of, "--as-of") or utctoday()
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        report = aggregates.windows(session, subject, as_of=day, employee_number=employee_id)
    if signal_type:
        report.rows = [r for r in report.rows if r.type == signal_type]
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    print_windows(report.rows, day)


def print_windows(rows: list[WindowRow], as_of: date) -> None:
    """A table of counts per window."""
    table = Table("employee", "type", *aggregates.WINDOW_NAMES, title=f"Evidence as of {as_of}")
    for row in rows:
        table.add_row(
            row.employee_id,
            row.type,
            *(f"{row.windows[w]['count']:g}" for w in aggregates.WINDOW_NAMES),
        )
    console.print(table)
