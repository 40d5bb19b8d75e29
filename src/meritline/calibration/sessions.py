"""Calibration sessions: the committee workflow over one population's proposed ratings.

* ``hrbp`` and ``admin`` create sessions (a facilitator, members, a population of org units or
  people they can see) and lock them; the facilitator may lock too.
* Members (in the ``calibrator`` role they see the population only while the session is open)
  vote agree or question on each proposed rating before the meeting.
* The analysis runs ``meritline.stats`` on the current ratings with each person's evidence score
  (the scoring engine's latest snapshot up to the period's end); group results need a role that
  may read protected attributes, and are withheld from everyone else.
* Every change is an adjustment with its reason (at least 20 characters), while the cycle is in
  ``calibration``; cases the routing policy names go to the approver role's queue, and nobody
  decides a case about themself or one they raised.
* Locking pushes the calibrated ratings into the reviews as new versions; nobody re-enters them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from meritline import stats
from meritline.access.subject import SENSITIVE_READER_ROLES, Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.calibration import queries, routing
from meritline.calibration import service as analysis
from meritline.calibration.schemas import (
    Adjustment,
    AdjustmentCreate,
    AnalysisComparison,
    ApprovalItem,
    CalibrationSession,
    Decision,
    LockResult,
    Packet,
    ProposedRating,
    RatingsAnalysis,
    RecencyItem,
    SessionAnalysis,
    SessionCreate,
    VoteCast,
    VoteSummary,
    VoteTally,
)
from meritline.clock import utcnow, utctoday
from meritline.errors import Conflict, InvalidInput, NotFound
from meritline.models import ApprovalItem as ApprovalRow
from meritline.models import (
    CalibrationAdjustment,
    CalibrationAnalysis,
    CalibrationMember,
    CalibrationPopulation,
    CalibrationVote,
    Review,
    ReviewCycle,
)
from meritline.models import CalibrationSession as SessionRow
from meritline.models.calibration import APPROVER_ROLES
from meritline.people import queries as people_queries
from meritline.reviews import queries as review_queries
from meritline.reviews.flows import nine_box_grid
from meritline.reviews.service import SHARED_STATUSES, cycle_row, locked_cycle, template_of

ORGANISERS = frozenset({"admin", "hrbp"})
#: Who may read any session besides its committee: organisers, and the roles that audit
#: calibration (the only ones that see group results).
VIEWERS = ORGANISERS | SENSITIVE_READER_ROLES
#: Protected attributes the analysis compares groups on, when the reader may see them.
GROUP_ATTRIBUTES = ("gender", "ethnicity", "age_band", "disability")
#: The attribute name of each person's org unit in the group analysis.
DEPARTMENT = "department"
#: The group of people whose attribute the HRIS does not hold (suppressed when small).
NOT_RECORDED = "Not recorded"


# --- sessions ------------------------------------------------------------------------------


def create_session(
    session: Session, subject: Subject, *, cycle: str, data: SessionCreate
) -> CalibrationSession:
    """Create a session over the people of ``data``'s org units and list the subject sees."""
    require_role(subject, *ORGANISERS)
    row = locked_cycle(session, cycle)  # no finalising while the session is made
    if row.status not in ("open", "calibration"):
        raise Conflict(f"Cycle {cycle!r} is {row.status!r}; sessions are for open cycles.")
    if queries.session_by_name(session, row.id, data.name) is not None:
        raise Conflict(f"Cycle {cycle!r} already has a session named {data.name!r}.")
    people = people_queries.employees_by_numbers(
        session, [data.facilitator, *data.members, *data.employees]
    )
    unknown = [n for n in (data.facilitator, *data.members, *data.employees) if n not in people]
    if unknown:
        raise InvalidInput(f"No employee {unknown[0]!r}.")
    units = people_queries.org_units_by_path(session, data.org_units)
    missing = [p for p in data.org_units if p not in units]
    if missing:
        raise InvalidInput(f"No org unit {missing[0]!r}.")
    chosen = queries.candidates(
        session,
        subject,
        org_unit_ids=[u.id for u in units.values()],
        employee_ids=[people[n] for n in data.employees],
        as_of=row.period_end,
    )
    if not chosen:
        raise InvalidInput("Nobody you can see is in that population.")
    taken = queries.in_other_sessions(session, row.id, chosen)
    if taken:
        example = people_queries.employee_numbers(session, taken[:1]).get(taken[0])
        raise Conflict(
            f"{len(taken)} of these people (e.g. {example}) are in another session of {cycle!r}: "
            "each person is calibrated once per cycle."
        )
    created = SessionRow(
        tenant_id=subject.tenant_id,
        cycle_id=row.id,
        name=data.name,
        facilitator_id=people[data.facilitator],
        status="open",
        scope={"org_units": data.org_units, "employees": data.employees},
        created_by=subject.actor,
    )
    queries.add(session, created)
    committee = {people[data.facilitator]: "facilitator"} | {
        people[n]: "member" for n in data.members if people[n] != people[data.facilitator]
    }
    queries.add_all(
        session,
        [
            *(
                CalibrationMember(
                    tenant_id=subject.tenant_id, session_id=created.id, employee_id=e, role=r
                )
                for e, r in committee.items()
            ),
            *(
                CalibrationPopulation(
                    tenant_id=subject.tenant_id, session_id=created.id, employee_id=e
                )
                for e in chosen
            ),
        ],
    )
    audit.record(
        session,
        subject,
        AuditRecord(
            "calibration_session.create",
            "calibration_session",
            created.id,
            {"cycle": row.id, "members": len(committee), "population": len(chosen)},
        ),
    )
    return _read_session(session, created, row)


