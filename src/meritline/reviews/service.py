"""Review cycles and reviews: the lifecycle, submitted and amended reviews, peer feedback.

Who may do what:

* cycles are created and moved through their lifecycle by ``admin`` and ``hrbp``;
* a manager review is written by someone who sees the employee (the visibility rule) in the
  role ``manager``, ``hrbp`` or ``admin``, never about themself; a self review by the employee;
* reviews are written and amended only while the cycle is ``open``; from ``calibration`` on,
  ratings change through calibration adjustments, which record their reason;
* an employee reads their manager review once the cycle is ``shared``;
* peer feedback is shown to those who see the employee only when at least the template's
  threshold (never under 3) of answers exist, and an anonymous answer never names its author.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utcnow, utctoday
from meritline.errors import Conflict, InvalidInput, NotFound
from meritline.models import CycleTransition, PeerFeedback
from meritline.models import Review as ReviewRow
from meritline.models import ReviewCycle as ReviewCycleRow
from meritline.people import queries as people_queries
from meritline.reviews import queries
from meritline.reviews.schemas import (
    Citation,
    CycleTemplate,
    FeedbackAnswer,
    FeedbackItem,
    FeedbackRequest,
    FeedbackSummary,
    Review,
    ReviewAmend,
    ReviewCycle,
    ReviewCycleCreate,
    ReviewSubmit,
    Transition,
)

CYCLE_MANAGERS = frozenset({"admin", "hrbp"})
REVIEWERS = frozenset({"manager", "hrbp", "admin"})
#: The lifecycle: each status and the one it moves on to.
NEXT_STATUS = {
    "draft": "open",
    "open": "calibration",
    "calibration": "finalized",
    "finalized": "shared",
    "shared": "closed",
}
#: From these on, the employee reads their manager review.
SHARED_STATUSES = frozenset({"shared", "closed"})


# --- cycles --------------------------------------------------------------------------------


def create_cycle(session: Session, subject: Subject, data: ReviewCycleCreate) -> ReviewCycle:
    """Create a review cycle in ``draft`` with its template."""
    require_role(subject, *CYCLE_MANAGERS)
    if queries.by_name(session, data.name) is not None:
        raise Conflict(f"A review cycle named {data.name!r} already exists.")
    cycle = ReviewCycleRow(
        tenant_id=subject.tenant_id,
        name=data.name,
        period_start=data.period_start,
        period_end=data.period_end,
        status="draft",
        template=data.template.model_dump(mode="json"),
    )
    queries.add(session, cycle)
    audit.record(
        session,
        subject,
        AuditRecord("review_cycle.create", "review_cycle", cycle.id, data.model_dump(mode="json")),
    )
    return ReviewCycle.model_validate(cycle)


def list_cycles(session: Session, subject: Subject) -> list[ReviewCycle]:
    """Every review cycle of the tenant (cycles are not personal data)."""
    return [ReviewCycle.model_validate(c) for c in queries.all_cycles(session)]


def get_cycle(session: Session, subject: Subject, *, name: str) -> ReviewCycle:
    """One cycle by name."""
    return ReviewCycle.model_validate(cycle_row(session, name))


def transition_cycle(
    session: Session, subject: Subject, *, name: str, to_status: str
) -> ReviewCycle:
    """Move a cycle to the next status of its lifecycle; the change is kept with its actor."""
    require_role(subject, *CYCLE_MANAGERS)
    cycle = locked_cycle(session, name)
    expected = NEXT_STATUS.get(cycle.status)
    if to_status != expected:
        then = f"it can move to {expected!r} next" if expected else "it is closed"
        raise Conflict(f"Cycle {name!r} is {cycle.status!r}: {then}, not to {to_status!r}.")
    queries.add(
        session,
        CycleTransition(
            tenant_id=subject.tenant_id,
            cycle_id=cycle.id,
            from_status=cycle.status,
            to_status=to_status,
            actor=subject.actor,
        ),
    )
    audit.record(
        session,
        subject,
        AuditRecord(
            "review_cycle.transition",
            "review_cycle",
            cycle.id,
            {"from": cycle.status, "to": to_status},
        ),
    )
    cycle.status = to_status
    session.flush()
    return ReviewCycle.model_validate(cycle)


def cycle_history(session: Session, subject: Subject, *, name: str) -> list[Transition]:
    """Every status change of a cycle, oldest first."""
    cycle = cycle_row(session, name)
    return [
        Transition(from_status=t.from_status, to_status=t.to_status, actor=t.actor, at=t.at)
        for t in queries.transitions(session, cycle.id)
    ]


def template_of(cycle: ReviewCycleRow) -> CycleTemplate:
    """A cycle's template, validated."""
    return CycleTemplate.model_validate(cycle.template)


