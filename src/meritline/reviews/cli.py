"""``meritline cycle``, ``meritline review`` and ``meritline feedback``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from meritline.cli.runtime import (
    AS_JSON,
    ActingAs,
    Runtime,
    command_group,
    console,
    emit_json,
    validated,
    with_acting_options,
)
from meritline.errors import InvalidInput
from meritline.reviews import flows, service
from meritline.reviews.nine_box import LABELS
from meritline.reviews.schemas import (
    Citation,
    CycleTemplate,
    FeedbackAnswer,
    FeedbackRequest,
    Review,
    ReviewAmend,
    ReviewCycleCreate,
    ReviewSubmit,
)

app = command_group("Review cycles: create, list, show and move them through their lifecycle.")
review_app = command_group("Reviews: submit, amend, list and read their history.")
feedback_app = command_group("Peer feedback: request it, answer it, read it.")


# --- cycles --------------------------------------------------------------------------------


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help='e.g. "2026 annual review".'),
    start: str = typer.Option(..., help="Period start, YYYY-MM-DD."),
    end: str = typer.Option(..., help="Period end, YYYY-MM-DD."),
    template: Path | None = typer.Option(
        None, help="A YAML or JSON template (scale, guideline, questions, ...); default: 1-5."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Create a review cycle. Example: meritline cycle create "FY2026" --start 2026-01-01
    --end 2026-12-31.
    """
    values: dict[str, object] = {"name": name, "period_start": start, "period_end": end}
    if template is not None:
        values["template"] = validated(CycleTemplate, "template", **_read_template(template))
    data = validated(ReviewCycleCreate, "review cycle", **values)
    with Runtime.of(ctx).operator() as (session, subject):
        cycle = service.create_cycle(session, subject, data)
    if as_json:
        emit_json(cycle)
    else:
        console.print(
            f"Created review cycle {cycle.name!r} ({cycle.period_start} to "
            f"{cycle.period_end}, {cycle.status})."
        )


def _read_template(path: Path) -> dict[str, object]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"No file {str(path)!r}.") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not YAML or JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{path} must hold a mapping (scale, guideline, questions, ...).")
    return {str(k): v for k, v in loaded.items()}


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """List review cycles, newest first."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        cycles = service.list_cycles(session, subject)
    if as_json:
        emit_json(cycles)
        return
    table = Table("name", "start", "end", "status")
    for c in cycles:
        table.add_row(c.name, str(c.period_start), str(c.period_end), c.status)
    console.print(table)


@app.command("show")
def show(ctx: typer.Context, name: str, as_json: bool = AS_JSON) -> None:
    """A cycle, its template and its status history."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        cycle = service.get_cycle(session, subject, name=name)
        history = service.cycle_history(session, subject, name=name)
    if as_json:
        emit_json(
            {
                "cycle": cycle.model_dump(mode="json"),
                "transitions": [t.model_dump(mode="json") for t in history],
            }
        )
        return
    console.print(
        f"[bold]{cycle.name}[/] ({cycle.period_start} to {cycle.period_end}): {cycle.status}"
    )
    console.print("Scale: " + ", ".join(f"{lv.value} {lv.label}" for lv in cycle.template.scale))
    console.print(
        "Guideline: " + ", ".join(f"{k}: {v:.0%}" for k, v in cycle.template.guideline.items())
    )
    for t in history:
        console.print(f"  {t.at:%Y-%m-%d %H:%M} {t.from_status} -> {t.to_status} by {t.actor}")


