"""Scoring commands: model versions (``meritline model``) and scores (``meritline score``)."""

from __future__ import annotations

import csv
import io
import json
import statistics
import sys
from collections import Counter
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
from meritline.errors import InvalidInput
from meritline.scoring import jobs, service
from meritline.scoring.definition import PILLARS
from meritline.scoring.schemas import Explanation, ExportRow, RunSummary

model_app = command_group("Scoring models: declarative, versioned, immutable once stored.")
score_app = command_group("Score everyone, explain a score, export profiles.")


# --- model -----------------------------------------------------------------------------------


@model_app.command("list")
def list_models(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """List stored model versions (the active one is marked)."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        versions = service.list_versions(session, subject)
    if as_json:
        emit_json(versions)
        return
    if not versions:
        console.print(service.NO_ACTIVE_MODEL)
        return
    table = Table("version", "status", "stored", "activated", "content hash")
    for v in versions:
        table.add_row(
            v.version,
            v.status,
            f"{v.created_at:%Y-%m-%d %H:%M}",
            f"{v.activated_at:%Y-%m-%d %H:%M}" if v.activated_at else "",
            v.content_hash[:12],
        )
    console.print(table)


@model_app.command("show")
def show_model(
    ctx: typer.Context,
    version: str | None = typer.Argument(None, help="e.g. default@2; the active one if omitted."),
    as_json: bool = AS_JSON,
) -> None:
    """Show a model version: pillars, weights and metrics.

    Example: meritline model show default@1 --json
    """
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        shown = service.show(session, subject, reference=version)
    if as_json:
        emit_json(shown)
        return
    console.print(
        f"[bold]{shown.version}[/] ({shown.status}), content hash {shown.content_hash[:12]}; "
        f"cohort {' x '.join(shown.definition['cohort'])}, at least "
        f"{shown.definition['min_cohort']} people."
    )
    table = Table("pillar", "weight", "metric", "signals", "window", "aggregation", "normalise")
    for pillar in shown.definition["pillars"]:
        metrics = pillar["metrics"] or [None]
        for i, m in enumerate(metrics):
            first = i == 0
            if m is None:
                table.add_row(pillar["name"], f"{pillar['weight']:g}", "[dim]no source yet[/]")
                continue
            signals = ", ".join(m["signals"])
            if m["share_of"]:
                signals += " / " + ", ".join(m["share_of"])
            method = m["normalisation"]["method"]
            if method == "target":
                method += f" {m['normalisation']['target']:g}"
            table.add_row(
                pillar["name"] if first else "",
                f"{pillar['weight']:g}" if first else "",
                f"{m['name']} (x{m['weight']:g})",
                signals,
                m["window"],
                m["aggregation"],
                method + (", lower is better" if m["direction"] == "lower" else ""),
            )
    console.print(table)


@model_app.command("validate")
def validate_model(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="A model file (YAML or JSON), or 'default'."),
    as_json: bool = AS_JSON,
) -> None:
    """Check a model file against the schema without storing it (exit 2 when invalid).

    Example: meritline model validate my-model.yaml
    """
    runtime = Runtime.of(ctx)
    if runtime.has_tenant():
        with runtime.operator(read_only=True) as (session, subject):
            result = service.validate(session, subject, reference=file)
    else:  # nothing can be stored yet: check the file alone
        result = service.validate_file(file)
    if as_json:
        emit_json(result)
        return
    stored = f"; stored as {result.stored_as}" if result.stored_as else "; not stored yet"
    console.print(
        f"[green]valid[/]: model {result.name!r} with {result.metrics} metrics over "
        f"{len(result.pillars)} pillars, reading {', '.join(result.signal_types)}{stored}."
    )


@model_app.command("activate")
def activate_model(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., help="A model file, 'default' (the packaged model) or a stored version (default@2)."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Make a model the active one. A file becomes a new immutable version (or finds the stored
    version with the same content); the previous active version is retired.

    Example: meritline model activate my-model.yaml
    """
    with Runtime.of(ctx).operator(create_tenant=True) as (session, subject):
        result = service.activate(session, subject, reference=source)
    if as_json:
        emit_json(result)
        return
    if result.already_active:
        console.print(f"[bold]{result.version}[/] is already the active model; nothing changed.")
        return
    created = " (stored as a new version)" if result.created else ""
    before = f"; {result.previous} retired" if result.previous else ""
    console.print(f"Active model: [bold]{result.version}[/]{created}{before}.")
    console.print("Scores change only at the next `meritline score run`; old snapshots never do.")


@model_app.command("diff")
def diff_models(
    ctx: typer.Context,
    old: str = typer.Argument(..., help="A version (default@1), a file or 'default'."),
    new: str = typer.Argument(..., help="A version, a file or 'default'."),
    as_json: bool = AS_JSON,
) -> None:
    """Show what changes between two models (pillars and metrics matched by name).

    Example: meritline model diff default@1 my-model.yaml
    """
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        result = service.diff(session, subject, old=old, new=new)
    if as_json:
        emit_json(result)
        return
    if not result.changes:
        console.print(f"No differences between {result.old} and {result.new}.")
        return
    table = Table("where", "change", result.old, result.new, title="Model differences")
    for c in result.changes:
        table.add_row(c.path, c.change, _short(c.old), _short(c.new))
    console.print(table)


def _short(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- score -----------------------------------------------------------------------------------


@score_app.command("run")
def run(
    ctx: typer.Context,
    as_of: str | None = typer.Option(
        None, "--as-of", help="Score as of this date (default today)."
    ),
    model: str | None = typer.Option(None, "--model", help="A stored version (default: active)."),
    resume: bool = typer.Option(False, "--resume", help="Finish the latest unfinished run."),
    employees: str | None = typer.Option(
        None, "--employees", help="Only these employee ids, comma-separated (cohorts stay whole)."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Score every active employee: metric values, pillar and overall scores, confidence, trend,
    an immutable snapshot each with its explanation, and the profile dashboards read.

    Example: meritline score run --as-of 2026-09-30
    """
    runtime = Runtime.of(ctx)
    wanted = None if employees is None else [e.strip() for e in employees.split(",") if e.strip()]
    if wanted == []:
        raise InvalidInput("--employees needs at least one employee id.")
    when = parse_date(as_of, "--as-of")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task("reading evidence and scoring", total=1)

        def progress(stage: str, done: int, total: int) -> None:
            label = "reading evidence and scoring" if stage == "scoring" else "writing snapshots"
            bar.update(task, description=label, completed=done, total=max(total, 1))

        summary = jobs.run_scoring(
            runtime.operator,
            as_of=when,
            model=model,
            employees=wanted,
            resume=resume,
            progress=progress,
        )
    with runtime.operator(read_only=True) as (session, subject):
        scores = service.run_scores(session, subject, run_id=summary.run_id)
    if as_json:
        emit_json({**summary.model_dump(mode="json"), "distribution": distribution(scores)})
        return
    print_run(summary, scores)


def distribution(scores: list[float | None]) -> dict[str, object]:
    """Count, mean, quartiles and ten-point bins of a run's scores."""
    values = sorted(s for s in scores if s is not None)
    bins = Counter(min(int(v // 10), 9) for v in values)
    summary: dict[str, object] = {
        "scored": len(values),
        "unscored": len(scores) - len(values),
        "bins": {f"{10 * b}-{10 * b + 10}": bins.get(b, 0) for b in range(10)},
    }
    if values:
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
        summary.update(
            mean=round(statistics.fmean(values), 1),
            p25=round(quartiles[0], 1),
            median=round(quartiles[1], 1),
            p75=round(quartiles[2], 1),
        )
    return summary


def print_run(summary: RunSummary, scores: list[float | None]) -> None:
    """A run's outcome and the distribution of its scores."""
    seconds = (summary.duration_ms or 0) / 1000
    resumed = f", resumed {summary.resumed}x" if summary.resumed else ""
    console.print(
        f"Scoring run {summary.run_id} {summary.status}: {summary.written:,} of "
        f"{summary.employees:,} employees scored as of {summary.as_of} with "
        f"{summary.model_version} in {seconds:.1f} s{resumed}; {summary.unscored:,} without "
        "enough evidence for a score."
    )
    shape = distribution(scores)
    if not shape["scored"]:
        return
    console.print(
        f"Scores: mean {shape['mean']}, median {shape['median']}, "
        f"middle half {shape['p25']}-{shape['p75']}."
    )
    bins = shape["bins"]
    assert isinstance(bins, dict)
    widest = max(bins.values()) or 1
    table = Table("score", "people", "", title="Distribution of this run's scores", box=None)
    for label, count in bins.items():
        table.add_row(label, f"{count:,}", "█" * round(40 * count / widest))
    console.print(table)


@score_app.command("explain")
def explain(
    ctx: typer.Context,
    employee_id: str = typer.Argument(..., help="The employee's HRIS id, e.g. E0042."),
    as_of: str | None = typer.Option(None, "--as-of", help="The snapshot as of this date."),
    purpose: str | None = typer.Option(None, "--purpose", help="Why (for the access log)."),
    as_json: bool = AS_JSON,
) -> None:
    """Explain a score: pillars, the metrics that raised and lowered it, missing evidence, the
    peer band and a narrative whose every sentence names its evidence.

    Example: meritline score explain E0042 --json
    """
    with Runtime.of(ctx).operator() as (session, subject):
        result = service.get_explanation(
            session,
            subject,
            employee_id=employee_id,
            as_of=parse_date(as_of, "--as-of"),
            purpose=purpose or "CLI explanation",
        )
    if as_json:
        emit_json(result)
        return
    print_explanation(result)


def print_explanation(e: Explanation) -> None:
    """An explanation, for people."""
    score = "no score" if e.score is None else f"{e.score:.1f}"
    trend = "" if e.trend is None else f", {e.trend:+.1f} since the previous score"
    console.print(
        f"[bold]{e.employee_id}[/]: {score} of 100 as of {e.as_of} ({e.model_version}), "
        f"confidence {e.confidence:.0%}{trend}; cohort {e.cohort}."
    )
    table = Table("pillar", "weight", "score", "evidence", "points", box=None)
    for name, detail in e.pillar_details.items():
        value = detail["score"]
        points = detail["contribution"]
        table.add_row(
            name,
            f"{detail['weight']:g}",
            "-" if value is None else f"{value:.0f}",
            f"{detail['coverage']:.0%}",
            "" if points is None else f"{points:+.1f}",
        )
    console.print(table)
    for title, items in (("Raised by", e.top_positive), ("Lowered by", e.top_negative)):
        if items:
            listed = "; ".join(f"{c.metric} ({c.pillar}) {c.contribution:+.1f}" for c in items)
            console.print(f"[bold]{title}[/]: {listed}")
    band = e.benchmark
    shown = ", ".join(f"{k.upper()} {v:.0f}" for k, v in band.percentiles.items() if v is not None)
    console.print(
        f"[bold]Peers[/] ({band.cohort}, {band.n} with a score): "
        + (shown or "no band shown")
        + (f"; this score is {band.position}" if band.position else "")
    )
    if shown:
        for label, reason in band.suppressed.items():
            console.print(f"  [dim]{label.upper()} not shown: {reason}[/]")
    elif band.suppressed:
        console.print(f"  [dim]{next(iter(band.suppressed.values()))}[/]")
    console.print("[bold]In words[/]")
    for i, sentence in enumerate(e.narrative, 1):
        console.print(f"  {i}. {sentence.text}", highlight=False)
    console.print(
        f"[dim]fingerprint {e.fingerprint[:16]}…; `--json` has every metric and the evidence "
        "behind each sentence.[/]"
    )


@score_app.command("export")
def export(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="JSON instead of CSV."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV (the default)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
    purpose: str | None = typer.Option(None, "--purpose", help="Why (for the access log)."),
) -> None:
    """Write every current profile (employee_id, as_of, model_version, score, confidence and a
    column per pillar) as CSV or JSON.

    Example: meritline score export --csv -o scores.csv
    """
    if as_json and as_csv:
        raise InvalidInput("Choose one of --json and --csv.")
    with Runtime.of(ctx).operator() as (session, subject):
        rows = service.export(session, subject, purpose=purpose or "CLI export")
    text = _export_json(rows) if as_json else _export_csv(rows)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot write {output}: {exc.strerror}.") from None
    err_console.print(f"Wrote {len(rows):,} profiles to {output}.")


def _export_json(rows: list[ExportRow]) -> str:
    return json.dumps([r.model_dump(mode="json") for r in rows], indent=1) + "\n"


def _export_csv(rows: list[ExportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["employee_id", "as_of", "model_version", "score", "confidence", *PILLARS])
    for r in rows:
        writer.writerow(
            [
                r.employee_id,
                r.as_of.isoformat(),
                r.model_version,
                "" if r.score is None else r.score,
                r.confidence,
                *("" if r.pillars.get(p) is None else r.pillars[p] for p in PILLARS),
            ]
        )
    return buffer.getvalue()


@score_app.command("runs")
def runs(
    ctx: typer.Context,
    limit: int = typer.Option(20, min=1, help="How many, newest first."),
    as_json: bool = AS_JSON,
) -> None:
    """The scoring-run log: status, duration, counts and errors."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        found = service.list_runs(session, subject, limit=limit)
    if as_json:
        emit_json(found)
        return
    table = Table(
        "run", "status", "as of", "model", "employees", "written", "no score", "s", "error"
    )
    for r in found:
        table.add_row(
            str(r.run_id),
            r.status + (f" (resumed {r.resumed}x)" if r.resumed else ""),
            str(r.as_of),
            r.model_version,
            f"{r.employees:,}",
            f"{r.written:,}",
            f"{r.unscored:,}",
            "" if r.duration_ms is None else f"{r.duration_ms / 1000:.1f}",
            r.error or "",
        )
    console.print(table)


@score_app.command("access-log")
def access_log(
    ctx: typer.Context,
    employee_id: str | None = typer.Option(None, "--employee", help="Only reads of this person."),
    limit: int = typer.Option(50, min=1),
    as_json: bool = AS_JSON,
) -> None:
    """Who read whose scores, when and why (newest first)."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        entries = service.access_log(session, subject, employee_id=employee_id, limit=limit)
    if as_json:
        emit_json(entries)
        return
    table = Table("at", "reader", "role", "whose", "what", "why")
    for e in entries:
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.role, e.employee_id, e.resource, e.purpose
        )
    console.print(table)
