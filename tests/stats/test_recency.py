"""Recency: citations crowding into the last weeks are flagged; a record that itself crowds
there, or too few citations, are not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from meritline.stats import recency_bias

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


def citations(
    rng: np.random.Generator, who: str, n: int, *, late: int
) -> list[tuple[str, datetime]]:
    """``late`` citations in the final six weeks, the rest spread over the year before them."""
    early = [START + timedelta(days=float(d)) for d in rng.uniform(0, 365 - 42, n - late)]
    recent = [END - timedelta(days=float(d)) for d in rng.uniform(0.01, 42, late)]
    return [(who, t) for t in early + recent]


def test_reviews_citing_mostly_the_last_weeks_are_flagged_and_spread_ones_are_not() -> None:
    rng = np.random.default_rng(3)
    rows = citations(rng, "late", 6, late=5) + citations(rng, "spread", 8, late=1)
    rows += citations(rng, "few", 2, late=2)
    frame = pd.DataFrame(rows, columns=["id", "at"])
    found = {
        f.id: f
        for f in recency_bias(frame, id="id", cited_at="at", period_start=START, period_end=END)
    }
    assert found["late"].flag and found["late"].recent == 5
    # the exact binomial tail with the window's share of the year
    expected = scipy_stats.binom.sf(4, 6, 42 / 365)
    assert abs((found["late"].p_value or 0) - expected) < 1e-12
    assert not found["spread"].flag
    assert found["few"].p_value is None and not found["few"].flag  # 2 < min_citations


def test_a_record_that_itself_crowds_into_the_last_weeks_is_not_recency_bias() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(citations(rng, "a", 6, late=4), columns=["id", "at"])
    assumed = recency_bias(frame, id="id", cited_at="at", period_start=START, period_end=END)[0]
    own = recency_bias(
        frame, id="id", cited_at="at", period_start=START, period_end=END, baseline={"a": 0.7}
    )[0]
    assert assumed.flag and not own.flag
    assert own.expected_share == 0.7


def test_citations_outside_the_period_are_not_counted() -> None:
    frame = pd.DataFrame(
        [("a", START - timedelta(days=3)), ("a", END + timedelta(days=1))] * 3,
        columns=["id", "at"],
    )
    (finding,) = recency_bias(frame, id="id", cited_at="at", period_start=START, period_end=END)
    assert (finding.citations, finding.recent, finding.flag) == (0, 0, False)


def test_false_flags_stay_near_the_nominal_level_over_many_reviews() -> None:
    """400 reviews of 6 citations drawn uniformly over the year: with BH at 0.05 under the
    global null, the chance of any flag is at most about 0.05; over 20 seeds at most 3 runs
    with a flag (P(X >= 4) < 0.02 for X ~ Binomial(20, 0.05)).
    """
    runs_with_flags = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        times = START + pd.to_timedelta(rng.uniform(0, 365, 400 * 6), unit="D")
        frame = pd.DataFrame({"id": np.repeat([f"r{i}" for i in range(400)], 6), "at": times})
        found = recency_bias(frame, id="id", cited_at="at", period_start=START, period_end=END)
        runs_with_flags += any(f.flag for f in found)
    assert runs_with_flags <= 3
