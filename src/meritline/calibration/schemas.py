"""The ratings analysis as other tools read it (``meritline analyze-ratings --json``)."""

from __future__ import annotations

from pydantic import BaseModel

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
