"""The distribution check against a guideline: G-test, Monte Carlo, KL and JS, and its limits."""

from __future__ import annotations

import doctest
import itertools
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from meritline.stats import _distribution, distribution_check, min_testable_n

GUIDELINE = {1: 0.1, 2: 0.2, 3: 0.4, 4: 0.2, 5: 0.1}


def ratings(counts: dict[Any, int]) -> list[Any]:
    return [value for value, k in counts.items() for _ in range(k)]


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(_distribution).failed == 0


def test_g_is_twice_n_times_kl_and_matches_scipy() -> None:
    counts = {1: 30, 2: 50, 3: 150, 4: 50, 5: 20}
    check = distribution_check(ratings(counts), GUIDELINE)
    observed = np.array(list(counts.values()), float)
    expected = 300 * np.array(list(GUIDELINE.values()))
    g, p = scipy_stats.power_divergence(observed, expected, lambda_="log-likelihood")
    assert check.method == "g_test"
    assert check.g_statistic == pytest.approx(g)
    assert check.p_value == pytest.approx(p)
    kl = float(np.sum(observed / 300 * np.log((observed / 300) / (expected / 300))))
    assert check.kl_divergence == pytest.approx(kl)
    assert check.kl_divergence is not None
    assert check.g_statistic == pytest.approx(2 * 300 * check.kl_divergence)
    assert check.observed == counts
    assert check.expected == {1: 30.0, 2: 60.0, 3: 120.0, 4: 60.0, 5: 30.0}


def test_a_population_that_follows_the_guideline_is_not_flagged() -> None:
    check = distribution_check(ratings({1: 10, 2: 20, 3: 40, 4: 20, 5: 10}), GUIDELINE)
    assert check.g_statistic == pytest.approx(0.0)
    assert check.kl_divergence == pytest.approx(0.0)
    assert check.js_distance == pytest.approx(0.0, abs=1e-7)
    assert check.p_value == pytest.approx(1.0)


def test_js_distance_is_bounded_and_symmetric_in_spirit() -> None:
    everyone_top = distribution_check([5] * 50, GUIDELINE)
    assert 0.0 < everyone_top.js_distance < 1.0  # type: ignore[operator]
    assert everyone_top.p_value is not None and everyone_top.p_value < 1e-20


def exact_p(counts: list[int], probabilities: list[float]) -> float:
    """P(G >= observed G) under the guideline, by enumerating every outcome."""
    n = sum(counts)

    def g(cells: tuple[int, ...]) -> float:
        return 2 * sum(
            o * math.log(o / (n * p)) for o, p in zip(cells, probabilities, strict=True) if o
        )

    observed = g(tuple(counts))
    total = 0.0
    for cells in itertools.product(range(n + 1), repeat=len(counts)):
        if sum(cells) != n:
            continue
        if g(cells) >= observed - 1e-9:
            total += scipy_stats.multinomial.pmf(cells, n, probabilities)
    return total


def test_small_expected_counts_use_a_monte_carlo_p_value_close_to_the_exact_one() -> None:
    guideline = {"low": 0.2, "mid": 0.6, "high": 0.2}
    counts = {"low": 0, "mid": 3, "high": 5}
    check = distribution_check(
        ratings(counts),
        guideline,
        simulations=40_000,
        random_state=7,
    )
    assert check.method == "monte_carlo"
    exact = exact_p([0, 3, 5], [0.2, 0.6, 0.2])
    assert check.p_value == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 40_000))
    assert "simulated" in check.note


def test_the_monte_carlo_p_value_is_reproducible_with_a_seed() -> None:
    sample = ratings({1: 1, 3: 2, 5: 4})
    first = distribution_check(sample, GUIDELINE, random_state=3)
    again = distribution_check(sample, GUIDELINE, random_state=3)
    assert first.p_value == again.p_value
    assert 0 < first.p_value <= 1  # type: ignore[operator]


def test_too_few_ratings_get_the_smallest_testable_population_not_a_p_value() -> None:
    guideline = {"meets": 0.7, "exceeds": 0.3}
    assert min_testable_n(guideline, alpha=0.05) == 3  # 0.3 ** 3 = 0.027 <= 0.05 < 0.09
    check = distribution_check(["exceeds", "exceeds"], guideline)
    assert (check.method, check.p_value, check.g_statistic) == ("untestable", None, None)
    assert check.min_testable_n == 3
    assert "cannot be tested" in check.note
    assert distribution_check(["exceeds"] * 3, guideline).p_value is not None


@pytest.mark.parametrize(
    ("guideline", "message"),
    [
        ({1: 0.5, 2: 0.4}, "sum to 1, not 0.9"),
        ({1: 1.0}, "at least two"),
        ({1: -0.5, 2: 1.5}, "at least 0"),
    ],
)
def test_a_bad_guideline_says_what_is_wrong(guideline: dict[int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        distribution_check([1, 2], guideline)


def test_a_rating_outside_the_guideline_is_named() -> None:
    with pytest.raises(ValueError, match=r"rating value.*6 are not in the guideline"):
        distribution_check([1, 6, 3], GUIDELINE)


def test_without_a_guideline_it_only_counts() -> None:
    check = distribution_check([3, 1, 3, 2])
    assert (check.method, check.observed, check.expected) == (
        "no_guideline",
        {1: 1, 2: 1, 3: 2},
        None,
    )
