"""The scoring engine on synthetic frames: ranking against a known truth, missing evidence,
protected leave, k-anonymous bands at their edges, cohort fallback, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from meritline.evidence.connectors.hrms import PROTECTED_TYPE
from meritline.scoring import engine
from meritline.scoring.definition import default_definition, parse_definition
from meritline.scoring.engine import ScoringInputs

AS_OF = date(2026, 9, 30)
HIRED = date(2020, 1, 1)
#: Yearly signals of a median person, per type (merges, closes and reviews follow the truth).
BASE_RATES = {
    "pr_merged": 60.0,
    "issue_resolved": 90.0,
    "pr_review_submitted": 80.0,
    "kudos_given": 6.0,
    "kudos_received": 6.0,
    "course_completed": 3.0,
}


def _people(n: int, *, families: tuple[str, ...] = ("Eng", "Data"), levels=("L2", "L3")):
    ids = np.arange(1, n + 1)
    return pl.DataFrame(
        {
            "employee_id": ids,
            "hire_date": [HIRED] * n,
            "job_family": [families[i % len(families)] for i in range(n)],
            "level": [levels[(i // len(families)) % len(levels)] for i in range(n)],
        },
        schema_overrides={"employee_id": pl.Int64},
    )


def _evidence(people: pl.DataFrame, truth: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Poisson counts over the year whose rates grow with the true performance."""
    rate = np.exp(0.6 * truth)
    frames = []
    for kind, base in BASE_RATES.items():
        counts = rng.poisson(base * rate)
        frames.append(_rows(people["employee_id"], kind, counts))
    closed = rng.poisson(12 / rate)  # better people get fewer PRs closed unmerged
    frames.append(_rows(people["employee_id"], "pr_closed_unmerged", closed))
    return pl.concat(frames).filter(pl.col("count") > 0)


def _rows(ids: pl.Series, kind: str, counts: np.ndarray, window: str = "365d") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "employee_id": ids,
            "type": kind,
            "window": window,
            "count": counts.astype(np.int64),
            "total": counts.astype(np.float64),
        }
    )


def _inputs(people: pl.DataFrame, evidence: pl.DataFrame) -> ScoringInputs:
    return ScoringInputs(
        as_of=AS_OF,
        people=people,
        evidence=evidence,
        previous=pl.DataFrame(schema=engine.PREVIOUS_SCHEMA),
    )


def _score(inputs: ScoringInputs, definition=None) -> dict[int, engine.EmployeeScore]:
    result = engine.score(definition or default_definition(), inputs, model_hash="test")
    return {s.employee_id: s for s in result.scores}


def test_scores_rank_people_by_their_true_performance() -> None:
    rng = np.random.default_rng(20261123)
    people = _people(400)
    truth = rng.normal(size=400)
    scores = _score(_inputs(people, _evidence(people, truth, rng)))
    ranked = [scores[i + 1].score for i in range(400)]
    rho, p_value = spearmanr(ranked, truth)
    assert rho > 0.8, rho  # chance is 0; the evidence is noisy Poisson counts
    assert p_value < 1e-20
    # and a shuffled truth does not rank: the check can fail
    assert abs(spearmanr(ranked, rng.permutation(truth))[0]) < 0.2


def test_missing_evidence_lowers_confidence_not_the_score() -> None:
    rng = np.random.default_rng(5)
    people = _people(60, families=("Eng",), levels=("L2",))
    truth = rng.normal(size=60)
    truth[0] = 4.0  # the best of the cohort on every metric
    evidence = _evidence(people, truth, rng)
    full = _score(_inputs(people, evidence))[1]
    thin_evidence = evidence.filter(
        ~((pl.col("employee_id") == 1) & (pl.col("type") == "issue_resolved"))
    )
    thin = _score(_inputs(people, thin_evidence))[1]
    assert thin.confidence < full.confidence
    assert thin.score == pytest.approx(full.score, abs=0.05)
    missing = [m["metric"] for m in thin.explanation["missing_evidence"]]
    assert "issues_resolved_per_week" in missing
    # counting the missing metric as zero would have cost points: the rule matters
    target = (pl.col("employee_id") == 1) & (pl.col("type") == "issue_resolved")
    zeroed = evidence.with_columns(
        pl.when(target).then(4).otherwise(pl.col("count")).alias("count"),
        pl.when(target).then(4.0).otherwise(pl.col("total")).alias("total"),
    )
    assert _score(_inputs(people, zeroed))[1].score < full.score - 1


