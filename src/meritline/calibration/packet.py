"""The calibration packet: everything the committee reads about one session, as one
self-contained, printable HTML file (``meritline calibration packet SESSION --html OUT.html``).

:func:`render_packet` is pure (no database, no network): :func:`build_packet` turns a
:class:`~meritline.calibration.schemas.Packet` into plain data, with every sentence written, and
``templates/packet.html.j2`` draws it. The statistics are the committee report's own sections
(:func:`meritline.calibration.report.build_report` and the macros of
``templates/ratings_sections.html.j2``), run on the analysis after the adjustments when there is
one, else on the one before. Around them, the packet adds its own sections: the cover, before
and after, recency, the flagged cases, the adjustments and the 9-box grid.

Like the report, the page is inline CSS and markup only (no scripts, fonts or images fetched),
autoescaped, printable on A4, and names no protected attribute value of any person: group
figures are aggregates, and withheld entirely when the reader's role may not see them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import jinja2

from meritline import __version__
from meritline.access.subject import SENSITIVE_READER_ROLES
from meritline.calibration import report as committee_report
from meritline.calibration import sections
from meritline.calibration.charts import signed
from meritline.calibration.report import Report
from meritline.calibration.schemas import (
    Adjustment,
    ApprovalItem,
    Packet,
    ProposedRating,
    RecencyItem,
    SessionAnalysis,
)
from meritline.calibration.sections import Explanation, number
from meritline.calibration.service import AnalysisOptions
from meritline.reviews.nine_box import BANDS, LABELS
from meritline.reviews.schemas import NineBoxItem
from meritline.stats import WINDOW_DAYS

#: Ids listed in one cell of the 9-box grid before "+N more".
MAX_BOX_IDS = 12
#: Each routing rule (:mod:`meritline.calibration.routing`) as the committee would call it.
RULE_WORDS = {
    "rating_not_supported": "Rating not supported by the evidence",
    "changed_two_levels": "Rating changed by two levels or more",
    "promotion_proposed": "Promotion proposed",
    "lowest_rating": "Lowest rating of the scale",
    "protected_leave": "Protected leave in the period",
}
STATUS_WORDS = {
    "pending": "Waiting for a decision",
    "approved": "Approved",
    "rejected": "Rejected: back to the committee",
}
ROLE_WORDS = {
    "hrbp": "HR business partner",
    "legal": "Legal",
    "compensation": "Compensation",
    "people_analyst": "people analyst",
}
#: The recency window (``stats.recency_bias``) in weeks, as the committee reads it.
WINDOW_WEEKS = WINDOW_DAYS // 7
HOW_TO_USE = (
    "Start with Before and after: it says what the statistics found on the proposed ratings "
    "and what is left once the committee's adjustments are in.",
    "Each finding of the analysis comes with what it means, its caveats and what the committee "
    "should do. A flag is a question to put to the rater with the evidence, not a verdict.",
    "Flagged cases lists every person the analysis flagged, the routing policy sent to an "
    "approver, or the committee adjusted, with the recorded reasons and decisions.",
    "Change a rating only for a reason grounded in the person's evidence, never to fit the "
    "guideline or to close a gap by itself; every change is kept with who made it, when and why.",
    "Keep this packet confidential to the committee and destroy printed copies after the session.",
)


# --- the plain data the template draws ------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Contents:
    anchor: str
    title: str


@dataclass(frozen=True)
class Cover:
    facts: tuple[Fact, ...]
    figures: tuple[Fact, ...]
    how_to_use: tuple[str, ...]
    contents: tuple[Contents, ...]


@dataclass(frozen=True)
class ChangeRow:
    measure: str
    before: str
    after: str
    change: str


@dataclass(frozen=True)
class BeforeAfter:
    available: bool
    note: str
    rows: tuple[ChangeRow, ...]
    other: tuple[str, ...]  # lines of the comparison that are not "measure: before -> after"
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class AnalysisPart:
    """The reused committee report, with which analysis it is and what is withheld."""

    report: Report | None
    phase: str
    withheld: str


@dataclass(frozen=True)
class RecencyRow:
    employee_id: str
    citations: str
    recent: str
    share: str
    expected: str
    q_value: str
    words: str


@dataclass(frozen=True)
class RecencySection:
    headline: str
    weeks: int
    finding: bool
    rows: tuple[RecencyRow, ...]
    explanation: Explanation


@dataclass(frozen=True)
class Route:
    rule: str
    rule_code: str
    reason: str
    approver: str
    status: str
    status_text: str
    decided_by: str
    decision_reason: str
    decided_at: str


@dataclass(frozen=True)
class AdjustmentRow:
    employee_id: str
    field: str
    old: str
    new: str
    reason: str
    actor: str
    at: str


@dataclass(frozen=True)
class Case:
    employee_id: str
    why: str
    rater: str
    rating: str
    potential: str
    promotion: str
    evidence: str
    flags: tuple[str, ...]
    routes: tuple[Route, ...]
    adjustments: tuple[AdjustmentRow, ...]


@dataclass(frozen=True)
class Cases:
    headline: str
    items: tuple[Case, ...]


@dataclass(frozen=True)
class Box:
    box: int
    label: str
    performance: str
    potential: str
    count: int
    ids: tuple[str, ...]
    more: int
    zone: str  # strong, middle or watch: a tint, always with the label beside it


@dataclass(frozen=True)
class NineBox:
    placed: int
    note: str
    rows: tuple[tuple[Box, ...], ...]  # potential high at the top
    legend: tuple[Box, ...]  # box 9 first


@dataclass(frozen=True)
class PacketFooter:
    version: str
    generated_at: str
    confidential: str
    privacy: str


@dataclass(frozen=True)
class PacketView:
    """Everything ``templates/packet.html.j2`` shows, as plain data."""

    title: str
    subtitle: str
    cover: Cover
    before_after: BeforeAfter
    analysis: AnalysisPart
    recency: RecencySection | None
    cases: Cases
    adjustments: tuple[AdjustmentRow, ...]
    nine_box: NineBox
    footer: PacketFooter


# --- entry points ------------------------------------------------------------------------------


def render_packet(packet: Packet) -> str:
    """The committee's packet as one HTML document (no scripts, nothing fetched at view time)."""
    return _environment().get_template("packet.html.j2").render(packet=build_packet(packet))


