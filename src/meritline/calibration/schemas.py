"""The ratings analysis as other tools read it (``meritline analyze-ratings --json``)."""

from __future__ import annotations

from pydantic import BaseModel


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


class RaterItem(BaseModel):
    rater: str
    n: int
    mean_rating: float
    leniency: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None
    flag: str | None
    spread_ratio: float | None
    spread_p_value: float | None
    central_tendency: bool


class Raters(BaseModel):
    variance_share: float | None
    method: str
    note: str
    items: list[RaterItem]


class GroupItem(BaseModel):
    attribute: str
    group: str
    reference_group: str | None
    n: int | None
    mean_rating: float | None
    gap: float | None
    selection_rate: float | None
    impact_ratio: float | None
    impact_ratio_ci: tuple[float, float] | None
    selection_p_value: float | None
    controlled_gap: float | None
    controlled_gap_ci: tuple[float, float] | None
    controlled_p_value: float | None
    q_value: float | None
    below_four_fifths: bool | None
    flag: str | None
    suppressed: bool
    changes_to_reverse: int | None
    note: str


class IndividualItem(BaseModel):
    id: str
    flags: list[str]
    residual: float | None


class AgreementResult(BaseModel):
    ratees: int
    ratings: int
    icc: float | None
    krippendorff_alpha: float | None
    level: str
    note: str


class Skipped(BaseModel):
    """A part of the analysis that did not run, and why."""

    part: str
    reason: str


class RatingsAnalysis(BaseModel):
    n: int
    distribution: Distribution
    raters: Raters | None
    groups: list[GroupItem]
    individuals: list[IndividualItem]
    agreement: AgreementResult | None
    skipped: list[Skipped]