def locked_cycle(session: Session, name: str) -> ReviewCycleRow:
    """The cycle named ``name`` under its row lock for the rest of the transaction."""
    locked = queries.lock_cycle_row(session, cycle_row(session, name).id)
    assert locked is not None
    return locked


def cycle_row(session: Session, name: str) -> ReviewCycleRow:
    """The cycle named ``name`` (``NotFound`` saying how to list them)."""
    cycle = queries.by_name(session, name)
    if cycle is None:
        raise NotFound(f"No review cycle named {name!r}; `meritline cycle list` shows them.")
    return cycle


# --- reviews -------------------------------------------------------------------------------


def submit_review(
    session: Session, subject: Subject, *, cycle: str, employee_id: str, data: ReviewSubmit
) -> Review:
    """Submit the first version of a manager's or a self review."""
    row, employee = _writable(session, subject, cycle, employee_id, data)
    if queries.review_versions(session, row.id, employee, data.kind):
        raise Conflict(
            f"{employee_id} already has a {data.kind} review in {cycle!r}; amend it with a reason."
        )
    return _store(session, subject, row, employee, employee_id, data, version=1, amends=None)


def amend_review(
    session: Session, subject: Subject, *, cycle: str, employee_id: str, data: ReviewAmend
) -> Review:
    """Submit a new version of a review; the earlier versions stay as they were.

    Fields the amendment does not set keep the latest version's values.
    """
    row = cycle_row(session, cycle)
    employee = _visible(session, subject, employee_id)
    _may_author(subject, employee, employee_id, data.kind)
    versions = queries.review_versions(session, row.id, employee, data.kind)
    if not versions:
        raise NotFound(f"{employee_id} has no {data.kind} review in {cycle!r} to amend.")
    latest = versions[-1]
    kept = {
        field: getattr(latest, field)
        for field in ("rating", "potential", "promotion_proposed", "assessment", "answers")
        if field not in data.model_fields_set
    }
    if "citations" not in data.model_fields_set:
        kept["citations"] = [Citation.model_validate(c) for c in latest.citations]
    data = data.model_copy(update=kept)
    row, employee = _writable(session, subject, cycle, employee_id, data)
    return _store(
        session,
        subject,
        row,
        employee,
        employee_id,
        data,
        version=latest.version + 1,
        amends=latest,
    )


def review_history(
    session: Session, subject: Subject, *, cycle: str, employee_id: str
) -> list[Review]:
    """Every version of one employee's reviews in a cycle, through the visibility rule."""
    row = cycle_row(session, cycle)
    employee = _visible(session, subject, employee_id)
    versions = _own_reviews_shared(subject, row, queries.review_versions(session, row.id, employee))
    numbers = _numbers(session, versions)
    template = template_of(row)
    return [_read(v, row.name, template, numbers) for v in versions]


def latest_reviews(
    session: Session, subject: Subject, *, cycle: str, kind: str = "manager"
) -> list[Review]:
    """The latest version of each visible employee's review of ``kind`` in a cycle."""
    row = cycle_row(session, cycle)
    visible = people_queries.visible_ids(session, subject, as_of=utctoday())
    versions = _own_reviews_shared(
        subject,
        row,
        [v for v in queries.latest_reviews(session, row.id, kind=kind) if v.employee_id in visible],
    )
    numbers = _numbers(session, versions)
    template = template_of(row)
    return [_read(v, row.name, template, numbers) for v in versions]


def _own_reviews_shared(
    subject: Subject, cycle: ReviewCycleRow, versions: Sequence[ReviewRow]
) -> list[ReviewRow]:
    """Whatever their role, a person reads their own manager review only once it is shared
    (their self review always).
    """
    shared = cycle.status in SHARED_STATUSES
    return [
        v for v in versions if v.employee_id != subject.employee_id or v.kind == "self" or shared
    ]