def list_sessions(session: Session, subject: Subject, *, cycle: str) -> list[CalibrationSession]:
    """The cycle's sessions the subject organises or sits on."""
    row = cycle_row(session, cycle)
    found = []
    for s in queries.sessions_of(session, row.id):
        if _may_read(session, subject, s):
            found.append(_read_session(session, s, row))
    return found


def get_session(session: Session, subject: Subject, *, cycle: str, name: str) -> CalibrationSession:
    """One session, for its organisers and members."""
    row, found = _session(session, subject, cycle, name)
    return _read_session(session, found, row)


# --- proposed ratings and votes ------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    """One person of the population as the session sees them now."""

    employee_id: int
    review: Review | None
    rating: float | None
    potential: str | None
    adjusted_by: int | None
    adjusted: bool


def proposed_ratings(
    session: Session, subject: Subject, *, cycle: str, name: str
) -> list[ProposedRating]:
    """Each person of the population: the manager's proposal, the calibrated values so far and
    the evidence score.
    """
    row, found = _session(session, subject, cycle, name)
    people = [
        p for p in _people(session, found, row) if not _own_unshared(subject, row, p.employee_id)
    ]
    scores = queries.evidence_scores(session, [p.employee_id for p in people], row.period_end)
    numbers = _numbers(session, people)
    return [
        ProposedRating(
            employee_id=numbers[p.employee_id],
            rater=None
            if p.review is None or p.review.author_id is None
            else numbers.get(p.review.author_id),
            proposed_rating=None if p.review is None else p.review.rating,
            rating=p.rating,
            proposed_potential=None if p.review is None else p.review.potential,
            potential=p.potential,
            promotion_proposed=bool(p.review and p.review.promotion_proposed),
            evidence_score=scores.get(p.employee_id),
            adjusted=p.adjusted,
        )
        for p in people
    ]


def cast_vote(
    session: Session, subject: Subject, *, cycle: str, name: str, employee_id: str, data: VoteCast
) -> VoteTally:
    """A member marks a proposed rating agree or question (a later vote replaces theirs)."""
    _row, found = _session(session, subject, cycle, name)
    if not _is_member(session, found, subject) or subject.employee_id is None:
        raise NotFound(f"You are not on session {name!r}.")
    _open(_writing(session, found))
    employee = _in_population(session, found, employee_id)
    vote = queries.vote_of(session, found.id, subject.employee_id, employee)
    if vote is None:
        vote = CalibrationVote(
            tenant_id=subject.tenant_id,
            session_id=found.id,
            member_id=subject.employee_id,
            employee_id=employee,
            vote=data.vote,
            comment=data.comment,
        )
        queries.add(session, vote)
    else:
        vote.vote, vote.comment, vote.at = data.vote, data.comment, utcnow()
        session.flush()
    audit.record(
        session,
        subject,
        AuditRecord("calibration.vote", "calibration_session", found.id, {"vote": data.vote}),
    )
    return next(t for t in _tallies(session, found) if t.employee_id == employee_id)


