"""The ratings analysis: every statistic of ``meritline.stats`` on one table of ratings.

No database: the table comes from any HRIS export (``meritline analyze-ratings``) or, later, a
calibration session. Bad input is refused with a message that says what to fix; parts that
cannot run on this data are skipped and listed with the reason, and the rest still runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from meritline import stats
from meritline.calibration.schemas import (
    Distribution,
    RatingsAnalysis,
    Skipped,
)
from meritline.errors import InvalidInput

T = TypeVar("T")

#: Rows shown in a message about bad values.
SHOWN = 5


@dataclass(frozen=True)
class AnalysisOptions:
    """Which columns mean what, and the thresholds (the command's options)."""

    rating: str
    id: str | None = None
    rater: str | None = None
    evidence: str | None = None
    controls: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    top: float | None = None
    guideline: dict[float, float] | None = None
    min_group_size: int = 5
    alpha: float = 0.05
    #: Also compare the groups within each value of this column (a department).
    within: str | None = None
    random_state: int | None = 0


def parse_guideline(text: str) -> dict[float, float]:
    """Read ``"1:0.1,2:0.2,3:0.4,4:0.2,5:0.1"``: rating value to expected share, summing to 1.

    >>> parse_guideline("1:0.25, 2:0.75")
    {1.0: 0.25, 2.0: 0.75}
    """
    shares: dict[float, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        value, sep, share = part.partition(":")
        try:
            if not sep:
                raise ValueError
            shares[float(value)] = float(share)
        except ValueError:
            raise InvalidInput(
                f"--guideline part {part!r} is not VALUE:SHARE (e.g. 3:0.4)."
            ) from None
    try:
        stats.check_guideline(shares)
    except ValueError as exc:
        raise InvalidInput(f"--guideline: {exc}.") from None
    return shares


def analyze_ratings(frame: pd.DataFrame, options: AnalysisOptions) -> RatingsAnalysis:
    """Run every part that the columns given allow; say what was skipped and why."""
    data = _validated(frame, options)
    skipped: list[Skipped] = []

    def part(name: str, blocked: str | None, run: Callable[[], T]) -> T | None:
        if blocked:
            skipped.append(Skipped(part=name, reason=blocked))
            return None
        return run()

    # the options every model shares: what is rated, what explains it, the flag level
    shared: dict[str, Any] = {
        "rating": options.rating,
        "evidence": options.evidence,
        "controls": options.controls,
        "alpha": options.alpha,
    }
    # each part below runs only when its check has found these columns given
    rater, person = options.rater or "", options.id or ""
    raters = part(
        "raters",
        _raters_blocked(data, options),
        lambda: stats.rater_effects(data, rater=rater, **shared),
    )
    groups = part(
        "groups",
        None if options.groups else "No --group column was given.",
        lambda: (
            stats.group_disparities(
                data,
                groups=list(options.groups),
                top=options.top,
                min_group_size=options.min_group_size,
                **shared,
            )
            + (
                []
                if options.within is None
                else stats.group_disparities(
                    data,
                    groups=list(options.groups),
                    top=options.top,
                    min_group_size=options.min_group_size,
                    intersections=False,
                    within=options.within,
                    **shared,
                )
            )
        ),
    )
    individuals = part(
        "individuals",
        _individuals_blocked(data, options),
        lambda: stats.rating_mismatches(data, id=person, rater=options.rater, **shared),
    )
    agreement = part(
        "agreement",
        _agreement_blocked(data, options),
        lambda: stats.agreement(data, ratee=person, rating=options.rating),
    )
    return RatingsAnalysis(
        n=len(data),
        distribution=_distribution(data[options.rating], options),
        raters=raters,
        groups=groups or [],
        individuals=individuals or [],
        agreement=agreement,
        skipped=skipped,
    )


def _validated(frame: pd.DataFrame, options: AnalysisOptions) -> pd.DataFrame:
    named = [
        c
        for c in (options.rating, options.id, options.rater, options.evidence, options.within)
        if c is not None
    ] + [*options.controls, *options.groups]
    missing = [c for c in dict.fromkeys(named) if c not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns))
        raise InvalidInput(f"Column(s) {', '.join(missing)} not in the file; it has: {present}.")
    data = frame.copy()
    for column in (options.rating, options.evidence, *options.controls):
        if column is None:
            continue
        numbers = pd.to_numeric(data[column], errors="coerce")
        bad = numbers.isna() & data[column].notna() & (data[column].astype(str).str.strip() != "")
        if bad.any():
            lines = ", ".join(str(i + 2) for i in data.index[bad][:SHOWN])
            raise InvalidInput(
                f"Column {column!r} must be numeric; line(s) {lines} are not "
                f"({int(bad.sum())} in all). Fix those rows or choose another column."
            )
        data[column] = numbers
    data = data.dropna(subset=[options.rating])
    if data.empty:
        raise InvalidInput(f"No ratings in column {options.rating!r}.")
    return data


def _distribution(ratings: pd.Series, options: AnalysisOptions) -> Distribution:
    try:
        check = stats.distribution_check(
            ratings.tolist(),
            options.guideline,
            alpha=options.alpha,
            random_state=options.random_state,
        )
    except ValueError as exc:
        raise InvalidInput(f"--guideline: {exc}.") from None
    return Distribution(
        observed={_label(k): v for k, v in check.observed.items()},
        expected=None
        if check.expected is None
        else {_label(k): v for k, v in check.expected.items()},
        g_statistic=check.g_statistic,
        p_value=check.p_value,
        kl_divergence=check.kl_divergence,
        js_distance=check.js_distance,
        method=check.method,
        min_testable_n=check.min_testable_n,
        note=check.note,
    )


def _raters_blocked(data: pd.DataFrame, options: AnalysisOptions) -> str | None:
    if options.rater is None:
        return "No --rater column was given."
    if len(data) < 3:
        return f"{len(data)} rating(s): too few for a model."
    return None


def _individuals_blocked(data: pd.DataFrame, options: AnalysisOptions) -> str | None:
    if options.id is None or options.evidence is None:
        return "Needs --id and --evidence to compare each rating."
    slopes = 1 + len(options.controls)
    raters = data[options.rater].nunique() if options.rater else 1
    if len(data) <= slopes + raters + 1:
        return (
            f"{len(data)} rating(s) are too few to fit {slopes} slope(s) and "
            f"{raters} rater level(s)."
        )
    return None


def _agreement_blocked(data: pd.DataFrame, options: AnalysisOptions) -> str | None:
    if options.id is None or options.rater is None or not data[options.id].duplicated().any():
        return "No one is rated by more than one rater."
    return None


def _label(value: object) -> str:
    """A rating value as written: 3 rather than 3.0."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)
