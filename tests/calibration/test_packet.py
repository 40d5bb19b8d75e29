"""The calibration packet, rendered from real analyses of ratings with planted effects."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from meritline import __version__
from meritline.calibration import service, sessions
from meritline.calibration.packet import MAX_BOX_IDS, render_packet
from meritline.calibration.schemas import (
    Adjustment,
    AnalysisComparison,
    ApprovalItem,
    CalibrationSession,
    Packet,
    ProposedRating,
    RecencyItem,
    SessionAnalysis,
)
from meritline.reviews.nine_box import BANDS, LABELS, place
from meritline.reviews.schemas import DEFAULT_SCALE, NineBoxItem
from meritline.stats import Individual
from tests.fixtures.ratings import GUIDELINE, LENIENT, MISMATCHED, SEVERE, planted_ratings

OPTIONS = service.AnalysisOptions(
    rating="rating",
    id="employee_id",
    rater="manager_id",
    evidence="score",
    groups=("gender", "ethnicity"),
    guideline=GUIDELINE,
)
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
WHEN = datetime(2026, 6, 3, 16, 45, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"
#: Someone planted at the top of the 9-box (rating 5, high potential).
STAR = "E0042"
SCALE = [level.value for level in DEFAULT_SCALE]
APPROVED_REASON = "Checked the design docs and incident record: the 5 holds up for this year."


def _calibrated(frame: pd.DataFrame) -> pd.DataFrame:
    """The committee's corrections: the planted raters' ratings moved back a point, the planted
    mismatches set to what their evidence supports.
    """
    after = frame.copy()
    lenient, severe = after.manager_id.isin(LENIENT), after.manager_id.isin(SEVERE)
    after.loc[lenient, "rating"] = (after.loc[lenient, "rating"] - 1).clip(1, 5)
    after.loc[severe, "rating"] = (after.loc[severe, "rating"] + 1).clip(1, 5)
    after.loc[after.employee_id.isin(list(MISMATCHED)), "rating"] = 3
    return after


def _analysis(frame: pd.DataFrame, phase: str, at: datetime) -> SessionAnalysis:
    recency = [
        RecencyItem(
            employee_id="E0105",
            citations=12,
            recent=10,
            expected_share=0.18,
            p_value=0.00002,
            q_value=0.0004,
            flag=True,
        ),
        RecencyItem(
            employee_id="E0007",
            citations=9,
            recent=2,
            expected_share=0.2,
            p_value=0.6,
            q_value=0.9,
            flag=False,
        ),
    ]
    return SessionAnalysis(
        phase=phase,
        at=at,
        ratings=service.analyze_ratings(frame, OPTIONS),
        recency=recency,
        groups_withheld=False,
    )


def build_packet() -> Packet:
    """A session of 600 people, analysed before and after the committee's adjustments."""
    before = planted_ratings()
    before.loc[before.employee_id == STAR, ["rating", "score"]] = [5, 92.0]
    after = _calibrated(before)
    pre = _analysis(before, "pre", START)
    post = _analysis(after, "post", WHEN - timedelta(hours=1))
    rng = np.random.default_rng(11)
    potential = rng.choice(np.array(BANDS, dtype=object), len(before), p=[0.3, 0.5, 0.2])
    potential[before.employee_id == STAR] = "high"
    changed = before.rating != after.rating
    ratings = [
        ProposedRating(
            employee_id=e,
            rater=r,
            proposed_rating=float(old),
            rating=float(new),
            proposed_potential=p,
            potential=p,
            promotion_proposed=e == STAR,
            evidence_score=float(score),
            adjusted=bool(moved),
        )
        for e, r, old, new, p, score, moved in zip(
            before.employee_id,
            before.manager_id,
            before.rating,
            after.rating,
            potential,
            before.score,
            changed,
            strict=True,
        )
    ]
    adjustments = [
        Adjustment(
            id=i + 1,
            employee_id=e,
            field="rating",
            old_value=str(old),
            new_value=str(new),
            reason=(
                HOSTILE + " evidence score is far below what a 5 needs."
                if e == "E0210"
                else f"Evidence score {score:.0f} and peer feedback support {new}, not {old}; "
                f"rater {r} rates a point away from the evidence."
            ),
            actor="E0500",
            at=START + timedelta(hours=2, minutes=i),
        )
        for i, (e, r, old, new, score) in enumerate(
            zip(
                before.employee_id[changed],
                before.manager_id[changed],
                before.rating[changed],
                after.rating[changed],
                before.score[changed],
                strict=True,
            )
        )
    ]
    approvals = [
        ApprovalItem(
            id=1,
            session="Engineering H1",
            employee_id="E0105",
            rule="rating_not_supported",
            reason="The rating is well above what the evidence supports.",
            approver_role="hrbp",
            status="approved",
            decided_by="E0550",
            decision_reason="Agree with the committee: 3 matches the evidence and peer feedback.",
            decided_at=WHEN - timedelta(hours=3),
            created_at=START,
        ),
        ApprovalItem(
            id=2,
            session="Engineering H1",
            employee_id="E0315",
            rule="lowest_rating",
            reason="The lowest rating of the scale (1).",
            approver_role="hrbp",
            status="rejected",
            decided_by="E0551",
            decision_reason="A 1 is not supported: the delivery record is strong, re-rate.",
            decided_at=START + timedelta(hours=1),
            created_at=START,
        ),
        ApprovalItem(
            id=3,
            session="Engineering H1",
            employee_id=STAR,
            rule="promotion_proposed",
            reason="A promotion is proposed.",
            approver_role="compensation",
            status="approved",
            decided_by="E0560",
            decision_reason=APPROVED_REASON,
            decided_at=WHEN - timedelta(hours=2),
            created_at=START,
        ),
        ApprovalItem(
            id=4,
            session="Engineering H1",
            employee_id="E0210",
            rule="rating_not_supported",
            reason="The rating is well above what the evidence supports.",
            approver_role="hrbp",
            status="pending",
            decided_by=None,
            decision_reason=None,
            decided_at=None,
            created_at=START,
        ),
    ]
    nine_box = []
    for e, rating, p in zip(after.employee_id, after.rating, potential, strict=True):
        performance, box, label = place(float(rating), p, SCALE)
        nine_box.append(
            NineBoxItem(
                employee_id=e,
                cycle="2026 H1",
                rating=float(rating),
                performance=performance,  # type: ignore[arg-type]
                potential=p,
                box=box,
                label=label,
                placed_at=WHEN - timedelta(minutes=30),
            )
        )
    return Packet(
        session=CalibrationSession(
            id=7,
            cycle="2026 H1",
            name="Engineering H1",
            status="open",
            facilitator="E0500",
            members=["E0501", "E0502", "E0503"],
            population=len(before),
            scope={"org_units": ["ENG"], "employees": []},
            created_at=START - timedelta(days=3),
            locked_at=None,
        ),
        scale={str(level.value): level.label for level in DEFAULT_SCALE},
        guideline={str(int(k)): v for k, v in GUIDELINE.items()},
        comparison=AnalysisComparison(pre=pre, post=post, changes=sessions._changes(pre, post)),
        ratings=ratings,
        adjustments=adjustments,
        approvals=approvals,
        nine_box=nine_box,
        generated_at=WHEN,
    )