def vote_summary(session: Session, subject: Subject, *, cycle: str, name: str) -> VoteSummary:
    """Where members disagree, and Krippendorff's alpha of their votes (nominal)."""
    _row, found = _session(session, subject, cycle, name)
    votes = queries.votes(session, found.id)
    frame = pd.DataFrame({"unit": [v.employee_id for v in votes], "value": [v.vote for v in votes]})
    alpha = (
        stats.krippendorff_alpha(frame, unit="unit", value="value", level="nominal")
        if len(frame) and frame["value"].nunique() > 1
        else None
    )
    tallies = _tallies(session, found)
    disputed = sum(t.disputed for t in tallies)
    note = (
        "No votes yet."
        if not votes
        else f"{disputed} proposed rating(s) split the committee; "
        + (
            "agreement (Krippendorff's alpha) "
            f"{alpha:.2f}: 1 is full agreement, 0 what chance alone would give."
            if alpha is not None
            else "agreement cannot be measured: every vote is the same or nobody voted twice."
        )
    )
    return VoteSummary(
        members=len(queries.members(session, found.id)),
        voted=len({v.member_id for v in votes}),
        alpha=alpha,
        note=note,
        items=tallies,
    )


def _tallies(session: Session, found: SessionRow) -> list[VoteTally]:
    votes = queries.votes(session, found.id)
    numbers = people_queries.employee_numbers(session, {v.employee_id for v in votes})
    counts: dict[int, list[int]] = {}
    for v in votes:
        counts.setdefault(v.employee_id, [0, 0])[0 if v.vote == "agree" else 1] += 1
    return [
        VoteTally(employee_id=numbers[e], agree=a, question=q, disputed=a > 0 and q > 0)
        for e, (a, q) in sorted(counts.items())
    ]


# --- analysis ------------------------------------------------------------------------------


def analyze(session: Session, subject: Subject, *, cycle: str, name: str) -> SessionAnalysis:
    """Run the statistics on the session's current ratings and keep the result: ``pre`` before
    any adjustment, ``post`` after.
    """
    row, found = _session(session, subject, cycle, name)
    _writing(session, found)
    result, recency = _analysis(session, subject, found, row)
    phase = "post" if queries.adjustments(session, found.id) else "pre"
    stored = CalibrationAnalysis(
        tenant_id=subject.tenant_id,
        session_id=found.id,
        phase=phase,
        result={
            "ratings": result.model_dump(mode="json"),
            "recency": [r.model_dump(mode="json") for r in recency],
        },
    )
    queries.add(session, stored)
    audit.record(
        session,
        subject,
        AuditRecord("calibration.analyze", "calibration_session", found.id, {"phase": phase}),
    )
    _route(session, subject, found, row, result)
    return _shown(stored, subject, _own_hidden(session, subject, row))


def compare(session: Session, subject: Subject, *, cycle: str, name: str) -> AnalysisComparison:
    """The first analysis before adjustments beside the latest after them."""
    row, found = _session(session, subject, cycle, name)
    stored = queries.analyses(session, found.id)
    pre = next((a for a in stored if a.phase == "pre"), None)
    post = next((a for a in reversed(stored) if a.phase == "post"), None)
    own = _own_hidden(session, subject, row)
    before = None if pre is None else _shown(pre, subject, own)
    after = None if post is None else _shown(post, subject, own)
    return AnalysisComparison(pre=before, post=after, changes=_changes(before, after))


def _analysis(
    session: Session, subject: Subject, found: SessionRow, cycle: ReviewCycle
) -> tuple[RatingsAnalysis, list[RecencyItem]]:
    people = [p for p in _people(session, found, cycle) if p.rating is not None]
    ids = [p.employee_id for p in people]
    numbers = _numbers(session, people)
    scores = queries.evidence_scores(session, ids, cycle.period_end)
    groups = queries.attributes(session, ids, GROUP_ATTRIBUTES)
    present = [a for a in GROUP_ATTRIBUTES if any(a in g for g in groups.values())]
    # and within each department: a gap confined to one department is diluted company-wide
    departments = queries.departments(session, ids)
    frame = pd.DataFrame(
        {
            "id": [numbers[p.employee_id] for p in people],
            "rating": [p.rating for p in people],
            "rater": [
                None if p.review is None else numbers.get(p.review.author_id or -1, "operator")
                for p in people
            ],
            "evidence": [scores.get(p.employee_id) for p in people],
            DEPARTMENT: [departments.get(p.employee_id, NOT_RECORDED) for p in people],
            **{
                a: [groups.get(p.employee_id, {}).get(a, NOT_RECORDED) for p in people]
                for a in present
            },
        }
    )
    template = template_of(cycle)
    has_evidence = bool(frame["evidence"].notna().any())
    if has_evidence:
        frame = frame[frame["evidence"].notna()]
    options = analysis.AnalysisOptions(
        rating="rating",
        id="id",
        rater="rater",
        evidence="evidence" if has_evidence else None,
        groups=tuple(present),
        within=DEPARTMENT if present else None,
        guideline={float(k): v for k, v in template.guideline.items()} or None,
    )
    if present:
        audit.record(
            session,
            subject,
            AuditRecord(
                "sensitive_attribute.read",
                "calibration_session",
                found.id,
                {"attributes": present, "purpose": "calibration group analysis"},
            ),
        )
    result = analysis.analyze_ratings(frame.reset_index(drop=True), options)
    return result, _recency(session, people, numbers, cycle)


