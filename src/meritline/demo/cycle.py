"""The demo's review cycle, end to end, through the same services users call.

Managers submit reviews (with the planted problems of ``demo.reviews``), a company-wide
calibration session analyses them (as a people analyst, so group results are included), the
facilitator makes a handful of adjustments with reasons, the routed cases are decided by
approvers who raised none of them, the session is locked, the cycle finalized, the outcomes
delivered to a CSV export, and the committee packet written.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from meritline import stats
from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.calibration import packet as packet_html
from meritline.calibration import queries as calibration_queries
from meritline.calibration import sessions
from meritline.calibration.schemas import (
    AdjustmentCreate,
    AnalysisComparison,
    Decision,
    SessionAnalysis,
    SessionCreate,
)
from meritline.config import Settings
from meritline.demo.company import Person
from meritline.demo.reviews import DraftReview, Evidence, Planted, draft_reviews
from meritline.errors import Conflict
from meritline.people import queries as people_queries
from meritline.reviews import flows
from meritline.reviews import queries as review_queries
from meritline.reviews import service as reviews
from meritline.reviews.schemas import Citation, ReviewSubmit
from meritline.writeback import delivery
from meritline.writeback import service as writeback
from meritline.writeback.schemas import DeliveryReport, DestinationCreate

UnitOfWork = Callable[..., AbstractContextManager[tuple[Session, Subject]]]
SESSION = "Company-wide calibration"
#: Adjustments per planted problem the facilitator makes.
PER_PROBLEM = 2


@dataclass(frozen=True)
class CycleRun:
    """What the demo's cycle did."""

    cycle: str
    reviews: int
    planted: Planted
    pre: SessionAnalysis
    comparison: AnalysisComparison
    adjustments: int
    routed: int
    delivered: DeliveryReport
    export: Path
    packet: Path


def run_cycle(
    unit_of_work: UnitOfWork,
    *,
    settings: Settings,
    people: list[Person],
    cycle: str,
    seed: int,
    export: Path,
    packet: Path,
    step: Callable[[str], None] = lambda _: None,
) -> CycleRun | None:
    """Run the whole cycle; None when it has run before (the cycle is past ``open``)."""
    with unit_of_work() as (session, operator):
        row = review_queries.by_name(session, cycle)
        if row is None or row.status not in ("draft", "open"):
            return None
        if row.status == "draft":
            reviews.transition_cycle(session, operator, name=cycle, to_status="open")
        step("managers write their reviews")
        drafts, planted = _drafts(session, people, row.id, seed)
        for draft in drafts:
            manager = _as(session, operator, draft.manager_id, "manager")
            reviews.submit_review(
                session,
                manager,
                cycle=cycle,
                employee_id=draft.employee_id,
                data=ReviewSubmit(
                    rating=draft.rating,
                    potential=draft.potential,
                    promotion_proposed=draft.promotion,
                    assessment=draft.assessment,
                    citations=[Citation(kind="signal", id=i) for i in draft.citations],
                ),
            )
        reviews.transition_cycle(session, operator, name=cycle, to_status="calibration")
    roles = _staff(people)
    step("the calibration committee meets")
    with unit_of_work() as (session, operator):
        roots = sorted({p.department.split("/")[0] for p in people if p.department})
        sessions.create_session(
            session,
            operator,
            cycle=cycle,
            data=SessionCreate(
                name=SESSION,
                facilitator=roles["facilitator"],
                members=[planted.lenient_manager, planted.severe_manager, roles["member"]],
                org_units=roots,
            ),
        )
        analyst = _as(session, operator, roles["analyst"], "people_analyst")
        pre = sessions.analyze(session, analyst, cycle=cycle, name=SESSION)
    with unit_of_work() as (session, operator):
        facilitator = _as(session, operator, roles["facilitator"], "calibrator")
        made = 0
        for employee, rating, reason in _adjustments(pre, planted, people):
            sessions.adjust(
                session,
                facilitator,
                cycle=cycle,
                name=SESSION,
                employee_id=employee,
                data=AdjustmentCreate(rating=rating, reason=reason),
            )
            made += 1
        analyst = _as(session, operator, roles["analyst"], "people_analyst")
        sessions.analyze(session, analyst, cycle=cycle, name=SESSION)
        comparison = sessions.compare(session, analyst, cycle=cycle, name=SESSION)
    step("approvers decide the routed cases")
    with unit_of_work() as (session, operator):
        queue = sessions.approval_queue(session, operator)
        for item in queue:
            _decide(session, operator, roles, item.id, item.approver_role)
        sessions.lock(session, operator, cycle=cycle, name=SESSION)
        if writeback.list_destinations(session, operator) == []:
            export.parent.mkdir(parents=True, exist_ok=True)
            writeback.add_destination(
                session,
                operator,
                DestinationCreate(name="hris-export", type="csv", target=str(export)),
                settings=settings,
            )
        flows.advance_cycle(session, operator, name=cycle, to_status="finalized")
    step("writing back and printing the packet")
    delivered = delivery.deliver(unit_of_work, settings=settings)
    with unit_of_work(read_only=True) as (session, operator):
        analyst = _as(session, operator, roles["analyst"], "people_analyst")
        data = sessions.packet(session, analyst, cycle=cycle, name=SESSION)
    packet.write_text(packet_html.render_packet(data), encoding="utf-8")
    return CycleRun(
        cycle=cycle,
        reviews=len(drafts),
        planted=planted,
        pre=pre,
        comparison=comparison,
        adjustments=made,
        routed=len(queue),
        delivered=delivered,
        export=export,
        packet=packet,
    )