def test_a_whole_missing_source_moves_the_score_little_and_confidence_much() -> None:
    rng = np.random.default_rng(11)
    people = _people(80, families=("Eng",), levels=("L2",))
    truth = rng.normal(size=80)
    evidence = _evidence(people, truth, rng)
    github = ("pr_merged", "pr_closed_unmerged", "pr_review_submitted")
    before = _score(_inputs(people, evidence))
    after = _score(
        _inputs(
            people,
            evidence.filter(~(pl.col("employee_id").is_in([3, 7]) & pl.col("type").is_in(github))),
        )
    )
    for who in (3, 7):
        assert after[who].confidence <= before[who].confidence - 0.1
        assert after[who].score is not None
        assert after[who].pillars["Quality"] is None  # no evidence: no pillar score, not zero


def test_protected_leave_never_lowers_a_weekly_rate() -> None:
    people = _people(12, families=("Eng",), levels=("L2",))
    ids = people["employee_id"]
    merged = np.array([26, 52, 20, 30, 36, 44, 60, 66, 72, 80, 86, 94])
    # person 1 spent half the year on parental leave, at person 2's pace when at work
    leave = _rows(ids.head(1), PROTECTED_TYPE, np.array([182]))
    evidence = pl.concat([_rows(ids, "pr_merged", merged), leave])
    scores = _score(_inputs(people, evidence))
    rate = {
        s.employee_id: next(
            m["value"] for m in s.explanation["metrics"] if m["metric"] == "prs_merged_per_week"
        )
        for s in scores.values()
    }
    assert rate[1] == pytest.approx(rate[2], rel=0.01)
    one_rank = 100 / 12
    assert abs(scores[1].pillars["Productivity"] - scores[2].pillars["Productivity"]) <= one_rank
    # without the leave signal the same counts would read as half the pace
    unprotected = _score(_inputs(people, _rows(ids, "pr_merged", merged)))
    assert unprotected[1].pillars["Productivity"] < scores[1].pillars["Productivity"] - 2 * one_rank


def test_no_metric_of_the_default_model_reads_protected_leave() -> None:
    definition = default_definition()
    assert PROTECTED_TYPE == engine.PROTECTED_LEAVE_SIGNAL
    assert PROTECTED_TYPE not in definition.signal_types()
    assert "leave_day" not in definition.signal_types()


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (4, set()),
        (5, set()),
        (9, set()),
        (10, {"p50"}),
        (19, {"p50"}),
        (20, {"p25", "p50", "p75"}),
        (49, {"p25", "p50", "p75"}),
        (50, {"p10", "p25", "p50", "p75", "p90"}),
        (99, {"p10", "p25", "p50", "p75", "p90"}),
        (100, {"p10", "p25", "p50", "p75", "p90", "p95"}),
    ],
)
def test_peer_bands_are_k_anonymous_at_their_edges(n: int, shown: set[str]) -> None:
    rng = np.random.default_rng(n)
    people = _people(n, families=("Eng",), levels=("L2",))
    evidence = _evidence(people, rng.normal(size=n), rng)
    for s in _score(_inputs(people, evidence)).values():
        band = s.explanation["benchmark"]
        assert band["n"] == n
        assert {q for q, v in band["percentiles"].items() if v is not None} == shown
        assert set(band["suppressed"]) == set(band["percentiles"]) - shown
        if n < 5:
            assert all("bands need at least 5" in r for r in band["suppressed"].values())


def test_a_small_cohort_is_compared_with_a_coarser_one() -> None:
    rng = np.random.default_rng(3)
    people = _people(40, families=("Eng",), levels=("L2",)).with_columns(
        pl.when(pl.col("employee_id") <= 3).then(pl.lit("L9")).otherwise("level").alias("level")
    )
    scores = _score(_inputs(people, _evidence(people, rng.normal(size=40), rng)))
    assert scores[1].cohort == "Eng"  # three L9s fall back to the job family
    assert scores[1].explanation["benchmark"]["n"] == 40
    assert scores[10].cohort == "Eng · L2"
    assert scores[10].explanation["benchmark"]["n"] == 37


