"""Review cycles, their templates, reviews and peer feedback, as the API and CLI speak them."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meritline import stats

Potential = Literal["low", "medium", "high"]
ReviewKind = Literal["manager", "self"]
Relation = Literal["peer", "upward", "other"]
CycleStatus = Literal["draft", "open", "calibration", "finalized", "shared", "closed"]

#: Shortest amendment reason: it must say why, not just "fix".
MIN_REASON = 20


class RatingLevel(BaseModel):
    """One point of the rating scale and what it means."""

    value: int
    label: str = Field(min_length=1, max_length=100)


DEFAULT_SCALE = [
    RatingLevel(value=1, label="Does not meet expectations"),
    RatingLevel(value=2, label="Partially meets expectations"),
    RatingLevel(value=3, label="Meets expectations"),
    RatingLevel(value=4, label="Exceeds expectations"),
    RatingLevel(value=5, label="Far exceeds expectations"),
]


DEFAULT_GUIDELINE = {1: 0.1, 2: 0.2, 3: 0.4, 4: 0.2, 5: 0.1}


class CycleTemplate(BaseModel):
    """What a cycle asks for: validated data, stored with the cycle and never code.

    >>> CycleTemplate().guideline[3]
    0.4
    """

    model_config = ConfigDict(extra="forbid")

    scale: list[RatingLevel] = Field(default_factory=lambda: list(DEFAULT_SCALE), min_length=2)
    #: Expected share of each rating value; sums to 1 over values of the scale. Unset: the
    #: default 1-5 guideline with the default scale, none with a scale of one's own (the
    #: distribution is then described, not tested).
    guideline: dict[int, float] = Field(default_factory=dict)
    questions: list[str] = Field(
        default_factory=lambda: [
            "What did this person achieve in the period, and what evidence shows it?",
            "Where should they grow next?",
        ]
    )
    self_review: bool = True
    peer_feedback: bool = True
    #: Peer answers are shown to the manager only from this many on (never fewer than 3).
    min_peer_responses: int = Field(default=3, ge=3)

    @model_validator(mode="before")
    @classmethod
    def _default_guideline(cls, data: object) -> object:
        if isinstance(data, dict) and "guideline" not in data and "scale" not in data:
            return {**data, "guideline": dict(DEFAULT_GUIDELINE)}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        values = [level.value for level in self.scale]
        if len(set(values)) != len(values):
            raise ValueError("the scale repeats a value")
        unknown = sorted(set(self.guideline) - set(values))
        if unknown:
            raise ValueError(f"the guideline names values not on the scale: {unknown}")
        if self.guideline:
            stats.check_guideline({float(k): v for k, v in self.guideline.items()})
        return self

    def label(self, rating: float) -> str:
        """The scale's words for a rating."""
        return next((lv.label for lv in self.scale if lv.value == rating), str(rating))

    @property
    def values(self) -> list[int]:
        """The ratings the scale allows, lowest first."""
        return sorted(level.value for level in self.scale)


class ReviewCycleCreate(BaseModel):
    """A new review cycle."""

    name: str = Field(min_length=1, max_length=200)
    period_start: date
    period_end: date
    template: CycleTemplate = Field(default_factory=CycleTemplate)

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class ReviewCycle(BaseModel):
    """A review cycle."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    period_start: date
    period_end: date
    status: str
    template: CycleTemplate
    created_at: datetime


class Transition(BaseModel):
    """One status change of a cycle."""

    from_status: str
    to_status: str
    actor: str
    at: datetime


class Citation(BaseModel):
    """Evidence a review points to."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["signal", "snapshot", "feedback"]
    id: int
    note: str | None = Field(default=None, max_length=500)
    #: When the evidence happened (filled in by meritline; used to detect recency bias).
    occurred_at: datetime | None = None


class ReviewSubmit(BaseModel):
    """A manager's or a self review being submitted."""

    model_config = ConfigDict(extra="forbid")

    kind: ReviewKind = "manager"
    rating: float | None = None
    potential: Potential | None = None
    promotion_proposed: bool = False
    assessment: str = Field(default="", max_length=20_000)
    answers: dict[str, str] = Field(default_factory=dict)
    citations: list[Citation] = Field(default_factory=list, max_length=200)

    @field_validator("rating")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("rating must be a number")
        return value


class ReviewAmend(ReviewSubmit):
    """A new version of a submitted review, with why."""

    reason: str = Field(min_length=MIN_REASON, max_length=2_000)


class Review(BaseModel):
    """One version of a review."""

    id: int
    cycle: str
    employee_id: str
    kind: str
    version: int
    author_id: str | None
    origin: str
    rating: float | None
    rating_label: str | None
    potential: str | None
    promotion_proposed: bool
    assessment: str
    answers: dict[str, str]
    citations: list[Citation]
    reason: str | None
    submitted_at: datetime


class FeedbackRequest(BaseModel):
    """Ask colleagues for feedback on one employee."""

    model_config = ConfigDict(extra="forbid")

    responders: list[str] = Field(min_length=1, max_length=50)
    relation: Relation = "peer"
    anonymous: bool = False


class FeedbackAnswer(BaseModel):
    """A colleague's answer to a feedback request."""

    model_config = ConfigDict(extra="forbid")

    response: str = Field(min_length=1, max_length=10_000)


class FeedbackItem(BaseModel):
    """One request and, once given, its answer. Read as an answer, an anonymous one has no
    ``id``, ``responder_id`` or times: nothing that leads back to whom it was asked of.
    """

    id: int | None
    employee_id: str
    responder_id: str | None
    relation: str
    anonymous: bool
    status: str
    response: str | None
    requested_at: datetime | None
    responded_at: datetime | None


class FeedbackSummary(BaseModel):
    """The feedback on one employee a reader may see: answers only from the threshold on."""

    employee_id: str
    requested: int
    submitted: int
    threshold: int
    shown: bool
    note: str
    items: list[FeedbackItem]


class NineBoxItem(BaseModel):
    """An employee's 9-box position in a cycle."""

    employee_id: str
    cycle: str
    rating: float
    performance: Literal["low", "medium", "high"]
    potential: Literal["low", "medium", "high"]
    #: 1 (low performance, low potential) ... 9 (high, high), row by row from the bottom.
    box: int
    label: str
    placed_at: datetime
