"""The committee report, rendered from real analyses of ratings with planted effects."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest

from meritline import __version__
from meritline.calibration import report, service
from meritline.calibration.charts import signed
from meritline.calibration.schemas import RatingsAnalysis
from meritline.stats import RaterEffect, RaterEffects
from tests.fixtures.ratings import (
    GUIDELINE,
    LENIENT,
    MISMATCHED,
    SEVERE,
    SMALL_GROUP,
    planted_ratings,
)

OPTIONS = service.AnalysisOptions(
    rating="rating",
    id="employee_id",
    rater="manager_id",
    evidence="score",
    controls=("tenure",),
    groups=("gender", "ethnicity"),
    guideline=GUIDELINE,
)
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


def render(frame: pd.DataFrame, options: service.AnalysisOptions = OPTIONS) -> str:
    analysis = service.analyze_ratings(frame, options)
    return report.render_html(
        analysis, title="Calibration 2026", source="ratings.csv", options=options, generated_at=WHEN
    )


@pytest.fixture(scope="module")
def analysis() -> RatingsAnalysis:
    return service.analyze_ratings(planted_ratings(), OPTIONS)


@pytest.fixture(scope="module")
def page(analysis: RatingsAnalysis) -> str:
    return report.render_html(
        analysis, title="Calibration 2026", source="ratings.csv", options=OPTIONS, generated_at=WHEN
    )


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


def test_the_page_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    for fetching in ("http://", "https://", "src=", "<script", "<link", "@import", "url(", "<img"):
        assert fetching not in lowered, fetching
    assert "<style>" in page and "@media print" in page and "size: A4" in page
    assert page.count("<svg") >= 3  # the distribution, the forest plot, a group chart


def test_the_summary_states_the_headlines_and_counts_the_findings(
    page: str, analysis: RatingsAnalysis
) -> None:
    summary = section(page, "summary")
    assert f"{analysis.n} ratings" in summary
    flagged_raters = sum(1 for r in analysis.raters.items if r.flag)  # type: ignore[union-attr]
    flagged_groups = sum(1 for g in analysis.groups if g.flag or g.below_four_fifths)
    findings = 1 + flagged_raters + flagged_groups + len(MISMATCHED)
    assert f"{findings} findings for the committee" in summary
    # the planted raters drag ratings down (two severe, a gap against women): harsher overall
    assert "Ratings are harsher than the guideline" in summary
    assert re.search(r"\d+% rated 4 or 5 against 30% expected", summary)
    assert "more generously than the evidence explains (R01 and R02)" in summary
    assert "more harshly (R03 and R04)" in summary
    assert "The Female group (gender) is rated" in summary
    assert "3 ratings of 600 are far from what the evidence supports: 2 higher, 1 lower." in summary
    assert (
        "What was skipped and why" in summary
        and "No one is rated by more than one rater" in summary
    )


def test_the_forest_plot_shows_the_planted_raters_with_their_intervals(
    page: str, analysis: RatingsAnalysis
) -> None:
    forest = element(section(page, "raters"), "figure", "class", "chart forest-plot")
    effects = {r.rater: r for r in analysis.raters.items}  # type: ignore[union-attr]
    for name, kind in [*((r, "lenient") for r in LENIENT), *((r, "severe") for r in SEVERE)]:
        effect = effects[name]
        assert effect.flag == kind and effect.ci_low is not None and effect.ci_high is not None
        row = element(forest, "g", "data-key", name)
        assert f'class="row {kind}"' in row
        ends = re.search(rf'<line class="ci {kind}" x1="([\d.]+)" x2="([\d.]+)" y1', row)
        assert ends and float(ends[1]) < float(ends[2])  # the interval is drawn, low to high
        interval = f"{signed(effect.ci_low)} to {signed(effect.ci_high)}"
        assert f"{kind} {signed(effect.leniency)} ({interval})" in row  # and written beside it
    # every rater fits (60 > 40): the flagged ones and the 36 most extreme others
    assert forest.count('<g class="row') == report.sections.MAX_RATER_ROWS
    assert "20 more raters not shown: none is flagged" in forest
    flagged_table = section(page, "raters").split("Flagged raters", 1)[1]
    for name in (*LENIENT, *SEVERE):
        assert f'data-rater="{name}"' in flagged_table


def test_with_a_thousand_raters_the_plot_keeps_the_flagged_and_the_most_extreme(
    analysis: RatingsAnalysis,
) -> None:
    def effect(i: int, leniency: float, flag: str | None = None) -> RaterEffect:
        return RaterEffect(
            f"M{i:04d}", 10, 3.0, leniency, leniency - 0.3, leniency + 0.3, 0.5, 0.9, flag,
            None, None, False,
        )  # fmt: skip

    items = [effect(i, (i % 100 - 50) / 500) for i in range(1000)]
    items[500] = effect(500, 0.05, "lenient")  # a flag in the middle of the pack is still shown
    many = analysis.model_copy(update={"raters": RaterEffects(items, 0.1, "mixed_model", "")})
    page = report.render_html(many, title="t", source="s.csv", options=OPTIONS, generated_at=WHEN)
    forest = element(page, "figure", "class", "chart forest-plot")
    assert forest.count('<g class="row') == 40
    assert 'data-key="M0500"' in forest and 'class="row lenient" data-key="M0500"' in forest
    assert 'data-key="M0000"' in forest  # -0.10, the most severe
    assert "960 more raters not shown: none is flagged" in forest
    assert "Of 1,000 raters, 1 rates more generously" in page


def test_a_suppressed_group_says_suppressed_and_shows_no_figures(
    page: str, analysis: RatingsAnalysis
) -> None:
    frame = planted_ratings()
    small = frame[frame.gender == SMALL_GROUP]
    assert len(small) < OPTIONS.min_group_size
    groups = section(page, "groups")
    gender = element(groups, "div", "id", "groups-0")
    suppressed_row = element(gender, "tr", "class", "suppressed")
    assert f'data-group="{SMALL_GROUP}"' in suppressed_row and "suppressed" in suppressed_row
    # no row, chart mark or figure of its own: not its size, not its mean
    assert f'<tr class="" data-group="{SMALL_GROUP}"' not in groups
    assert f'data-key="{SMALL_GROUP}"' not in groups
    shown = re.sub(r"<[^>]+>", " ", suppressed_row)
    assert f"{small.rating.mean():.2f}" not in shown
    assert set(re.findall(r"\d+", shown)) <= {str(OPTIONS.min_group_size)}  # no figure at all
    # the shown groups do have their figures, and the planted gap against women is flagged
    women = element(gender, "tr", "data-group", "Female")
    assert "disadvantaged" in women
    female = next(g for g in analysis.groups if g.attribute == "gender" and g.group == "Female")
    assert female.controlled_gap is not None and signed(female.controlled_gap) in women


def test_the_group_chart_draws_the_four_fifths_line_and_the_impact_ratio_interval(
    page: str,
) -> None:
    chart = element(
        element(section(page, "groups"), "div", "id", "groups-0"),
        "figure",
        "class",
        "chart group-chart",
    )
    assert 'class="ref threshold"' in chart and "0.8 (four-fifths)" in chart
    women = element(chart, "g", "data-key", "Female")
    assert '<line class="ci low"' in women  # impact ratio under 4/5, with its interval
    assert '<line class="ci controlled"' in women  # the controlled gap's interval


def test_the_flagged_individuals_are_listed_with_the_flag_in_words(page: str) -> None:
    people = section(page, "individuals")
    for person, direction in MISMATCHED.items():
        row = element(people, "tr", "data-id", person)
        assert (
            f"Rated {'higher' if direction == 'above' else 'lower'} than the evidence supports"
            in row
        )
        assert f"rating_{direction}_evidence" in row
    assert people.count('<tr class="flagged"') == len(MISMATCHED)


def test_every_finding_has_its_meaning_caveats_and_actions(page: str) -> None:
    for anchor in ("distribution", "raters", "groups", "individuals"):
        part = section(page, anchor)
        for box in ("What this means", "Caveats", "What the committee should do"):
            assert box in part, (anchor, box)
    assert "q-value: roughly, the chance that a flag is a false alarm" in section(page, "raters")
    groups = section(page, "groups")
    assert "Controls such as score and tenure may themselves carry bias" in groups
    assert "Association is not cause" in groups and "are suppressed" in groups
    assert "Do not adjust individuals only to close a gap" in groups
    assert "Do not change individual ratings only to make the distribution match" in page


def test_with_only_a_rating_the_skipped_parts_are_explained() -> None:
    frame = planted_ratings()[["rating"]]
    options = service.AnalysisOptions(rating="rating")
    page = render(frame, options)
    skipped = element(section(page, "summary"), "div", "class", "skipped")
    analysis = service.analyze_ratings(frame, options)
    assert {s.part for s in analysis.skipped} == {"raters", "groups", "individuals", "agreement"}
    for part in analysis.skipped:
        assert part.reason.replace("'", "&#39;") in skipped
    for name in (
        "The test against the guideline",
        "Rater leniency and severity",
        "Group gaps",
        "Ratings the evidence does not support",
        "Agreement between raters",
    ):
        assert name in skipped
    for anchor in ("raters", "groups", "individuals", "agreement"):
        assert f'id="{anchor}"' not in page
    assert "Rating distribution" in page and "not tested" in page
    assert "0 findings for the committee" in page


def test_names_from_the_file_are_shown_as_text_never_run() -> None:
    frame = planted_ratings(ethnicities=("Group A", HOSTILE, "Group C", "Group D", "Group E"))
    frame.loc[frame.manager_id == LENIENT[0], "manager_id"] = '"><img src=x onerror=alert(2)>'
    page = report.render_html(
        service.analyze_ratings(frame, OPTIONS),
        title=f"Report {HOSTILE}",
        source="<b>ratings</b>.csv",
        options=OPTIONS,
        generated_at=WHEN,
    )
    assert HOSTILE not in page and "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<b>ratings</b>" not in page and "&lt;b&gt;ratings&lt;/b&gt;.csv" in page


def test_the_footer_says_when_how_and_from_what(page: str) -> None:
    footer = page.split('<footer class="report-footer">', 1)[1]
    assert "2026-03-02 09:30 UTC" in footer
    assert f"version {__version__}" in footer
    assert "ratings.csv" in footer
    assert (
        "meritline analyze-ratings ratings.csv --rating rating --id employee_id --rater manager_id"
        " --evidence score --control tenure --group gender --group ethnicity"
        " --guideline 1:0.1,2:0.2,3:0.4,4:0.2,5:0.1 --min-group-size 5 --alpha 0.05"
    ) in footer
    assert "no protected attribute values (such as gender or ethnicity) for individuals" in footer


def test_the_same_analysis_renders_the_same_page(analysis: RatingsAnalysis, page: str) -> None:
    again = report.render_html(
        analysis, title="Calibration 2026", source="ratings.csv", options=OPTIONS, generated_at=WHEN
    )
    assert again == page
    later = replace(OPTIONS, alpha=0.01)
    assert (
        report.render_html(
            analysis,
            title="Calibration 2026",
            source="ratings.csv",
            options=later,
            generated_at=WHEN,
        )
        != page
    )


def test_raters_who_differ_by_chance_only_get_no_plot_and_say_so(
    analysis: RatingsAnalysis,
) -> None:
    # the mixed model's answer when the rater variance is estimated at zero
    note = "The raters differ no more than chance would make them."
    items = [
        RaterEffect(f"R{i}", 10, 3.0, 0.0, None, None, None, None, None, None, None, False)
        for i in range(20)
    ]
    zero = RaterEffects(items, 0.0, "mixed_model_zero_variance", note)
    page = report.render_html(
        analysis.model_copy(update={"raters": zero}),
        title="t",
        source="s.csv",
        options=OPTIONS,
        generated_at=WHEN,
    )
    raters = section(page, "raters")
    assert (
        "The 20 raters differ no more than chance would make them; no rater is flagged." in raters
    )
    assert "forest-plot" not in raters and "Flagged raters" not in raters
    assert note in raters


def test_people_rated_several_times_get_the_agreement_section() -> None:
    frame = pd.DataFrame(
        {
            "employee_id": [f"P{i // 3}" for i in range(90)],
            "manager_id": ["A", "B", "C"] * 30,
            "rating": [1 + (i // 3) % 5 for i in range(90)],  # the three raters agree exactly
        }
    )
    options = service.AnalysisOptions(rating="rating", id="employee_id", rater="manager_id")
    agreement = section(render(frame, options), "agreement")
    assert "Where people were rated more than once (30 people, 90 ratings), raters agree well" in (
        agreement
    )
    assert "Krippendorff" in agreement and "1.00" in agreement


def test_too_few_ratings_for_the_guideline_say_how_many_are_needed() -> None:
    page = render(
        pd.DataFrame({"rating": [3]}), service.AnalysisOptions("rating", guideline=GUIDELINE)
    )
    assert "1 rating is too few to test against the guideline (at least 2 are needed)" in page
    assert "too few ratings to test" in section(page, "summary")