def _recency(
    session: Session, people: Sequence[_Person], numbers: dict[int, str], cycle: ReviewCycle
) -> list[RecencyItem]:
    """Reviews whose dated citations crowd into the final weeks, against each person's record."""
    start = datetime.combine(cycle.period_start, time.min, tzinfo=UTC)
    end = datetime.combine(cycle.period_end, time.min, tzinfo=UTC) + timedelta(days=1)
    # reviews written before the period ends read the evidence up to then: the last weeks are
    # the last weeks of evidence
    latest = queries.latest_signal_at(
        session, [p.employee_id for p in people], start=start, end=end
    )
    if latest is not None:
        end = min(end, datetime.combine(latest.date(), time.min, tzinfo=UTC) + timedelta(days=1))
    window_start = end - timedelta(days=stats.WINDOW_DAYS)
    rows = [
        (numbers[p.employee_id], c["occurred_at"])
        for p in people
        if p.review is not None
        for c in p.review.citations
        if c.get("occurred_at")
    ]
    if not rows:
        return []
    counts = queries.signal_counts(
        session, [p.employee_id for p in people], start=start, window_start=window_start, end=end
    )
    baseline = {numbers[e]: recent / total for e, (total, recent) in counts.items() if total >= 10}
    frame = pd.DataFrame(rows, columns=["id", "at"])
    findings = stats.recency_bias(
        frame, id="id", cited_at="at", period_start=start, period_end=end, baseline=baseline
    )
    return [
        RecencyItem(
            employee_id=f.id,
            citations=f.citations,
            recent=f.recent,
            expected_share=f.expected_share,
            p_value=f.p_value,
            q_value=f.q_value,
            flag=f.flag,
        )
        for f in findings
    ]


def _shown(stored: CalibrationAnalysis, subject: Subject, own: str | None) -> SessionAnalysis:
    """A stored analysis as ``subject`` may see it: group results only for roles that may read
    protected attributes, and nothing about the reader themself (``own``) before it is shared.
    """
    ratings = RatingsAnalysis.model_validate(stored.result["ratings"])
    withheld = bool(ratings.groups) and not subject.may_read_sensitive
    if withheld:
        ratings = ratings.model_copy(update={"groups": []})
    if own is not None:
        ratings = ratings.model_copy(
            update={"individuals": [i for i in ratings.individuals if i.id != own]}
        )
    recency = [RecencyItem.model_validate(r) for r in stored.result["recency"]]
    return SessionAnalysis(
        phase=stored.phase,
        at=stored.created_at,
        ratings=ratings,
        recency=[r for r in recency if r.employee_id != own],
        groups_withheld=withheld,
    )


def _own_hidden(session: Session, subject: Subject, cycle: ReviewCycle) -> str | None:
    """The reader's own HRIS id while their rating is not theirs to read yet (else None)."""
    if subject.employee_id is None or cycle.status in SHARED_STATUSES:
        return None
    return people_queries.employee_numbers(session, [subject.employee_id]).get(subject.employee_id)


def _changes(pre: SessionAnalysis | None, post: SessionAnalysis | None) -> list[str]:
    """What moved between the two analyses, in words."""
    if pre is None or post is None:
        return []

    def counts(a: SessionAnalysis) -> dict[str, int]:
        r = a.ratings
        return {
            "raters flagged": sum(
                1 for x in (r.raters.items if r.raters else []) if x.flag is not None
            ),
            "group gaps flagged": sum(1 for g in r.groups if g.flag),
            "ratings the evidence does not support": sum(1 for i in r.individuals if i.flags),
            "recency-biased reviews": sum(1 for x in a.recency if x.flag),
        }

    before, after = counts(pre), counts(post)
    withheld = pre.groups_withheld or post.groups_withheld
    lines = [
        f"{k}: {before[k]} -> {after[k]}"
        for k in before
        if not (withheld and k == "group gaps flagged")  # not 0 -> 0 for a reader without them
    ]
    p_pre, p_post = pre.ratings.distribution.p_value, post.ratings.distribution.p_value
    if p_pre is not None and p_post is not None:
        lines.append(f"distribution against the guideline: p {p_pre:.3g} -> {p_post:.3g}")
    share_pre = pre.ratings.raters.variance_share if pre.ratings.raters else None
    share_post = post.ratings.raters.variance_share if post.ratings.raters else None
    if share_pre is not None and share_post is not None:
        lines.append(f"variance due to raters: {share_pre:.0%} -> {share_post:.0%}")
    return lines


