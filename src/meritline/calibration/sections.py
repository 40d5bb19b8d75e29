"""The sections of the committee report: each finding as plain data and plain words.

One builder per section (:func:`distribution_section`, :func:`rater_section`,
:func:`group_section`, :func:`individual_section`, :func:`agreement_section`) turns the
statistics of a :class:`~meritline.calibration.schemas.RatingsAnalysis` into a frozen dataclass
the template ``templates/ratings_sections.html.j2`` draws: the headline sentence, the chart
geometry (:mod:`meritline.calibration.charts`), the table rows as text, and the three boxes
beside the finding (what it means, its caveats, what the committee should do). Wording lives
here, next to the numbers it describes; no markup does (the template escapes everything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from meritline.calibration import charts
from meritline.calibration.charts import MINUS, plain, signed
from meritline.calibration.schemas import RatingsAnalysis
from meritline.calibration.service import AnalysisOptions
from meritline.stats import FOUR_FIFTHS, GroupFinding, RaterEffect, RaterEffects

#: The forest plot shows every flagged rater, then the most extreme others, up to this many rows.
MAX_RATER_ROWS = 40
#: Names listed in a headline before "and N more".
NAMED = 4
#: Flagged groups described in the headline (the rest are counted).
NAMED_GROUPS = 2
#: Below this many ratings a sample is called small in the caveats.
SMALL_SAMPLE = 100

TITLE = "Distribution against the guideline"
FLAG_WORDS = {
    "rating_above_evidence": "Rated higher than the evidence supports",
    "rating_below_evidence": "Rated lower than the evidence supports",
}

Q_VALUE = (
    "q-value: roughly, the chance that a flag is a false alarm, allowing for the fact that "
    "{things} were checked at once. Only q-values under {alpha:g} are flagged."
)
INTERVAL = (
    "95% interval: the range the true figure plausibly lies in, given how much data there is. "
    "One interval clear of the zero line, on its own, suggests more than chance; but among many, "
    "some will be clear by luck, which is why flags are decided by the q-value."
)
CAUSE = (
    "Association is not cause: a pattern in the numbers shows that ratings differ, not why. The "
    "reason has to come from the people and the evidence."
)


@dataclass(frozen=True)
class Explanation:
    """The three boxes beside a finding."""

    means: tuple[str, ...]
    caveats: tuple[str, ...]
    actions: tuple[str, ...]


@dataclass(frozen=True)
class DistributionRow:
    value: str
    count: str
    share: str
    expected_share: str
    expected_count: str
    difference: str


@dataclass(frozen=True)
class DistributionSection:
    title: str
    tested: bool
    headline: str
    test: str
    chart: charts.BarChart
    rows: tuple[DistributionRow, ...]
    explanation: Explanation
    finding: bool


@dataclass(frozen=True)
class RaterRow:
    rater: str
    n: str
    mean_rating: str
    leniency: str
    interval: str
    q_value: str
    flag: str
    meaning: str


@dataclass(frozen=True)
class RaterSection:
    headline: str
    plot: charts.DotPlot | None
    legend: tuple[tuple[str, str], ...]  # (mark kind, what it means)
    zero: str  # what the zero line means
    not_shown: str
    note: str
    flagged: tuple[RaterRow, ...]
    total: int
    explanation: Explanation
    finding: bool


@dataclass(frozen=True)
class GroupRow:
    group: str
    reference: bool
    n: str
    mean_rating: str
    gap: str
    controlled_gap: str
    controlled_ci: str
    selection_rate: str
    impact_ratio: str
    impact_ci: str
    q_value: str
    finding: str
    flag: str


@dataclass(frozen=True)
class AttributeGroups:
    attribute: str
    anchor: str
    plot: charts.DotPlot | None
    rows: tuple[GroupRow, ...]
    suppressed: tuple[str, ...]


@dataclass(frozen=True)
class GroupSection:
    headline: str
    attributes: tuple[AttributeGroups, ...]
    controlled: bool
    top_phrase: str
    min_group_size: int
    explanation: Explanation
    finding: bool


@dataclass(frozen=True)
class IndividualRow:
    id: str
    rating: str
    flag: str
    flag_code: str
    residual: str


@dataclass(frozen=True)
class IndividualSection:
    headline: str
    checked: int
    rows: tuple[IndividualRow, ...]
    explanation: Explanation
    finding: bool


@dataclass(frozen=True)
class AgreementSection:
    headline: str
    icc: str
    alpha: str
    explanation: Explanation


# --- wording ---------------------------------------------------------------------------


def p_text(p: float) -> str:
    """``p = 0.041``, ``p < 0.001``."""
    return "p < 0.001" if p < 0.001 else f"p = {_small(p)}"


def q_text(q: float | None) -> str:
    if q is None:
        return ""
    return "q < 0.001" if q < 0.001 else f"q = {_small(q)}"


def _q_cell(q: float | None) -> str:
    return "" if q is None else ("< 0.001" if q < 0.001 else _small(q))


def _small(value: float) -> str:
    """A probability to two significant figures under 0.1, else two decimals: 0.014, 0.44."""
    return f"{value:.2g}" if value < 0.1 else f"{value:.2f}"


def _listed(names: Sequence[str], *, most: int = NAMED) -> str:
    """``a, b and c``; ``a, b, c, d and 3 more``."""
    shown = list(names[:most])
    if len(names) > most:
        shown.append(f"{len(names) - most} more")
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def number(value: float) -> str:
    """A rating value as written: 3 rather than 3.0."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _interval(low: float | None, high: float | None, digits: int = 2) -> str:
    if low is None or high is None:
        return ""
    return f"{signed(low, digits)} to {signed(high, digits)}"


