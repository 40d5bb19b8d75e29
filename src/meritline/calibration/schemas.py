"""The ratings analysis as other tools read it (``meritline analyze-ratings --json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meritline.models.calibration import MIN_REASON
from meritline.reviews.schemas import NineBoxItem
from meritline.stats import Agreement, GroupFinding, Individual, RaterEffects


class Distribution(BaseModel):
    observed: dict[str, int]
    expected: dict[str, float] | None
    g_statistic: float | None
    p_value: float | None
    kl_divergence: float | None
    js_distance: float | None
    method: str
    min_testable_n: int | None
    note: str


class Skipped(BaseModel):
    """A part of the analysis that did not run, and why."""

    part: str
    reason: str


class RatingsAnalysis(BaseModel):
    """The whole analysis; the statistics' own result types serialise as they are."""

    n: int
    distribution: Distribution
    raters: RaterEffects | None
    groups: list[GroupFinding]
    individuals: list[Individual]
    agreement: Agreement | None
    skipped: list[Skipped]


# --- calibration sessions ------------------------------------------------------------------


class SessionCreate(BaseModel):
    """A new session: its committee and the population it calibrates."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    facilitator: str
    members: list[str] = Field(default_factory=list, max_length=50)
    org_units: list[str] = Field(default_factory=list)
    employees: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_population(self) -> Self:
        if not self.org_units and not self.employees:
            raise ValueError("a session needs org units or employees to calibrate")
        return self


class CalibrationSession(BaseModel):
    """A session as read."""

    id: int
    cycle: str
    name: str
    status: str
    facilitator: str
    members: list[str]
    population: int
    scope: dict[str, list[str]]
    created_at: datetime
    locked_at: datetime | None


class VoteCast(BaseModel):
    """A member's view of one proposed rating."""

    model_config = ConfigDict(extra="forbid")

    vote: Literal["agree", "question"]
    comment: str | None = Field(default=None, max_length=2_000)


class VoteTally(BaseModel):
    """The members' votes on one proposed rating."""

    employee_id: str
    agree: int
    question: int
    disputed: bool


class VoteSummary(BaseModel):
    """Where the committee disagrees before the meeting, and how much it agrees overall."""

    members: int
    voted: int
    alpha: float | None
    note: str
    items: list[VoteTally]


class AdjustmentCreate(BaseModel):
    """A change of one employee's rating or potential in a session, with why."""

    model_config = ConfigDict(extra="forbid")

    rating: float | None = None
    potential: Literal["low", "medium", "high"] | None = None
    reason: str = Field(min_length=MIN_REASON, max_length=2_000)

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.rating is None and self.potential is None:
            raise ValueError("an adjustment changes the rating, the potential or both")
        return self


class Adjustment(BaseModel):
    """One recorded change."""

    id: int
    employee_id: str
    field: str
    old_value: str | None
    new_value: str
    reason: str
    actor: str
    at: datetime


class ProposedRating(BaseModel):
    """One person of the population: proposed and calibrated rating and potential, evidence."""

    employee_id: str
    rater: str | None
    proposed_rating: float | None
    rating: float | None
    proposed_potential: str | None
    potential: str | None
    promotion_proposed: bool
    evidence_score: float | None
    adjusted: bool


class RecencyItem(BaseModel):
    """A review whose cited evidence crowds into the period's last weeks."""

    employee_id: str
    citations: int
    recent: int
    expected_share: float
    p_value: float | None
    q_value: float | None
    flag: bool


class SessionAnalysis(BaseModel):
    """The statistics of the session's ratings at one moment (``groups`` only for roles that
    may read protected attributes).
    """

    phase: str
    at: datetime
    ratings: RatingsAnalysis
    recency: list[RecencyItem]
    groups_withheld: bool


class AnalysisComparison(BaseModel):
    """Before and after the adjustments, side by side."""

    pre: SessionAnalysis | None
    post: SessionAnalysis | None
    changes: list[str]


class ApprovalItem(BaseModel):
    """A routed case and its decision."""

    id: int
    session: str
    employee_id: str
    rule: str
    reason: str
    approver_role: str
    status: str
    decided_by: str | None
    decision_reason: str | None
    decided_at: datetime | None
    created_at: datetime


class Decision(BaseModel):
    """An approver's decision, with why."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]
    reason: str = Field(min_length=MIN_REASON, max_length=2_000)


class LockResult(BaseModel):
    """What locking a session pushed into the reviews."""

    session: str
    pushed: int
    unchanged: int


class Packet(BaseModel):
    """Everything the committee's packet shows about one session (the renderer's input)."""

    session: CalibrationSession
    scale: dict[str, str]
    guideline: dict[str, float]
    comparison: AnalysisComparison
    ratings: list[ProposedRating]
    adjustments: list[Adjustment]
    approvals: list[ApprovalItem]
    nine_box: list[NineBoxItem]
    generated_at: datetime
