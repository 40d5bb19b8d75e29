"""``meritline calibration``: sessions, votes, the analysis, adjustments, approvals and lock."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from meritline.calibration import sessions
from meritline.calibration.packet import render_packet
from meritline.calibration.schemas import (
    AdjustmentCreate,
    Decision,
    SessionAnalysis,
    SessionCreate,
    VoteCast,
)
from meritline.cli.runtime import (
    AS_JSON,
    AS_ORG_UNIT,
    ActingAs,
    Runtime,
    command_group,
    console,
    emit_json,
    validated,
    with_acting_options,
)
from meritline.errors import InvalidInput

app = command_group(
    "Calibration sessions: committee, votes, analysis, adjustments with reasons, approvals, lock."
)


@app.command("create")
def create(
    ctx: typer.Context,
    cycle: str,
    name: str,
    facilitator: str = typer.Option(..., help="The facilitator's employee id."),
    member: list[str] = typer.Option([], help="A committee member; repeatable."),
    org_unit: list[str] = typer.Option([], "--population-unit", help="An org unit; repeatable."),
    employee: list[str] = typer.Option([], "--population-employee", help="A person; repeatable."),
    as_json: bool = AS_JSON,
) -> None:
    """Create a session. Example: meritline calibration create FY2026 "Engineering"
    --facilitator E0010 --member E0002 --member E0003 --population-unit Engineering.
    """
    data = validated(
        SessionCreate,
        "session",
        name=name,
        facilitator=facilitator,
        members=member,
        org_units=org_unit,
        employees=employee,
    )
    with Runtime.of(ctx).operator() as (session, subject):
        created = sessions.create_session(session, subject, cycle=cycle, data=data)
    if as_json:
        emit_json(created)
    else:
        console.print(
            f"Session {created.name!r} in {created.cycle!r}: {created.population} people, "
            f"{len(created.members)} committee member(s), facilitated by {created.facilitator}."
        )


@app.command("list")
@with_acting_options
def list_(
    ctx: typer.Context,
    cycle: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """The cycle's sessions (that you organise or sit on)."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (s, who):
        found = sessions.list_sessions(s, who, cycle=cycle)
    if as_json:
        emit_json(found)
        return
    table = Table("session", "status", "people", "facilitator", "members")
    for f in found:
        table.add_row(f.name, f.status, str(f.population), f.facilitator, ", ".join(f.members))
    console.print(table)