def _adjusted_for(options: AnalysisOptions) -> str:
    """``score and tenure``: what the models allow for, by the file's column names."""
    named = [c for c in (options.evidence, *options.controls) if c]
    return _listed(named, most=len(named)) if named else ""


# --- the distribution ------------------------------------------------------------------


def distribution_section(
    analysis: RatingsAnalysis, options: AnalysisOptions
) -> DistributionSection:
    d = analysis.distribution
    n = analysis.n
    values = sorted(d.observed, key=float)
    observed = {v: d.observed[v] for v in values}
    expected = None if d.expected is None else {v: d.expected[v] for v in values}
    chart = charts.distribution_chart(observed, expected)
    rows = tuple(
        DistributionRow(
            value=v,
            count=str(observed[v]),
            share=f"{observed[v] / n:.0%}",
            expected_share="" if expected is None else f"{expected[v] / n:.0%}",
            expected_count="" if expected is None else f"{expected[v]:.0f}",
            difference="" if expected is None else _points(observed[v] / n - expected[v] / n),
        )
        for v in values
    )
    share = {v: observed[v] / n for v in values}
    if expected is None:
        mode = max(values, key=lambda v: observed[v])
        headline = (
            f"{n} ratings; the most common is {mode} ({share[mode]:.0%}). No guideline was "
            "given, so the distribution is shown but not tested."
        )
        test = "Not tested: no guideline was given (--guideline)."
        explained = _distribution_explained(None, n, options, guideline=False)
        return DistributionSection(
            "Rating distribution", False, headline, test, chart, rows, explained, False
        )
    guide = {v: expected[v] / n for v in values}
    upper = _upper(values, guide, options.top)
    phrase = _values_phrase(upper)
    observed_up, expected_up = sum(share[v] for v in upper), sum(guide[v] for v in upper)
    if d.p_value is None:
        headline = (
            f"{_plural(n, 'rating')} {'is' if n == 1 else 'are'} too few to test against the "
            "guideline (at least "
            f"{d.min_testable_n} are needed); {observed_up:.0%} were rated {phrase} against "
            f"{expected_up:.0%} expected."
        )
        explained = _distribution_explained(None, n, options, guideline=True)
        return DistributionSection(TITLE, False, headline, d.note, chart, rows, explained, False)
    significant = d.p_value < options.alpha
    p = p_text(d.p_value)
    if significant:
        mean_gap = sum(float(v) * (share[v] - guide[v]) for v in values)
        up_gap = observed_up - expected_up
        # a direction only when the average and the top ratings agree on it
        direction = (
            "more generous than the guideline"
            if mean_gap > 0.05 and up_gap >= 0
            else "harsher than the guideline"
            if mean_gap < -0.05 and up_gap <= 0
            else "shaped differently from the guideline"
        )
        widest = max(values, key=lambda v: abs(share[v] - guide[v]))
        headline = (
            f"Ratings are {direction}: {observed_up:.0%} rated {phrase} against "
            f"{expected_up:.0%} expected, and the largest difference is at {widest} "
            f"({share[widest]:.0%} against {guide[widest]:.0%}; {p})."
        )
    else:
        headline = (
            f"Ratings are in line with the guideline: {observed_up:.0%} rated {phrase} against "
            f"{expected_up:.0%} expected, a difference chance alone could give ({p})."
        )
    how = "simulated from the guideline" if d.method == "monte_carlo" else "G-test"
    test = (
        f"Test against the guideline ({how}): {p}. "
        + (
            "The difference is unlikely to be chance."
            if significant
            else "The difference could be chance."
        )
        + f" Size of the difference: Jensen-Shannon distance {d.js_distance:.2f} "
        "(0 = identical, 1 = nothing in common)."
    )
    explained = _distribution_explained(
        significant, n, options, guideline=True, monte_carlo=d.method == "monte_carlo"
    )
    return DistributionSection(TITLE, True, headline, test, chart, rows, explained, significant)