def test_contributions_add_up_to_the_distance_from_the_reference() -> None:
    rng = np.random.default_rng(8)
    people = _people(100)
    for s in _score(_inputs(people, _evidence(people, rng.normal(size=100), rng))).values():
        explanation = s.explanation
        total = sum(m["contribution"] or 0 for m in explanation["metrics"])
        assert total == pytest.approx(s.score - explanation["reference"], abs=0.1)
        positives = [c["contribution"] for c in explanation["top_positive"]]
        negatives = [c["contribution"] for c in explanation["top_negative"]]
        assert positives == sorted(positives, reverse=True) and all(c > 0 for c in positives)
        assert negatives == sorted(negatives) and all(c < 0 for c in negatives)
        assert len(positives) <= 3 and len(negatives) <= 3


def test_every_narrative_sentence_names_its_evidence() -> None:
    rng = np.random.default_rng(2)
    people = _people(30)
    for s in _score(_inputs(people, _evidence(people, rng.normal(size=30), rng))).values():
        narrative = s.explanation["narrative"]
        assert len(narrative) >= 3
        assert all(sentence["text"] and sentence["evidence"] for sentence in narrative)
        for item in s.explanation["top_positive"]:
            assert any(
                ref.get("metric") == item["metric"]
                for sent in narrative
                for ref in sent["evidence"]
            )


def test_scoring_is_deterministic_whatever_the_row_order() -> None:
    rng = np.random.default_rng(4)
    people = _people(50)
    evidence = _evidence(people, rng.normal(size=50), rng)
    first = engine.score(default_definition(), _inputs(people, evidence), model_hash="h")
    shuffled = _inputs(people.sample(fraction=1.0, seed=1), evidence.sample(fraction=1.0, seed=2))
    second = engine.score(default_definition(), shuffled, model_hash="h")
    assert first.inputs_digest == second.inputs_digest
    assert first.scores == second.scores
    other_model = engine.score(default_definition(), _inputs(people, evidence), model_hash="h2")
    assert {s.fingerprint for s in other_model.scores}.isdisjoint(
        {s.fingerprint for s in first.scores}
    )


def test_below_minimum_evidence_the_weight_goes_to_the_pillars_other_metrics() -> None:
    people = _people(20, families=("Eng",), levels=("L2",))
    ids = people["employee_id"]
    evidence = pl.concat(
        [
            _rows(ids, "pr_merged", np.arange(20) + 10),
            _rows(ids.head(1), "issue_resolved", np.array([3])),  # 3 of the 4 needed
        ]
    )
    s = _score(_inputs(people, evidence))[1]
    metrics = {m["metric"]: m for m in s.explanation["metrics"]}
    issues = metrics["issues_resolved_per_week"]
    assert issues["status"] == "insufficient_evidence"
    assert issues["reason"] == "3 of the 4 signals needed in the window"
    assert issues["contribution"] is None
    # Productivity is the PR metric alone: the lowest of 20 at (1 - 0.5) / 20
    assert s.pillars["Productivity"] == pytest.approx(100 * 0.5 / 20, abs=0.01)


def test_trend_and_flags() -> None:
    rng = np.random.default_rng(9)
    people = _people(30)
    evidence = _evidence(people, rng.normal(size=30), rng)
    base = _score(_inputs(people, evidence))
    previous = pl.DataFrame(
        {
            "employee_id": [1, 2],
            "score": [base[1].score - 20, base[2].score],
            "as_of": [date(2026, 6, 30)] * 2,
        },
        schema=engine.PREVIOUS_SCHEMA,
    )
    scores = _score(replace(_inputs(people, evidence), previous=previous))
    assert scores[1].trend == pytest.approx(20, abs=0.01)
    assert "big_change" in scores[1].flags
    assert scores[2].trend == 0
    assert scores[3].trend is None
    assert any("since the previous score" in s["text"] for s in scores[1].explanation["narrative"])


def test_zscore_and_lower_is_better() -> None:
    definition = parse_definition(
        default_definition().canonical_json().replace('"method":"percentile"', '"method":"zscore"')
    )
    people = _people(30, families=("Eng",), levels=("L2",))
    ids = people["employee_id"]
    absences = np.arange(30)
    evidence = _rows(ids, "absence_day", absences)
    scores = _score(_inputs(people, evidence), definition)
    attendance = [scores[i].pillars["Attendance"] for i in range(1, 31)]
    assert attendance == sorted(attendance, reverse=True)  # more absence, lower attendance
    assert attendance[0] > 90 and attendance[-1] < 10
