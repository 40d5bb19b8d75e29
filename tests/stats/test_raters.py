"""Rater effects on data with planted leniency, severity and central tendency, and without."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from meritline.stats import rater_effects

LENIENT = {"r00", "r01", "r02", "r03", "r04"}
SEVERE = {"r05", "r06", "r07", "r08", "r09"}
SQUEEZED = {"r10", "r11", "r12"}


def ratings(seed: int, *, planted: bool, raters: int = 80, each: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.repeat([f"r{i:02d}" for i in range(raters)], each)
    evidence = rng.normal(size=len(names))
    noise = rng.normal(scale=0.6, size=len(names))
    rating = 3 + 0.8 * evidence + noise
    if planted:
        rating += np.where(np.isin(names, list(LENIENT)), 1.0, 0.0)
        rating -= np.where(np.isin(names, list(SEVERE)), 1.0, 0.0)
        squeezed = np.isin(names, list(SQUEEZED))
        rating = np.where(squeezed, 3 + 0.1 * (rating - 3), rating)
    return pd.DataFrame({"rating": rating, "rater": names, "evidence": evidence})


def test_planted_lenient_severe_and_squeezing_raters_are_found() -> None:
    result = rater_effects(
        ratings(1, planted=True), rating="rating", rater="rater", evidence="evidence"
    )
    assert result.method == "mixed_model"
    assert result.variance_share is not None and 0.1 < result.variance_share < 0.9
    flags = {item.rater: item.flag for item in result.items}
    assert {r for r, f in flags.items() if f == "lenient"} == LENIENT
    assert {r for r, f in flags.items() if f == "severe"} == SEVERE
    squeezed = {item.rater for item in result.items if item.central_tendency}
    assert squeezed >= SQUEEZED and len(squeezed - SQUEEZED) <= 1
    lenient = next(item for item in result.items if item.rater == "r00")
    assert lenient.ci_low is not None and lenient.ci_low < lenient.leniency < lenient.ci_high  # type: ignore[operator]
    assert lenient.leniency == pytest.approx(1.0, abs=0.45)
    assert lenient.p_value is not None and lenient.q_value is not None
    assert lenient.q_value >= lenient.p_value


def test_raters_who_differ_only_by_chance_are_rarely_flagged() -> None:
    flagged = 0
    for seed in range(6):
        result = rater_effects(
            ratings(100 + seed, planted=False), rating="rating", rater="rater", evidence="evidence"
        )
        assert result.method in {"mixed_model", "mixed_model_zero_variance"}
        flagged += sum(1 for item in result.items if item.flag)
    assert flagged / (6 * 80) < 0.01


def test_zero_rater_variance_flags_no_one_and_says_so() -> None:
    frame = ratings(5, planted=False)
    frame["rating"] = 3 + 0.8 * frame["evidence"]  # nothing but the evidence
    frame["rating"] += np.tile([0.1, -0.1], len(frame) // 2)  # the same noise for every rater
    result = rater_effects(frame, rating="rating", rater="rater", evidence="evidence")
    assert not any(item.flag for item in result.items)
    if result.method == "mixed_model_zero_variance":
        assert result.variance_share == 0.0 and "no rater is flagged" in result.note


def test_one_rater_falls_back_to_residual_means_and_says_why() -> None:
    frame = pd.DataFrame({"rating": [1, 2, 3, 4, 5], "rater": ["solo"] * 5})
    result = rater_effects(frame, rating="rating", rater="rater")
    assert result.method == "residual_means"
    assert "could not be fitted" in result.note
    [only] = result.items
    assert (only.rater, only.n, only.mean_rating, only.flag) == ("solo", 5, 3.0, None)
