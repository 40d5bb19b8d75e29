"""The committee report: a ratings analysis as one self-contained HTML file.

:func:`render_html` is pure (no database, no network): :func:`build_report` turns a
:class:`~meritline.calibration.schemas.RatingsAnalysis` into plain data (the summary and footer
here, each section from :mod:`meritline.calibration.sections`, with every sentence a committee
reads already written), and the Jinja2 templates draw it: ``templates/ratings_report.html.j2``
the document, ``templates/ratings_sections.html.j2`` one macro per section and chart, so that a
calibration packet can reuse the sections. Charts are inline SVG from
:mod:`meritline.calibration.charts`; the stylesheet is inlined; autoescape is on, so a group or
rater name from the file is shown as text, never run.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import jinja2

from meritline import __version__
from meritline.calibration import sections
from meritline.calibration.schemas import RatingsAnalysis
from meritline.calibration.sections import (
    AgreementSection,
    DistributionSection,
    GroupSection,
    IndividualSection,
    RaterSection,
)
from meritline.calibration.service import AnalysisOptions
from meritline.clock import utcnow

#: Each part of the analysis as a committee would call it, and what it shows when it runs.
PARTS = {
    "distribution": (
        "Distribution against the guideline",
        "whether ratings as a whole are more generous or harsher than the guideline expects",
    ),
    "raters": (
        "Rater leniency and severity",
        "which raters rate above or below what the evidence explains",
    ),
    "groups": (
        "Group gaps",
        "whether groups (such as gender) are rated differently from the best-rated group",
    ),
    "individuals": (
        "Ratings the evidence does not support",
        "individual ratings far above or below what the person's evidence predicts",
    ),
    "agreement": (
        "Agreement between raters",
        "how far raters agree when they rate the same person",
    ),
}


@dataclass(frozen=True)
class Headline:
    """One sentence of the summary; ``status`` is finding, clear, untested or info."""

    anchor: str
    part: str
    text: str
    status: str


@dataclass(frozen=True)
class SkippedPart:
    name: str
    would_show: str
    reason: str


@dataclass(frozen=True)
class Figure:
    """One number of the summary strip."""

    label: str
    value: str
    detail: str
    finding: bool


@dataclass(frozen=True)
class Footer:
    generated_at: str
    version: str
    source: str
    command: str
    options: tuple[tuple[str, str], ...]
    privacy: str


@dataclass(frozen=True)
class Report:
    """Everything the template shows, as plain data."""

    title: str
    source: str
    n: int
    findings: int
    figures: tuple[Figure, ...]
    headlines: tuple[Headline, ...]
    skipped: tuple[SkippedPart, ...]
    distribution: DistributionSection
    raters: RaterSection | None
    groups: GroupSection | None
    individuals: IndividualSection | None
    agreement: AgreementSection | None
    footer: Footer


def render_html(
    analysis: RatingsAnalysis,
    *,
    title: str,
    source: str,
    options: AnalysisOptions,
    generated_at: datetime | None = None,
) -> str:
    """The committee report as one HTML document (no scripts, nothing fetched at view time)."""
    report = build_report(
        analysis, title=title, source=source, options=options, generated_at=generated_at
    )
    return _environment().get_template("ratings_report.html.j2").render(report=report)


def build_report(
    analysis: RatingsAnalysis,
    *,
    title: str,
    source: str,
    options: AnalysisOptions,
    generated_at: datetime | None = None,
) -> Report:
    """The plain data of every section of the report."""
    distribution = sections.distribution_section(analysis, options)
    raters = None if analysis.raters is None else sections.rater_section(analysis.raters, options)
    groups = sections.group_section(analysis.groups, analysis, options) if analysis.groups else None
    individuals = sections.individual_section(analysis, options) if analysis.individuals else None
    agreement = sections.agreement_section(analysis)
    headlines = [
        Headline(
            "distribution",
            distribution.title,
            distribution.headline,
            _status(distribution.finding) if distribution.tested else "untested",
        )
    ]
    for anchor, section in (("raters", raters), ("groups", groups), ("individuals", individuals)):
        if section is not None:
            headlines.append(
                Headline(anchor, PARTS[anchor][0], section.headline, _status(section.finding))
            )
    if agreement is not None:
        headlines.append(Headline("agreement", PARTS["agreement"][0], agreement.headline, "info"))
    flagged_raters = len(raters.flagged) if raters else 0
    flagged_groups = sections.count_group_findings(analysis.groups)
    flagged_people = len(individuals.rows) if individuals else 0
    findings = int(distribution.finding) + flagged_raters + flagged_groups + flagged_people
    return Report(
        title=title,
        source=source,
        n=analysis.n,
        findings=findings,
        figures=_figures(analysis, distribution, raters, groups, individuals),
        headlines=tuple(headlines),
        skipped=_skipped(analysis),
        distribution=distribution,
        raters=raters,
        groups=groups,
        individuals=individuals,
        agreement=agreement,
        footer=_footer(source, options, generated_at or utcnow()),
    )


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("meritline.calibration", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _status(finding: bool) -> str:
    return "finding" if finding else "clear"


# --- summary and footer ----------------------------------------------------------------


def _figures(
    analysis: RatingsAnalysis,
    distribution: DistributionSection,
    raters: RaterSection | None,
    groups: GroupSection | None,
    individuals: IndividualSection | None,
) -> tuple[Figure, ...]:
    d = analysis.distribution
    figures = [Figure("Ratings", f"{analysis.n:,}", "in the file", False)]
    figures.append(
        Figure(
            "Distribution",
            "differs" if distribution.finding else "not tested" if d.p_value is None else "in line",
            "from the guideline"
            if d.p_value is not None
            else "no guideline given"
            if d.expected is None
            else "too few ratings to test",
            distribution.finding,
        )
    )
    if raters is not None:
        figures.append(
            Figure("Raters flagged", str(len(raters.flagged)), f"of {raters.total}", raters.finding)
        )
    if groups is not None:
        shown = sum(1 for f in analysis.groups if not f.suppressed)
        figures.append(
            Figure(
                "Groups flagged",
                str(sections.count_group_findings(analysis.groups)),
                f"of {shown} shown",
                groups.finding,
            )
        )
    if individuals is not None:
        figures.append(
            Figure(
                "Ratings flagged",
                str(len(individuals.rows)),
                f"of {individuals.checked}",
                individuals.finding,
            )
        )
    return tuple(figures)


def _skipped(analysis: RatingsAnalysis) -> tuple[SkippedPart, ...]:
    parts = []
    d = analysis.distribution
    if d.p_value is None:
        reason = (
            "No guideline was given (--guideline), so the distribution is shown but not tested."
            if d.method == "no_guideline"
            else d.note
        )
        parts.append(
            SkippedPart("The test against the guideline", PARTS["distribution"][1], reason)
        )
    for s in analysis.skipped:
        name, would_show = PARTS.get(s.part, (s.part, ""))
        parts.append(SkippedPart(name, would_show, s.reason))
    return tuple(parts)


def _footer(source: str, options: AnalysisOptions, generated_at: datetime) -> Footer:
    named: list[tuple[str, str | None]] = [
        ("--rating", options.rating),
        ("--id", options.id),
        ("--rater", options.rater),
        ("--evidence", options.evidence),
        *(("--control", c) for c in options.controls),
        *(("--group", g) for g in options.groups),
        ("--within", options.within),
        ("--top", None if options.top is None else sections.number(options.top)),
        ("--guideline", _guideline_text(options.guideline)),
        ("--min-group-size", str(options.min_group_size)),
        ("--alpha", f"{options.alpha:g}"),
    ]
    given = tuple((flag, value) for flag, value in named if value is not None)
    command = shlex.join(
        ["meritline", "analyze-ratings", source, *(x for pair in given for x in pair)]
    )
    return Footer(
        generated_at=generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        source=source,
        command=command,
        options=given,
        privacy=_privacy(options),
    )


def _guideline_text(guideline: dict[float, float] | None) -> str | None:
    if guideline is None:
        return None
    return ",".join(f"{sections.number(k)}:{v:g}" for k, v in guideline.items())


def _privacy(options: AnalysisOptions) -> str:
    text = (
        "This report contains no protected attribute values (such as gender or ethnicity) for "
        "individuals"
    )
    if options.groups:
        text += (
            ": group figures are aggregates, and groups of fewer than "
            f"{options.min_group_size} people are suppressed"
        )
    named = [
        *(["raters"] if options.rater else []),
        *(["the people whose ratings are flagged"] if options.id and options.evidence else []),
    ]
    text += "."
    if named:
        text += f" It names {' and '.join(named)}: keep it confidential to the committee."
    return text