def _writable(
    session: Session, subject: Subject, cycle: str, employee_id: str, data: ReviewSubmit
) -> tuple[ReviewCycleRow, int]:
    """The cycle and the employee, once the subject may write this review now."""
    row = cycle_row(session, cycle)
    employee = _visible(session, subject, employee_id)
    _may_author(subject, employee, employee_id, data.kind)
    template = template_of(row)
    if data.kind == "manager":
        if data.rating is None:
            raise InvalidInput("A manager review needs a rating.")
    else:
        if not template.self_review:
            raise InvalidInput(f"Cycle {cycle!r} has no self reviews.")
        if data.potential is not None or data.promotion_proposed:
            raise InvalidInput("Potential and promotion are for the manager review.")
    if data.rating is not None and data.rating not in template.values:
        raise InvalidInput(
            f"Rating {data.rating:g} is not on the cycle's scale "
            f"({', '.join(map(str, template.values))})."
        )
    unknown = sorted(set(data.answers) - set(template.questions))
    if unknown:
        raise InvalidInput(f"Not a question of the cycle: {unknown[0]!r}.")
    if row.status != "open":
        later = "; ratings now change through calibration adjustments" * (
            row.status == "calibration"
        )
        raise Conflict(f"Cycle {cycle!r} is {row.status!r}, not open for reviews{later}.")
    return row, employee


def _may_author(subject: Subject, employee: int, employee_id: str, kind: str) -> None:
    """Refuse anyone but a review's possible authors, before anything about it is read (so the
    answer does not tell whether it exists).
    """
    if kind == "manager":
        require_role(subject, *REVIEWERS)
        if subject.employee_id == employee:
            raise InvalidInput("Nobody writes their own manager review; submit a self review.")
    elif subject.employee_id != employee:
        raise NotFound(f"Only {employee_id} writes their self review.")


def _store(
    session: Session,
    subject: Subject,
    cycle: ReviewCycleRow,
    employee: int,
    employee_number: str,
    data: ReviewSubmit,
    *,
    version: int,
    amends: ReviewRow | None,
) -> Review:
    citations = _checked_citations(session, cycle, employee, data.citations)
    review = ReviewRow(
        tenant_id=subject.tenant_id,
        cycle_id=cycle.id,
        employee_id=employee,
        kind=data.kind,
        version=version,
        author_id=subject.employee_id,
        origin="author",
        rating=data.rating,
        potential=data.potential,
        promotion_proposed=data.promotion_proposed,
        assessment=data.assessment,
        answers=data.answers,
        citations=[c.model_dump(mode="json") for c in citations],
        amends_id=None if amends is None else amends.id,
        reason=data.reason if isinstance(data, ReviewAmend) else None,
        submitted_at=utcnow(),
    )
    queries.add(session, review)
    audit.record(
        session,
        subject,
        AuditRecord(
            "review.amend" if amends else "review.submit",
            "review",
            review.id,
            {"kind": data.kind, "version": version, "rating": data.rating},
        ),
    )
    numbers = _numbers(session, [review])
    numbers.setdefault(employee, employee_number)
    return _read(review, cycle.name, template_of(cycle), numbers)


def _checked_citations(
    session: Session, cycle: ReviewCycleRow, employee: int, citations: Sequence[Citation]
) -> list[Citation]:
    """The citations, each checked to be this employee's evidence and dated."""
    ids = {kind: [c.id for c in citations if c.kind == kind] for kind in ("signal", "snapshot")}
    times: dict[str, dict[int, datetime]] = {
        "signal": queries.signal_times(session, employee, ids["signal"]),
        "snapshot": queries.snapshot_times(session, employee, ids["snapshot"]),
        "feedback": {
            f.id: f.responded_at
            for f in queries.feedback_on(session, cycle.id, employee)
            if f.status == "submitted" and f.responded_at is not None
        },
    }
    checked = []
    for citation in citations:
        when = times[citation.kind].get(citation.id)
        if when is None:
            raise InvalidInput(
                f"Cited {citation.kind} {citation.id} is not evidence about this employee."
            )
        # a signal is evidence of the period it happened in, not of another cycle's
        if citation.kind == "signal" and not (
            cycle.period_start <= when.date() <= cycle.period_end
        ):
            raise InvalidInput(
                f"Cited signal {citation.id} happened on {when.date()}, outside the cycle's "
                f"period ({cycle.period_start} to {cycle.period_end})."
            )
        checked.append(citation.model_copy(update={"occurred_at": when}))
    return checked