@app.command("ratings")
@with_acting_options
def ratings(
    ctx: typer.Context,
    cycle: str,
    name: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """The population's proposed and calibrated ratings beside their evidence scores."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (s, who):
        rows = sessions.proposed_ratings(s, who, cycle=cycle, name=name)
    if as_json:
        emit_json(rows)
        return
    table = Table("employee", "rater", "proposed", "calibrated", "potential", "evidence")
    for r in rows:
        table.add_row(
            r.employee_id,
            r.rater or "",
            "" if r.proposed_rating is None else f"{r.proposed_rating:g}",
            "" if r.rating is None else f"{r.rating:g}" + (" *" if r.adjusted else ""),
            r.potential or "",
            "" if r.evidence_score is None else f"{r.evidence_score:.0f}",
        )
    console.print(table)


@app.command("vote")
def vote(
    ctx: typer.Context,
    cycle: str,
    name: str,
    employee: str,
    question: bool = typer.Option(False, "--question", help="Question it (default: agree)."),
    comment: str | None = typer.Option(None, help="Why."),
    as_employee: str = typer.Option(..., "--as", help="The committee member voting."),
    role: str = typer.Option("calibrator", "--role", help="The member's role."),
    as_json: bool = AS_JSON,
) -> None:
    """A member agrees with or questions a proposed rating before the meeting."""
    data = validated(VoteCast, "vote", vote="question" if question else "agree", comment=comment)
    with Runtime.of(ctx).acting(ActingAs(as_employee, role)) as (s, who):
        tally = sessions.cast_vote(s, who, cycle=cycle, name=name, employee_id=employee, data=data)
    if as_json:
        emit_json(tally)
    else:
        console.print(f"{employee}: {tally.agree} agree, {tally.question} question.")


@app.command("votes")
@with_acting_options
def votes(
    ctx: typer.Context,
    cycle: str,
    name: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Where the committee disagrees, and its agreement statistic."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (s, who):
        summary = sessions.vote_summary(s, who, cycle=cycle, name=name)
    if as_json:
        emit_json(summary)
        return
    console.print(summary.note)
    for t in summary.items:
        if t.disputed:
            console.print(f"  {t.employee_id}: {t.agree} agree, {t.question} question")


@app.command("analyze")
@with_acting_options
def analyze(
    ctx: typer.Context,
    cycle: str,
    name: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Run the statistics on the session's current ratings (kept as pre or post)."""
    with Runtime.of(ctx).acting(acting) as (s, who):
        result = sessions.analyze(s, who, cycle=cycle, name=name)
    if as_json:
        emit_json(result)
        return
    print_findings(result)


def print_findings(result: SessionAnalysis) -> None:
    """The analysis in a few lines."""
    r = result.ratings
    d = r.distribution
    console.print(f"[bold]{result.phase} analysis[/] of {r.n} ratings")
    if d.p_value is not None:
        console.print(f"  against the guideline: p = {d.p_value:.3g} ({d.method})")
    if r.raters:
        for x in r.raters.items:
            if x.flag:
                console.print(
                    f"  rater {x.rater}: {x.flag} ({x.leniency:+.2f}, q = {x.q_value:.3g})"
                )
    for g in r.groups:
        if g.flag:
            console.print(
                f"  {g.attribute} {g.group}: {g.flag} (controlled gap "
                f"{g.controlled_gap if g.controlled_gap is not None else g.gap:+.2f})"
            )
    if result.groups_withheld:
        console.print("  group results withheld: your role may not read protected attributes")
    for i in r.individuals:
        if i.flags:
            console.print(f"  {i.id}: {', '.join(i.flags)}")
    for late in result.recency:
        if late.flag:
            console.print(
                f"  {late.employee_id}: {late.recent} of {late.citations} citations from the "
                f"last weeks (expected {late.expected_share:.0%}): recency"
            )


@app.command("compare")
@with_acting_options
def compare(
    ctx: typer.Context,
    cycle: str,
    name: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Before and after the adjustments, side by side."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (s, who):
        result = sessions.compare(s, who, cycle=cycle, name=name)
    if as_json:
        emit_json(result)
        return
    for line in result.changes or ["Run `calibration analyze` before and after adjusting."]:
        console.print(f"  {line}")


@app.command("adjust")
@with_acting_options
def adjust(
    ctx: typer.Context,
    cycle: str,
    name: str,
    employee: str,
    rating: float | None = typer.Option(None, help="The calibrated rating."),
    potential: str | None = typer.Option(None, help="low, medium or high."),
    reason: str = typer.Option(..., help="Why (at least 20 characters)."),
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Change a rating in the session, with the reason. Example: meritline calibration adjust
    FY2026 Engineering E0042 --rating 3 --reason "Evidence shows a solid, not exceptional, year".
    """
    data = validated(
        AdjustmentCreate, "adjustment", rating=rating, potential=potential, reason=reason
    )
    with Runtime.of(ctx).acting(acting) as (s, who):
        made = sessions.adjust(s, who, cycle=cycle, name=name, employee_id=employee, data=data)
    if as_json:
        emit_json(made)
        return
    for a in made:
        console.print(
            f"{a.employee_id} {a.field}: {a.old_value} -> {a.new_value} ({a.reason})",
            markup=False,
        )


@app.command("adjustments")
@with_acting_options
def adjustments(
    ctx: typer.Context,
    cycle: str,
    name: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Every adjustment of a session, with its reason and actor."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (s, who):
        made = sessions.list_adjustments(s, who, cycle=cycle, name=name)
    if as_json:
        emit_json(made)
        return
    table = Table("employee", "field", "from", "to", "reason", "by", "at")
    for a in made:
        table.add_row(
            a.employee_id,
            a.field,
            a.old_value or "",
            a.new_value,
            escape(a.reason),
            a.actor,
            f"{a.at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@app.command("queue")
@with_acting_options
def queue(
    ctx: typer.Context,
    status: str = typer.Option("pending", help="pending, approved, rejected, withdrawn, or all."),
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """The routed cases waiting for an approver role (yours, or every queue for an admin)."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (s, who):
        items = sessions.approval_queue(s, who, status=None if status == "all" else status)
    if as_json:
        emit_json(items)
        return
    table = Table("item", "session", "employee", "approver", "rule", "reason", "status")
    for i in items:
        table.add_row(
            str(i.id),
            escape(i.session),
            i.employee_id,
            i.approver_role,
            i.rule,
            i.reason,
            i.status,
        )
    console.print(table)


@app.command("decide")
def decide(
    ctx: typer.Context,
    item: int,
    reject: bool = typer.Option(False, "--reject", help="Reject (default: approve)."),
    reason: str = typer.Option(..., help="Why (at least 20 characters)."),
    as_employee: str = typer.Option(..., "--as", help="The approver deciding."),
    role: str = typer.Option(..., "--role", help="hrbp, legal or compensation."),
    org_unit: list[str] = AS_ORG_UNIT,
    as_json: bool = AS_JSON,
) -> None:
    """Approve or reject a routed case. Example: meritline calibration decide 7 --as E0010
    --role hrbp --reason "Evidence and the committee's notes support the change".
    """
    data = validated(
        Decision, "decision", decision="rejected" if reject else "approved", reason=reason
    )
    with Runtime.of(ctx).acting(ActingAs(as_employee, role, tuple(org_unit))) as (s, who):
        decided = sessions.decide(s, who, item_id=item, data=data)
    if as_json:
        emit_json(decided)
    else:
        console.print(
            f"Item {decided.id} ({decided.employee_id}, {decided.rule}): {decided.status}."
        )


@app.command("lock")
@with_acting_options
def lock(
    ctx: typer.Context,
    cycle: str,
    name: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Lock the session: calibrated ratings become new versions of the reviews."""
    with Runtime.of(ctx).acting(acting) as (s, who):
        result = sessions.lock(s, who, cycle=cycle, name=name)
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"Locked {result.session!r}: {result.pushed} review(s) updated with the calibrated "
            f"rating, {result.unchanged} unchanged."
        )


@app.command("packet")
@with_acting_options
def packet(
    ctx: typer.Context,
    cycle: str,
    name: str,
    html: Path = typer.Option(..., "--html", help="Where to write the packet (one HTML file)."),
    *,
    acting: ActingAs,
) -> None:
    """Write the committee's printable packet: distribution, rater effects, flagged cases with
    their evidence, adjustments with reasons, the 9-box. Example: meritline calibration packet
    FY2026 Engineering --html packet.html --as E0007 --role people_analyst
    """
    if not html.parent.is_dir():
        raise InvalidInput(f"No folder {str(html.parent)!r} for the packet; create it first.")
    with Runtime.of(ctx).acting(acting, read_only=True) as (s, who):
        data = sessions.packet(s, who, cycle=cycle, name=name)
    html.write_text(render_packet(data), encoding="utf-8")
    console.print(f"Packet written to {html}.")