@app.command("advance")
def advance(
    ctx: typer.Context,
    name: str,
    to: str = typer.Option(
        ..., "--to", help="The next status: open, calibration, finalized, shared or closed."
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Move a cycle to its next status. Example: meritline cycle advance FY2026 --to open."""
    with Runtime.of(ctx).operator() as (session, subject):
        cycle = flows.advance_cycle(session, subject, name=name, to_status=to)
    if as_json:
        emit_json(cycle)
    else:
        console.print(f"Cycle {cycle.name!r} is now {cycle.status}.")


# --- reviews -------------------------------------------------------------------------------


def _citations(cite: list[str]) -> list[Citation]:
    citations = []
    for text in cite:
        kind, _, number = text.partition(":")
        if kind not in ("signal", "snapshot", "feedback") or not number.isdigit():
            raise InvalidInput(f"--cite {text!r} is not KIND:ID (signal:123, snapshot:4).")
        citations.append(Citation.model_validate({"kind": kind, "id": int(number)}))
    return citations


@review_app.command("submit")
@with_acting_options
def submit(
    ctx: typer.Context,
    cycle: str,
    employee: str,
    rating: float | None = typer.Option(None, help="A value of the cycle's scale."),
    potential: str | None = typer.Option(None, help="low, medium or high."),
    assessment: str | None = typer.Option(None, help="The written assessment."),
    cite: list[str] = typer.Option([], help="Evidence cited, KIND:ID; repeatable."),
    promotion: bool | None = typer.Option(
        None, "--promotion/--no-promotion", help="Propose a promotion (or withdraw it)."
    ),
    self_review: bool = typer.Option(False, "--self", help="A self review (with --as them)."),
    reason: str | None = typer.Option(None, help="Amend the submitted review, saying why."),
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Submit (or, with --reason, amend) a review. Example: meritline review submit FY2026
    E0042 --as E0002 --rating 4 --potential high --assessment "..." --cite signal:812.
    """
    given = {
        "rating": rating,
        "potential": potential,
        "promotion_proposed": promotion,
        "assessment": assessment,
        "citations": _citations(cite) or None,
    }
    # what is not given is not set: an amendment keeps the latest version's value
    values: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    values["kind"] = "self" if self_review else "manager"
    if self_review:  # a self review is written as the employee
        acting = replace(acting, role="employee")
    with Runtime.of(ctx).acting(acting) as (session, subject):
        if reason is None:
            data = validated(ReviewSubmit, "review", **values)
            review = service.submit_review(
                session, subject, cycle=cycle, employee_id=employee, data=data
            )
        else:
            amended = validated(ReviewAmend, "amendment", **values, reason=reason)
            review = service.amend_review(
                session, subject, cycle=cycle, employee_id=employee, data=amended
            )
    if as_json:
        emit_json(review)
    else:
        console.print(
            f"{review.kind.capitalize()} review of {review.employee_id} in {review.cycle!r}, "
            f"version {review.version}: {_rating(review)}."
        )


@review_app.command("history")
@with_acting_options
def history(
    ctx: typer.Context,
    cycle: str,
    employee: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Every version of an employee's reviews in a cycle."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (session, subject):
        versions = service.review_history(session, subject, cycle=cycle, employee_id=employee)
    if as_json:
        emit_json(versions)
        return
    for v in versions:
        console.print(
            f"[bold]{v.kind} v{v.version}[/] {v.submitted_at:%Y-%m-%d %H:%M} by "
            f"{v.author_id or v.origin}: {_rating(v)}"
            + (f" ({escape(v.reason)})" if v.reason else "")
        )
        if v.assessment:
            console.print(f"  {v.assessment}", markup=False)


@review_app.command("list")
@with_acting_options
def list_reviews(
    ctx: typer.Context,
    cycle: str,
    self_reviews: bool = typer.Option(False, "--self", help="Self reviews instead."),
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """The latest review of each employee visible (to you, or to --as someone)."""
    with Runtime.of(ctx).acting(acting, read_only=True) as (session, subject):
        reviews = service.latest_reviews(
            session, subject, cycle=cycle, kind="self" if self_reviews else "manager"
        )
    if as_json:
        emit_json(reviews)
        return
    table = Table("employee", "version", "rating", "potential", "promotion", "author")
    for r in reviews:
        table.add_row(
            r.employee_id,
            str(r.version),
            _rating(r),
            r.potential or "",
            "yes" if r.promotion_proposed else "",
            r.author_id or r.origin,
        )
    console.print(table)


def _rating(review: Review) -> str:
    if review.rating is None:
        return "no rating"
    return f"{review.rating:g} ({review.rating_label})"


# --- peer feedback -------------------------------------------------------------------------


@feedback_app.command("request")
@with_acting_options
def request(
    ctx: typer.Context,
    cycle: str,
    employee: str,
    responders: str = typer.Option(..., "--from", help="Colleagues' ids, comma-separated."),
    relation: str = typer.Option("peer", help="peer, upward or other."),
    anonymous: bool = typer.Option(False, "--anonymous", help="Answers do not name authors."),
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """Ask colleagues for feedback. Example: meritline feedback request FY2026 E0042
    --from E0040,E0043,E0051 --anonymous --as E0002.
    """
    data = validated(
        FeedbackRequest,
        "feedback request",
        responders=[r.strip() for r in responders.split(",") if r.strip()],
        relation=relation,
        anonymous=anonymous,
    )
    with Runtime.of(ctx).acting(acting) as (session, subject):
        items = service.request_feedback(
            session, subject, cycle=cycle, employee_id=employee, data=data
        )
    if as_json:
        emit_json(items)
    else:
        console.print(f"{len(items)} colleague(s) asked for feedback on {employee}.")


@feedback_app.command("inbox")
def inbox(
    ctx: typer.Context,
    as_employee: str = typer.Option(..., "--as", help="Whose requests."),
    as_json: bool = AS_JSON,
) -> None:
    """The feedback requests waiting for someone's answer."""
    with Runtime.of(ctx).acting(ActingAs(as_employee, "employee"), read_only=True) as (
        session,
        subject,
    ):
        items = service.my_feedback_requests(session, subject)
    if as_json:
        emit_json(items)
        return
    for item in items:
        console.print(f"  request {item.id}: feedback on {item.employee_id} ({item.relation})")


@feedback_app.command("answer")
def answer(
    ctx: typer.Context,
    feedback_id: int,
    text: str = typer.Option(..., "--text", help="The feedback."),
    as_employee: str = typer.Option(..., "--as", help="Who answers (the colleague asked)."),
    as_json: bool = AS_JSON,
) -> None:
    """Answer a feedback request. Example: meritline feedback answer 12 --as E0040 --text ..."""
    data = validated(FeedbackAnswer, "answer", response=text)
    with Runtime.of(ctx).acting(ActingAs(as_employee, "employee")) as (session, subject):
        item = service.answer_feedback(session, subject, feedback_id=feedback_id, data=data)
    if as_json:
        emit_json(item)
    else:
        console.print(f"Answered feedback request {item.id}.")


@feedback_app.command("show")
@with_acting_options
def show_feedback(
    ctx: typer.Context,
    cycle: str,
    employee: str,
    as_json: bool = AS_JSON,
    *,
    acting: ActingAs,
) -> None:
    """The feedback on an employee: answers appear only once enough exist."""
    with Runtime.of(ctx).acting(acting) as (session, subject):
        summary = service.feedback_summary(session, subject, cycle=cycle, employee_id=employee)
    if as_json:
        emit_json(summary)
        return
    console.print(summary.note)
    for item in summary.items:
        console.print(f"  ({item.responder_id or 'anonymous'}) {item.response}", markup=False)


@app.command("nine-box")
def nine_box(ctx: typer.Context, name: str, as_json: bool = AS_JSON) -> None:
    """The cycle's 9-box (placed when the cycle is finalized)."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        items = flows.nine_box_grid(session, subject, cycle=name)
    if as_json:
        emit_json(items)
        return
    if not items:
        console.print("No positions yet: the 9-box is placed when the cycle is finalized.")
        return
    counts: dict[int, list[str]] = {}
    for item in items:
        counts.setdefault(item.box, []).append(item.employee_id)
    table = Table("potential \\ performance", "low", "medium", "high")
    for row, potential in ((2, "high"), (1, "medium"), (0, "low")):
        cells = []
        for col in range(3):
            box = row * 3 + col + 1
            cells.append(f"{LABELS[box]}: {len(counts.get(box, []))}")
        table.add_row(potential, *cells)
    console.print(table)
