"""Rater effects: leniency, severity and central tendency beyond what the evidence explains.

A random-intercept model ``rating ~ evidence + controls + (1 | rater)`` separates what the
evidence explains from each rater's own level. A rater's leniency is their predicted random
intercept (the best linear unbiased predictor), which shrinks a rater with few ratings toward
zero; its interval comes from the intercept's conditional variance. Central tendency compares
the spread of a rater's ratings with everyone else's (Brown-Forsythe), and counts only when it
is narrower than the evidence of the same people would make it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

#: Raters with fewer ratings get no interval or test: one rating says nothing about a habit.
MIN_RATINGS = 2
#: Optimisers for the mixed model (statsmodels' default chain, then a derivative-free one).
FIT_METHODS: tuple[list[str] | None, ...] = (None, ["powell"])


@dataclass(frozen=True)
class RaterEffect:
    """One rater's habits, in rating points beyond the evidence.

    Leniency is positive, severity negative; ``central_tendency`` marks ratings compressed
    toward the middle.
    """

    rater: str
    n: int
    mean_rating: float
    leniency: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None
    flag: str | None
    spread_ratio: float | None
    spread_p_value: float | None
    central_tendency: bool


@dataclass(frozen=True)
class RaterEffects:
    """Every rater's effect, the share of rating variance due to raters, and how it was got.

    ``method`` is ``"mixed_model"``, ``"mixed_model_zero_variance"`` (the raters differ no more
    than chance: every leniency is 0 and no one is flagged) or ``"residual_means"`` (the mixed
    model could not be fitted; unshrunken mean residuals instead). ``note`` says why.
    """

    items: list[RaterEffect]
    variance_share: float | None
    method: str
    note: str


def rater_effects(
    frame: pd.DataFrame,
    *,
    rating: str,
    rater: str,
    evidence: str | None = None,
    controls: Sequence[str] = (),
    alpha: float = 0.05,
) -> RaterEffects:
    """Estimate each rater's leniency or severity, and central tendency.

    Parameters
    ----------
    frame
        One row per rating: the rating, the rater, and the evidence and controls.
    rating, rater
        The numeric rating column and the rater column (read as text).
    evidence, controls
        Numeric columns that explain ratings legitimately.
    alpha
        Level for the Benjamini-Hochberg-adjusted flags.

    Returns
    -------
    RaterEffects
        Per rater (by name): ``leniency`` (the shrunken random intercept), a normal interval
        ``leniency +- z * sqrt(conditional variance)``, its two-sided p-value and q-value, a flag
        (``"lenient"``, ``"severe"`` or ``None``), and the Brown-Forsythe test of their residual
        spread against everyone else's (``central_tendency`` when significantly narrower).
        ``variance_share = tau^2 / (tau^2 + sigma^2)``.

    References
    ----------
    Laird and Ware, "Random-effects models for longitudinal data", Biometrics 38 (1982);
    Brown and Forsythe, JASA 69 (1974); Benjamini and Hochberg, JRSS B 57 (1995).
    """
    adjusters = [c for c in (evidence, *controls) if c]
    data = frame[[rating, rater, *adjusters]].dropna().copy()
    data[rating] = pd.to_numeric(data[rating], errors="raise").astype(float)
    data[rater] = data[rater].astype(str)
    design = sm.add_constant(data[adjusters].astype(float), has_constant="add")
    fitted = _mixed_model(data[rating], design, data[rater])
    if fitted is None:
        effects, variances, share, method, note = _residual_means(data, rating, rater, design)
    else:
        effects, variances, share, method, note, fixed = fitted
        data["_fitted"] = design @ fixed
    summary = data.groupby(rater, sort=True).agg(n=(rating, "size"), mean=(rating, "mean"))
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows: list[dict[str, Any]] = []
    for name, n, mean in summary.itertuples():
        effect = float(effects.get(name, 0.0))
        variance = variances.get(name)
        testable = n >= MIN_RATINGS and variance is not None and variance > 0
        se = math.sqrt(variance) if testable and variance is not None else None
        rows.append(
            {
                "rater": str(name),
                "n": int(n),
                "mean_rating": float(mean),
                "leniency": effect,
                "ci_low": None if se is None else effect - z * se,
                "ci_high": None if se is None else effect + z * se,
                "p_value": None if se is None else float(2 * stats.norm.sf(abs(effect) / se)),
            }
        )
    _add_flags(rows, alpha, zero=method == "mixed_model_zero_variance")
    spreads = _spreads(data, rating, rater, alpha)
    untested: tuple[float | None, float | None, bool] = (None, None, False)
    items = []
    for row in rows:
        ratio, spread_p, narrow = spreads.get(row["rater"], untested)
        items.append(
            RaterEffect(**row, spread_ratio=ratio, spread_p_value=spread_p, central_tendency=narrow)
        )
    return RaterEffects(items, share, method, note)


def _mixed_model(
    y: pd.Series, design: pd.DataFrame, groups: pd.Series
) -> tuple[dict[str, float], dict[str, float | None], float, str, str, np.ndarray] | None:
    """Fit the random-intercept model; ``None`` when it cannot be fitted or did not converge."""
    if groups.nunique() < 2:
        return None
    model = sm.MixedLM(y, design, groups=groups)
    result = None
    # keep the best converged fit; the next optimiser runs only when the last one failed or
    # stopped on the boundary (zero rater variance), where one can stop when it is not best
    for method in FIT_METHODS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # judged below by convergence and likelihood
            try:
                attempt = model.fit(reml=True, method=method)
            except (np.linalg.LinAlgError, ValueError):
                continue
        usable = attempt.converged and np.all(np.isfinite(np.asarray(attempt.fe_params)))
        if usable and (result is None or attempt.llf > result.llf):
            result = attempt
        if result is not None and float(result.cov_re.iloc[0, 0]) > 1e-10 * float(result.scale):
            break
    if result is None:
        return None
    tau2 = float(result.cov_re.iloc[0, 0])
    sigma2 = float(result.scale)
    fixed = np.asarray(result.fe_params)
    if not math.isfinite(tau2) or tau2 <= 1e-10 * max(sigma2, 1e-12):
        zeros = {str(g): 0.0 for g in groups.unique()}
        return (
            zeros,
            dict.fromkeys(zeros, None),
            0.0,
            "mixed_model_zero_variance",
            "The raters differ no more than chance would make them: the rater variance is "
            "estimated at zero, so no rater is flagged.",
            fixed,
        )
    effects = {str(g): float(v.iloc[0]) for g, v in result.random_effects.items()}
    conditional = {str(g): float(np.asarray(c)[0, 0]) for g, c in result.random_effects_cov.items()}
    note = "Random-intercept mixed model (REML); leniency is each rater's shrunken intercept."
    return effects, dict(conditional), tau2 / (tau2 + sigma2), "mixed_model", note, fixed


def _residual_means(
    data: pd.DataFrame, rating: str, rater: str, design: pd.DataFrame
) -> tuple[dict[str, float], dict[str, float | None], float | None, str, str]:
    """Fall back to each rater's mean residual from a regression on the evidence alone."""
    coefficients = np.linalg.lstsq(design, data[rating], rcond=None)[0]
    residual = data[rating] - design @ coefficients
    data["_fitted"] = design @ coefficients
    pooled = float(residual.var(ddof=design.shape[1])) if len(residual) > design.shape[1] else None
    by_rater = residual.groupby(data[rater])
    means = {str(k): float(v) for k, v in by_rater.mean().items()}
    counts = by_rater.size()
    variances: dict[str, float | None] = {
        str(k): (pooled / int(n) if pooled else None) for k, n in counts.items()
    }
    note = (
        "The mixed model could not be fitted (too little data or no convergence); leniency is "
        "each rater's mean residual, not shrunken, so raters with few ratings look more extreme."
    )
    return means, variances, None, "residual_means", note


