"""Group disparities in ratings: raw and controlled gaps, selection rates and adverse impact.

For each attribute (and each intersection of two or more attributes), every group gets:

* its mean rating and the raw gap to the *reference group*, the group with the highest
  selection rate;
* its selection rate (the share rated at or above ``top``, or above the overall median when no
  ``top`` is given) and the adverse impact ratio against the reference, with a Katz log-ratio
  confidence interval and Fisher's exact p-value;
* a controlled gap: the group's coefficient in an ordinary least squares regression of the
  rating on the attribute (reference as baseline), the evidence and the controls, with its
  interval and p-value;
* a Benjamini-Hochberg q-value across every test made, the four-fifths rule reported on its own,
  and how many outcomes would have to change to reverse a significant selection finding.

The reference group is chosen from the outcome (the highest selection rate), so comparing the
others with it is comparing them with the most favoured of ``k`` groups: with no disparity at
all, the least favoured group against it is the range of ``k`` samples, not one pre-chosen
contrast, and its p-value is too small (q-values over the ``k - 1`` comparisons alone flagged
7-14 % of datasets without any disparity at a nominal 5 %, with five groups and their
intersections with gender, or eight groups; ``tests/stats/test_false_flags.py``). The q-values
therefore count every pair of an attribute's ``k`` shown groups, ``k (k - 1) / 2``: the
``k - 1`` comparisons with the reference are made and the other pairs enter as p = 1. Since
Benjamini-Hochberg is monotone in the p-values, this flags no more than the procedure over all
pairs would. With two groups nothing changes.

Groups under ``min_group_size`` people are suppressed, and so is the next smallest group of the
same attribute when only one would be, so that no suppressed figure can be recovered by
subtracting the others from the total.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

#: The rule of thumb of the US Uniform Guidelines (29 CFR 1607.4(D)).
FOUR_FIFTHS = 0.8
#: Joins the attributes of an intersection, and their values.
JOINER = " x "
#: Names an attribute compared within one stratum (``gender within Engineering/Platform``).
WITHIN = " within "


@dataclass(frozen=True)
class GroupFinding:
    """One group of one attribute.

    Figures are ``None`` when suppressed, and the controlled figures when there is nothing to
    control for or the regression could not be fitted.
    """

    attribute: str
    group: str
    reference_group: str | None
    n: int | None
    mean_rating: float | None
    gap: float | None
    selection_rate: float | None
    impact_ratio: float | None
    impact_ratio_ci: tuple[float, float] | None
    selection_p_value: float | None
    controlled_gap: float | None
    controlled_gap_ci: tuple[float, float] | None
    controlled_p_value: float | None
    q_value: float | None
    below_four_fifths: bool | None
    flag: str | None
    suppressed: bool
    changes_to_reverse: int | None
    note: str


def group_disparities(
    frame: pd.DataFrame,
    *,
    rating: str,
    groups: Sequence[str],
    evidence: str | None = None,
    controls: Sequence[str] = (),
    top: float | None = None,
    min_group_size: int = 5,
    alpha: float = 0.05,
    intersections: bool = True,
    within: str | None = None,
) -> list[GroupFinding]:
    """Rating disparities between the groups of each attribute and of their intersections.

    Parameters
    ----------
    frame
        One row per person: the rating, the group attributes, and the evidence and controls.
    rating
        The numeric rating column.
    groups
        Attribute columns (for example gender, ethnicity); their values are read as text.
    evidence, controls
        Numeric columns the controlled gap adjusts for.
    top
        A rating at or above this value counts as selected; default: above the overall median.
    min_group_size
        Smaller groups are suppressed.
    alpha
        Significance level for flags and for ``changes_to_reverse``.
    intersections
        Also analyse every combination of two or more attributes.
    within
        Compare the groups within each value of this column instead (a department, say): a gap
        confined to one department shows there rather than diluted across the company. Each
        attribute is reported per stratum as ``"<attribute> within <value>"``, for strata of at
        least ``2 * min_group_size`` people; the selection threshold stays the overall one and
        the q-values run across every stratum's tests. The four-fifths rule is not applied
        within strata (``below_four_fifths`` is None there): its groups are small.

    Returns
    -------
    list of GroupFinding
        Per attribute, the reference group first, then the others by name.

    Notes
    -----
    Impact ratio ``AIR = p_g / p_ref``; its interval is ``exp(log AIR +- z * se)`` with
    ``se = sqrt((1 - p_g) / x_g + (1 - p_ref) / x_ref)`` (Katz et al., Biometrics 34, 1978),
    adding 0.5 to each cell when a count is zero. Selection p-values are two-sided Fisher exact
    tests of the 2 x 2 table group / reference by selected / not. The controlled gap is the OLS
    coefficient of the group's indicator in ``rating ~ group + evidence + controls`` (Wooldridge,
    *Introductory Econometrics*, ch. 7). q-values: Benjamini and Hochberg, JRSS B 57 (1995),
    over all ``k (k - 1) / 2`` pairs of each attribute's ``k`` shown groups, the untested pairs
    counted as p = 1 (the reference is chosen by the outcome; see the module docstring).
    """
    adjusters = [c for c in (evidence, *controls) if c]
    data = frame[[rating, *groups, *adjusters, *([within] if within else [])]].copy()
    data[rating] = pd.to_numeric(data[rating], errors="raise")
    data = data.dropna(subset=[rating, *adjusters])
    selected = data[rating] > data[rating].median() if top is None else data[rating] >= top
    data["_selected"] = selected.astype(int)
    attributes = [(name, [name]) for name in groups]
    if intersections and len(groups) > 1:
        for size in range(2, len(groups) + 1):
            for combo in itertools.combinations(groups, size):
                attributes.append((JOINER.join(combo), list(combo)))
    strata: list[tuple[str | None, pd.DataFrame]] = [(None, data)]
    if within is not None:
        strata = [
            (str(value), part)
            for value, part in data.groupby(within, sort=True)
            if len(part) >= 2 * min_group_size
        ]
    findings: list[dict[str, Any]] = []
    for stratum, part in strata:
        for name, columns in attributes:
            labelled = part.dropna(subset=columns)
            label = labelled[columns[0]].astype(str)
            for column in columns[1:]:  # column-wise, not a Python join per row
                label = label + JOINER + labelled[column].astype(str)
            found = _attribute(
                labelled.assign(_group=label),
                name if stratum is None else f"{name}{WITHIN}{stratum}",
                rating=rating,
                adjusters=adjusters,
                min_group_size=min_group_size,
                alpha=alpha,
            )
            if stratum is not None:
                # the four-fifths rule is a screen for an organisation's groups; within a
                # department the groups are small and it fires by chance (see the module notes)
                for finding in found:
                    finding["below_four_fifths"] = None
            findings += found
    _add_q_values(findings, alpha)
    return [GroupFinding(**f) for f in findings]


def _attribute(
    data: pd.DataFrame,
    name: str,
    *,
    rating: str,
    adjusters: list[str],
    min_group_size: int,
    alpha: float,
) -> list[dict[str, Any]]:
    summary = data.groupby("_group", sort=True).agg(
        n=(rating, "size"), mean=(rating, "mean"), hits=("_selected", "sum")
    )
    hidden = _suppressed(summary["n"], min_group_size)
    shown = summary.drop(index=list(hidden))
    if shown.empty:
        return [_suppressed_finding(name, group, None) for group in summary.index]
    # per group: (people, mean rating, selected); a handful of rows
    table = {
        str(group): (int(n), float(mean), int(hits))
        for group, n, mean, hits in shown[["n", "mean", "hits"]].itertuples()
    }
    # the highest selection rate; on a tie, the first by name (max keeps the first maximum)
    reference = max(sorted(table), key=lambda g: table[g][2] / table[g][0])
    ref_size, ref_mean, ref_hits = table[reference]
    coefficients = _controlled(data, rating, adjusters, reference)
    out = []
    for group in [reference, *(g for g in table if g != reference)]:
        size, mean, hits = table[group]
        rate = hits / size
        finding: dict[str, Any] = {
            "attribute": name,
            "group": group,
            "reference_group": reference,
            "n": size,
            "mean_rating": mean,
            "gap": mean - ref_mean,
            "selection_rate": rate,
            "suppressed": False,
            "note": "",
        }
        if group == reference:
            finding |= {
                "impact_ratio": 1.0 if rate > 0 else None,
                "impact_ratio_ci": None,
                "selection_p_value": None,
                "controlled_gap": None,
                "controlled_gap_ci": None,
                "controlled_p_value": None,
                "below_four_fifths": False if rate > 0 else None,
                "changes_to_reverse": None,
                "note": "Reference group: the highest selection rate.",
            }
            out.append(finding)
            continue
        ratio, interval = _impact_ratio(hits, size, ref_hits, ref_size)
        p_value = _fisher(hits, size, ref_hits, ref_size)
        controlled = coefficients.get(group)
        finding |= {
            "impact_ratio": ratio,
            "impact_ratio_ci": interval,
            "selection_p_value": p_value,
            "controlled_gap": None if controlled is None else controlled[0],
            "controlled_gap_ci": None if controlled is None else controlled[1],
            "controlled_p_value": None if controlled is None else controlled[2],
            "below_four_fifths": None if ratio is None else ratio < FOUR_FIFTHS,
            "changes_to_reverse": _changes_to_reverse(hits, size, ref_hits, ref_size, alpha)
            if p_value < alpha
            else None,
        }
        out.append(finding)
    out += [_suppressed_finding(name, group, reference) for group in sorted(hidden)]
    return out


def _suppressed(sizes: pd.Series, min_group_size: int) -> set[str]:
    """Return the groups to hide: the small ones, and the next smallest when only one is."""
    small = {str(g) for g, n in sizes.items() if n < min_group_size}
    if len(small) == 1 and len(sizes) > 1:
        rest = sizes.drop(index=list(small)).sort_values(kind="stable")
        small.add(str(rest.index[0]))
    return small


def _suppressed_finding(attribute: str, group: str, reference: str | None) -> dict[str, Any]:
    empty = dict.fromkeys(
        (
            "n",
            "mean_rating",
            "gap",
            "selection_rate",
            "impact_ratio",
            "impact_ratio_ci",
            "selection_p_value",
            "controlled_gap",
            "controlled_gap_ci",
            "controlled_p_value",
            "below_four_fifths",
            "changes_to_reverse",
        )
    )
    return empty | {
        "attribute": attribute,
        "group": group,
        "reference_group": reference,
        "suppressed": True,
        "note": "Suppressed: too few people to show without identifying them.",
    }


def _impact_ratio(
    hits: int, size: int, ref_hits: int, ref_size: int, *, level: float = 0.95
) -> tuple[float | None, tuple[float, float] | None]:
    if ref_hits == 0:
        return None, None
    ratio = (hits / size) / (ref_hits / ref_size)
    if hits == 0 or ref_hits == ref_size or hits == size:
        hits_c, size_c, ref_c, ref_size_c = hits + 0.5, size + 1.0, ref_hits + 0.5, ref_size + 1.0
    else:
        hits_c, size_c, ref_c, ref_size_c = map(float, (hits, size, ref_hits, ref_size))
    se = math.sqrt((1 - hits_c / size_c) / hits_c + (1 - ref_c / ref_size_c) / ref_c)
    z = float(stats.norm.ppf(0.5 + level / 2))
    centre = math.log((hits_c / size_c) / (ref_c / ref_size_c))
    return ratio, (math.exp(centre - z * se), math.exp(centre + z * se))


def _fisher(hits: int, size: int, ref_hits: int, ref_size: int) -> float:
    table = [[hits, size - hits], [ref_hits, ref_size - ref_hits]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def _changes_to_reverse(hits: int, size: int, ref_hits: int, ref_size: int, alpha: float) -> int:
    """Count the fewest outcomes that, changed toward the reference, end significance.

    A bisection over the changes that bring the group's rate up (or down) to the reference's:
    the p-value rises as the two rates meet, and falls again past them, so the search stops
    where they meet.
    """
    step = 1 if hits / size < ref_hits / ref_size else -1
    meet = ref_hits / ref_size * size  # the group's count at the reference's rate
    room = math.ceil(meet) - hits if step == 1 else hits - math.floor(meet)
    room = max(1, min(room, size - hits if step == 1 else hits))
    low, high = 1, room
    if _fisher(hits + step * high, size, ref_hits, ref_size) < alpha:
        return room
    while low < high:
        middle = (low + high) // 2
        if _fisher(hits + step * middle, size, ref_hits, ref_size) >= alpha:
            high = middle
        else:
            low = middle + 1
    return low


def _controlled(
    data: pd.DataFrame, rating: str, adjusters: list[str], reference: str
) -> dict[str, tuple[float, tuple[float, float], float]]:
    """Each group's OLS coefficient against the reference, adjusted for ``adjusters``."""
    if not adjusters:
        return {}
    dummies = pd.get_dummies(data["_group"], dtype=float).drop(columns=[reference])
    design = sm.add_constant(pd.concat([dummies, data[adjusters].astype(float)], axis=1))
    if len(design) <= design.shape[1]:
        return {}
    fit = sm.OLS(data[rating].astype(float), design).fit()
    intervals = fit.conf_int()
    return {
        str(group): (
            float(fit.params[group]),
            (float(intervals.loc[group, 0]), float(intervals.loc[group, 1])),
            float(fit.pvalues[group]),
        )
        for group in dummies.columns
    }


