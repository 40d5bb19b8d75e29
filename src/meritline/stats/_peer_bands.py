"""k-anonymous peer benchmark bands: where a score stands in its cohort, revealing no one.

A cohort (job family x level, say) gets a band of percentiles, P10 to P95, from its
members' scores. A band that is too close to any one person is not shown:

* no band at all for a cohort of fewer than ``k`` people (``n < k``);
* a percentile ``q`` only when at least ``k`` people lie on each side of it,
  ``n * min(q, 1 - q) >= k``. With ``k = 5``: P50 needs 10 people, P25 and P75 need 20,
  P10 and P90 need 50, P95 needs 100.

The rule is evaluated in exact arithmetic (``q`` is read as the shortest decimal that
gives back the same float, so ``0.1`` is one tenth), never in floating point, where
``50 * (1 - 0.9)`` falls just short of 5. :func:`min_cohort_size` states it as the
smallest cohort that shows a percentile, and both the scalar and the vectorised
functions compare against that one integer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

__all__ = [
    "COHORT_TOO_SMALL",
    "PERCENTILES",
    "PERCENTILE_TOO_EXPOSED",
    "PeerBand",
    "min_cohort_size",
    "peer_band",
    "peer_bands",
    "shown",
]

PERCENTILES: tuple[float, ...] = (0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
"""The percentiles a band reports: P10, P25, P50, P75, P90 and P95."""

METHOD: Final = "linear"
"""numpy's name for the percentile method used: Hyndman and Fan's type 7 (its default)."""

# Why a percentile is not shown; plain language, for the employee's screen.
COHORT_TOO_SMALL = "cohort has {people}; bands need at least {k}"
PERCENTILE_TOO_EXPOSED = (
    "{label} needs at least {k_people} below and above it (cohort of {n}; needs {needed})"
)

# Errors the caller can fix.
K_INVALID = "k must be an integer of at least 1, not {k!r}"
N_INVALID = "n must be an integer of at least 0, not {n!r}"
Q_INVALID = "each percentile must be a number strictly between 0 and 1, not {q!r}"
Q_DUPLICATE = "percentile {q!r} is asked for twice (as {label!r})"
VALUES_NOT_1D = "values must be one-dimensional, not of shape {shape}"
VALUES_NOT_FINITE = "values must be finite numbers or missing (NaN/None); found {value}"
COLUMN_NOT_NUMERIC = "column {value!r} must be numeric, not {dtype}"
COLUMN_NAME_TAKEN = "column name {name!r} is both a cohort key and an output column"


@dataclass(frozen=True)
class PeerBand:
    """The peer band of one cohort.

    Attributes
    ----------
    n : int
        People in the cohort with a value (missing values are not counted).
    k : int
        The anonymity threshold the band was built with.
    percentiles : dict of str to float or None
        Each percentile by its key (``"p10"``, ``"p25"``, ...), ``None`` when suppressed.
    suppressed : dict of str to str
        The reason for each suppressed percentile, by the same key; shown ones are absent.
    """

    n: int
    k: int
    percentiles: dict[str, float | None]
    suppressed: dict[str, str]


def min_cohort_size(q: float, *, k: int = 5) -> int:
    r"""Smallest cohort that shows percentile `q` with `k` people on each side.

    .. math:: n_{\min}(q, k) = \max\left(k, \left\lceil \frac{k}{\min(q, 1 - q)} \right\rceil\right)

    computed exactly: `q` is read as its shortest round-tripping decimal, so
    ``min_cohort_size(0.9)`` is 50, not 51.

    Parameters
    ----------
    q : float
        The percentile, strictly between 0 and 1 (0.1 for P10).
    k : int, default=5
        People needed on each side of the percentile.

    Returns
    -------
    int
        The smallest ``n`` for which :func:`shown` is true.

    Raises
    ------
    ValueError
        If `k` is not an integer of at least 1 or `q` is not strictly between 0 and 1.

    Examples
    --------
    >>> [min_cohort_size(q) for q in PERCENTILES]
    [50, 20, 10, 20, 50, 100]
    >>> min_cohort_size(0.5, k=3)
    6
    """
    _check_k(k)
    side = min(_exact(q), 1 - _exact(q))
    return max(int(k), math.ceil(Fraction(int(k)) / side))


def shown(n: int, q: float, *, k: int = 5) -> bool:
    r"""Whether percentile `q` of a cohort of `n` people may be shown.

    .. math:: n \ge k \quad\text{and}\quad n \cdot \min(q, 1 - q) \ge k

    in exact arithmetic (see :func:`min_cohort_size`). The first condition is the
    cohort minimum; for any `q` in (0, 1) the second implies it.

    Parameters
    ----------
    n : int
        People in the cohort with a value.
    q : float
        The percentile, strictly between 0 and 1.
    k : int, default=5
        People needed on each side of the percentile.

    Returns
    -------
    bool
        True when the percentile has at least `k` people below and above it.

    Raises
    ------
    ValueError
        If `n` is negative or not an integer, `k` is not an integer of at least 1,
        or `q` is not strictly between 0 and 1.

    Examples
    --------
    >>> shown(50, 0.1), shown(49, 0.1), shown(50, 0.9), shown(49, 0.9)
    (True, False, True, False)
    >>> shown(10, 0.5), shown(9, 0.5)
    (True, False)
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(N_INVALID.format(n=n))
    return int(n) >= min_cohort_size(q, k=k)


