"""Agreement between raters who rate the same people: ICC and Krippendorff's alpha.

Only ratees with two or more ratings count. The intraclass correlation is the one-way
random-effects ICC(1) (each ratee rated by a different set of raters), with the unbalanced
average group size; Krippendorff's alpha takes any number of raters per ratee, missing ratings
and, at the ordinal level, distances that respect the order of the scale without assuming equal
steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LEVELS = ("nominal", "ordinal", "interval")


@dataclass(frozen=True)
class Agreement:
    """ICC(1) and Krippendorff's alpha over the ratees rated more than once.

    Both are ``None`` (with ``note`` saying why) when fewer than two ratees have two ratings.
    """

    ratees: int
    ratings: int
    icc: float | None
    krippendorff_alpha: float | None
    level: str
    note: str


def agreement(frame: pd.DataFrame, *, ratee: str, rating: str, level: str = "ordinal") -> Agreement:
    """Agreement of several ratings of the same people.

    Parameters
    ----------
    frame
        One row per rating: who was rated (``ratee``) and the rating.
    ratee, rating
        Column names.
    level
        Krippendorff's level of measurement: ``"nominal"``, ``"ordinal"`` or ``"interval"``.

    Returns
    -------
    Agreement
        ``icc = (MSB - MSW) / (MSB + (k0 - 1) * MSW)`` with
        ``k0 = (N - sum(n_i^2) / N) / (g - 1)``, and ``alpha = 1 - D_o / D_e`` from the
        coincidence matrix.

    References
    ----------
    Shrout and Fleiss, "Intraclass correlations", Psychological Bulletin 86 (1979);
    Krippendorff, "Computing Krippendorff's alpha-reliability" (2011), and *Content Analysis*,
    3rd ed., 2013, ch. 12.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    data = frame[[ratee, rating]].dropna()
    sizes = data.groupby(ratee)[rating].transform("size")
    data = data[sizes >= 2]
    groups = data[ratee].nunique()
    if groups < 2:
        return Agreement(
            groups, len(data), None, None, level, "Fewer than two people were rated more than once."
        )
    return Agreement(
        groups,
        len(data),
        icc1(data, ratee=ratee, rating=rating),
        krippendorff_alpha(data, unit=ratee, value=rating, level=level),
        level,
        "Over the people rated two or more times.",
    )


def icc1(frame: pd.DataFrame, *, ratee: str, rating: str) -> float:
    """Return the one-way random-effects ICC(1) of ratings grouped by ratee.

    >>> rows = [("a", 9), ("a", 2), ("a", 5), ("a", 8), ("b", 6), ("b", 1), ("b", 3), ("b", 2)]
    >>> round(icc1(pd.DataFrame(rows, columns=["who", "r"]), ratee="who", rating="r"), 3)
    0.267
    """
    values = frame[rating].astype(float)
    grouped = values.groupby(frame[ratee])
    n_i = grouped.size().to_numpy(float)
    means = grouped.mean().to_numpy()
    total, groups = float(n_i.sum()), len(n_i)
    grand = float(values.mean())
    ss_between = float(np.sum(n_i * (means - grand) ** 2))
    ss_within = float(((values - grouped.transform("mean")) ** 2).sum())
    ms_between = ss_between / (groups - 1)
    ms_within = ss_within / (total - groups)
    k0 = (total - float(np.sum(n_i**2)) / total) / (groups - 1)
    return (ms_between - ms_within) / (ms_between + (k0 - 1) * ms_within)


def krippendorff_alpha(
    frame: pd.DataFrame, *, unit: str, value: str, level: str = "ordinal"
) -> float | None:
    """Return Krippendorff's alpha of values grouped by unit (``None`` if undefined).

    Pairable values are those of units with two or more; the coincidence matrix ``o`` counts
    each ordered pair of values within a unit with weight ``1 / (m_u - 1)``.
    """
    table = pd.crosstab(frame[unit], frame[value])
    counts = table.to_numpy(float)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    if counts.shape[0] == 0:
        return None
    weights = 1.0 / (m - 1)
    coincidence = (counts * weights[:, None]).T @ counts - np.diag(
        (counts * weights[:, None]).sum(0)
    )
    n_c = coincidence.sum(axis=1)
    n = float(n_c.sum())
    delta = _distances(np.asarray(table.columns), n_c, level)
    observed = float(np.sum(coincidence * delta)) / n
    expected = float(np.sum(np.outer(n_c, n_c) * delta)) / (n * (n - 1))
    if expected == 0:
        return None
    return 1.0 - observed / expected


def _distances(categories: np.ndarray, n_c: np.ndarray, level: str) -> np.ndarray:
    """Squared distances between categories at the level of measurement."""
    size = len(categories)
    if level == "nominal":
        return 1.0 - np.eye(size)
    if level == "interval":
        values = categories.astype(float)
        return np.asarray(np.subtract.outer(values, values) ** 2, dtype=float)
    # ordinal: the frequencies from c to k, less half of each end
    cumulative = np.concatenate([[0.0], np.cumsum(n_c)])
    low = np.minimum.outer(np.arange(size), np.arange(size))
    high = np.maximum.outer(np.arange(size), np.arange(size))
    between = cumulative[high + 1] - cumulative[low]
    return np.asarray((between - (n_c[:, None] + n_c[None, :]) / 2) ** 2, dtype=float)
