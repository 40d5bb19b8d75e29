"""Peer bands: the k-anonymity rule at its exact edges, type-7 percentiles, vectorised == scalar."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meritline.stats import (
    COHORT_TOO_SMALL,
    PERCENTILE_TOO_EXPOSED,
    PERCENTILES,
    PeerBand,
    min_cohort_size,
    peer_band,
    peer_bands,
    shown,
)

KEYS = ["p10", "p25", "p50", "p75", "p90", "p95"]
# The percentiles in per-mille: the rule in integers, independent of the module's arithmetic.
PER_MILLE = dict(zip(KEYS, (100, 250, 500, 750, 900, 950), strict=True))


def rule(n: int, key: str, k: int) -> bool:
    """n * min(q, 1 - q) >= k and n >= k, in integer per-mille."""
    pm = PER_MILLE[key]
    return n >= k and n * min(pm, 1000 - pm) >= k * 1000


# --- the rule at its edges -------------------------------------------------------------------

EDGES = [  # (q, key, largest n that hides it, smallest n that shows it), with k = 5
    (0.10, "p10", 49, 50),
    (0.90, "p90", 49, 50),
    (0.25, "p25", 19, 20),
    (0.75, "p75", 19, 20),
    (0.50, "p50", 9, 10),
    (0.95, "p95", 99, 100),
]


@pytest.mark.parametrize(("q", "key", "hidden", "visible"), EDGES)
def test_shown_switches_on_exactly_at_the_edge(
    q: float, key: str, hidden: int, visible: int
) -> None:
    assert not shown(hidden, q)
    assert shown(visible, q)
    assert min_cohort_size(q) == visible


@pytest.mark.parametrize(("q", "key", "hidden", "visible"), EDGES)
def test_peer_band_switches_on_exactly_at_the_edge(
    q: float, key: str, hidden: int, visible: int
) -> None:
    below = peer_band(np.arange(hidden, dtype=float))
    assert below.percentiles[key] is None
    assert below.suppressed[key] == PERCENTILE_TOO_EXPOSED.format(
        label=key.upper(), k_people="5 people", n=hidden, needed=visible
    )
    at = peer_band(np.arange(visible, dtype=float))
    assert at.percentiles[key] == pytest.approx(np.quantile(np.arange(visible), q))
    assert key not in at.suppressed


@pytest.mark.parametrize(("q", "key", "hidden", "visible"), EDGES)
def test_peer_bands_switches_on_exactly_at_the_edge(
    q: float, key: str, hidden: int, visible: int
) -> None:
    frame = pl.DataFrame(
        {
            "cohort": ["below"] * hidden + ["at"] * visible,
            "score": [float(i) for i in range(hidden)] + [float(i) for i in range(visible)],
        }
    )
    bands = {
        row["cohort"]: row
        for row in peer_bands(frame, value="score", by=["cohort"]).rows(named=True)
    }
    assert bands["below"][key] is None
    assert bands["at"][key] is not None


def test_floating_point_would_get_the_p90_edge_wrong_and_the_rule_does_not() -> None:
    assert 50 * (1 - 0.9) < 5  # the trap the exact arithmetic avoids
    assert shown(50, 0.9)
    assert shown(50, np.float64(0.9))
    assert not shown(49, 0.9)


def test_a_cohort_of_four_has_no_band_and_says_why() -> None:
    band = peer_band([1.0, 2.0, 3.0, 4.0])
    assert band == PeerBand(
        n=4,
        k=5,
        percentiles=dict.fromkeys(KEYS),
        suppressed=dict.fromkeys(KEYS, "cohort has 4 people; bands need at least 5"),
    )


def test_a_cohort_of_five_passes_the_minimum_but_every_percentile_is_still_too_exposed() -> None:
    band = peer_band([1.0, 2.0, 3.0, 4.0, 5.0])
    assert band.percentiles == dict.fromkeys(KEYS)
    assert (
        band.suppressed["p50"]
        == "P50 needs at least 5 people below and above it (cohort of 5; needs 10)"
    )
    assert all(not reason.startswith("cohort has") for reason in band.suppressed.values())


def test_the_cohort_minimum_is_checked_on_its_own() -> None:
    # With k = 1 the cohort minimum is 1 person; P50 still needs one on each side.
    assert not shown(0, 0.5, k=1)
    assert not shown(1, 0.5, k=1)
    assert shown(2, 0.5, k=1)
    assert peer_band([], k=1).suppressed["p50"] == COHORT_TOO_SMALL.format(people="0 people", k=1)
    one = peer_band([7.0], k=2, percentiles=[0.5])
    assert one.suppressed == {"p50": "cohort has 1 person; bands need at least 2"}
    lone_side = peer_band([7.0], k=1, percentiles=[0.5])
    assert lone_side.suppressed == {
        "p50": "P50 needs at least 1 person below and above it (cohort of 1; needs 2)"
    }


# --- the percentiles themselves --------------------------------------------------------------


def test_one_to_a_hundred_gives_the_type_7_percentiles() -> None:
    band = peer_band(range(1, 101))
    assert band.n == 100
    assert band.suppressed == {}
    assert band.percentiles == pytest.approx(
        {"p10": 10.9, "p25": 25.75, "p50": 50.5, "p75": 75.25, "p90": 90.1, "p95": 95.05}
    )


def test_a_small_array_interpolates_linearly() -> None:
    band = peer_band([4.0, 1.0, 3.0, 2.0], k=1, percentiles=[0.25, 0.5, 0.75])
    assert band.percentiles == {"p25": 1.75, "p50": 2.5, "p75": 3.25}


def test_nan_and_none_are_not_people() -> None:
    values = [float(i) for i in range(1, 11)]
    band = peer_band([*values, float("nan"), None, np.nan])
    assert band.n == 10
    assert band == peer_band(values)
    assert band.percentiles["p50"] == 5.5


def test_custom_percentiles_are_keyed_by_their_percentage() -> None:
    band = peer_band(range(1000), percentiles=[0.333, 0.5])
    assert set(band.percentiles) == {"p33.3", "p50"}
    assert min_cohort_size(0.333) == 16


def test_strict_sides_can_hold_fewer_than_k_when_values_tie() -> None:
    # Why the invariant below says "<=" and ">=": ten equal scores show a P50 that no one is
    # strictly below or above, yet all ten are at it, so no single person is singled out.
    band = peer_band([3.0] * 10)
    assert band.percentiles["p50"] == 3.0


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "5", None])
def test_k_must_be_a_positive_integer(k: object) -> None:
    with pytest.raises(ValueError, match="k must be an integer of at least 1"):
        peer_band([1.0], k=k)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be an integer of at least 1"):
        shown(10, 0.5, k=k)  # type: ignore[arg-type]


@pytest.mark.parametrize("q", [0, 1, 0.0, 1.0, -0.1, 1.5, math.nan, math.inf, "0.5", True])
def test_each_percentile_must_lie_strictly_between_0_and_1(q: object) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        peer_band([1.0], percentiles=[q])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        shown(10, q)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [-1, 2.0, True])
def test_n_must_be_a_count(n: object) -> None:
    with pytest.raises(ValueError, match="n must be an integer of at least 0"):
        shown(n, 0.5)  # type: ignore[arg-type]


def test_a_percentile_asked_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="asked for twice"):
        peer_band([1.0], percentiles=[0.5, 0.5])


def test_values_must_be_one_dimensional_and_finite() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        peer_band([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="finite"):
        peer_band([1.0, math.inf])


def test_peer_bands_validates_its_frame() -> None:
    frame = pl.DataFrame({"n": ["a"], "team": ["a"], "name": ["x"], "score": [math.inf]})
    with pytest.raises(ValueError, match="both a cohort key and an output column"):
        peer_bands(frame, value="score", by=["n"])
    with pytest.raises(ValueError, match="must be numeric"):
        peer_bands(frame, value="name", by=["team"])
    with pytest.raises(ValueError, match="finite"):
        peer_bands(frame, value="score", by=["team"])
    with pytest.raises(ValueError, match="k must be"):
        peer_bands(frame, value="score", by=["team"], k=0)


# --- vectorised ------------------------------------------------------------------------------


def test_polars_linear_quantile_agrees_with_numpy_linear() -> None:
    rng = np.random.default_rng(20240607)
    for size in (1, 2, 3, 7, 10, 49, 50, 101, 1000):
        for values in (rng.normal(50, 15, size), rng.integers(1, 5, size).astype(float)):
            series = pl.Series(values)
            for q in (*PERCENTILES, 0.333):
                assert series.quantile(q, interpolation="linear") == pytest.approx(
                    np.quantile(values, q, method="linear"), rel=1e-12, abs=1e-12
                )


def make_cohorts(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = {
        ("eng", "L3"): 120,
        ("eng", "L4"): 50,
        ("eng", "L5"): 49,
        ("sales", "L3"): 20,
        ("sales", "L4"): 10,
        ("sales", "L5"): 9,
        ("ops", "L3"): 4,
        ("ops", "L4"): 0,
    }
    families: list[str] = []
    levels: list[str] = []
    scores: list[float | None] = []
    for (family, level), size in sizes.items():
        values: list[float | None] = [float(x) for x in rng.normal(3.0, 0.8, size).round(2)]
        values += [None] * int(rng.integers(0, 3)) + [math.nan] * int(rng.integers(0, 3))
        families += [family] * len(values)
        levels += [level] * len(values)
        scores += values
    families.append("ops")  # a cohort whose only row has no score
    levels.append("L9")
    scores.append(None)
    order = rng.permutation(len(scores))
    return pl.DataFrame(
        {"family": families, "level": levels, "score": scores},
        schema={"family": pl.String, "level": pl.String, "score": pl.Float64},
    )[order]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_bands_equal_the_scalar_band_of_each_cohort(seed: int) -> None:
    frame = make_cohorts(seed)
    bands = peer_bands(frame, value="score", by=["family", "level"])
    assert bands.schema == pl.Schema(
        {"family": pl.String, "level": pl.String, "n": pl.Int64} | dict.fromkeys(KEYS, pl.Float64)
    )
    assert bands.height == frame.select("family", "level").unique().height == 9
    for row in bands.rows(named=True):
        cohort = frame.filter(
            (pl.col("family") == row["family"]) & (pl.col("level") == row["level"])
        )
        scalar = peer_band(cohort["score"].to_list())
        assert row["n"] == scalar.n
        for key in KEYS:
            if scalar.percentiles[key] is None:
                assert row[key] is None
            else:
                assert row[key] == pytest.approx(scalar.percentiles[key], rel=1e-12)


def test_vectorised_bands_take_integer_scores_and_any_k() -> None:
    frame = pl.DataFrame({"team": ["a"] * 6 + ["b"] * 3, "score": [0, 1, 2, 3, 4, 5, 1, 2, 3]})
    bands = peer_bands(frame, value="score", by=["team"], k=3, percentiles=[0.5])
    assert bands.rows() == [("a", 6, 2.5), ("b", 3, None)]


def test_vectorised_bands_of_an_empty_frame_are_empty_with_the_same_columns() -> None:
    frame = pl.DataFrame(schema={"team": pl.String, "score": pl.Float64})
    bands = peer_bands(frame, value="score", by=["team"])
    assert bands.height == 0
    assert bands.columns == ["team", "n", *KEYS]


# --- invariants ------------------------------------------------------------------------------

scores = st.one_of(
    st.lists(st.floats(min_value=-1e9, max_value=1e9), max_size=300),
    st.lists(st.integers(0, 3).map(float), max_size=300),  # many ties
)


@given(values=scores, k=st.integers(1, 8))
def test_a_band_shows_exactly_what_the_rule_allows_and_stays_inside_the_data(
    values: list[float], k: int
) -> None:
    band = peer_band(values, k=k)
    n = len(values)
    assert band.n == n
    data = np.sort(np.asarray(values))
    last = -math.inf
    for key in KEYS:
        value = band.percentiles[key]
        assert (value is not None) == rule(n, key, k) == (key not in band.suppressed)
        if value is None:
            continue
        assert data[0] <= value <= data[-1]
        # Type 7 with n*min(q, 1-q) >= k puts >= k values at or below and at or above it.
        assert np.count_nonzero(data <= value) >= k
        assert np.count_nonzero(data >= value) >= k
        assert value >= last  # percentiles never decrease
        last = value
