"""``meritline demo``: build the synthetic demo company."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from meritline.calibration.schemas import SessionAnalysis
from meritline.cli.runtime import Runtime, console, emit_json, err_console, safe_url
from meritline.demo import company, service
from meritline.demo import cycle as demo_cycle
from meritline.demo.service import EvidenceResult
from meritline.evidence.aggregates import WINDOW_NAMES
from meritline.people.cli import print_import_summary
from meritline.scoring import jobs
from meritline.scoring import service as scoring
from meritline.scoring.cli import distribution, print_explanation, print_run


def demo(
    ctx: typer.Context,
    employees: int = typer.Option(
        400, "--employees", "-n", min=40, max=100_000, help="Company size."
    ),
    seed: int = typer.Option(7, help="Random seed: the same seed builds the same company."),
    save_csv: Path | None = typer.Option(
        None, "--save-csv", help="Also write the generated HRIS export to this file."
    ),
    export_path: Path = typer.Option(
        Path("meritline-export/ratings.csv"), "--export", help="Where the HRIS CSV export goes."
    ),
    packet_path: Path = typer.Option(
        Path("meritline-packet.html"), "--packet", help="Where the committee packet goes."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build a realistic synthetic company (org tree, spans of 3-10, levels, locations,
    demographics, hire dates and leavers) and import it like any HRIS export.

    Running it again with the same seed changes nothing. Example: meritline demo -n 1000 --seed 3
    """
    runtime = Runtime.of(ctx)
    steps = [
        "generating the company",
        "preparing the database",
        "validating the export",
        "importing people",
        "opening the review cycle",
        "generating twelve months of evidence",
        "scoring everyone",
        "running the review cycle",
    ]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task(steps[0], total=len(steps))

        def step(description: str) -> None:
            progress.update(task, description=description, advance=1)

        people = service.generate_people(employees=employees, seed=seed)
        csv_text, figures = company.to_csv(people), company.describe(people)
        if save_csv is not None:  # before touching the database, so a bad path costs nothing
            service.save_csv(save_csv, csv_text)
        step(steps[1])
        runtime.database()
        with runtime.operator(create_tenant=True) as (session, subject):
            result = service.load_demo(
                session, subject, csv_text=csv_text, figures=figures, seed=seed, step=step
            )
        step("ingesting evidence (GitHub, Jira, calendar, LMS, HRMS, recognition)")
        signals = progress.add_task("signals", total=None)
        with runtime.operator() as (session, subject):
            evidence = service.load_evidence(
                session,
                subject,
                people=people,
                seed=seed,
                progress=lambda n: progress.advance(signals, n),
            )
        step("scoring everyone as of the last day of evidence")
        run = jobs.run_scoring(runtime.operator, as_of=evidence.windows.as_of)
        with runtime.operator() as (session, subject):
            scores = scoring.run_scores(session, subject, run_id=run.run_id)
            example_id = scoring.example_employee(session, subject, run_id=run.run_id)
            example = (
                None
                if example_id is None
                else scoring.get_explanation(
                    session, subject, employee_id=example_id, purpose="demo walkthrough"
                )
            )
        step("running the review cycle")
        cycle_run = demo_cycle.run_cycle(
            runtime.operator,
            settings=runtime.settings,
            people=people,
            cycle=result.review_cycle.name,
            seed=seed,
            export=export_path,
            packet=packet_path,
            step=lambda text: progress.update(task, description=text),
        )
        step("done")
    if as_json:
        emit_json(
            {
                **result.model_dump(mode="json", exclude={"csv"}),
                "evidence": evidence.model_dump(mode="json", exclude={"windows"}),
                "scoring": {**run.model_dump(mode="json"), "distribution": distribution(scores)},
                "example_explanation": example.model_dump(mode="json") if example else None,
                "cycle": None if cycle_run is None else cycle_summary(cycle_run),
            }
        )
        return
    c = result.company
    console.print(
        f"[bold green]Demo company ready[/] in tenant [bold]{runtime.settings.tenant}[/] "
        f"at {safe_url(runtime.settings.database_url)} (seed {seed})."
    )
    console.print(
        f"  {c['employees']} people ({c['active']} active, {c['left_in_last_year']} left in the "
        f"last year) in {c['departments']} departments and {c['locations']} locations; "
        f"{c['managers']} managers, spans {c['span_min']}-{c['span_max']} "
        f"(median {c['span_median']}), {c['levels_deep']} levels deep."
    )
    console.print("  ", end="")
    print_import_summary(result.imported)
    cycle = result.review_cycle
    state = "created" if result.review_cycle_created else "already there"
    console.print(
        f"  Review cycle {cycle.name!r} ({cycle.period_start} to {cycle.period_end}): {state}."
    )
    if save_csv is not None:
        console.print(f"  The HRIS export is in {save_csv}.")
    print_evidence(evidence)
    console.print()
    print_run(run, scores)
    if example is not None:
        console.print(f"\n[bold]Why is {example.employee_id}'s score what it is?[/]")
        print_explanation(example)
    print_cycle(cycle_run, packet_path)
    console.print(
        "\n[bold]Next[/]\n"
        f"  meritline calibration ratings '{cycle.name}' '{demo_cycle.SESSION}'\n"
        f"  meritline calibration adjustments '{cycle.name}' '{demo_cycle.SESSION}'\n"
        f"  meritline cycle nine-box '{cycle.name}'     # the 9-box\n"
        "  meritline outbox status                             # outcomes written back\n"
        "  meritline score explain E0100                      # any employee's explanation\n"
        "  meritline model show                                # the scoring model\n"
        "  meritline people list --as E0002 --role manager   # what a manager sees\n"
        "  meritline token create --employee E0001 --role admin\n"
        "  meritline serve                                     # API docs at /docs\n"
        "  meritline ingest status                             # evidence by source\n"
        "  meritline aggregates show --employee E0100 --as-of 2026-09-30\n"
        "  meritline audit verify                              # check the audit chain"
    )


