"""Routing: which calibration cases go to which approver, and why.

The policy is data (``RoutingPolicy``): each rule names the fact it reads, its threshold where it
has one, and the approver role. ``route`` is pure: the facts of each case in, the routed cases
out, each with a reason a person can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

ApproverRole = Literal["hrbp", "legal", "compensation"]


class Rule(BaseModel):
    """One routing rule."""

    name: Literal[
        "rating_not_supported",
        "changed_two_levels",
        "promotion_proposed",
        "lowest_rating",
        "protected_leave",
    ]
    approver_role: ApproverRole
    #: ``changed_two_levels``: the change in rating points from which a case is routed;
    #: ``protected_leave``: the days of protected leave in the period from which it is.
    threshold: float | None = Field(default=None, gt=0)


class RoutingPolicy(BaseModel):
    """The rules in force."""

    rules: list[Rule]


DEFAULT_POLICY = RoutingPolicy(
    rules=[
        Rule(name="rating_not_supported", approver_role="hrbp"),
        Rule(name="changed_two_levels", approver_role="hrbp", threshold=2),
        Rule(name="promotion_proposed", approver_role="compensation"),
        Rule(name="lowest_rating", approver_role="hrbp"),
        # extended leave (two working weeks or more), not a day off sick
        Rule(name="protected_leave", approver_role="legal", threshold=10),
    ]
)


@dataclass(frozen=True)
class Case:
    """What routing knows about one person of a session."""

    employee_id: int
    proposed_rating: float | None
    rating: float | None
    lowest_rating: float
    promotion_proposed: bool
    #: ``rating_above_evidence`` / ``rating_below_evidence`` from the session's analysis.
    evidence_flags: tuple[str, ...]
    protected_leave_days: int
    #: Who proposed the rating (the manager), or made the last change in calibration.
    raised_by: int | None


@dataclass(frozen=True)
class Routed:
    """A case for an approver."""

    employee_id: int
    rule: str
    approver_role: str
    reason: str
    raised_by: int | None


def route(cases: list[Case], policy: RoutingPolicy = DEFAULT_POLICY) -> list[Routed]:
    """Every (case, rule) the policy routes, with the reason in words.

    >>> case = Case(1, 3, 1, 1, False, (), 0, None)
    >>> [(r.rule, r.approver_role) for r in route([case])]
    [('changed_two_levels', 'hrbp'), ('lowest_rating', 'hrbp')]
    """
    routed = []
    for case in cases:
        for rule in policy.rules:
            reason = _applies(rule, case)
            if reason is not None:
                routed.append(
                    Routed(case.employee_id, rule.name, rule.approver_role, reason, case.raised_by)
                )
    return routed


def _applies(rule: Rule, case: Case) -> str | None:
    """The reason ``rule`` routes ``case``, or None."""
    if rule.name == "rating_not_supported" and case.evidence_flags:
        direction = "above" if "rating_above_evidence" in case.evidence_flags else "below"
        return f"The rating is well {direction} what the evidence supports."
    if rule.name == "changed_two_levels" and None not in (case.proposed_rating, case.rating):
        change = abs(float(case.rating or 0) - float(case.proposed_rating or 0))
        if change >= (rule.threshold or 2):
            return (
                f"Calibration moved the rating {change:g} levels "
                f"({case.proposed_rating:g} to {case.rating:g})."
            )
    if rule.name == "promotion_proposed" and case.promotion_proposed:
        return "A promotion is proposed."
    if rule.name == "lowest_rating" and case.rating == case.lowest_rating:
        return f"The lowest rating of the scale ({case.lowest_rating:g})."
    if rule.name == "protected_leave" and case.protected_leave_days >= (rule.threshold or 1):
        return (
            f"On protected leave {case.protected_leave_days} day(s) in the period: check the "
            "rating does not reflect it."
        )
    return None