def peer_band(
    values: ArrayLike | Sequence[float | None],
    *,
    k: int = 5,
    percentiles: Sequence[float] = PERCENTILES,
) -> PeerBand:
    r"""Compute the k-anonymous peer band of one cohort's scores.

    Missing values (NaN or None) are not people with a score: they are dropped before
    the cohort is counted, so ``n`` is the number of finite values. Each percentile is
    numpy's ``method="linear"``, Hyndman and Fan's type 7 (numpy's, R's and Excel's
    default): on the sorted values :math:`x_0 \le \dots \le x_{n-1}`,

    .. math:: h = (n - 1)\,q, \qquad
              Q(q) = x_{\lfloor h \rfloor}
                     + (h - \lfloor h \rfloor)(x_{\lfloor h \rfloor + 1} - x_{\lfloor h \rfloor})

    A percentile is reported only when :func:`shown` allows it; otherwise it is
    ``None`` and ``suppressed`` says why. When a percentile is shown, at least `k`
    values are ``<=`` it and at least `k` are ``>=`` it (with ties, fewer may be
    strictly below or above).

    Parameters
    ----------
    values : array_like of float
        The cohort's scores, one per person, one-dimensional; NaN or None for no score.
    k : int, default=5
        The anonymity threshold: the smallest cohort with a band, and the people
        needed on each side of a percentile.
    percentiles : sequence of float, default=PERCENTILES
        The percentiles to report, each strictly between 0 and 1. Keys are ``"p"``
        and the percentage: 0.1 is ``"p10"``, 0.333 is ``"p33.3"``.

    Returns
    -------
    PeerBand
        The count, the threshold, the percentiles and the reasons for the missing ones.

    Raises
    ------
    ValueError
        If `k` or a percentile is invalid, a percentile is repeated, `values` is not
        one-dimensional, or a value is infinite.

    Examples
    --------
    >>> band = peer_band(range(1, 101))
    >>> band.n, band.percentiles["p50"], band.percentiles["p95"]
    (100, 50.5, 95.05)
    >>> band = peer_band([3.0, 1.0, None, 2.0, float("nan")])
    >>> band.n, band.percentiles["p50"]
    (3, None)
    >>> band.suppressed["p50"]
    'cohort has 3 people; bands need at least 5'
    >>> peer_band(range(42)).suppressed["p10"]
    'P10 needs at least 5 people below and above it (cohort of 42; needs 50)'
    """
    labels = _labels(percentiles)
    needed = {label: min_cohort_size(q, k=k) for label, q in labels.items()}
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(VALUES_NOT_1D.format(shape=array.shape))
    array = array[~np.isnan(array)]
    if np.isinf(array).any():
        raise ValueError(VALUES_NOT_FINITE.format(value=array[np.isinf(array)][0]))
    n = int(array.size)

    visible = {label: q for label, q in labels.items() if n >= needed[label]}
    results: dict[str, float | None] = dict.fromkeys(labels)
    if visible:
        computed = np.quantile(array, list(visible.values()), method=METHOD)
        results.update(zip(visible, (float(x) for x in computed), strict=True))
    suppressed = {
        label: _reason(label, n=n, k=k, needed=needed[label])
        for label in labels
        if label not in visible
    }
    return PeerBand(n=n, k=int(k), percentiles=results, suppressed=suppressed)