def print_evidence(evidence: EvidenceResult) -> None:
    """What the evidence step stored, and the rolled-up windows by signal type."""
    ingested = evidence.ingested
    console.print(
        f"  Evidence: {ingested.events:,} signals from twelve months of work tools: "
        f"{ingested.signals:,} stored, {ingested.duplicates:,} already there, "
        f"{ingested.quarantined:,} quarantined; {evidence.identities} GitHub logins mapped; "
        f"{evidence.refresh.buckets:,} day buckets rolled up."
    )
    report = evidence.windows
    by_type: dict[str, dict[str, float]] = {}
    people: dict[str, set[str]] = {}
    for row in report.rows:
        totals = by_type.setdefault(row.type, dict.fromkeys(WINDOW_NAMES, 0.0))
        for name in WINDOW_NAMES:
            totals[name] += row.windows[name]["count"]
        if row.windows["365d"]["count"]:
            people.setdefault(row.type, set()).add(row.employee_id)
    table = Table(
        "signal type",
        "people",
        *WINDOW_NAMES,
        title=f"Signals per window as of {report.as_of} (the demo's last day of evidence)",
    )
    for signal_type, totals in sorted(by_type.items()):
        table.add_row(
            signal_type,
            str(len(people.get(signal_type, ()))),
            *(f"{totals[name]:,.0f}" for name in WINDOW_NAMES),
        )
    console.print(table)


def cycle_summary(run: demo_cycle.CycleRun) -> dict[str, object]:
    """The cycle's outcome for ``--json``."""
    findings = _findings(run.pre)
    return {
        "cycle": run.cycle,
        "reviews": run.reviews,
        "planted": {
            "lenient_manager": run.planted.lenient_manager,
            "severe_manager": run.planted.severe_manager,
            "gap_department": run.planted.gap_department,
            "recency_biased": list(run.planted.recency_biased),
        },
        "found": findings,
        "adjustments": run.adjustments,
        "routed": run.routed,
        "changes": run.comparison.changes,
        "delivered": run.delivered.delivered,
        "export": str(run.export),
        "packet": str(run.packet),
    }


def _findings(analysis: SessionAnalysis) -> dict[str, list[str]]:
    r = analysis.ratings
    return {
        "lenient_raters": [
            x.rater for x in (r.raters.items if r.raters else []) if x.flag == "lenient"
        ],
        "severe_raters": [
            x.rater for x in (r.raters.items if r.raters else []) if x.flag == "severe"
        ],
        "group_gaps": [f"{g.attribute}={g.group}" for g in r.groups if g.flag],
        "unsupported_ratings": [i.id for i in r.individuals if i.flags],
        "recency": [x.employee_id for x in analysis.recency if x.flag],
    }


def print_cycle(run: demo_cycle.CycleRun | None, packet_path: Path) -> None:
    """What the cycle's calibration found and changed."""
    if run is None:
        console.print(
            f"\nThe demo's review cycle has run before; its packet is {packet_path} "
            "(`meritline calibration packet` writes it again)."
        )
        return
    found = _findings(run.pre)
    p = run.planted
    console.print(f"\n[bold]Review cycle {run.cycle!r}[/]: {run.reviews} manager reviews.")
    console.print(
        f"  Planted: lenient manager {p.lenient_manager}, severe manager {p.severe_manager}, "
        f"a gender gap in {p.gap_department}, {len(p.recency_biased)} recency-biased reviews."
    )
    console.print("  The calibration analysis found:")
    console.print(f"    lenient raters: {', '.join(found['lenient_raters']) or 'none'}")
    console.print(f"    severe raters: {', '.join(found['severe_raters']) or 'none'}")
    console.print(f"    group gaps: {', '.join(found['group_gaps']) or 'none'}")
    console.print(f"    ratings the evidence does not support: {len(found['unsupported_ratings'])}")
    console.print(f"    recency-biased reviews: {', '.join(found['recency']) or 'none'}")
    console.print(
        f"  The committee made {run.adjustments} adjustment(s) with reasons; {run.routed} case(s) "
        "were routed to approvers and decided; the session is locked and the cycle finalized."
    )
    console.print("  Before -> after the adjustments:")
    for line in run.comparison.changes:
        console.print(f"    {line}")
    console.print(
        f"  Outcomes delivered: {run.delivered.delivered} to the HRIS export {run.export}."
    )
    console.print(f"  The committee packet: [bold]{run.packet}[/]")