def build_packet(packet: Packet) -> PacketView:
    """The plain data of every section of the packet."""
    s = packet.session
    generated = when(packet.generated_at)
    shown = packet.comparison.post or packet.comparison.pre
    title = f"Calibration packet: {s.name}"
    return PacketView(
        title=title,
        subtitle=f"{s.cycle}, {_plural(s.population, 'person', 'people')}. Generated {generated}.",
        cover=_cover(packet, generated),
        before_after=_before_after(packet),
        analysis=_analysis(packet, shown),
        recency=None if shown is None else _recency(shown.recency),
        cases=_cases(packet),
        adjustments=tuple(_adjustment_row(a, packet.scale) for a in _in_order(packet.adjustments)),
        nine_box=_nine_box(packet.nine_box, s.population),
        footer=PacketFooter(
            version=__version__,
            generated_at=generated,
            confidential="Confidential: for the calibration committee.",
            privacy=_privacy(packet),
        ),
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


# --- wording -----------------------------------------------------------------------------------


def when(at: datetime) -> str:
    """``2026-03-02 09:30 UTC`` (a time without a zone is taken as UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _listed(names: Sequence[str], *, last: str = "and") -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {last} " + names[-1]


def _q_cell(q: float | None) -> str:
    return "" if q is None else "< 0.001" if q < 0.001 else f"{q:.2g}" if q < 0.1 else f"{q:.2f}"


def _rating(value: float | str | None, scale: dict[str, str]) -> str:
    """``4 (Exceeds expectations)``; a value off the scale as it is."""
    if value is None or value == "":
        return "none"
    try:
        key = number(float(value))
    except ValueError:
        return str(value)
    label = scale.get(key)
    return f"{key} ({label})" if label else key


def _field_value(field: str, value: str | None, scale: dict[str, str]) -> str:
    if field == "rating":
        return _rating(value, scale)
    return "none" if value is None else value


def _proposed_to(proposed: str, calibrated: str) -> str:
    return proposed if proposed == calibrated else f"{proposed} \u2192 {calibrated}"


def _natural(text: str) -> tuple[tuple[int, str], ...]:
    """A sort key under which E2 comes before E10."""
    return tuple((int(p), "") if p.isdigit() else (0, p) for p in re.split(r"(\d+)", text))


def _in_order(adjustments: Iterable[Adjustment]) -> list[Adjustment]:
    return sorted(adjustments, key=lambda a: (a.at, a.id))


# --- cover -------------------------------------------------------------------------------------


def _cover(packet: Packet, generated: str) -> Cover:
    s = packet.session
    status = (
        f"Locked{f' on {when(s.locked_at)}' if s.locked_at else ''}: the calibrated ratings are "
        "written to the reviews"
        if s.status == "locked"
        else "Open: ratings can still be adjusted"
        if s.status == "open"
        else s.status
    )
    scope = [
        f"{label} {', '.join(s.scope[key])}"
        for key, label in (("org_units", "org units"), ("employees", "people"))
        if s.scope.get(key)
    ]
    facts = [
        Fact("Session", s.name),
        Fact("Cycle", s.cycle),
        Fact("Status", status),
        Fact("Facilitator", s.facilitator),
        Fact("Members", ", ".join(s.members) if s.members else "none named"),
        Fact("Population", _plural(s.population, "person", "people")),
        *((Fact("Scope", "; ".join(scope)),) if scope else ()),
        Fact("Created", when(s.created_at)),
        Fact("Generated", generated),
    ]
    rated = sum(1 for r in packet.ratings if r.rating is not None)
    adjusted = len({a.employee_id for a in packet.adjustments})
    statuses = [a.status for a in packet.approvals]
    pending = statuses.count("pending")
    figures = (
        Fact("Rated", f"{rated:,}", f"of {s.population:,}"),
        Fact("Adjusted", f"{adjusted:,}", "people"),
        Fact(
            "Routed",
            f"{len(statuses):,}",
            f"{pending} waiting" if pending else "all decided" if statuses else "cases",
        ),
        Fact("9-box", f"{len({b.employee_id for b in packet.nine_box}):,}", "people"),
    )
    contents = (
        Contents("before-after", "Before and after the adjustments"),
        Contents("analysis", "The analysis"),
        Contents("recency", "Recency of the cited evidence"),
        Contents("cases", "Flagged cases"),
        Contents("adjustments", "Adjustments with reasons"),
        Contents("nine-box", "The 9-box grid"),
    )
    return Cover(tuple(facts), figures, HOW_TO_USE, contents)


# --- before and after --------------------------------------------------------------------------

CHANGE = re.compile(r"^(?P<measure>[^:]+):\s*(?P<before>.+?)\s*->\s*(?P<after>.+)$")


def _before_after(packet: Packet) -> BeforeAfter:
    pre, post = packet.comparison.pre, packet.comparison.post
    if pre is None and post is None:
        return BeforeAfter(False, "No analysis has been run for this session yet.", (), (), ())
    if pre is None or post is None:
        note = (
            "Only the analysis before any adjustment has been run: run the session's analysis "
            "again after adjusting, and this section will compare the two."
            if post is None
            else "No analysis before the adjustments was kept, so there is nothing to compare with."
        )
        return BeforeAfter(False, note, (), (), ())
    withheld = pre.groups_withheld or post.groups_withheld
    rows, other = [], []
    for line in packet.comparison.changes:
        found = CHANGE.match(line)
        if found is None:
            other.append(line)
            continue
        measure = found["measure"].strip()
        before, after = found["before"].strip(), found["after"].strip()
        if withheld and measure.startswith("group"):
            # counted on what the reader may see, the line would claim no gaps: say withheld
            rows.append(ChangeRow(measure[:1].upper() + measure[1:], "withheld", "withheld", ""))
            continue
        rows.append(
            ChangeRow(
                measure[:1].upper() + measure[1:], before, after, _change(measure, before, after)
            )
        )
    if withheld and not any(r.measure.startswith("Group") for r in rows):
        # the session leaves the line out for such a reader; the packet says why it is missing
        rows.insert(min(1, len(rows)), ChangeRow("Group gaps flagged", "withheld", "withheld", ""))
    note = (
        f"Before: the analysis of {when(pre.at)}, on the proposed ratings. After: the analysis "
        f"of {when(post.at)}, with the committee's adjustments."
    )
    return BeforeAfter(True, note, tuple(rows), tuple(other), _shrank(pre, post))


def _figure(text: str) -> float | None:
    found = re.search(r"[-\u2212]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)
    return None if found is None else float(found[0].replace("\u2212", "-"))


def _change(measure: str, before: str, after: str) -> str:
    """The change in words: ``down 2``, ``up 5 pts``, ``unchanged``."""
    a, b = _figure(before), _figure(after)
    if a is None or b is None:
        return ""
    if a == b:
        return "unchanged"
    if measure.startswith("distribution"):
        return "p rose: closer to the guideline" if b > a else "p fell: further from the guideline"
    unit = " pts" if before.endswith("%") else ""
    return f"{'down' if b < a else 'up'} {number(round(abs(b - a), 3))}{unit}"


def _counts(a: SessionAnalysis) -> tuple[int, float | None, int, int]:
    r = a.ratings
    raters = sum(1 for x in (r.raters.items if r.raters else []) if x.flag is not None)
    share = r.raters.variance_share if r.raters else None
    groups = sum(1 for g in r.groups if g.flag)
    people = sum(1 for i in r.individuals if i.flags)
    return raters, share, groups, people


def _trend(before: float, after: float) -> str:
    return "shrank" if after < before else "grew" if after > before else "did not change"


def _shrank(pre: SessionAnalysis, post: SessionAnalysis) -> tuple[str, ...]:
    """In plain words: did rater effects and group gaps shrink with the adjustments?"""
    raters_pre, share_pre, groups_pre, people_pre = _counts(pre)
    raters_post, share_post, groups_post, people_post = _counts(post)
    sentences = []
    if pre.ratings.raters is None or post.ratings.raters is None:
        sentences.append("Rater effects were not measured in both analyses.")
    else:
        trend = _trend(raters_pre, raters_post)
        if trend == "did not change" and share_pre is not None and share_post is not None:
            trend = _trend(round(share_pre, 2), round(share_post, 2))
        text = (
            f"Rater effects {trend}: {raters_pre} rater{'' if raters_pre == 1 else 's'} flagged "
            f"before the adjustments and {raters_post} after"
        )
        if share_pre is not None and share_post is not None:
            text += (
                f"; the share of rating differences due to raters went from {share_pre:.0%} to "
                f"{share_post:.0%}"
            )
        sentences.append(text + ".")
    if pre.groups_withheld or post.groups_withheld:
        sentences.append(
            "Group gaps are withheld from your role, so whether they shrank is not shown here."
        )
    elif not pre.ratings.groups and not post.ratings.groups:
        sentences.append("Group gaps were not measured (no protected attribute is recorded).")
    else:
        sentences.append(
            f"Group gaps {_trend(groups_pre, groups_post)}: {groups_pre} flagged before and "
            f"{groups_post} after."
        )
    sentences.append(
        f"Ratings the evidence does not support: {people_pre} before, {people_post} after."
    )
    sentences.append(
        "Fewer flags after the adjustments mean the ratings follow the evidence more closely, "
        "not that each one is right: that rests on the reasons recorded below."
    )
    return tuple(sentences)


# --- the analysis ------------------------------------------------------------------------------


def _options(packet: Packet, analysis: SessionAnalysis) -> AnalysisOptions:
    """The options the session's analysis ran with (see ``sessions._analysis``), for the
    report's wording; nothing is run again.
    """
    evidence = any(r.evidence_score is not None for r in packet.ratings)
    groups = tuple(dict.fromkeys(g.attribute for g in analysis.ratings.groups))
    guideline = {float(k): v for k, v in packet.guideline.items()} or None
    return AnalysisOptions(
        rating="rating",
        id="id",
        rater="rater",
        evidence="evidence score" if evidence else None,
        groups=groups,
        guideline=guideline,
    )


def _analysis(packet: Packet, shown: SessionAnalysis | None) -> AnalysisPart:
    if shown is None:
        return AnalysisPart(
            None,
            "No analysis has been run for this session yet: run the session's analysis, then "
            "produce the packet again.",
            "",
        )
    after = packet.comparison.post is not None
    phase = (
        f"The statistics of the {_plural(shown.ratings.n, 'rating')} "
        + ("after the committee's adjustments" if after else "as proposed, before any adjustment")
        + f", analysed {when(shown.at)}."
    )
    withheld = ""
    if shown.groups_withheld:
        roles = _listed(
            sorted(ROLE_WORDS.get(r, r).lower() for r in SENSITIVE_READER_ROLES), last="or"
        )
        withheld = (
            "The role this packet was produced for may not see protected attributes (such as "
            "gender or ethnicity), so the group gaps are not part of it. Someone in the "
            f"{roles} role can produce the packet with them."
        )
    report = committee_report.build_report(
        shown.ratings,
        title=packet.session.name,
        source=f"session {packet.session.name}",
        options=_options(packet, shown),
        generated_at=packet.generated_at,
    )
    return AnalysisPart(report, phase, withheld)


# --- recency -----------------------------------------------------------------------------------


def _recency(items: list[RecencyItem]) -> RecencySection:
    flagged = sorted((i for i in items if i.flag), key=lambda i: _natural(i.employee_id))
    window = f"the last {WINDOW_WEEKS} weeks of the period"
    if not items:
        headline = "No review cites dated evidence, so recency could not be checked."
    elif flagged:
        headline = (
            f"{_plural(len(flagged), 'review')} of {len(items)} with dated citations "
            f"{'cites' if len(flagged) == 1 else 'cite'} evidence crowded into {window}."
        )
    else:
        headline = (
            f"None of the {_plural(len(items), 'review')} with dated citations crowds its "
            f"evidence into {window}."
        )
    rows = tuple(
        RecencyRow(
            employee_id=i.employee_id,
            citations=str(i.citations),
            recent=str(i.recent),
            share=f"{i.recent / i.citations:.0%}" if i.citations else "",
            expected=f"{i.expected_share:.0%}",
            q_value=_q_cell(i.q_value),
            words=(
                f"{i.recent} of {i.citations} cited pieces of evidence "
                f"({i.recent / i.citations if i.citations else 0:.0%}) come from {window}, where "
                f"about {i.expected_share:.0%} would be expected from the person's own record."
            ),
        )
        for i in flagged
    )
    explanation = Explanation(
        (
            f"A review is flagged when far more of the evidence it cites falls in {window} than "
            "the person's own recorded activity in those weeks would lead one to expect.",
            "Expected share: the part of the person's recorded activity that falls in those "
            "weeks (or of the period's length, when the record is too thin).",
            "q-value: the chance that a flag is a false alarm, allowing for every review being "
            "checked at once (exact binomial test, Benjamini-Hochberg).",
        ),
        (
            "Work can genuinely peak at the end of a period (a launch, a year-end close): the "
            "pattern is then real, not a bias.",
            "Only citations with a date count; reviews with few of them cannot be flagged.",
        ),
        (
            "Ask the rater whether the rating reflects the whole period, and look at the "
            "person's evidence from the earlier months.",
            "Record what was concluded, whether or not the rating changes.",
        ),
    )
    return RecencySection(headline, WINDOW_WEEKS, bool(flagged), rows, explanation)


# --- flagged cases -----------------------------------------------------------------------------


def _cases(packet: Packet) -> Cases:
    comparison = packet.comparison
    pre = {} if comparison.pre is None else _flags(comparison.pre)
    post = {} if comparison.post is None else _flags(comparison.post)
    routes: dict[str, list[ApprovalItem]] = {}
    for item in sorted(packet.approvals, key=lambda i: (i.created_at, i.id)):
        routes.setdefault(item.employee_id, []).append(item)
    changes: dict[str, list[Adjustment]] = {}
    for a in _in_order(packet.adjustments):
        changes.setdefault(a.employee_id, []).append(a)
    ratings = {r.employee_id: r for r in packet.ratings}
    both = comparison.pre is not None and comparison.post is not None
    ids = sorted({*pre, *post, *routes, *changes}, key=_natural)
    items = tuple(
        _case(
            e,
            ratings.get(e),
            _flag_lines(e, pre, post, both),
            routes.get(e, []),
            changes.get(e, []),
            packet.scale,
        )
        for e in ids
    )
    if items:
        headline = (
            f"{_plural(len(items), 'person', 'people')} flagged by the analysis, routed to an "
            "approver or adjusted, by employee id."
        )
    else:
        headline = "No one is flagged, routed or adjusted."
    return Cases(headline, items)


def _flags(analysis: SessionAnalysis) -> dict[str, str]:
    """Each flagged person's flags in words, with the residual."""
    return {
        i.id: "; ".join(sections.FLAG_WORDS.get(code, code) for code in i.flags)
        + ("" if i.residual is None else f" (residual {signed(i.residual, 1)} standard deviations)")
        for i in analysis.ratings.individuals
        if i.flags
    }


def _flag_lines(
    employee_id: str, pre: dict[str, str], post: dict[str, str], both: bool
) -> tuple[str, ...]:
    if not both:
        found = pre.get(employee_id) or post.get(employee_id)
        return () if found is None else (found + ".",)
    before, after = pre.get(employee_id), post.get(employee_id)
    lines = []
    if before:
        lines.append(f"Before the adjustments: {before}.")
    if after:
        lines.append(f"After the adjustments: {after}.")
    elif before:
        lines.append("After the adjustments: no longer flagged.")
    return tuple(lines)


def _case(
    employee_id: str,
    rating: ProposedRating | None,
    flags: tuple[str, ...],
    routes: list[ApprovalItem],
    changes: list[Adjustment],
    scale: dict[str, str],
) -> Case:
    why = [
        *(["flagged by the analysis"] if flags else []),
        *(["routed to an approver"] if routes else []),
        *(["adjusted"] if changes else []),
    ]
    if rating is None:
        rater = rating_text = potential = promotion = evidence = "not in the session's ratings"
    else:
        rater = rating.rater or "not recorded"
        rating_text = _proposed_to(
            _rating(rating.proposed_rating, scale), _rating(rating.rating, scale)
        )
        potential = _proposed_to(rating.proposed_potential or "none", rating.potential or "none")
        promotion = "proposed" if rating.promotion_proposed else "not proposed"
        evidence = (
            "no evidence score" if rating.evidence_score is None else f"{rating.evidence_score:.1f}"
        )
    return Case(
        employee_id=employee_id,
        why=_listed(why).capitalize(),
        rater=rater,
        rating=rating_text,
        potential=potential,
        promotion=promotion,
        evidence=evidence,
        flags=flags,
        routes=tuple(_route(i) for i in routes),
        adjustments=tuple(_adjustment_row(a, scale) for a in changes),
    )


def _route(item: ApprovalItem) -> Route:
    return Route(
        rule=RULE_WORDS.get(item.rule, item.rule),
        rule_code=item.rule,
        reason=item.reason,
        approver=ROLE_WORDS.get(item.approver_role, item.approver_role),
        status=item.status,
        status_text=STATUS_WORDS.get(item.status, item.status),
        decided_by=item.decided_by or "",
        decision_reason=item.decision_reason or "",
        decided_at="" if item.decided_at is None else when(item.decided_at),
    )


def _adjustment_row(a: Adjustment, scale: dict[str, str]) -> AdjustmentRow:
    return AdjustmentRow(
        employee_id=a.employee_id,
        field=a.field,
        old=_field_value(a.field, a.old_value, scale),
        new=_field_value(a.field, a.new_value, scale),
        reason=a.reason,
        actor=a.actor,
        at=when(a.at),
    )


# --- the 9-box ---------------------------------------------------------------------------------


def _zone(box: int) -> str:
    return "strong" if box in (6, 8, 9) else "watch" if box in (1, 2, 4) else "middle"


def _nine_box(items: list[NineBoxItem], population: int) -> NineBox:
    latest: dict[str, NineBoxItem] = {}
    for item in sorted(items, key=lambda i: i.placed_at):
        latest[item.employee_id] = item  # one place per person: the latest
    placed = list(latest.values())
    if not placed:
        return NineBox(
            0,
            "The 9-box grid is placed when the cycle is finalized: each person's calibrated "
            "performance and potential then put them in one of its nine boxes.",
            (),
            (),
        )
    boxes = {}
    for b in range(1, 10):
        inside = sorted((i for i in placed if i.box == b), key=lambda i: _natural(i.employee_id))
        label = next((i.label for i in inside if i.label), LABELS[b])
        boxes[b] = Box(
            box=b,
            label=label,
            performance=BANDS[(b - 1) % 3],
            potential=BANDS[(b - 1) // 3],
            count=len(inside),
            ids=tuple(i.employee_id for i in inside[:MAX_BOX_IDS]),
            more=max(len(inside) - MAX_BOX_IDS, 0),
            zone=_zone(b),
        )
    rows = tuple(tuple(boxes[3 * p + f + 1] for f in range(3)) for p in (2, 1, 0))
    newest = max(i.placed_at for i in placed)
    note = (
        f"{_plural(len(placed), 'person', 'people')} of {population:,} placed (latest "
        f"{when(newest)}). Performance is the calibrated rating in three bands, potential the "
        "calibrated potential."
    )
    return NineBox(len(placed), note, rows, tuple(boxes[b] for b in range(9, 0, -1)))


# --- footer ------------------------------------------------------------------------------------


def _privacy(packet: Packet) -> str:
    shown = packet.comparison.post or packet.comparison.pre
    text = (
        "This packet contains no protected attribute values (such as gender or ethnicity) for "
        "individuals"
    )
    if shown is not None and shown.groups_withheld:
        text += ": group results are withheld for the role it was produced for."
    elif shown is not None and shown.ratings.groups:
        text += (
            ": group figures are aggregates, and groups of fewer than "
            f"{AnalysisOptions.min_group_size} people are suppressed."
        )
    else:
        text += "."
    return text + " It names people, raters and approvers: keep it within the committee."