@pytest.fixture(scope="module")
def packet() -> Packet:
    return build_packet()


@pytest.fixture(scope="module")
def page(packet: Packet) -> str:
    return render_packet(packet)


def section(page: str, anchor: str) -> str:
    found = re.search(rf'<section class="part[^"]*" id="{anchor}".*?</section>', page, re.S)
    assert found, f"no section {anchor}"
    return found.group(0)


def element(html: str, tag: str, attribute: str, value: str) -> str:
    """The first ``<tag ... attribute="value" ...>...</tag>`` (no nesting of the same tag)."""
    found = re.search(
        rf'<{tag}\b[^>]*\b{attribute}="{re.escape(value)}"[^>]*>.*?</{tag}>', html, re.S
    )
    assert found, f"no <{tag} {attribute}={value!r}>"
    return found.group(0)


def text(html: str) -> str:
    """The words of some markup, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_packet_is_self_contained_and_printable(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    for fetching in ("http://", "https://", "src=", "<script", "<link", "@import", "url(", "<img"):
        assert fetching not in lowered, fetching
    assert "@media print" in page and "size: A4" in page
    assert "thead { display: table-header-group; }" in page  # headers repeat on each page
    assert page.count("<svg") >= 3  # the report's own charts: distribution, forest plot, groups
    for anchor in ("cover", "before-after", "analysis", "recency", "cases", "adjustments"):
        assert f'id="{anchor}"' in page
    assert 'id="nine-box"' in page


def test_the_cover_names_the_session_its_committee_and_how_to_use_it(page: str) -> None:
    cover = text(section(page, "cover"))
    for fact in (
        "Session Engineering H1",
        "Cycle 2026 H1",
        "Status Open: ratings can still be adjusted",
        "Facilitator E0500",
        "Members E0501, E0502, E0503",
        "Population 600 people",
        "Generated 2026-06-03 16:45 UTC",
    ):
        assert fact in cover, fact
    assert "How to use this packet" in cover and "A flag is a question" in cover


def test_a_locked_session_says_when_it_was_locked(packet: Packet) -> None:
    locked = packet.session.model_copy(
        update={"status": "locked", "locked_at": datetime(2026, 6, 4, 8, 0, tzinfo=UTC)}
    )
    cover = text(section(render_packet(packet.model_copy(update={"session": locked})), "cover"))
    assert "Status Locked on 2026-06-04 08:00 UTC" in cover
    assert "Open: ratings can still be adjusted" not in cover


def test_the_comparison_lines_are_a_before_and_after_table(packet: Packet, page: str) -> None:
    part = section(page, "before-after")
    table = element(part, "table", "class", "changes")
    changes = packet.comparison.changes
    assert changes and any(line.startswith("raters flagged: ") for line in changes)
    for line in changes:
        measure, values = line.split(": ", 1)
        before, after = values.split(" -> ")
        pattern = rf"<th scope=\"row\">{re.escape(measure[:1].upper() + measure[1:])}</th>"
        found = re.search(
            pattern + r"<td class=\"num\">(.*?)</td><td class=\"num\">(.*?)</td>", table
        )
        assert found, line
        assert (found[1], found[2]) == (before, after), line
    # the planted raters are corrected, so rater effects shrink, and the page says so
    pre, post = packet.comparison.pre, packet.comparison.post
    assert pre is not None and post is not None
    flagged_pre = sum(1 for r in pre.ratings.raters.items if r.flag)  # type: ignore[union-attr]
    flagged_post = sum(1 for r in post.ratings.raters.items if r.flag)  # type: ignore[union-attr]
    assert flagged_post < flagged_pre
    words = text(part)
    assert (
        f"Rater effects shrank: {flagged_pre} raters flagged before the adjustments and "
        f"{flagged_post} after"
    ) in words
    assert "Group gaps" in words


def test_without_a_post_analysis_the_packet_says_what_to_do(packet: Packet) -> None:
    only_pre = packet.comparison.model_copy(update={"post": None, "changes": []})
    page = render_packet(packet.model_copy(update={"comparison": only_pre}))
    assert "Only the analysis before any adjustment has been run" in section(page, "before-after")
    assert "as proposed, before any adjustment" in section(page, "analysis")


def test_the_analysis_reuses_the_committee_report_sections(packet: Packet, page: str) -> None:
    assert "findings for the committee" in section(page, "summary")
    for anchor in ("distribution", "raters", "groups", "individuals"):
        part = section(page, anchor)
        assert "What this means" in part and "What the committee should do" in part, anchor
    assert "after the committee&#39;s adjustments" in section(page, "analysis")
    # the analysis shown is the post one: its flagged people, not the pre ones
    post = packet.comparison.post
    assert post is not None
    flagged_after = {i.id for i in post.ratings.individuals if i.flags}
    shown = set(re.findall(r'data-id="([^"]+)"', section(page, "individuals")))
    assert shown == flagged_after
    assert 'class="chart forest-plot"' in section(page, "raters")


def test_withheld_groups_are_not_shown_and_the_packet_says_why(packet: Packet) -> None:
    def withheld(a: SessionAnalysis | None) -> SessionAnalysis:
        assert a is not None
        ratings = a.ratings.model_copy(update={"groups": []})
        return a.model_copy(update={"ratings": ratings, "groups_withheld": True})

    pre, post = withheld(packet.comparison.pre), withheld(packet.comparison.post)
    # the session compares the analyses as the reader sees them: no group line, not "0 -> 0"
    changes = sessions._changes(pre, post)
    assert not any(line.startswith("group gaps") for line in changes)
    hidden = AnalysisComparison(pre=pre, post=post, changes=changes)
    page = render_packet(packet.model_copy(update={"comparison": hidden}))
    assert 'id="groups"' not in page and "Group gaps</h2>" not in page
    for value in ("Female", "Male", "Group A", "Non-binary"):
        assert value not in page, value
    analysis = text(section(page, "analysis"))
    assert "Group results withheld" in analysis
    assert "may not see protected attributes" in analysis
    before_after = section(page, "before-after")
    assert "whether they shrank is not shown" in before_after
    row = text(element(before_after, "table", "class", "changes")).split("Group gaps flagged")[1]
    assert row.startswith(" withheld withheld")  # not "0 0": the gaps are hidden, not gone
    # with them, the same packet does show the groups
    full = render_packet(packet)
    assert 'id="groups"' in full and "Female" in section(full, "groups")


def test_no_protected_attribute_of_a_person_is_printed(packet: Packet, page: str) -> None:
    frame = planted_ratings()
    for anchor in ("cases", "adjustments", "nine-box", "recency", "individuals"):
        part = section(page, anchor)
        assert "Female" not in part and "Male" not in part and "Non-binary" not in part, anchor
    assert set(frame.columns) >= {"gender", "ethnicity"}  # they were there to be leaked


def test_the_adjustments_table_has_every_reason(packet: Packet, page: str) -> None:
    table = element(section(page, "adjustments"), "table", "class", "adjustments")
    assert table.count("<tr data-employee=") == len(packet.adjustments) > 10
    ordinary = next(a for a in packet.adjustments if a.employee_id != "E0210")
    row = text(element(table, "tr", "data-employee", ordinary.employee_id))
    assert ordinary.reason in row
    assert f"{ordinary.old_value} (" in row and ordinary.actor in row
    assert "2026-06-01 11:" in row  # when, in UTC
    assert '<th scope="col">Reason</th>' in table.replace(' class="wide"', "")


def test_a_hostile_reason_is_shown_as_text_never_run(page: str) -> None:
    assert HOSTILE not in page and "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in element(section(page, "adjustments"), "tr", "data-employee", "E0210")
    assert escaped in element(section(page, "cases"), "article", "data-employee", "E0210")


def test_a_flagged_case_shows_its_rule_decision_and_adjustment(packet: Packet, page: str) -> None:
    cases = section(page, "cases")
    case = element(cases, "article", "data-employee", "E0105")
    words = text(case)
    assert "Flagged by the analysis, routed to an approver and adjusted" in words
    # proposed 5 -> calibrated 3, with the scale's words
    assert "5 (Far exceeds expectations) → 3 (Meets expectations)" in words
    score = next(r.evidence_score for r in packet.ratings if r.employee_id == "E0105")
    assert f"{score:.1f}" in words
    assert "Before the adjustments: Rated higher than the evidence supports" in words
    route = text(element(case, "tr", "data-rule", "rating_not_supported"))
    assert "Rating not supported by the evidence" in route
    assert "The rating is well above what the evidence supports." in route
    assert "HR business partner" in route and "Approved" in route
    assert "Agree with the committee: 3 matches the evidence and peer feedback." in route
    adjustment = next(a for a in packet.adjustments if a.employee_id == "E0105")
    assert adjustment.reason in words
    # a rejected and a pending case say so in words, not only in colour
    assert "Rejected: back to the committee" in element(cases, "article", "data-employee", "E0315")
    assert "Waiting for a decision" in element(cases, "article", "data-employee", "E0210")
    assert APPROVED_REASON in element(cases, "article", "data-employee", STAR)


def test_cases_are_everyone_flagged_routed_or_adjusted_by_id(packet: Packet, page: str) -> None:
    ids = re.findall(r'<article class="case"[^>]*data-employee="([^"]+)"', section(page, "cases"))
    pre, post = packet.comparison.pre, packet.comparison.post
    assert pre is not None and post is not None
    expected = (
        {i.id for a in (pre, post) for i in a.ratings.individuals if i.flags}
        | {a.employee_id for a in packet.approvals}
        | {a.employee_id for a in packet.adjustments}
    )
    assert set(ids) == expected and ids == sorted(ids)
    assert STAR in ids and "E0007" not in ids


def test_someone_flagged_only_before_the_adjustments_is_a_case(packet: Packet) -> None:
    pre = packet.comparison.pre
    assert pre is not None
    flagged = Individual("E0008", 4.0, 3.9, ("rating_above_evidence",))
    individuals = [i for i in pre.ratings.individuals if i.id != "E0008"] + [flagged]
    ratings = pre.ratings.model_copy(update={"individuals": individuals})
    comparison = packet.comparison.model_copy(
        update={"pre": pre.model_copy(update={"ratings": ratings})}
    )
    page = render_packet(packet.model_copy(update={"comparison": comparison}))
    case = text(element(section(page, "cases"), "article", "data-employee", "E0008"))
    assert "Flagged by the analysis" in case and "routed" not in case
    assert (
        "Before the adjustments: Rated higher than the evidence supports (residual +3.9 standard "
        "deviations). After the adjustments: no longer flagged."
    ) in case


def test_recency_flags_are_explained_in_words(page: str) -> None:
    part = section(page, "recency")
    row = text(element(part, "tr", "data-id", "E0105"))
    assert (
        "10 of 12 cited pieces of evidence (83%) come from the last 6 weeks of the period, where "
        "about 18% would be expected" in row
    )
    assert "E0007" not in part  # not flagged
    assert "1 review of 2 with dated citations cites evidence crowded" in text(part)


def test_the_nine_box_places_the_planted_employee_with_the_labels(
    packet: Packet, page: str
) -> None:
    grid = element(section(page, "nine-box"), "table", "class", "nine-box")
    star = element(grid, "td", "data-box", "9")
    assert "Star" in star
    in_box = sorted(i.employee_id for i in packet.nine_box if i.box == 9)
    assert f"{len(in_box)} people" in star
    shown = re.findall(r"<li>(E\d+)</li>", star)
    assert STAR in shown and len(shown) == min(len(in_box), MAX_BOX_IDS)
    if len(in_box) > MAX_BOX_IDS:
        assert f"+{len(in_box) - MAX_BOX_IDS} more" in star
    for box, label in LABELS.items():
        assert label in element(grid, "td", "data-box", str(box))
    # high potential on top, performance from low to high left to right
    rows = re.findall(r"<tr><th scope=\"row\">(\w+) potential</th>(.*?)</tr>", grid, re.S)
    assert [r[0] for r in rows] == ["High", "Medium", "Low"]
    assert re.findall(r'data-box="(\d)"', rows[0][1]) == ["7", "8", "9"]
    assert re.findall(r'data-box="(\d)"', rows[2][1]) == ["1", "2", "3"]
    legend = element(section(page, "nine-box"), "table", "class", "legend-table")
    assert all(label in legend for label in LABELS.values())


def test_an_empty_nine_box_says_when_it_is_placed(packet: Packet) -> None:
    part = section(render_packet(packet.model_copy(update={"nine_box": []})), "nine-box")
    assert "placed when the cycle is finalized" in part
    assert 'class="nine-box"' not in part


def test_a_stored_label_wins_and_empty_boxes_have_the_default_one(packet: Packet) -> None:
    one = [i.model_copy(update={"label": "Top talent"}) for i in packet.nine_box if i.box == 9][:1]
    page = render_packet(packet.model_copy(update={"nine_box": one}))
    grid = element(section(page, "nine-box"), "table", "class", "nine-box")
    assert "Top talent" in element(grid, "td", "data-box", "9") and LABELS[9] not in grid
    empty = element(grid, "td", "data-box", "1")
    assert "0 people" in empty and LABELS[1] in empty and "<li>" not in empty


def test_a_session_with_nothing_yet_renders_and_says_what_comes(packet: Packet) -> None:
    empty = packet.model_copy(
        update={
            "comparison": AnalysisComparison(pre=None, post=None, changes=[]),
            "ratings": [],
            "adjustments": [],
            "approvals": [],
            "nine_box": [],
        }
    )
    page = render_packet(empty)
    assert "No analysis has been run for this session yet" in section(page, "analysis")
    assert 'id="summary"' not in page and "<svg" not in page
    assert "No one is flagged, routed or adjusted." in section(page, "cases")
    assert "No rating or potential has been adjusted" in section(page, "adjustments")
    assert "placed when the cycle is finalized" in section(page, "nine-box")


def test_the_footer_is_confidential_with_version_and_time(page: str) -> None:
    footer = page.split('<footer class="report-footer packet-footer">', 1)[1]
    assert "Confidential: for the calibration committee" in footer
    assert f"version {__version__}" in footer and "2026-06-03 16:45 UTC" in footer
    assert "no protected attribute values" in footer


def test_the_same_packet_renders_the_same_page(packet: Packet, page: str) -> None:
    assert render_packet(packet) == page
    later = packet.model_copy(update={"generated_at": WHEN + timedelta(days=1)})
    assert render_packet(later) != page