# --- adjustments ---------------------------------------------------------------------------


def adjust(
    session: Session,
    subject: Subject,
    *,
    cycle: str,
    name: str,
    employee_id: str,
    data: AdjustmentCreate,
) -> list[Adjustment]:
    """Change a person's rating or potential in the session, recording the reason."""
    row, found = _session(session, subject, cycle, name)
    if subject.role not in ORGANISERS and subject.employee_id != found.facilitator_id:
        raise NotFound("Only the facilitator or an organiser changes ratings in a session.")
    _open(_writing(session, found))
    if row.status != "calibration":
        raise Conflict(f"Cycle {cycle!r} is {row.status!r}; adjustments are made in calibration.")
    employee = _in_population(session, found, employee_id)
    person = next(p for p in _people(session, found, row) if p.employee_id == employee)
    if person.review is None:
        raise Conflict(f"{employee_id} has no manager review to calibrate.")
    template = template_of(row)
    if data.rating is not None and data.rating not in template.values:
        raise InvalidInput(f"Rating {data.rating:g} is not on the cycle's scale.")
    changes = [
        (field, old, new)
        for field, old, new in (
            ("rating", person.rating, data.rating),
            ("potential", person.potential, data.potential),
        )
        if new is not None and new != old
    ]
    if not changes:
        raise InvalidInput(f"{employee_id} already has those values.")
    made = [
        CalibrationAdjustment(
            tenant_id=subject.tenant_id,
            session_id=found.id,
            employee_id=employee,
            field=field,
            old_value=_text(old),
            new_value=_text(new),
            reason=data.reason,
            actor=subject.actor,
            actor_employee_id=subject.employee_id,
        )
        for field, old, new in changes
    ]
    queries.add_all(session, made)
    for adjustment in made:
        audit.record(
            session,
            subject,
            AuditRecord(
                "calibration.adjust",
                "calibration_adjustment",
                adjustment.id,
                {
                    "field": adjustment.field,
                    "old": adjustment.old_value,
                    "new": adjustment.new_value,
                },
            ),
        )
    stored = queries.analyses(session, found.id)
    latest = RatingsAnalysis.model_validate(stored[-1].result["ratings"]) if stored else None
    _route(session, subject, found, row, latest)
    return [_read_adjustment(a, {employee: employee_id}) for a in made]


def list_adjustments(
    session: Session, subject: Subject, *, cycle: str, name: str
) -> list[Adjustment]:
    """Every adjustment of a session, with its reason (none about the reader before shared)."""
    row, found = _session(session, subject, cycle, name)
    made = [
        a
        for a in queries.adjustments(session, found.id)
        if not _own_unshared(subject, row, a.employee_id)
    ]
    numbers = people_queries.employee_numbers(session, {a.employee_id for a in made})
    return [_read_adjustment(a, numbers) for a in made]


# --- routing and approvals -----------------------------------------------------------------


def _route(
    session: Session,
    subject: Subject,
    found: SessionRow,
    cycle: ReviewCycle,
    result: RatingsAnalysis | None,
) -> None:
    """Queue every case the routing policy names that is not queued yet."""
    people = _people(session, found, cycle)
    numbers = _numbers(session, people)
    flags = {} if result is None else {i.id: i.flags for i in result.individuals}
    start = datetime.combine(cycle.period_start, time.min, tzinfo=UTC)
    end = datetime.combine(cycle.period_end, time.min, tzinfo=UTC) + timedelta(days=1)
    leave = queries.signal_counts(
        session,
        [p.employee_id for p in people],
        start=start,
        window_start=end,
        end=end,
        types=["protected_leave_day"],
    )
    lowest = min(template_of(cycle).values)
    cases = [
        routing.Case(
            employee_id=p.employee_id,
            proposed_rating=None if p.review is None else p.review.rating,
            rating=p.rating,
            lowest_rating=lowest,
            promotion_proposed=bool(p.review and p.review.promotion_proposed),
            evidence_flags=tuple(flags.get(numbers[p.employee_id], ())),
            protected_leave_days=leave.get(p.employee_id, (0, 0))[0],
            raised_by=p.adjusted_by
            if p.adjusted
            else (None if p.review is None else p.review.author_id),
        )
        for p in people
        if p.review is not None
    ]
    existing = queries.approval_items(session, session_id=found.id)
    queued = {(i.employee_id, i.rule) for i in existing}
    routed = {(r.employee_id, r.rule): r for r in routing.route(cases)}
    # without an analysis the evidence rule cannot be judged: its cases stand as they are
    judged: set[str] = {str(rule.name) for rule in routing.DEFAULT_POLICY.rules} - (
        {"rating_not_supported"} if result is None else set()
    )
    _revisit(session, subject, found, existing, routed, judged)
    new = [
        ApprovalRow(
            tenant_id=subject.tenant_id,
            session_id=found.id,
            employee_id=r.employee_id,
            rule=r.rule,
            reason=r.reason,
            approver_role=r.approver_role,
            raised_by_id=r.raised_by,
            status="pending",
        )
        for r in routed.values()
        if (r.employee_id, r.rule) not in queued
    ]
    if new:
        queries.add_all(session, new)
        audit.record(
            session,
            subject,
            AuditRecord("approval.route", "calibration_session", found.id, {"routed": len(new)}),
        )


