"""Review routes: cycles and their lifecycle, reviews and their versions, peer feedback.

Every route goes through the visibility rule (an employee out of scope is 404) and every write
records an audit event in the request's one transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from meritline.api.auth import Caller, caller
from meritline.reviews import flows, service
from meritline.reviews.schemas import (
    CycleStatus,
    FeedbackAnswer,
    FeedbackItem,
    FeedbackRequest,
    FeedbackSummary,
    NineBoxItem,
    Review,
    ReviewAmend,
    ReviewCycle,
    ReviewCycleCreate,
    ReviewKind,
    ReviewSubmit,
    Transition,
)

router = APIRouter(tags=["reviews"])
Who = Annotated[Caller, Depends(caller)]
NOT_VISIBLE: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such cycle or employee, or not visible to the caller"}
}


@router.get("/cycles", response_model=list[ReviewCycle])
def list_cycles(who: Who) -> list[ReviewCycle]:
    """Every review cycle, newest first."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.list_cycles(session, subject)


@router.post("/cycles", response_model=ReviewCycle, status_code=201)
def create_cycle(who: Who, data: ReviewCycleCreate) -> ReviewCycle:
    """Create a cycle in ``draft`` with its template (admin, hrbp)."""
    with who.unit_of_work() as (session, subject):
        return service.create_cycle(session, subject, data)


@router.get("/cycles/{cycle}", response_model=ReviewCycle, responses=NOT_VISIBLE)
def get_cycle(cycle: str, who: Who) -> ReviewCycle:
    """One cycle by name."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.get_cycle(session, subject, name=cycle)


@router.get("/cycles/{cycle}/transitions", response_model=list[Transition])
def cycle_history(cycle: str, who: Who) -> list[Transition]:
    """Every status change of the cycle, with its actor."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.cycle_history(session, subject, name=cycle)


@router.post("/cycles/{cycle}/transitions", response_model=ReviewCycle, responses=NOT_VISIBLE)
def transition_cycle(
    cycle: str, who: Who, to_status: Annotated[CycleStatus, Body(embed=True)]
) -> ReviewCycle:
    """Move the cycle to its next status (admin, hrbp); 409 when that is not the next one."""
    with who.unit_of_work() as (session, subject):
        return flows.advance_cycle(session, subject, name=cycle, to_status=to_status)


@router.get("/cycles/{cycle}/reviews", response_model=list[Review])
def latest_reviews(cycle: str, who: Who, kind: ReviewKind = "manager") -> list[Review]:
    """The latest version of each visible employee's review."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.latest_reviews(session, subject, cycle=cycle, kind=kind)


@router.get(
    "/cycles/{cycle}/employees/{employee_id}/reviews",
    response_model=list[Review],
    responses=NOT_VISIBLE,
)
def review_history(cycle: str, employee_id: str, who: Who) -> list[Review]:
    """Every version of the employee's reviews, oldest first."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.review_history(session, subject, cycle=cycle, employee_id=employee_id)


@router.post(
    "/cycles/{cycle}/employees/{employee_id}/reviews",
    response_model=Review,
    status_code=201,
    responses=NOT_VISIBLE,
)
def submit_review(cycle: str, employee_id: str, who: Who, data: ReviewSubmit) -> Review:
    """Submit a manager's or a self review (version 1); 409 when one exists: amend it."""
    with who.unit_of_work() as (session, subject):
        return service.submit_review(
            session, subject, cycle=cycle, employee_id=employee_id, data=data
        )


@router.post(
    "/cycles/{cycle}/employees/{employee_id}/reviews/amendments",
    response_model=Review,
    status_code=201,
    responses=NOT_VISIBLE,
)
def amend_review(cycle: str, employee_id: str, who: Who, data: ReviewAmend) -> Review:
    """A new version of the review, with the reason; earlier versions stay readable."""
    with who.unit_of_work() as (session, subject):
        return service.amend_review(
            session, subject, cycle=cycle, employee_id=employee_id, data=data
        )


@router.post(
    "/cycles/{cycle}/employees/{employee_id}/feedback-requests",
    response_model=list[FeedbackItem],
    status_code=201,
    responses=NOT_VISIBLE,
)
def request_feedback(
    cycle: str, employee_id: str, who: Who, data: FeedbackRequest
) -> list[FeedbackItem]:
    """Ask colleagues for feedback on the employee."""
    with who.unit_of_work() as (session, subject):
        return service.request_feedback(
            session, subject, cycle=cycle, employee_id=employee_id, data=data
        )


@router.get(
    "/cycles/{cycle}/employees/{employee_id}/feedback",
    response_model=FeedbackSummary,
    responses=NOT_VISIBLE,
)
def feedback_summary(cycle: str, employee_id: str, who: Who) -> FeedbackSummary:
    """The feedback on the employee: answers shown only from the cycle's threshold on."""
    with who.unit_of_work() as (session, subject):
        return service.feedback_summary(session, subject, cycle=cycle, employee_id=employee_id)


@router.get("/feedback-requests", response_model=list[FeedbackItem])
def my_feedback_requests(who: Who) -> list[FeedbackItem]:
    """The feedback requests waiting for the caller's answer."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.my_feedback_requests(session, subject)


@router.post(
    "/feedback-requests/{feedback_id}/answer",
    response_model=FeedbackItem,
    responses={404: {"description": "No such request for the caller"}},
)
def answer_feedback(feedback_id: int, who: Who, data: FeedbackAnswer) -> FeedbackItem:
    """Answer a feedback request made of the caller (once)."""
    with who.unit_of_work() as (session, subject):
        return service.answer_feedback(session, subject, feedback_id=feedback_id, data=data)


@router.get("/cycles/{cycle}/nine-box", response_model=list[NineBoxItem], responses=NOT_VISIBLE)
def nine_box(cycle: str, who: Who) -> list[NineBoxItem]:
    """The cycle's 9-box positions of the employees the caller sees."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return flows.nine_box_grid(session, subject, cycle=cycle)
