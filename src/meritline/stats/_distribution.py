"""Whether a rating distribution follows its guideline.

The likelihood-ratio (G) test of observed counts against the guideline's expected counts,
with the Kullback-Leibler divergence as the effect size and the Jensen-Shannon distance as a
bounded, symmetric companion. When an expected count is under five, the chi-squared
approximation to G is poor, so the p-value is computed by Monte Carlo instead: draws from the
guideline itself, counted as at least as extreme when their G is at least the observed one
(Davison and Hinkley, *Bootstrap Methods*, 1997, eq. 4.11: ``(1 + r) / (1 + B)``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

#: Below this expected count the chi-squared approximation is not trusted.
MIN_EXPECTED = 5.0
#: Monte Carlo draws for an exact-style p-value.
SIMULATIONS = 20_000
#: How far from 1 a guideline's shares may sum (rounding in a typed guideline).
SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class DistributionCheck:
    """Observed ratings against a guideline (or, without one, just the observed counts).

    ``method`` is ``"g_test"`` (chi-squared reference), ``"monte_carlo"`` (an expected count
    under five), ``"untestable"`` (too few ratings for any outcome to reach ``alpha``: see
    ``min_testable_n``) or ``"no_guideline"``.
    """

    n: int
    observed: dict[Any, int]
    expected: dict[Any, float] | None
    g_statistic: float | None
    p_value: float | None
    kl_divergence: float | None
    js_distance: float | None
    method: str
    min_testable_n: int | None
    note: str


def check_guideline(guideline: Mapping[Any, float]) -> dict[Any, float]:
    """Check a guideline's shares: non-negative, at least two categories, summing to 1.

    Raises ``ValueError`` saying what is wrong.
    """
    shares = {category: float(share) for category, share in guideline.items()}
    if len(shares) < 2:
        raise ValueError("a guideline needs at least two rating values")
    if any(not math.isfinite(s) or s < 0 for s in shares.values()):
        raise ValueError("guideline shares must be numbers of at least 0")
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"guideline shares must sum to 1, not {total:g}")
    return shares


def min_testable_n(guideline: Mapping[Any, float], *, alpha: float = 0.05) -> int:
    """Return the fewest ratings for which some outcome could be significant at ``alpha``.

    The most extreme outcome puts every rating in the least likely category, with probability
    ``p_min ** n``; below ``n = ceil(log(alpha) / log(p_min))`` not even that outcome reaches
    ``alpha``, so a p-value would say nothing.

    >>> min_testable_n({1: 0.1, 2: 0.2, 3: 0.4, 4: 0.2, 5: 0.1})
    2
    >>> min_testable_n({"meets": 0.7, "exceeds": 0.3}, alpha=0.01)
    4
    """
    p_min = min(share for share in guideline.values() if share > 0)
    if p_min >= 1.0:
        return 1
    return max(1, math.ceil(math.log(alpha) / math.log(p_min)))


def distribution_check(
    ratings: Iterable[Any],
    guideline: Mapping[Any, float] | None = None,
    *,
    alpha: float = 0.05,
    simulations: int = SIMULATIONS,
    random_state: int | np.random.Generator | None = None,
) -> DistributionCheck:
    """Test observed ratings against a guideline distribution.

    Parameters
    ----------
    ratings
        One rating per person (missing values already removed).
    guideline
        Expected share per rating value, summing to 1; ``None`` only counts.
    alpha
        The significance level that ``min_testable_n`` is computed for.
    simulations
        Monte Carlo draws when an expected count is under five.
    random_state
        Seed or generator for the Monte Carlo draws.

    Returns
    -------
    DistributionCheck
        ``G = 2 * sum(O * ln(O / E)) = 2 * n * KL(observed || guideline)`` (natural logs), its
        p-value, the KL divergence in nats and the Jensen-Shannon distance (base 2, in [0, 1]).

    Raises
    ------
    ValueError
        A bad guideline, or a rating value the guideline does not name.

    References
    ----------
    Sokal and Rohlf, *Biometry*, 4th ed., 2012, section 17.1 (the G-test); Kullback, *Information
    Theory and Statistics*, 1959; Endres and Schindelin, "A new metric for probability
    distributions", IEEE Trans. Inf. Theory 49 (2003) (the Jensen-Shannon distance).
    """
    counts = Counter(ratings)
    n = sum(counts.values())
    if guideline is None:
        observed = dict(sorted(counts.items(), key=lambda item: _order(item[0])))
        return DistributionCheck(
            n, observed, None, None, None, None, None, "no_guideline", None, "No guideline given."
        )
    shares = check_guideline(guideline)
    unknown = sorted((v for v in counts if v not in shares), key=_order)
    if unknown:
        raise ValueError(
            f"rating value(s) {', '.join(map(str, unknown))} are not in the guideline "
            f"({', '.join(map(str, shares))})"
        )
    categories = list(shares)
    observed_counts = np.array([counts.get(c, 0) for c in categories], float)
    probabilities = np.array([shares[c] for c in categories])
    observed = {c: int(k) for c, k in zip(categories, observed_counts, strict=True)}
    expected_counts = n * probabilities
    expected = {c: float(e) for c, e in zip(categories, expected_counts, strict=True)}
    smallest = min_testable_n(shares, alpha=alpha)
    if n < smallest:
        return DistributionCheck(
            n,
            observed,
            expected,
            None,
            None,
            None,
            None,
            "untestable",
            smallest,
            f"{n} rating(s) cannot be tested against this guideline: even the most extreme "
            f"outcome would not be significant below {smallest}.",
        )
    g = float(_g_statistics(observed_counts[np.newaxis, :], expected_counts)[0])
    kl = g / (2 * n)
    js = float(jensenshannon(observed_counts / n, probabilities, base=2))
    if expected_counts[probabilities > 0].min() < MIN_EXPECTED:
        rng = np.random.default_rng(random_state)
        draws = rng.multinomial(n, probabilities, size=simulations).astype(float)
        simulated = _g_statistics(draws, expected_counts)
        # a tolerance so that draws equal to the observed table count as at least as extreme
        extreme = int(np.count_nonzero(simulated >= g - 1e-9 * max(1.0, g)))
        p_value = (1 + extreme) / (1 + simulations)
        method = "monte_carlo"
        note = (
            f"An expected count is under {MIN_EXPECTED:g}, so the p-value comes from "
            f"{simulations:,} simulated samples of {n} drawn from the guideline."
        )
    else:
        p_value = float(stats.chi2.sf(g, df=int(np.count_nonzero(probabilities)) - 1))
        method = "g_test"
        note = "G-test against the chi-squared distribution."
    return DistributionCheck(n, observed, expected, g, p_value, kl, js, method, smallest, note)


def _g_statistics(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``2 * sum(O * ln(O / E))`` for each row of counts; empty cells add nothing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
    return np.asarray(2.0 * terms.sum(axis=1))


def _order(value: Hashable) -> tuple[int, float | str]:
    """Numbers in numeric order, then anything else as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0, float(value)
    return 1, str(value)