def _revisit(
    session: Session,
    subject: Subject,
    found: SessionRow,
    items: Sequence[ApprovalRow],
    routed: dict[tuple[int, str], routing.Routed],
    judged: set[str],
) -> None:
    """Bring the queue up to date with the session's current values.

    * A case its rule no longer names (the rating moved off the lowest, the change was undone)
      is withdrawn, whether it waited or was decided on values that are gone.
    * A decided case whose person's rating was changed after the decision goes back to the
      approver with the new reason: an approval covers the rating it saw, and a rejection sends
      the case back to the committee until they change it.
    """
    last_change: dict[int, datetime] = {}  # every rule reads the rating, so its changes count
    for a in queries.adjustments(session, found.id):
        if a.field == "rating":
            last_change[a.employee_id] = a.at
    for item in items:
        if item.status == "withdrawn" or item.rule not in judged:
            continue
        current = routed.get((item.employee_id, item.rule))
        changed = last_change.get(item.employee_id)
        decided_before_change = (
            item.decided_at is not None and changed is not None and changed > item.decided_at
        )
        if current is None and (item.status == "pending" or decided_before_change):
            item.status = "withdrawn"
            action = "approval.withdraw"
        elif current is not None and decided_before_change:
            item.status, item.reason, item.raised_by_id = (
                "pending",
                current.reason,
                current.raised_by,
            )
            action = "approval.reopen"
        elif current is not None and item.status == "pending":
            # still waiting: it describes the values as they are now, and who set them
            item.reason, item.raised_by_id = current.reason, current.raised_by
            continue
        else:
            continue
        item.decided_by, item.decided_by_id, item.decision_reason = None, None, None
        item.decided_at = None
        audit.record(session, subject, AuditRecord(action, "approval_item", item.id, None))
    session.flush()


def approval_queue(
    session: Session, subject: Subject, *, status: str | None = "pending"
) -> list[ApprovalItem]:
    """The cases waiting for the subject's role (an admin sees every queue)."""
    role = None if subject.role == "admin" else subject.role
    if role is not None and role not in APPROVER_ROLES:
        return []
    items = queries.approval_items(session, approver_role=role, status=status)
    visible = people_queries.visible_ids(session, subject, as_of=utctoday())
    # never a case about oneself: nobody decides it, and it would show one's own rating early
    mine = subject.employee_id
    return _read_items(session, [i for i in items if i.employee_id in visible - {mine}])


def decide(session: Session, subject: Subject, *, item_id: int, data: Decision) -> ApprovalItem:
    """Approve or reject a routed case, with a reason; never one's own case or change."""
    item = queries.approval_item(session, item_id, for_update=True)
    if item is None or (subject.role != "admin" and subject.role != item.approver_role):
        raise NotFound(f"No approval item {item_id} in your queue.")
    visible = people_queries.visible_ids(session, subject, as_of=utctoday())
    if item.employee_id not in visible:
        raise NotFound(f"No approval item {item_id} in your queue.")
    if subject.employee_id is None:
        raise InvalidInput(
            "Decide as a named person (--as EMPLOYEE --role ROLE): "
            "separation of duties needs to know who decides."
        )
    changed_it = any(
        a.actor_employee_id == subject.employee_id
        for a in queries.adjustments(session, item.session_id)
        if a.employee_id == item.employee_id
    )
    if subject.employee_id in (item.employee_id, item.raised_by_id) or changed_it:
        raise Conflict(
            "Separation of duties: nobody decides a case about themself or one "
            "they raised or changed; another approver must."
        )
    if item.status != "pending":
        raise Conflict(f"Approval item {item_id} is already {item.status}.")
    item.status = data.decision
    item.decision_reason = data.reason
    item.decided_by = subject.actor
    item.decided_by_id = subject.employee_id
    item.decided_at = utcnow()
    session.flush()
    audit.record(
        session,
        subject,
        AuditRecord("approval.decide", "approval_item", item.id, {"decision": data.decision}),
    )
    return _read_items(session, [item])[0]