def _drafts(
    session: Session, people: list[Person], cycle_id: int, seed: int
) -> tuple[list[DraftReview], Planted]:
    row = review_queries.by_id(session, cycle_id)
    assert row is not None
    ids = people_queries.employees_by_numbers(session, [p.employee_id for p in people])
    numbers = {v: k for k, v in ids.items()}
    scores = calibration_queries.evidence_scores(session, ids.values(), row.period_end)
    start = datetime.combine(row.period_start, time.min, tzinfo=UTC)
    end = datetime.combine(row.period_end, time.min, tzinfo=UTC) + timedelta(days=1)
    evidence: dict[str, list[Evidence]] = {}
    latest = start
    for employee, signal_id, at in review_queries.citable_signals(
        session, list(ids.values()), start, end
    ):
        evidence.setdefault(numbers[employee], []).append(Evidence(signal_id, at))
        latest = max(latest, at)
    recent_from = latest - timedelta(days=stats.WINDOW_DAYS)
    return draft_reviews(
        people,
        {numbers[e]: s for e, s in scores.items()},
        evidence,
        recent_from=recent_from,
        seed=seed,
    )


def _adjustments(
    pre: SessionAnalysis, planted: Planted, people: list[Person]
) -> list[tuple[str, float, str]]:
    """The facilitator's changes: the furthest-off ratings of each planted problem."""
    by_id = {p.employee_id: p for p in people}
    residuals = {
        i.id: (i.residual, i.rating) for i in pre.ratings.individuals if i.residual is not None
    }

    def pick(who: Callable[[Person], bool], sign: int) -> list[tuple[str, float]]:
        chosen = sorted(
            (
                (employee, rating)
                for employee, (residual, rating) in residuals.items()
                if employee in by_id and who(by_id[employee]) and sign * residual > 0
            ),
            key=lambda er: -sign * residuals[er[0]][0],
        )
        return chosen[:PER_PROBLEM]

    def managed_by(manager: str) -> Callable[[Person], bool]:
        return lambda p: p.manager is not None and p.manager.employee_id == manager

    changes: list[tuple[str, float, str]] = []
    for employee, rating in pick(managed_by(planted.lenient_manager), +1):
        if rating > 1:
            changes.append(
                (
                    employee,
                    rating - 1,
                    "Rated above what the evidence supports; this manager's "
                    "ratings run high across the team",
                )
            )
    for employee, rating in pick(managed_by(planted.severe_manager), -1):
        if rating < 5:
            changes.append(
                (
                    employee,
                    rating + 1,
                    "Rated below what the evidence supports; this manager's "
                    "ratings run low across the team",
                )
            )
    in_gap = lambda p: p.department == planted.gap_department and p.gender == "Female"  # noqa: E731
    for employee, rating in pick(in_gap, -1):
        if rating < 5:
            changes.append(
                (
                    employee,
                    rating + 1,
                    "Rated below colleagues with the same evidence; the "
                    "department's unexplained gap was reviewed",
                )
            )
    return changes


def _staff(people: list[Person]) -> dict[str, str]:
    """Who plays the committee's and approvers' parts: people of the HR department where there
    is one, else the first active employees.
    """
    active = [p for p in people if p.termination_date is None]
    hr = [p for p in active if p.department.split("/")[0] in ("People", "HR", "Human Resources")]
    pool = [p.employee_id for p in hr + [p for p in active if p not in hr]]
    names = (
        "facilitator",
        "member",
        "analyst",
        "hrbp",
        "hrbp2",
        "legal",
        "legal2",
        "comp",
        "comp2",
    )
    roles = dict(zip(names, pool, strict=False))
    roles["others"] = ",".join(pool[len(names) : len(names) + 5])
    return roles


def _decide(
    session: Session, operator: Subject, roles: dict[str, str], item_id: int, role: str
) -> None:
    """Approve a case as the first approver of its role separation of duties allows."""
    key = {"hrbp": "hrbp", "legal": "legal", "compensation": "comp"}[role]
    units = None
    if role == "hrbp":
        roots = people_queries.all_org_units(session).values()
        units = sorted(u.path for u in roots if u.parent_id is None)
    candidates = [roles[key], roles[f"{key}2"], *roles["others"].split(",")]
    for number in candidates:
        approver = access.act_as(
            session, operator, employee_number=number, role=role, org_unit_paths=units
        )
        try:
            sessions.decide(
                session,
                approver,
                item_id=item_id,
                data=Decision(
                    decision="approved",
                    reason="Checked against the evidence and the committee's notes",
                ),
            )
            return
        except Conflict:  # their own case, or one they raised: the next approver decides
            continue
    raise Conflict(f"No approver of role {role} may decide approval item {item_id}.")


def _as(session: Session, operator: Subject, number: str, role: str) -> Subject:
    return access.act_as(session, operator, employee_number=number, role=role)