def _points(difference: float) -> str:
    """A difference of shares in percentage points."""
    value = round(difference * 100)
    if value == 0:
        return "0 pts"
    return ("+" if value > 0 else MINUS) + f"{abs(value)} pts"


def _upper(values: list[str], guide: dict[str, float], top: float | None) -> list[str]:
    """The rating values that count as high: at or above ``top``, else above the median."""
    if top is not None:
        chosen = [v for v in values if float(v) >= top]
    else:
        running, median_at = 0.0, len(values) - 1
        for i, v in enumerate(values):
            running += guide[v]
            if running >= 0.5 - 1e-9:
                median_at = i
                break
        chosen = values[median_at + 1 :]
    return chosen or values[-1:]


def _values_phrase(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return f"{values[0]} or {values[1]}"
    return f"{values[0]} or higher"


def _distribution_explained(
    significant: bool | None,
    n: int,
    options: AnalysisOptions,
    *,
    guideline: bool,
    monte_carlo: bool = False,
) -> Explanation:
    means = [
        "The dark bars are the share of ratings at each value"
        + (
            "; the light bars beside them are the share the guideline expects."
            if guideline
            else "."
        )
    ]
    if significant is not None:
        means.append(
            "p-value: how often ratings drawn exactly from the guideline would differ from it "
            f"this much by chance alone. Under {options.alpha:g} is the line used here for "
            "'unlikely to be chance'."
        )
    if monte_carlo:
        means.append(
            "Some values are expected only a few times, so the p-value comes from simulating "
            "many sets of ratings from the guideline rather than from a formula."
        )
    caveats = (
        [
            "A guideline describes what to expect across a large population. One team or "
            "department can legitimately differ, for example after a year of strong hiring.",
            "The test says whether the shape differs, not why; the rater and group sections "
            "help find where a difference comes from.",
        ]
        if guideline
        else [
            "Without a guideline there is nothing to compare the shape with: a distribution "
            "that looks generous or harsh may be right for this population.",
        ]
    )
    if n < SMALL_SAMPLE:
        caveats.insert(
            0,
            f"Small sample: with {n} ratings, a real difference may not reach significance and "
            "chance differences look large.",
        )
    actions = [
        "Do not change individual ratings only to make the distribution match the guideline: "
        "a guideline is a check, not a quota."
        if guideline
        else "Do not move ratings toward a target shape: change a rating only when the "
        "evidence supports a different one.",
    ]
    if significant:
        actions += [
            "Look at the rater findings first: a generous or harsh distribution often comes from "
            "a few raters.",
            "If the difference is real and justified (a stronger team), record why.",
        ]
    elif significant is False:
        actions.append("No action is needed on the distribution as a whole.")
    else:
        actions.append(
            "Agree a guideline for the next cycle (--guideline) so the distribution can be "
            "tested, and compare it by eye until then."
        )
    return Explanation(tuple(means), tuple(caveats), tuple(actions))


# --- raters ----------------------------------------------------------------------------


def _rater_kind(r: RaterEffect) -> str:
    return r.flag or ("central" if r.central_tendency else "plain")


def _rater_flag(r: RaterEffect) -> str:
    words = [r.flag] if r.flag else []
    if r.central_tendency:
        words.append("bunched")
    return ", ".join(w for w in words if w)


def rater_section(raters: RaterEffects, options: AnalysisOptions) -> RaterSection:
    items = raters.items
    total = len(items)
    basis = "than the evidence explains" if _adjusted_for(options) else "than other raters"
    flagged = [r for r in items if r.flag or r.central_tendency]
    lenient = [r.rater for r in items if r.flag == "lenient"]
    severe = [r.rater for r in items if r.flag == "severe"]
    central = [r.rater for r in items if r.central_tendency]
    if raters.method == "mixed_model_zero_variance":
        headline = (
            f"The {total:,} raters differ no more than chance would make them; no rater is flagged."
        )
    elif not flagged:
        headline = (
            f"None of the {total:,} raters stands out once the evidence is allowed for."
            if _adjusted_for(options)
            else f"None of the {total:,} raters stands out from the others."
        )
    else:
        parts = []
        if lenient:
            parts.append(
                f"{_plural(len(lenient), 'rates', 'rate')} more generously {basis} "
                f"({_listed(lenient)})"
            )
        if severe:
            parts.append(f"{len(severe)} more harshly ({_listed(severe)})")
        if central:
            verb = "bunches" if len(central) == 1 else "bunch"
            parts.append(f"{len(central)} {verb} ratings toward the middle ({_listed(central)})")
        headline = f"Of {total:,} raters, " + "; ".join(parts) + "."
    plot, not_shown = None, ""
    if raters.method != "mixed_model_zero_variance" and items:
        plot, not_shown = _forest(items, options)
    rows = tuple(
        RaterRow(
            rater=r.rater,
            n=str(r.n),
            mean_rating=f"{r.mean_rating:.2f}",
            leniency=signed(r.leniency),
            interval=_interval(r.ci_low, r.ci_high),
            q_value=_q_cell(r.q_value),
            flag=_rater_flag(r),
            meaning=_rater_meaning(r, basis),
        )
        for r in sorted(flagged, key=lambda r: -r.leniency)
    )
    against = "the evidence" if _adjusted_for(options) else "other raters"
    legend = (
        *((("lenient", f"Lenient (flagged): rates above {against}"),) if lenient else ()),
        *((("severe", f"Severe (flagged): rates below {against}"),) if severe else ()),
        *((("central", "Bunched toward the middle (flagged)"),) if central else ()),
        ("plain", "Not flagged"),
    )
    return RaterSection(
        headline=headline,
        plot=plot,
        legend=legend,
        zero="rates as the evidence predicts"
        if _adjusted_for(options)
        else "rates like the others",
        not_shown=not_shown,
        note=raters.note,
        flagged=rows,
        total=total,
        explanation=_raters_explained(raters, options, total),
        finding=bool(flagged),
    )


def _forest(items: list[RaterEffect], options: AnalysisOptions) -> tuple[charts.DotPlot, str]:
    flagged = [r for r in items if r.flag or r.central_tendency]
    others = sorted(
        (r for r in items if not (r.flag or r.central_tendency)), key=lambda r: -abs(r.leniency)
    )
    room = max(MAX_RATER_ROWS - len(flagged), 0)
    shown, hidden = flagged + others[:room], others[room:]
    estimates = [
        charts.Estimate(
            key=r.rater,
            label=_short(r.rater),
            value=r.leniency,
            low=r.ci_low,
            high=r.ci_high,
            kind=_rater_kind(r),
            note=(f"{_rater_flag(r)} " if _rater_flag(r) else "")
            + signed(r.leniency)
            + (
                f" ({_interval(r.ci_low, r.ci_high)})" if r.ci_low is not None else " (no interval)"
            ),
            title=f"{r.rater}: {r.n} ratings, leniency {signed(r.leniency)}"
            + (f", 95% interval {_interval(r.ci_low, r.ci_high)}" if r.ci_low is not None else "")
            + (f", {q_text(r.q_value)}" if r.q_value is not None else "")
            + (f", {_rater_flag(r)}" if _rater_flag(r) else ""),
        )
        for r in sorted(shown, key=lambda r: -r.leniency)
    ]
    unit = "beyond the evidence" if _adjusted_for(options) else "against other raters"
    plot = charts.forest_plot(
        estimates, axis_label=f"Rating points {unit}: {MINUS} harsher, + more generous"
    )
    not_shown = ""
    if hidden:
        values = [r.leniency for r in hidden]
        not_shown = (
            f"{_plural(len(hidden), 'more rater')} not shown: none is flagged, and their "
            f"estimates lie between {signed(min(values))} and {signed(max(values))}."
        )
    return plot, not_shown


def _short(label: str, most: int = 22) -> str:
    return label if len(label) <= most else label[: most - 1] + "\u2026"


def _rater_meaning(r: RaterEffect, basis: str) -> str:
    parts = []
    if r.flag:
        direction = "higher" if r.leniency > 0 else "lower"
        parts.append(f"Rates about {abs(r.leniency):.1f} points {direction} {basis}.")
    if r.central_tendency:
        ratio = "" if r.spread_ratio is None else f" ({r.spread_ratio:.0%} of others' spread)"
        parts.append(
            f"Ratings are bunched toward the middle{ratio}, more than the evidence of the people "
            "rated would justify."
        )
    return " ".join(parts)


def _raters_explained(raters: RaterEffects, options: AnalysisOptions, total: int) -> Explanation:
    evidence = bool(_adjusted_for(options))
    means = [
        "Each row is a rater. The mark is how many rating points above (+) or below "
        f"({MINUS}) {'the evidence' if evidence else 'the average'} they rate, compared with "
        "the other raters; the line is its 95% interval.",
        INTERVAL,
        Q_VALUE.format(things=f"all {total:,} raters", alpha=options.alpha),
    ]
    if raters.method == "mixed_model":
        means.insert(
            2,
            "Estimates for raters with few ratings are pulled toward zero, so no one is flagged "
            "on the luck of a handful of ratings.",
        )
    if raters.variance_share is not None and raters.method != "residual_means":
        which = "that the evidence does not explain" if evidence else "between people"
        means.append(
            f"Of the differences in ratings {which}, {raters.variance_share:.0%} comes from who "
            "the rater was."
        )
    if any(r.central_tendency for r in raters.items):
        means.append(
            "Bunched: the rater's ratings are much closer together than other raters', and "
            "closer than the evidence of the people they rated would justify."
        )
    caveats = [
        "The comparison takes out what the evidence explains. If the evidence itself is uneven "
        "(some teams' work is recorded better than others'), a rater can look lenient or severe "
        "for reasons that are not their own."
        if evidence
        else "No evidence column was given, so a rater whose team is stronger will look "
        "lenient: give --evidence to compare like with like.",
        "A rater whose team is stronger in ways the evidence does not capture will look lenient.",
        "Raters with few ratings have wide intervals: not being flagged does not mean a rater "
        "is calibrated.",
        CAUSE,
    ]
    if raters.method == "residual_means":
        caveats.insert(0, raters.note)
    actions = [
        "For each flagged rater, review their ratings against their team's evidence, with the "
        "rater, before changing any rating.",
        "Ask the rater to explain the pattern. A good reason (a stronger team, work the "
        "evidence does not see) should be recorded, not overridden.",
        "Change a rating only because the evidence supports a different one, not to move a "
        "rater's average.",
    ]
    return Explanation(tuple(means), tuple(caveats), tuple(actions))


# --- groups ----------------------------------------------------------------------------


def _median_rating(observed: dict[str, int]) -> float:
    """The median of the ratings from their counts (as pandas computes it)."""
    values = sorted((float(v), k) for v, k in observed.items())
    n = sum(k for _, k in values)
    positions = {(n - 1) // 2, n // 2}
    found, seen = [], 0
    for value, count in values:
        found += [value for p in positions if seen <= p < seen + count]
        seen += count
    return sum(found) / len(found)


def _top_phrase(analysis: RatingsAnalysis, options: AnalysisOptions) -> str:
    if options.top is not None:
        return f"rated {number(options.top)} or higher"
    return f"rated above the median of {number(_median_rating(analysis.distribution.observed))}"


def group_section(
    findings: list[GroupFinding], analysis: RatingsAnalysis, options: AnalysisOptions
) -> GroupSection:
    controlled = any(f.controlled_gap is not None for f in findings)
    adjusted = _adjusted_for(options)
    attributes: dict[str, list[GroupFinding]] = {}
    for f in findings:
        attributes.setdefault(f.attribute, []).append(f)
    sections = tuple(
        _attribute(name, items, adjusted, i) for i, (name, items) in enumerate(attributes.items())
    )
    flagged = [f for f in findings if f.flag]
    low_only = [f for f in findings if f.below_four_fifths and not f.flag]
    suppressed = sum(1 for f in findings if f.suppressed)
    sentences = [_group_sentence(f, adjusted) for f in flagged[:NAMED_GROUPS]]
    if len(flagged) > NAMED_GROUPS:
        more = len(flagged) - NAMED_GROUPS
        sentences.append(
            f"{_plural(more, 'more group')} {'is' if more == 1 else 'are'} flagged (below)."
        )
    if not flagged:
        sentences.append(
            "No group's ratings differ from its reference group by more than chance would explain."
        )
    if low_only:
        sentences.append(
            f"{_plural(len(low_only), 'group')} {'has' if len(low_only) == 1 else 'have'} a "
            "share of top ratings under four-fifths of the reference group's without a clear "
            "gap."
        )
    if suppressed:
        sentences.append(
            f"{_plural(suppressed, 'small group')} {'is' if suppressed == 1 else 'are'} suppressed."
        )
    return GroupSection(
        headline=" ".join(sentences),
        attributes=sections,
        controlled=controlled,
        top_phrase=_top_phrase(analysis, options),
        min_group_size=options.min_group_size,
        explanation=_groups_explained(options, controlled, bool(suppressed)),
        finding=bool(flagged or low_only),
    )


def _group_sentence(f: GroupFinding, adjusted: str) -> str:
    gap = f.controlled_gap if f.controlled_gap is not None else f.gap
    direction = "below" if (gap or 0) < 0 else "above"
    same = f" after allowing for {adjusted}" if f.controlled_gap is not None and adjusted else ""
    return (
        f"The {f.group} group ({f.attribute}) is rated {abs(gap or 0):.2f} points {direction} "
        f"the {f.reference_group} group{same} ({q_text(f.q_value)})."
    )


def _attribute(name: str, items: list[GroupFinding], adjusted: str, index: int) -> AttributeGroups:
    shown = [f for f in items if not f.suppressed]
    hidden = tuple(f.group for f in items if f.suppressed)
    rows = tuple(_group_row(f, adjusted) for f in shown)
    plot = None
    if shown:
        points = [
            charts.GroupPoint(
                key=f.group,
                label=_short(f.group + (" (ref.)" if f.group == f.reference_group else ""), 26),
                gap=f.gap,
                controlled=f.controlled_gap,
                controlled_ci=f.controlled_gap_ci,
                ratio=f.impact_ratio,
                ratio_ci=f.impact_ratio_ci,
                below_four_fifths=bool(f.below_four_fifths),
                emphasis=f.flag or ("low" if f.below_four_fifths else ""),
                title=_group_title(f),
            )
            for f in shown
        ]
        plot = charts.group_chart(
            points,
            controlled=any(f.controlled_gap is not None for f in shown),
            four_fifths=FOUR_FIFTHS,
        )
    return AttributeGroups(name, f"groups-{index}", plot, rows, hidden)


def _group_title(f: GroupFinding) -> str:
    parts = [f"{f.group}: {f.n} people"]
    if f.gap is not None:
        parts.append(f"raw gap {signed(f.gap)}")
    if f.controlled_gap is not None:
        parts.append(
            f"controlled gap {signed(f.controlled_gap)}"
            + (f" ({_interval(*f.controlled_gap_ci)})" if f.controlled_gap_ci else "")
        )
    if f.impact_ratio is not None:
        parts.append(
            f"impact ratio {f.impact_ratio:.2f}"
            + (
                f" ({plain(f.impact_ratio_ci[0])} to {plain(f.impact_ratio_ci[1])})"
                if f.impact_ratio_ci
                else ""
            )
        )
    if f.flag:
        parts.append(f.flag)
    return ", ".join(parts)


def _group_row(f: GroupFinding, adjusted: str) -> GroupRow:
    reference = f.group == f.reference_group
    ci = f.impact_ratio_ci
    return GroupRow(
        group=f.group,
        reference=reference,
        n=str(f.n),
        mean_rating=f"{f.mean_rating:.2f}" if f.mean_rating is not None else "",
        gap="" if reference or f.gap is None else signed(f.gap),
        controlled_gap="" if f.controlled_gap is None else signed(f.controlled_gap),
        controlled_ci="" if f.controlled_gap_ci is None else _interval(*f.controlled_gap_ci),
        selection_rate="" if f.selection_rate is None else f"{f.selection_rate:.0%}",
        impact_ratio="" if f.impact_ratio is None or reference else f"{f.impact_ratio:.2f}",
        impact_ci="" if ci is None or reference else f"{plain(ci[0])} to {plain(ci[1])}",
        q_value=_q_cell(f.q_value),
        finding=_group_finding(f, adjusted),
        flag=f.flag or ("under four-fifths" if f.below_four_fifths else ""),
    )


def _group_finding(f: GroupFinding, adjusted: str) -> str:
    if f.group == f.reference_group:
        return "Reference group: the highest share of top ratings."
    ref = f.reference_group
    words = []
    if f.flag:
        gap = f.controlled_gap if f.controlled_gap is not None else f.gap
        direction = "lower" if (gap or 0) < 0 else "higher"
        same = (
            f" than {ref} with the same {adjusted}"
            if f.controlled_gap is not None and adjusted
            else f" than {ref} on average"
        )
        words.append(f"Rated {abs(gap or 0):.2f} points {direction}{same}.")
    if f.below_four_fifths and f.impact_ratio is not None:
        words.append(
            f"Gets top ratings {f.impact_ratio:.0%} as often as {ref}"
            + ("." if f.flag else ", though the difference could be chance.")
        )
    if not words:
        words.append(f"No clear difference from {ref}.")
    if f.changes_to_reverse is not None and f.flag:
        # the reference has the highest share of top ratings, so the change is always up
        words.append(
            f"With {f.changes_to_reverse} more top ratings in this group the difference in top "
            "ratings would no longer be significant."
        )
    return " ".join(words)


def count_group_findings(findings: list[GroupFinding]) -> int:
    return sum(1 for f in findings if f.flag or f.below_four_fifths)


def _groups_explained(options: AnalysisOptions, controlled: bool, suppressed: bool) -> Explanation:
    adjusted = _adjusted_for(options)
    means = [
        "Each group is compared with its reference group: the group of that attribute with the "
        "highest share of top ratings.",
        "Raw gap (hollow circle): the difference in average rating, in rating points.",
    ]
    if controlled:
        means.append(
            f"Controlled gap (diamond, with its 95% interval): the difference between people "
            f"with the same {adjusted}. If it is smaller than the raw gap, part of the raw gap "
            "goes with those factors."
        )
    means += [
        "Impact ratio (square): the group's share of top ratings divided by the reference "
        "group's. 1 means equal; under 0.8 (the four-fifths line) is a common warning sign.",
        Q_VALUE.format(things="many groups", alpha=options.alpha),
    ]
    caveats = []
    if controlled:
        caveats.append(
            f"Controls such as {adjusted} may themselves carry bias: if a group had fewer "
            "chances to build evidence or tenure, allowing for them hides part of a real gap. "
            "Compare the raw and the controlled gap."
        )
    caveats += [
        CAUSE,
        f"Groups of fewer than {options.min_group_size} people are suppressed (and, where only "
        "one would be, the next smallest too, so no figure can be worked out by subtraction). "
        "Small groups that are shown still have wide intervals."
        if suppressed
        else f"No group here is under {options.min_group_size} people, but small groups that "
        "are shown still have wide intervals.",
        *(
            (
                "Intersections (such as gender x ethnicity) split people into smaller groups: "
                "their intervals are wider and their findings less certain.",
            )
            if len(options.groups) > 1
            else ()
        ),
        "The four-fifths rule is a rule of thumb from US employment guidance, not a legal "
        "finding on its own.",
    ]
    actions = [
        "For a flagged group, look at its ratings rater by rater, with the evidence, before "
        "changing any rating.",
        "Ask whether the evidence and the controls were gathered fairly for every group.",
        "Do not adjust individuals only to close a gap: correct the ratings the evidence does "
        "not support and fix the process that produced the gap. Record what was decided and "
        "why.",
        "Involve HR (and legal counsel where required) before acting on a group finding.",
    ]
    return Explanation(tuple(means), tuple(caveats), tuple(actions))


# --- individuals -----------------------------------------------------------------------


def individual_section(analysis: RatingsAnalysis, options: AnalysisOptions) -> IndividualSection:
    checked = analysis.individuals
    flagged = sorted((i for i in checked if i.flags), key=lambda i: -abs(i.residual or 0.0))
    above = sum(1 for i in flagged if "rating_above_evidence" in i.flags)
    below = len(flagged) - above
    if flagged:
        headline = (
            f"{_plural(len(flagged), 'rating')} of {len(checked)} "
            f"{'is' if len(flagged) == 1 else 'are'} far from what the evidence supports: "
            f"{above} higher, {below} lower."
        )
    else:
        headline = f"None of the {len(checked)} ratings is far from what the evidence supports" + (
            " once each rater's own level is allowed for." if options.rater else "."
        )
    rows = tuple(
        IndividualRow(
            id=i.id,
            rating=number(i.rating),
            flag="; ".join(FLAG_WORDS.get(code, code) for code in i.flags),
            flag_code=", ".join(i.flags),
            residual="" if i.residual is None else signed(i.residual, 1),
        )
        for i in flagged
    )
    within = bool(options.rater)
    means = [
        "These ratings are far from what the person's evidence predicts"
        + (
            ", compared with the other people the same rater rated (so a lenient rater's "
            "whole team is not flagged)."
            if within
            else "."
        ),
        "Residual: how far the rating is from the prediction, in standard deviations; beyond "
        f"about {MINUS}3 or +3 is rare by chance.",
        f"Flags allow for checking all {len(checked)} ratings at once: at most about "
        f"{options.alpha:.0%} of the flags are expected to be false alarms.",
    ]
    caveats = (
        "Evidence never captures everything: work outside recorded systems, leave, a change of "
        "role. A flag is a question, not a verdict.",
        "A rating below the evidence can also mean the evidence overstates the work (for "
        "example, inflated activity counts).",
        "People whose rater rated no one else cannot be compared and are never flagged.",
    )
    actions = (
        "Ask the rater for the reasons and the evidence behind each flagged rating.",
        "Change a rating only when the reasons do not hold up, and record the outcome for each "
        "person.",
        "Keep this list confidential to the committee.",
    )
    return IndividualSection(
        headline=headline,
        checked=len(checked),
        rows=rows,
        explanation=Explanation(tuple(means), caveats, actions),
        finding=bool(flagged),
    )


# --- agreement -------------------------------------------------------------------------


def agreement_section(analysis: RatingsAnalysis) -> AgreementSection | None:
    a = analysis.agreement
    if a is None:
        return None
    if a.icc is None and a.krippendorff_alpha is None:
        headline = a.note
    else:
        headline = (
            f"Where people were rated more than once ({a.ratees} people, {a.ratings} ratings), "
            + _agreement_words(a.icc, a.krippendorff_alpha)
            + "."
        )
    explanation = Explanation(
        (
            "ICC (intraclass correlation): how much of the spread in ratings is real difference "
            "between people rather than disagreement between raters; 1 is perfect agreement.",
            "Krippendorff's alpha: agreement beyond chance on the rating scale; 0.8 or more is "
            "reliable, 0.67 to 0.8 is tentative.",
        ),
        ("Only people rated two or more times count.",),
        (
            "If agreement is low, agree what each rating means (anchors and examples) before "
            "the next cycle, and give weight to the evidence over any single rating.",
        ),
    )
    return AgreementSection(
        headline,
        "" if a.icc is None else plain(a.icc),
        "" if a.krippendorff_alpha is None else plain(a.krippendorff_alpha),
        explanation,
    )


def _agreement_words(icc: float | None, alpha: float | None) -> str:
    """Krippendorff's reading of alpha (0.8 reliable, 0.667 tentative), else of the ICC."""
    value = alpha if alpha is not None else icc or 0.0
    level = (
        "raters agree well"
        if value >= 0.8
        else "raters agree only tentatively"
        if value >= 0.667
        else "raters agree poorly"
    )
    figures = [f"ICC {plain(icc)}" if icc is not None else ""] + (
        [f"Krippendorff's alpha {plain(alpha)}"] if alpha is not None else []
    )
    return level + " (" + ", ".join(f for f in figures if f) + ")"