def _read_items(session: Session, items: Sequence[ApprovalRow]) -> list[ApprovalItem]:
    numbers = people_queries.employee_numbers(session, {i.employee_id for i in items})
    names = {
        s.id: s.name
        for s in (queries.session_by_id(session, sid) for sid in {i.session_id for i in items})
        if s is not None
    }
    return [
        ApprovalItem(
            id=i.id,
            session=names.get(i.session_id, ""),
            employee_id=numbers[i.employee_id],
            rule=i.rule,
            reason=i.reason,
            approver_role=i.approver_role,
            status=i.status,
            decided_by=i.decided_by,
            decision_reason=i.decision_reason,
            decided_at=i.decided_at,
            created_at=i.created_at,
        )
        for i in items
    ]


# --- lock ----------------------------------------------------------------------------------


def lock(session: Session, subject: Subject, *, cycle: str, name: str) -> LockResult:
    """Lock the session: the calibrated ratings become new versions of the reviews."""
    row, found = _session(session, subject, cycle, name)
    if subject.role not in ORGANISERS and subject.employee_id != found.facilitator_id:
        raise NotFound("Only the facilitator or an organiser locks a session.")
    _open(_writing(session, found))
    items = queries.approval_items(session, session_id=found.id)
    pending = [i for i in items if i.status == "pending"]
    if pending:
        raise Conflict(
            f"{len(pending)} case(s) still wait for approval "
            f"({', '.join(sorted({i.approver_role for i in pending}))}); "
            "see `meritline calibration queue`."
        )
    rejected = [i for i in items if i.status == "rejected"]
    if rejected:
        raise Conflict(
            f"{len(rejected)} case(s) were rejected by their approver: adjust them again "
            "(the case then returns to the approver) before locking."
        )
    people = _people(session, found, row)
    made = queries.adjustments(session, found.id)
    reasons: dict[int, list[str]] = {}
    for a in made:
        reasons.setdefault(a.employee_id, []).append(a.reason)
    pushed = 0
    for p in people:
        review = p.review
        if review is None or (p.rating == review.rating and p.potential == review.potential):
            continue
        review_queries.add(
            session,
            Review(
                tenant_id=subject.tenant_id,
                cycle_id=row.id,
                employee_id=p.employee_id,
                kind="manager",
                version=review.version + 1,
                author_id=None,
                origin="calibration",
                rating=p.rating,
                potential=p.potential,
                promotion_proposed=review.promotion_proposed,
                assessment=review.assessment,
                answers=review.answers,
                citations=review.citations,
                amends_id=review.id,
                reason=f"Calibrated in session {found.name!r}: "
                + "; ".join(dict.fromkeys(reasons.get(p.employee_id, []))),
                submitted_at=utcnow(),
            ),
        )
        pushed += 1
    found.status, found.locked_at = "locked", utcnow()
    session.flush()
    audit.record(
        session,
        subject,
        AuditRecord(
            "calibration_session.lock", "calibration_session", found.id, {"pushed": pushed}
        ),
    )
    return LockResult(session=found.name, pushed=pushed, unchanged=len(people) - pushed)


# --- shared --------------------------------------------------------------------------------


def _session(
    session: Session, subject: Subject, cycle: str, name: str
) -> tuple[ReviewCycle, SessionRow]:
    """The cycle and the session, if the subject may read it (organisers, auditors, its
    committee) (else 404).
    """
    row = cycle_row(session, cycle)
    found = queries.session_by_name(session, row.id, name)
    if found is None or not _may_read(session, subject, found):
        raise NotFound(f"No calibration session {name!r} in {cycle!r}.")
    return row, found


def _may_read(session: Session, subject: Subject, found: SessionRow) -> bool:
    """Through the visibility rule: a role that sees the whole tenant; an hrbp whose org units
    cover the whole population; a committee member while the session is open (the calibrator
    role ends with the session).
    """
    if subject.sees_whole_tenant and subject.role in VIEWERS:
        return True
    if subject.role == "hrbp":
        visible = people_queries.visible_ids(session, subject, as_of=utctoday())
        return set(queries.population(session, found.id)) <= visible
    return (
        subject.role == "calibrator"
        and found.status == "open"
        and _is_member(session, found, subject)
    )


def _own_unshared(subject: Subject, cycle: ReviewCycle, employee_id: int) -> bool:
    """Whatever their role, nobody reads their own rating before the cycle shares it."""
    return employee_id == subject.employee_id and cycle.status not in SHARED_STATUSES