def _add_flags(rows: list[dict[str, Any]], alpha: float, *, zero: bool) -> None:
    tested = [i for i, row in enumerate(rows) if row["p_value"] is not None]
    for row in rows:
        row["q_value"], row["flag"] = None, None
    if zero or not tested:
        return
    q_values = multipletests([rows[i]["p_value"] for i in tested], method="fdr_bh")[1]
    for i, q in zip(tested, q_values, strict=True):
        rows[i]["q_value"] = float(q)
        if q < alpha:
            rows[i]["flag"] = "lenient" if rows[i]["leniency"] > 0 else "severe"


def _spreads(
    data: pd.DataFrame, rating: str, rater: str, alpha: float
) -> dict[str, tuple[float | None, float | None, bool]]:
    """Compare each rater's spread of ratings with everyone else's (Brown-Forsythe).

    Spread is the mean absolute deviation from the rater's own median, so a rater's level does
    not count. Brown-Forsythe is the one-way ANOVA of those deviations; with two groups (the
    rater, everyone else) ``F = t^2`` of the pooled two-sample t-test, computed for every rater
    at once from group sums. Per rater: the spread ratio, the p-value, and ``central_tendency``
    when the spread is significantly narrower after Benjamini-Hochberg *and* narrower than the
    spread of the evidence-based predictions for the same people (the evidence adjustment: a
    team whose evidence is alike may be rated alike).
    """
    keys = data[rater]
    ratings = data[rating].astype(float)
    fitted = data["_fitted"].astype(float)
    deviation = (ratings - ratings.groupby(keys).transform("median")).abs()
    expected = (fitted - fitted.groupby(keys).transform("median")).abs()
    frame = pd.DataFrame({"rater": keys, "d": deviation, "d2": deviation**2, "e": expected})
    sums = frame.groupby("rater", sort=True).agg(
        n=("d", "size"), d=("d", "sum"), d2=("d2", "sum"), e=("e", "sum")
    )
    total_n, total_d, total_d2 = len(frame), float(deviation.sum()), float((deviation**2).sum())
    total_e = float(expected.sum())
    n_a = sums["n"].to_numpy(float)
    n_b = total_n - n_a
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_a = sums["d"].to_numpy() / n_a
        mean_b = (total_d - sums["d"].to_numpy()) / n_b
        ss_a = sums["d2"].to_numpy() - n_a * mean_a**2
        ss_b = (total_d2 - sums["d2"].to_numpy()) - n_b * mean_b**2
        dof = n_a + n_b - 2
        t = (mean_a - mean_b) / np.sqrt((ss_a + ss_b) / dof * (1 / n_a + 1 / n_b))
        p_values = 2 * stats.t.sf(np.abs(t), dof)
        ratios = mean_a / mean_b
        evidence_ratios = (sums["e"].to_numpy() / n_a) / ((total_e - sums["e"].to_numpy()) / n_b)
    usable = (n_a >= 3) & (n_b >= 3) & np.isfinite(p_values) & np.isfinite(ratios)
    names = [str(k) for k in sums.index]
    narrower: set[str] = set()
    if usable.any():
        q_values = multipletests(p_values[usable], method="fdr_bh")[1]
        candidates = zip(
            [n for n, ok in zip(names, usable, strict=True) if ok],
            q_values,
            ratios[usable],
            evidence_ratios[usable],
            strict=True,
        )
        narrower = {
            name
            for name, q, ratio, evidence_ratio in candidates
            if q < alpha and ratio < 1.0 and not ratio >= evidence_ratio
        }
    return {
        name: (float(ratio) if ok else None, float(p) if ok else None, name in narrower)
        for name, ok, ratio, p in zip(names, usable, ratios, p_values, strict=True)
    }