def peer_bands(
    frame: pl.DataFrame,
    *,
    value: str,
    by: Sequence[str],
    k: int = 5,
    percentiles: Sequence[float] = PERCENTILES,
) -> pl.DataFrame:
    """Compute the k-anonymous peer band of every cohort of a frame at once.

    The vectorised form of :func:`peer_band`, with the same rule and the same
    percentile method (polars' ``interpolation="linear"`` is numpy's
    ``method="linear"``, type 7): one ``group_by``/``agg`` over the frame, then each
    percentile column is nulled where the cohort is smaller than
    :func:`min_cohort_size`. Null and NaN values are dropped before counting.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per person, with the cohort keys and the score.
    value : str
        The numeric column holding the score; null or NaN for no score.
    by : sequence of str
        The columns that define a cohort (job family and level, say).
    k : int, default=5
        The anonymity threshold, as in :func:`peer_band`.
    percentiles : sequence of float, default=PERCENTILES
        The percentiles to report, as in :func:`peer_band`.

    Returns
    -------
    polars.DataFrame
        One row per cohort, in order of first appearance: the `by` columns, ``n``
        (Int64, people with a value) and one Float64 column per percentile
        (``p10``, ``p25``, ...), null where suppressed. Cohorts whose values are all
        missing are kept, with ``n`` 0.

    Raises
    ------
    ValueError
        If `k` or a percentile is invalid or repeated, `value` is not numeric, a value
        is infinite, or a `by` column is named ``n`` or like a percentile column.

    Examples
    --------
    >>> frame = pl.DataFrame({"level": ["L3"] * 10 + ["L4"] * 4, "score": range(14)})
    >>> bands = peer_bands(frame, value="score", by=["level"])
    >>> bands.select("level", "n", "p25", "p50").rows()
    [('L3', 10, None, 4.5), ('L4', 4, None, None)]
    """
    labels = _labels(percentiles)
    needed = {label: min_cohort_size(q, k=k) for label, q in labels.items()}
    for name in by:
        if name == "n" or name in labels:
            raise ValueError(COLUMN_NAME_TAKEN.format(name=name))
    dtype = frame.schema[value]
    if not dtype.is_numeric():
        raise ValueError(COLUMN_NOT_NUMERIC.format(value=value, dtype=dtype))
    score = pl.col(value).cast(pl.Float64)
    infinite = frame.select(score.filter(score.is_infinite()).first()).item()
    if infinite is not None:
        raise ValueError(VALUES_NOT_FINITE.format(value=infinite))

    score = score.fill_nan(None)
    bands = frame.group_by(*by, maintain_order=True).agg(
        score.count().cast(pl.Int64).alias("n"),
        *(score.quantile(q, interpolation="linear").alias(label) for label, q in labels.items()),
    )
    return bands.with_columns(
        pl.when(pl.col("n") >= needed[label])
        .then(pl.col(label))
        .otherwise(None)
        .cast(pl.Float64)
        .alias(label)
        for label in labels
    )


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(K_INVALID.format(k=k))


def _exact(q: float) -> Fraction:
    """`q` as the exact fraction its shortest round-tripping decimal names (0.1 -> 1/10)."""
    if isinstance(q, bool) or not isinstance(q, numbers.Real):
        raise ValueError(Q_INVALID.format(q=q))
    as_float = float(q)
    if not 0.0 < as_float < 1.0:  # also rejects NaN
        raise ValueError(Q_INVALID.format(q=q))
    return Fraction(repr(as_float))


def _labels(percentiles: Iterable[float]) -> dict[str, float]:
    """Key each percentile: ``"p"`` and its percentage, ``0.1 -> "p10"``."""
    labels: dict[str, float] = {}
    for q in percentiles:
        _exact(q)  # validates
        percent = Decimal(repr(float(q))) * 100
        label = "p" + format(percent.normalize(), "f")
        if label in labels:
            raise ValueError(Q_DUPLICATE.format(q=q, label=label))
        labels[label] = float(q)
    return labels


def _people(count: int) -> str:
    return f"{count} person" if count == 1 else f"{count} people"


def _reason(label: str, *, n: int, k: int, needed: int) -> str:
    if n < k:
        return COHORT_TOO_SMALL.format(people=_people(n), k=k)
    return PERCENTILE_TOO_EXPOSED.format(
        label=label.upper(), k_people=_people(k), n=n, needed=needed
    )
