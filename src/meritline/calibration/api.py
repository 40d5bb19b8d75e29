"""Calibration routes: sessions, votes, the analysis, adjustments, the approval queue and lock.

A session is visible to its organisers (admin, hrbp) and its committee; anyone else gets 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends

from meritline.api.auth import Caller, caller
from meritline.calibration import sessions
from meritline.calibration.schemas import (
    Adjustment,
    AdjustmentCreate,
    AnalysisComparison,
    ApprovalItem,
    CalibrationSession,
    Decision,
    LockResult,
    ProposedRating,
    SessionAnalysis,
    SessionCreate,
    VoteCast,
    VoteSummary,
    VoteTally,
)

router = APIRouter(tags=["calibration"])
Who = Annotated[Caller, Depends(caller)]
ApprovalStatus = Literal["pending", "approved", "rejected", "withdrawn", "all"]
SESSION = "/cycles/{cycle}/calibration-sessions/{name}"
NOT_VISIBLE: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such cycle, session or person, or not visible to the caller"}
}


@router.post(
    "/cycles/{cycle}/calibration-sessions",
    response_model=CalibrationSession,
    status_code=201,
    responses=NOT_VISIBLE,
)
def create_session(cycle: str, who: Who, data: SessionCreate) -> CalibrationSession:
    """Create a session over a population (admin, hrbp)."""
    with who.unit_of_work() as (session, subject):
        return sessions.create_session(session, subject, cycle=cycle, data=data)


@router.get("/cycles/{cycle}/calibration-sessions", response_model=list[CalibrationSession])
def list_sessions(cycle: str, who: Who) -> list[CalibrationSession]:
    """The cycle's sessions the caller organises or sits on."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return sessions.list_sessions(session, subject, cycle=cycle)


@router.get(SESSION, response_model=CalibrationSession, responses=NOT_VISIBLE)
def get_session(cycle: str, name: str, who: Who) -> CalibrationSession:
    """One session."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return sessions.get_session(session, subject, cycle=cycle, name=name)


@router.get(f"{SESSION}/ratings", response_model=list[ProposedRating], responses=NOT_VISIBLE)
def proposed_ratings(cycle: str, name: str, who: Who) -> list[ProposedRating]:
    """Proposed and calibrated ratings beside the evidence scores."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return sessions.proposed_ratings(session, subject, cycle=cycle, name=name)


@router.put(f"{SESSION}/votes/{{employee_id}}", response_model=VoteTally, responses=NOT_VISIBLE)
def cast_vote(cycle: str, name: str, employee_id: str, who: Who, data: VoteCast) -> VoteTally:
    """A member's agree or question on one proposed rating (replaces their earlier vote)."""
    with who.unit_of_work() as (session, subject):
        return sessions.cast_vote(
            session, subject, cycle=cycle, name=name, employee_id=employee_id, data=data
        )


@router.get(f"{SESSION}/votes", response_model=VoteSummary, responses=NOT_VISIBLE)
def vote_summary(cycle: str, name: str, who: Who) -> VoteSummary:
    """Where the committee disagrees, and its agreement statistic."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return sessions.vote_summary(session, subject, cycle=cycle, name=name)


@router.post(f"{SESSION}/analyses", response_model=SessionAnalysis, responses=NOT_VISIBLE)
def analyze(cycle: str, name: str, who: Who) -> SessionAnalysis:
    """Run and keep the analysis of the current ratings (group results for permitted roles)."""
    with who.unit_of_work() as (session, subject):
        return sessions.analyze(session, subject, cycle=cycle, name=name)


@router.get(f"{SESSION}/comparison", response_model=AnalysisComparison, responses=NOT_VISIBLE)
def compare(cycle: str, name: str, who: Who) -> AnalysisComparison:
    """The analysis before the adjustments beside the latest after them."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return sessions.compare(session, subject, cycle=cycle, name=name)


@router.post(
    f"{SESSION}/adjustments/{{employee_id}}",
    response_model=list[Adjustment],
    status_code=201,
    responses=NOT_VISIBLE,
)
def adjust(
    cycle: str, name: str, employee_id: str, who: Who, data: AdjustmentCreate
) -> list[Adjustment]:
    """Change a rating or potential with a reason (facilitator, hrbp, admin)."""
    with who.unit_of_work() as (session, subject):
        return sessions.adjust(
            session, subject, cycle=cycle, name=name, employee_id=employee_id, data=data
        )


@router.get(f"{SESSION}/adjustments", response_model=list[Adjustment], responses=NOT_VISIBLE)
def list_adjustments(cycle: str, name: str, who: Who) -> list[Adjustment]:
    """Every adjustment of the session."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return sessions.list_adjustments(session, subject, cycle=cycle, name=name)


@router.post(f"{SESSION}/lock", response_model=LockResult, responses=NOT_VISIBLE)
def lock(cycle: str, name: str, who: Who) -> LockResult:
    """Lock the session; 409 while routed cases wait or stand rejected."""
    with who.unit_of_work() as (session, subject):
        return sessions.lock(session, subject, cycle=cycle, name=name)


@router.get("/approvals", response_model=list[ApprovalItem])
def approval_queue(who: Who, status: ApprovalStatus = "pending") -> list[ApprovalItem]:
    """The routed cases for the caller's role: ``pending`` (default), a decided status, or
    ``all``.
    """
    with who.unit_of_work(read_only=True) as (session, subject):
        return sessions.approval_queue(session, subject, status=None if status == "all" else status)


@router.post("/approvals/{item_id}/decision", response_model=ApprovalItem, responses=NOT_VISIBLE)
def decide(item_id: int, who: Who, data: Decision) -> ApprovalItem:
    """Approve or reject a routed case with a reason; 409 for one's own case or change."""
    with who.unit_of_work() as (session, subject):
        return sessions.decide(session, subject, item_id=item_id, data=data)