def _add_q_values(findings: list[dict[str, Any]], alpha: float) -> None:
    """Add Benjamini-Hochberg q-values across every group's main test, and the flags.

    The main test is the controlled gap when there is one, else the selection rate. An
    attribute with ``t`` tests (``t + 1`` shown groups) adds ``t (t - 1) / 2`` p-values of 1, the
    pairs without the data-chosen reference, so that choosing it adds no false flags.
    """
    tested = [
        (
            i,
            f["controlled_p_value"]
            if f["controlled_p_value"] is not None
            else f["selection_p_value"],
        )
        for i, f in enumerate(findings)
    ]
    tested = [(i, p) for i, p in tested if p is not None]
    for f in findings:
        f.setdefault("q_value", None)
        f.setdefault("flag", None)
    if not tested:
        return
    tests = Counter(findings[i]["attribute"] for i, _ in tested)
    untested_pairs = sum(t * (t - 1) // 2 for t in tests.values())
    p_values = [p for _, p in tested] + [1.0] * untested_pairs
    q_values = multipletests(p_values, method="fdr_bh")[1][: len(tested)]
    for (i, _), q in zip(tested, q_values, strict=True):
        finding = findings[i]
        finding["q_value"] = float(q)
        if q < alpha:
            gap = (
                finding["controlled_gap"]
                if finding["controlled_gap"] is not None
                else finding["gap"]
            )
            finding["flag"] = "disadvantaged" if gap < 0 else "advantaged"
