"""Individuals whose rating the evidence does not support.

A person's residual is their rating less what the evidence and controls predict, after their
rater's own level is taken out (the within-rater regression: each rater's ratings and evidence
are centred on that rater's means, so a lenient rater's high ratings are not blamed on the
people they rated). Residuals are studentised by the residual standard deviation; a rating is
flagged ``rating_above_evidence`` or ``rating_below_evidence`` when the two-sided normal p-value
of that residual survives Benjamini-Hochberg at ``alpha`` across everyone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests


@dataclass(frozen=True)
class Individual:
    """One person: the rating's studentised residual and the flags it raised."""

    id: str
    rating: float
    residual: float | None
    flags: tuple[str, ...]


def rating_mismatches(
    frame: pd.DataFrame,
    *,
    id: str,
    rating: str,
    evidence: str,
    rater: str | None = None,
    controls: Sequence[str] = (),
    alpha: float = 0.05,
) -> list[Individual]:
    """Flag ratings far above or below what the evidence supports.

    Parameters
    ----------
    frame
        One row per person.
    id, rating, evidence
        The person's identifier, their rating and their evidence score.
    rater
        When given, residuals are within rater (each rater's level removed first).
    controls
        Further numeric columns that explain ratings legitimately.
    alpha
        False discovery rate for the flags.

    Returns
    -------
    list of Individual
        In the frame's order. ``residual`` is ``e_i / s`` with ``s^2 = sum(e^2) / (n - p)``,
        ``p`` counting the slopes and one level per rater; ``None`` for a person whose rater
        rated no one else (nothing to compare the rating with).

    References
    ----------
    Wooldridge, *Econometric Analysis of Cross Section and Panel Data*, 2nd ed., 2010, ch. 10
    (the within transformation); Benjamini and Hochberg, JRSS B 57 (1995).
    """
    adjusters = [evidence, *controls]
    data = frame[[id, rating, *adjusters, *([rater] if rater else [])]].dropna().copy()
    y = pd.to_numeric(data[rating], errors="raise").astype(float)
    x = data[adjusters].astype(float)
    if rater:
        keys = data[rater].astype(str)
        sizes = keys.map(keys.value_counts())
        y_c = y - y.groupby(keys).transform("mean")
        x_c = x - x.groupby(keys).transform("mean")
        levels = keys.nunique()
    else:
        sizes = pd.Series(2, index=data.index)
        y_c, x_c, levels = y - y.mean(), x - x.mean(), 1
    slopes = np.linalg.lstsq(x_c.to_numpy(), y_c.to_numpy(), rcond=None)[0]
    residual = y_c.to_numpy() - x_c.to_numpy() @ slopes
    dof = len(data) - len(adjusters) - levels
    s = math.sqrt(float(np.sum(residual**2)) / dof) if dof > 0 else 0.0
    comparable = (sizes.to_numpy() >= 2) & (s > 0)
    studentised = np.where(comparable, residual / (s if s > 0 else 1.0), np.nan)
    flags: list[tuple[str, ...]] = [()] * len(data)
    if comparable.any():
        p_values = 2 * stats.norm.sf(np.abs(studentised[comparable]))
        rejected = multipletests(p_values, alpha=alpha, method="fdr_bh")[0]
        positions = np.flatnonzero(comparable)[rejected]
        for position in positions:
            above = studentised[position] > 0
            flags[position] = ("rating_above_evidence" if above else "rating_below_evidence",)
    return [
        Individual(
            id=str(person),
            rating=float(value),
            residual=None if math.isnan(z) else float(z),
            flags=flag,
        )
        for person, value, z, flag in zip(data[id], y, studentised, flags, strict=True)
    ]