def _is_member(session: Session, found: SessionRow, subject: Subject) -> bool:
    return any(m.employee_id == subject.employee_id for m in queries.members(session, found.id))


def _writing(session: Session, found: SessionRow) -> SessionRow:
    """The session under its row lock for the rest of the transaction, its state re-read: a
    change and a lock of the same session never interleave.
    """
    locked = queries.lock_session_row(session, found.id)
    assert locked is not None  # it was just read, and sessions are not deleted
    return locked


def _open(found: SessionRow) -> None:
    if found.status != "open":
        raise Conflict(f"Session {found.name!r} is locked.")


def _in_population(session: Session, found: SessionRow, employee_id: str) -> int:
    internal = people_queries.employees_by_numbers(session, [employee_id]).get(employee_id)
    if internal is None or internal not in queries.population(session, found.id):
        raise NotFound(f"{employee_id} is not in session {found.name!r}.")
    return internal


def _people(session: Session, found: SessionRow, cycle: ReviewCycle) -> list[_Person]:
    """The population with their latest manager review and the adjustments made so far."""
    ids = queries.population(session, found.id)
    reviews = {
        r.employee_id: r
        for r in review_queries.latest_reviews(session, cycle.id, kind="manager", employee_ids=ids)
    }
    current: dict[tuple[int, str], CalibrationAdjustment] = {}
    for a in queries.adjustments(session, found.id):
        current[(a.employee_id, a.field)] = a
    people = []
    for e in ids:
        review = reviews.get(e)
        rating = current.get((e, "rating"))
        potential = current.get((e, "potential"))
        last = max(
            (a for a in (rating, potential) if a is not None), key=lambda a: a.id, default=None
        )
        people.append(
            _Person(
                employee_id=e,
                review=review,
                rating=float(rating.new_value) if rating else (review.rating if review else None),
                potential=potential.new_value
                if potential
                else (review.potential if review else None),
                adjusted_by=None if last is None else last.actor_employee_id,
                adjusted=last is not None,
            )
        )
    return people


def _numbers(session: Session, people: Sequence[_Person]) -> dict[int, str]:
    ids = {p.employee_id for p in people} | {
        p.review.author_id for p in people if p.review is not None and p.review.author_id
    }
    return people_queries.employee_numbers(session, ids)


def _read_session(session: Session, found: SessionRow, cycle: ReviewCycle) -> CalibrationSession:
    members = queries.members(session, found.id)
    numbers = people_queries.employee_numbers(session, {m.employee_id for m in members})
    return CalibrationSession(
        id=found.id,
        cycle=cycle.name,
        name=found.name,
        status=found.status,
        facilitator=numbers[found.facilitator_id],
        members=[numbers[m.employee_id] for m in members],
        population=len(queries.population(session, found.id)),
        scope={k: list(v) for k, v in found.scope.items()},
        created_at=found.created_at,
        locked_at=found.locked_at,
    )


def _read_adjustment(a: CalibrationAdjustment, numbers: dict[int, str]) -> Adjustment:
    return Adjustment(
        id=a.id,
        employee_id=numbers[a.employee_id],
        field=a.field,
        old_value=a.old_value,
        new_value=a.new_value,
        reason=a.reason,
        actor=a.actor,
        at=a.at,
    )


def _text(value: float | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- packet --------------------------------------------------------------------------------


def packet(session: Session, subject: Subject, *, cycle: str, name: str) -> Packet:
    """Everything the committee's packet shows about a session, as the subject may see it."""
    row, found = _session(session, subject, cycle, name)
    template = template_of(row)
    population = set(queries.population(session, found.id))
    items = [
        i
        for i in queries.approval_items(session, session_id=found.id)
        if i.employee_id in population and not _own_unshared(subject, row, i.employee_id)
    ]
    return Packet(
        session=_read_session(session, found, row),
        scale={str(level.value): level.label for level in template.scale},
        guideline={str(k): v for k, v in template.guideline.items()},
        comparison=compare(session, subject, cycle=cycle, name=name),
        ratings=proposed_ratings(session, subject, cycle=cycle, name=name),
        adjustments=list_adjustments(session, subject, cycle=cycle, name=name),
        approvals=_read_items(session, items),
        nine_box=[
            item
            for item in nine_box_grid(session, subject, cycle=cycle)
            if item.employee_id in set(_numbers_of(session, population).values())
        ],
        generated_at=utcnow(),
    )


def _numbers_of(session: Session, ids: set[int]) -> dict[int, str]:
    return people_queries.employee_numbers(session, ids)
