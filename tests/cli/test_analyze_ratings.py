"""`meritline analyze-ratings` as a people-analytics team uses it on an HRIS export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

GUIDELINE = "1:0.1,2:0.2,3:0.4,4:0.2,5:0.1"
RATER_KEYS = {
    "rater",
    "n",
    "mean_rating",
    "leniency",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "flag",
}
GROUP_KEYS = {
    "attribute",
    "group",
    "reference_group",
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
    "q_value",
    "below_four_fifths",
    "flag",
    "suppressed",
}


def export(tmp_path: Path, rows: int = 600) -> str:
    """Ratings with a lenient manager M03, a gap against women and one unsupported 5."""
    rng = np.random.default_rng(3)
    rater = [f"M{i % 40:02d}" for i in range(rows)]
    evidence = rng.normal(60, 12, rows)
    gender = rng.choice(["Female", "Male"], rows)
    latent = (evidence - 60) / 12
    raw = 3 + 0.9 * latent + rng.normal(0, 0.5, rows)
    raw += np.where(np.array(rater) == "M03", 0.9, 0) - np.where(gender == "Female", 0.35, 0)
    rating = np.clip(np.rint(raw), 1, 5).astype(int)
    rating[17] = 5 if latent[17] < 0 else 1
    frame = pd.DataFrame(
        {
            "employee_id": [f"E{i:04d}" for i in range(rows)],
            "manager_id": rater,
            "rating": rating,
            "score": evidence.round(1),
            "gender": gender,
            "tenure": rng.integers(0, 10, rows),
        }
    )
    path = tmp_path / "ratings.csv"
    frame.to_csv(path, index=False)
    return str(path)


def analyse(cli: Any, path: str, *extra: str, code: int = 0) -> Any:
    return cli(
        "analyze-ratings",
        path,
        "--rating",
        "rating",
        *extra,
        code=code,
    )


FULL = (
    "--id",
    "employee_id",
    "--rater",
    "manager_id",
    "--evidence",
    "score",
    "--control",
    "tenure",
    "--group",
    "gender",
    "--guideline",
    GUIDELINE,
)


def test_the_json_has_every_documented_field_and_finds_what_was_planted(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = json.loads(analyse(cli, export(tmp_path), *FULL, "--json").stdout)
    assert result["n"] == 600
    distribution = result["distribution"]
    assert set(distribution) >= {
        "observed",
        "expected",
        "g_statistic",
        "p_value",
        "kl_divergence",
        "method",
    }
    assert list(distribution["observed"]) == ["1", "2", "3", "4", "5"]
    assert distribution["expected"]["3"] == pytest.approx(240.0)
    assert distribution["method"] == "g_test"
    raters = result["raters"]
    assert 0 <= raters["variance_share"] < 1
    assert all(set(item) >= RATER_KEYS for item in raters["items"])
    assert {i["rater"] for i in raters["items"] if i["flag"] == "lenient"} == {"M03"}
    groups = {g["group"]: g for g in result["groups"]}
    assert all(set(g) >= GROUP_KEYS for g in result["groups"])
    assert groups["Male"]["reference_group"] == "Male"
    assert groups["Female"]["flag"] == "disadvantaged"
    assert groups["Female"]["controlled_gap"] == pytest.approx(-0.35, abs=0.15)
    flagged = {i["id"]: i["flags"] for i in result["individuals"] if i["flags"]}
    assert flagged == {"E0017": ["rating_above_evidence"]}
    assert all(set(i) >= {"id", "flags", "residual"} for i in result["individuals"])
    assert [s["part"] for s in result["skipped"]] == ["agreement"]


def test_the_summary_reads_as_findings(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = " ".join(analyse(cli, export(tmp_path), *FULL).stdout.split())
    assert "600 ratings" in out and "Against the guideline" in out
    assert "M03" in out and "lenient" in out
    assert "E0017: rating_above_evidence" in out


def test_with_only_a_rating_the_other_parts_say_why_they_were_skipped(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = json.loads(analyse(cli, export(tmp_path), "--json").stdout)
    assert result["raters"] is None and result["groups"] == [] and result["individuals"] == []
    assert {s["part"] for s in result["skipped"]} == {
        "raters",
        "groups",
        "individuals",
        "agreement",
    }
    assert result["distribution"]["method"] == "no_guideline"


def test_too_few_rows_run_what_can_run(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "two.csv"
    path.write_text("employee_id,manager_id,rating,score\nE1,M1,3,50\nE2,M1,4,60\n")
    result = json.loads(analyse(cli, str(path), *FULL[:6], "--json").stdout)
    assert result["n"] == 2
    reasons = {s["part"]: s["reason"] for s in result["skipped"]}
    assert "too few" in reasons["raters"] and "too few" in reasons["individuals"]


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("employee_id,rating\nE1,3\n", ("--rater", "boss"), "Column(s) boss not in the file"),
        ("employee_id,rating\nE1,3\nE2,great\n", (), "'rating' must be numeric; line(s) 3"),
        ("employee_id,rating\nE1,3\n", ("--guideline", "1:0.5,2:0.4"), "sum to 1, not 0.9"),
        ("employee_id,rating\nE1,3\n", ("--guideline", "1=0.5"), "is not VALUE:SHARE"),
        ("employee_id,rating\nE1,7\n", ("--guideline", GUIDELINE), "7 are not in the guideline"),
        ("", (), "not a readable CSV file"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(  # type: ignore[no-untyped-def]
    cli, tmp_path, content: str, extra: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = analyse(cli, str(path), *extra, code=2)
    said = " ".join(result.output.split())
    assert message in said, said
    assert "Traceback" not in result.output


def test_a_missing_file_is_named(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = analyse(cli, str(tmp_path / "nope.csv"), code=2)
    assert "No file" in result.output


def test_html_writes_the_committee_report_and_prints_the_summary(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    result = analyse(cli, export(tmp_path), *FULL, "--html", str(out))
    said = " ".join(result.stdout.split())
    assert f"Report written to {out}" in said
    assert "600 ratings" in said and "M03" in said  # the usual summary as well
    page = out.read_text(encoding="utf-8")
    assert (
        page.startswith("<!DOCTYPE html>")
        and "<title>Ratings calibration report: ratings.csv" in page
    )
    assert "http://" not in page and "https://" not in page and "<script" not in page
    forest = page.split('class="chart forest-plot"', 1)[1].split("</figure>", 1)[0]
    assert 'class="row lenient" data-key="M03"' in forest
    assert 'data-id="E0017"' in page and "Rated higher than the evidence supports" in page
    assert 'data-group="Female"' in page
    assert "meritline analyze-ratings ratings.csv --rating rating --id employee_id" in page


def test_html_takes_a_title(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    analyse(cli, export(tmp_path), "--html", str(out), "--title", "Q3 & Q4 calibration")
    assert "<h1>Q3 &amp; Q4 calibration</h1>" in out.read_text(encoding="utf-8")


def test_html_and_json_together_are_refused(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    result = analyse(cli, export(tmp_path), "--json", "--html", str(out), code=2)
    said = " ".join(result.output.split())
    assert "--html and --json cannot be used together" in said
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize("where", ["missing/report.html", "."])
def test_html_into_a_missing_directory_or_onto_a_directory_is_refused(  # type: ignore[no-untyped-def]
    cli, tmp_path, where: str
) -> None:
    target = tmp_path / where
    result = analyse(cli, export(tmp_path), "--html", str(target), code=2)
    said = " ".join(result.output.split())
    message = "does not exist; create it first" if where != "." else "is a directory"
    assert message in said, said
    assert "Traceback" not in result.output
    assert not (tmp_path / "missing").exists()