def _read(row: ReviewRow, cycle: str, template: CycleTemplate, numbers: dict[int, str]) -> Review:
    return Review(
        id=row.id,
        cycle=cycle,
        employee_id=numbers[row.employee_id],
        kind=row.kind,
        version=row.version,
        author_id=None if row.author_id is None else numbers.get(row.author_id),
        origin=row.origin,
        rating=row.rating,
        rating_label=None if row.rating is None else template.label(row.rating),
        potential=row.potential,
        promotion_proposed=row.promotion_proposed,
        assessment=row.assessment,
        answers=row.answers,
        citations=[Citation.model_validate(c) for c in row.citations],
        reason=row.reason,
        submitted_at=row.submitted_at,
    )


def _numbers(session: Session, rows: Sequence[ReviewRow]) -> dict[int, str]:
    ids = {r.employee_id for r in rows} | {r.author_id for r in rows if r.author_id is not None}
    return people_queries.employee_numbers(session, ids)


def _visible(session: Session, subject: Subject, employee_id: str) -> int:
    internal = people_queries.visible_employee_id(
        session, subject, employee_number=employee_id, as_of=utctoday()
    )
    if internal is None:
        raise NotFound(f"No employee {employee_id!r}.")
    return internal


# --- peer feedback -------------------------------------------------------------------------


def request_feedback(
    session: Session, subject: Subject, *, cycle: str, employee_id: str, data: FeedbackRequest
) -> list[FeedbackItem]:
    """Ask colleagues for feedback on an employee; asking someone twice asks once."""
    require_role(subject, *REVIEWERS)
    row = cycle_row(session, cycle)
    employee = _visible(session, subject, employee_id)
    if not template_of(row).peer_feedback:
        raise InvalidInput(f"Cycle {cycle!r} has no peer feedback.")
    if row.status != "open":
        raise Conflict(f"Cycle {cycle!r} is {row.status!r}; feedback is asked while it is open.")
    found = people_queries.employees_by_numbers(session, data.responders)
    unknown = [n for n in data.responders if n not in found]
    if unknown:
        raise InvalidInput(f"No employee {unknown[0]!r}.")
    gone = people_queries.terminated_before(session, list(found.values()), utctoday())
    if gone:
        names = people_queries.employee_numbers(session, gone)
        raise InvalidInput(f"{sorted(names.values())[0]} has left; ask current colleagues.")
    if employee in found.values():
        raise InvalidInput("Feedback on someone is not asked of themself.")
    asked = {f.responder_id for f in queries.feedback_on(session, row.id, employee)}
    for number in dict.fromkeys(data.responders):
        if found[number] in asked:
            continue
        queries.add(
            session,
            PeerFeedback(
                tenant_id=subject.tenant_id,
                cycle_id=row.id,
                employee_id=employee,
                responder_id=found[number],
                relation=data.relation,
                anonymous=data.anonymous,
                status="requested",
                requested_by=subject.actor,
            ),
        )
    audit.record(
        session,
        subject,
        AuditRecord(
            "peer_feedback.request",
            "employee",
            employee,
            {
                "cycle": row.id,
                "responders": len(set(data.responders)),
                "anonymous": data.anonymous,
            },
        ),
    )
    asked_now = queries.feedback_on(session, row.id, employee)
    return [_as_asked(i) for i in _feedback_items(session, asked_now)]


def answer_feedback(
    session: Session, subject: Subject, *, feedback_id: int, data: FeedbackAnswer
) -> FeedbackItem:
    """A colleague answers a request made of them (once; an answer is not edited)."""
    request = queries.feedback_by_id(session, feedback_id)
    if request is None or request.responder_id != subject.employee_id:
        raise NotFound(f"No feedback request {feedback_id} for you.")
    if request.status != "requested":
        raise Conflict(f"Feedback request {feedback_id} is already {request.status}.")
    cycle = queries.by_id(session, request.cycle_id)
    if cycle is None or cycle.status != "open":
        raise Conflict("The cycle is no longer open for feedback.")
    request.status, request.response, request.responded_at = "submitted", data.response, utcnow()
    session.flush()
    audit.record(
        session, subject, AuditRecord("peer_feedback.answer", "peer_feedback", request.id, None)
    )
    return _feedback_items(session, [request])[0]


