"""Scoring routes: one employee's profile and explanation, through the visibility rule.

Each read is written to the access log (who read whose scores, when, and why: the optional
``purpose`` parameter, or the reader's role's usual reason), committed before the answer is sent
(see ``Caller.read_then_record``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from meritline.api.auth import Caller, caller
from meritline.scoring import service
from meritline.scoring.schemas import Explanation, Profile

router = APIRouter(prefix="/employees", tags=["scoring"])

Purpose = Annotated[
    str | None,
    Query(max_length=200, description="Why the scores are read (kept in the access log)."),
]
NOT_VISIBLE: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such employee, not visible to the caller, or no score"}
}


@router.get("/{employee_id}/profile", response_model=Profile, responses=NOT_VISIBLE)
def get_profile(
    employee_id: str, who: Annotated[Caller, Depends(caller)], purpose: Purpose = None
) -> Profile:
    """The employee's latest score, pillars, confidence, trend and flags."""
    return who.read_then_record(
        lambda session, subject: service.read_profile(session, subject, employee_id=employee_id),
        lambda session, subject, read: service.record_read(session, subject, read, purpose=purpose),
    )


@router.get("/{employee_id}/explanation", response_model=Explanation, responses=NOT_VISIBLE)
def get_explanation(
    employee_id: str, who: Annotated[Caller, Depends(caller)], purpose: Purpose = None
) -> Explanation:
    """Why the latest score is what it is: contributions, missing evidence, peer band and a
    narrative whose every sentence names its evidence.
    """
    return who.read_then_record(
        lambda session, subject: service.read_explanation(
            session, subject, employee_id=employee_id
        ),
        lambda session, subject, read: service.record_read(session, subject, read, purpose=purpose),
    )