def my_feedback_requests(session: Session, subject: Subject) -> list[FeedbackItem]:
    """The requests waiting for the subject's answer."""
    if subject.employee_id is None:
        return []
    rows = queries.feedback_asked_of(session, subject.employee_id)
    return _feedback_items(session, rows)


def feedback_summary(
    session: Session, subject: Subject, *, cycle: str, employee_id: str
) -> FeedbackSummary:
    """The feedback on one employee: answers only from the threshold on, anonymity kept."""
    row = cycle_row(session, cycle)
    employee = _visible(session, subject, employee_id)
    if subject.employee_id == employee and not subject.sees_whole_tenant:
        raise NotFound("Feedback about yourself is shared with you by your manager.")
    rows = queries.feedback_on(session, row.id, employee)
    submitted = [f for f in rows if f.status == "submitted"]
    threshold = template_of(row).min_peer_responses
    shown = len(submitted) >= threshold
    # anonymous answers need the threshold among themselves: one beside named ones would be
    # traced to the only colleague asked anonymously
    anonymous = [f for f in submitted if f.anonymous]
    withheld = len(anonymous) if len(anonymous) < threshold else 0
    visible_answers = [f for f in submitted if not f.anonymous or not withheld]
    note = (
        f"{len(submitted)} answer(s): shown."
        if shown and not withheld
        else f"{len(submitted)} answer(s): shown but for {withheld} anonymous one(s), held back "
        f"until {threshold} anonymous answers exist."
        if shown
        else f"{len(submitted)} of the {threshold} answers needed before any is shown "
        "(so no answer can be traced to its author)."
    )
    audit.record(
        session,
        subject,
        AuditRecord("peer_feedback.read", "employee", employee, {"cycle": row.id, "shown": shown}),
    )
    return FeedbackSummary(
        employee_id=employee_id,
        requested=len(rows),
        submitted=len(submitted),
        threshold=threshold,
        shown=shown,
        note=note,
        items=_answers(session, visible_answers) if shown else [],
    )


def _as_asked(item: FeedbackItem) -> FeedbackItem:
    """A request as its requester sees it: whom they asked, never what was answered, and for an
    anonymous request not even whether or when that person answered (the answers' count is in
    ``feedback_summary``).
    """
    hidden: dict[str, object] = {"response": None}
    if item.anonymous:
        hidden |= {"status": "asked", "responded_at": None}
    return item.model_copy(update=hidden)


def _answers(session: Session, rows: Sequence[PeerFeedback]) -> list[FeedbackItem]:
    """Submitted answers as their readers see them: an anonymous one carries nothing that leads
    back to its request (no request id, no times) and they come in no order of asking.
    """
    items = _feedback_items(session, rows, keep_anonymous=True)
    hidden = [
        i.model_copy(update={"id": None, "requested_at": None, "responded_at": None})
        for i in items
        if i.anonymous
    ]
    named = [i for i in items if not i.anonymous]
    return named + sorted(hidden, key=lambda i: i.response or "")


def _feedback_items(
    session: Session, rows: Sequence[PeerFeedback], *, keep_anonymous: bool = False
) -> list[FeedbackItem]:
    """The rows as read; ``keep_anonymous``: an anonymous answer does not name its author."""
    ids = {f.employee_id for f in rows} | {f.responder_id for f in rows}
    numbers = people_queries.employee_numbers(session, ids)
    return [
        FeedbackItem(
            id=f.id,
            employee_id=numbers[f.employee_id],
            responder_id=None if f.anonymous and keep_anonymous else numbers[f.responder_id],
            relation=f.relation,
            anonymous=f.anonymous,
            status=f.status,
            response=f.response,
            requested_at=f.requested_at,
            responded_at=f.responded_at,
        )
        for f in rows
    ]
