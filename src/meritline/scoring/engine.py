"""The scoring engine: frames in, scores and explanations out. Pure: no database, no ORM.

For each active employee and each metric of the model:

1. **Value.** The metric's signals summed over its window ending on the as-of date (a count, a
   sum, a mean per signal, a rate per week at work, or a share of another total). A rate per
   week divides by the weeks the person was employed in the window *less their protected leave*,
   so parental or medical leave never lowers a rate.
2. **Evidence.** A metric with fewer signals than its ``min_evidence`` is "insufficient
   evidence": it gets no normalised score, its weight goes to the pillar's other metrics, and
   the confidence drops.
3. **Normalisation** to 0..1 within the cohort (job family x level by default): percentile rank
   (ties count half), the normal CDF of the z-score, or progress toward a target; flipped when
   lower is better. A cohort with fewer than ``min_cohort`` people (or, for one metric, fewer
   with evidence) falls back to a coarser one, dropping cohort attributes from the right and in
   the end comparing with everyone.
4. **Pillars and overall.** A pillar is the weighted mean of its metrics with evidence (x 100);
   the overall score the weighted mean of the pillars with evidence. Confidence is the share of
   the model's total weight that evidence stands behind, so missing evidence lowers the
   confidence, never the score.
5. **Contributions.** Each metric's effective weight in the overall score times its deviation
   from the cohort's mean normalised score, in points: they sum to the score minus the
   *reference*, the score of a person at the cohort mean on every metric they have.

Everything is computed set-based with polars; only the final per-employee explanation (a small
document per person) is assembled in Python.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
from scipy.special import ndtr

from meritline.scoring.definition import ScoringModelDefinition
from meritline.scoring.narrative import narrate
from meritline.stats import peer_band

#: Signal type of protected leave days (HRMS connector), read only to discount rates per week.
PROTECTED_LEAVE_SIGNAL = "protected_leave_day"
#: A rate per week needs this many days at work in its window.
MIN_EXPOSURE_DAYS = 28
#: Days since hire within which a profile is flagged ``new_joiner``.
NEW_JOINER_DAYS = 90
#: Score change since the previous snapshot that flags ``big_change``.
BIG_CHANGE = 15.0
#: Contributors listed on each side of an explanation.
TOP = 3
K_ANONYMITY = 5

PEOPLE_SCHEMA = {"employee_id": pl.Int64, "hire_date": pl.Date}
EVIDENCE_SCHEMA = {
    "employee_id": pl.Int64,
    "type": pl.String,
    "window": pl.String,
    "count": pl.Int64,
    "total": pl.Float64,
}
PREVIOUS_SCHEMA = {"employee_id": pl.Int64, "score": pl.Float64, "as_of": pl.Date}


def window_bounds(window: str, as_of: date) -> tuple[date, date]:
    """The inclusive day range of a model window ending on ``as_of``.

    >>> window_bounds("qtd", date(2026, 5, 10))
    (datetime.date(2026, 4, 1), datetime.date(2026, 5, 10))
    """
    if window == "qtd":
        return date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1), as_of
    if window == "ytd":
        return date(as_of.year, 1, 1), as_of
    return as_of - timedelta(days=int(window.removesuffix("d")) - 1), as_of


def evidence_needed(definition: ScoringModelDefinition) -> dict[str, set[str]]:
    """Signal types the engine reads, per window (protected leave for rates per week)."""
    needed: dict[str, set[str]] = {}
    for _, metric in definition.metrics():
        types = needed.setdefault(metric.window, set())
        types.update(metric.signals, metric.share_of or ())
        if metric.aggregation == "per_week":
            types.add(PROTECTED_LEAVE_SIGNAL)
    return needed


@dataclass(frozen=True)
class ScoringInputs:
    """What a scoring run reads.

    ``people``: one row per active employee: ``employee_id``, ``hire_date`` and the model's
    cohort attributes (strings). ``evidence``: per employee, signal type and window name, the
    ``count`` and ``total`` of signals (see :func:`evidence_needed`). ``previous``: each
    employee's latest earlier score (``score``, ``as_of``), for the trend.
    """

    as_of: date
    people: pl.DataFrame
    evidence: pl.DataFrame
    previous: pl.DataFrame


@dataclass(frozen=True)
class EmployeeScore:
    """One employee's result: what a snapshot stores."""

    employee_id: int
    score: float | None
    confidence: float
    trend: float | None
    cohort: str
    pillars: dict[str, float | None]
    flags: list[str]
    fingerprint: str
    explanation: dict[str, Any]


@dataclass(frozen=True)
class ScoringResult:
    """Every employee's result, and the digest of all the run's inputs."""

    inputs_digest: str
    scores: list[EmployeeScore]


def score(
    definition: ScoringModelDefinition,
    inputs: ScoringInputs,
    *,
    model_hash: str,
) -> ScoringResult:
    """Score every employee of ``inputs.people`` with ``definition`` (see the module doc)."""
    people = _with_cohorts(definition, inputs.people)
    metrics = _metric_values(definition, inputs)
    normalised = _normalise(definition, metrics, people)
    pillars, overall = _aggregate(definition, normalised)
    overall = overall.join(
        inputs.previous.select(
            "employee_id", pl.col("score").alias("previous_score"), "as_of"
        ).rename({"as_of": "previous_as_of"}),
        on="employee_id",
        how="left",
    )
    digest = _inputs_digest(inputs, model_hash)
    bands = _bands(definition, people, overall)
    return ScoringResult(
        inputs_digest=digest,
        scores=_assemble(
            definition,
            inputs.as_of,
            people=people,
            normalised=normalised,
            pillars=pillars,
            overall=overall,
            bands=bands,
            identity=(model_hash, digest),
        ),
    )


# --- values ----------------------------------------------------------------------------------


def _metric_values(definition: ScoringModelDefinition, inputs: ScoringInputs) -> pl.DataFrame:
    """One row per employee and metric: value, evidence, whether it suffices, and why not."""
    as_of = inputs.as_of
    frames = []
    base = inputs.people.select("employee_id", "hire_date")
    for pillar, metric in definition.metrics():
        start, end = window_bounds(metric.window, as_of)
        in_window = inputs.evidence.filter(pl.col("window") == metric.window)

        def sums(types: tuple[str, ...], name: str, frame: pl.DataFrame = in_window) -> Any:
            return (
                frame.filter(pl.col("type").is_in(types))
                .group_by("employee_id")
                .agg(pl.col("count").sum().alias(f"{name}_n"), pl.col("total").sum().alias(name))
            )

        f = base.join(sums(metric.signals, "num"), on="employee_id", how="left")
        f = f.join(sums(metric.share_of or (), "den"), on="employee_id", how="left")
        f = f.join(sums((PROTECTED_LEAVE_SIGNAL,), "leave"), on="employee_id", how="left")
        f = f.with_columns(pl.col("num_n", "num", "den_n", "den", "leave").fill_null(0))
        exposure = (
            (pl.lit(end) - pl.max_horizontal(pl.lit(start), pl.col("hire_date"))).dt.total_days()
            + 1
            - pl.col("leave").round(0).cast(pl.Int64)
        )
        evidence = pl.col("den_n") if metric.share_of else pl.col("num_n")
        value: pl.Expr
        if metric.share_of:
            value = pl.when(pl.col("den_n") > 0).then(pl.col("num_n") / pl.col("den_n"))
        elif metric.aggregation == "count":
            value = pl.col("num_n").cast(pl.Float64)
        elif metric.aggregation == "sum":
            value = pl.col("num")
        elif metric.aggregation == "mean":
            value = pl.when(pl.col("num_n") > 0).then(pl.col("num") / pl.col("num_n"))
        else:  # per_week
            value = pl.when(pl.col("exposure") >= MIN_EXPOSURE_DAYS).then(
                pl.col("num") / (pl.col("exposure") / 7)
            )
        needed = metric.min_evidence
        reason: Any = pl.when(evidence < needed).then(
            pl.format(f"{{}} of the {needed} signals needed in the window", evidence)
        )
        if metric.aggregation == "per_week":
            reason = reason.when(pl.col("exposure") < MIN_EXPOSURE_DAYS).then(
                pl.lit("fewer than four weeks at work in the window (protected leave not counted)")
            )
        reason = reason.when(value.is_null()).then(pl.lit("no signals to measure in the window"))
        frames.append(
            f.with_columns(exposure.alias("exposure"))
            .with_columns(
                pl.lit(pillar.name).alias("pillar"),
                pl.lit(metric.name).alias("metric"),
                value.cast(pl.Float64).round(6).alias("value"),
                evidence.cast(pl.Int64).alias("evidence"),
                reason.cast(pl.String).alias("reason"),
                pl.lit(start).alias("start"),
                pl.lit(end).alias("end"),
            )
            .select(
                "employee_id", "pillar", "metric", "value", "evidence", "reason", "start", "end"
            )
        )
    return pl.concat(frames).with_columns(pl.col("reason").is_null().alias("sufficient"))


# --- cohorts and normalisation ---------------------------------------------------------------


def _levels(definition: ScoringModelDefinition) -> list[list[str]]:
    """Cohort keys from the most specific to everyone: [[job_family, level], [job_family], []]."""
    cohort: list[str] = list(definition.cohort)
    return [cohort[:i] for i in range(len(cohort), -1, -1)]


def _over(expr: pl.Expr, keys: list[str]) -> pl.Expr:
    return expr.over(keys) if keys else expr


def _first_level(sizes: list[pl.Expr], minimum: int, start: pl.Expr | None = None) -> pl.Expr:
    """The first level (at or after ``start``) whose size reaches ``minimum``, else the last."""
    last = len(sizes) - 1
    chain: Any = None
    for j, size in enumerate(sizes[:-1]):
        ok = size >= minimum if start is None else (size >= minimum) & (start <= j)
        chain = pl.when(ok).then(pl.lit(j)) if chain is None else chain.when(ok).then(pl.lit(j))
    if chain is None:
        return pl.lit(last)
    result: pl.Expr = chain.otherwise(pl.lit(last))
    return result


def _pick(columns: list[str], level: str) -> pl.Expr:
    """The column of ``columns`` at the index held in ``level``."""
    chain: Any = pl.lit(None)
    for j in reversed(range(len(columns))):
        chain = pl.when(pl.col(level) == j).then(pl.col(columns[j])).otherwise(chain)
    result: pl.Expr = chain
    return result


def _label(keys: list[str]) -> pl.Expr:
    if not keys:
        return pl.lit("everyone")
    return pl.concat_str([pl.col(k).fill_null("(none)") for k in keys], separator=" · ")


def _with_cohorts(definition: ScoringModelDefinition, people: pl.DataFrame) -> pl.DataFrame:
    """People with their cohort level (0 = most specific) and its label."""
    levels = _levels(definition)
    people = people.with_columns(pl.col(a).cast(pl.String) for a in definition.cohort)
    sizes = [f"_size{j}" for j in range(len(levels))]
    labels = [f"_label{j}" for j in range(len(levels))]
    people = people.with_columns(
        *(_over(pl.len(), keys).alias(sizes[j]) for j, keys in enumerate(levels)),
        *(_label(keys).alias(labels[j]) for j, keys in enumerate(levels)),
    )
    people = people.with_columns(
        _first_level([pl.col(s) for s in sizes], definition.min_cohort).alias("_level")
    )
    return people.with_columns(
        _pick(labels, "_level").alias("cohort"), _pick(sizes, "_level").alias("cohort_size")
    ).drop(*sizes, *labels)


def _metric_table(definition: ScoringModelDefinition) -> pl.DataFrame:
    rows = [
        {
            "metric": m.name,
            "method": m.normalisation.method,
            "target": m.normalisation.target,
            "lower": m.direction == "lower",
            "weight": m.weight,
            "pillar_weight": p.weight,
        }
        for p, m in definition.metrics()
    ]
    return pl.DataFrame(
        rows,
        schema={
            "metric": pl.String,
            "method": pl.String,
            "target": pl.Float64,
            "lower": pl.Boolean,
            "weight": pl.Float64,
            "pillar_weight": pl.Float64,
        },
    )


def _normalise(
    definition: ScoringModelDefinition, metrics: pl.DataFrame, people: pl.DataFrame
) -> pl.DataFrame:
    """Add ``s`` (0..1, null without evidence), ``baseline`` (the cohort's mean ``s``) and the
    group compared with (``compared_with``, ``compared_n``) to every metric row.
    """
    levels = _levels(definition)
    keys = [[*k, "metric"] for k in levels]
    frame = metrics.join(_metric_table(definition), on="metric").join(
        people.select("employee_id", "_level", *definition.cohort), on="employee_id"
    )
    sufficient = frame.filter(pl.col("sufficient"))
    rest = frame.filter(~pl.col("sufficient"))
    js = range(len(levels))
    x = pl.col("value")
    sufficient = sufficient.with_columns(
        *(_over(pl.len(), keys[j]).alias(f"_n{j}") for j in js),
        *(_over(x.rank("average"), keys[j]).alias(f"_rank{j}") for j in js),
        *(_over(x.mean(), keys[j]).alias(f"_mean{j}") for j in js),
        *(_over(x.std(ddof=0), keys[j]).alias(f"_sd{j}") for j in js),
        *(_label(levels[j]).alias(f"_label{j}") for j in js),
    )
    z = {
        j: np.clip(
            (
                sufficient.select(
                    pl.when(pl.col(f"_sd{j}") > 0)
                    .then((x - pl.col(f"_mean{j}")) / pl.col(f"_sd{j}"))
                    .otherwise(0.0)
                )
                .to_series()
                .to_numpy()
            ),
            -3,
            3,
        )
        for j in js
    }
    sufficient = sufficient.with_columns(
        *(pl.Series(f"_z{j}", ndtr(z[j]), dtype=pl.Float64) for j in js)
    )
    raw = {
        j: pl.when(pl.col("method") == "percentile")
        .then((pl.col(f"_rank{j}") - 0.5) / pl.col(f"_n{j}"))
        .when(pl.col("method") == "zscore")
        .then(pl.col(f"_z{j}"))
        .otherwise(pl.min_horizontal(x / pl.col("target"), pl.lit(1.0)))
        for j in js
    }
    sufficient = sufficient.with_columns(
        *(pl.when(pl.col("lower")).then(1 - raw[j]).otherwise(raw[j]).alias(f"_s{j}") for j in js),
    )
    sufficient = sufficient.with_columns(
        *(_over(pl.col(f"_s{j}").mean(), keys[j]).alias(f"_base{j}") for j in js),
        _first_level(
            [pl.col(f"_n{j}") for j in js], definition.min_cohort, start=pl.col("_level")
        ).alias("_at"),
    )
    sufficient = sufficient.with_columns(
        _pick([f"_s{j}" for j in js], "_at").round(6).alias("s"),
        _pick([f"_base{j}" for j in js], "_at").round(6).alias("baseline"),
        _pick([f"_label{j}" for j in js], "_at").alias("compared_with"),
        _pick([f"_n{j}" for j in js], "_at").cast(pl.Int64).alias("compared_n"),
    ).select(*frame.columns, "s", "baseline", "compared_with", "compared_n")
    rest = rest.with_columns(
        pl.lit(None, pl.Float64).alias("s"),
        pl.lit(None, pl.Float64).alias("baseline"),
        pl.lit(None, pl.String).alias("compared_with"),
        pl.lit(None, pl.Int64).alias("compared_n"),
    )
    return pl.concat([sufficient, rest]).sort("employee_id", "metric")


# --- pillars, overall, contributions ---------------------------------------------------------


def _aggregate(
    definition: ScoringModelDefinition, normalised: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pillar scores and coverage; the overall score, confidence and reference per employee.

    Adds nothing to ``normalised`` in place; the per-metric ``effective`` weight and
    ``contribution`` come back in the pillars' ``metrics`` join (see :func:`_assemble`).
    """
    total_weight = sum(p.weight for p in definition.pillars)
    w = pl.col("weight")
    pillars = normalised.group_by("employee_id", "pillar", "pillar_weight").agg(
        w.filter(pl.col("sufficient")).sum().alias("w_sufficient"),
        w.sum().alias("w_all"),
        (w * pl.col("s")).filter(pl.col("sufficient")).sum().alias("ws"),
        (w * pl.col("baseline")).filter(pl.col("sufficient")).sum().alias("wb"),
    )
    pillars = pillars.with_columns(
        pl.when(pl.col("w_sufficient") > 0)
        .then(100 * pl.col("ws") / pl.col("w_sufficient"))
        .alias("score"),
        pl.when(pl.col("w_sufficient") > 0)
        .then(100 * pl.col("wb") / pl.col("w_sufficient"))
        .alias("reference"),
        (pl.col("w_sufficient") / pl.col("w_all")).alias("coverage"),
    )
    scored_weight = (
        pl.col("pillar_weight").filter(pl.col("score").is_not_null()).sum().alias("scored_weight")
    )
    overall = pillars.group_by("employee_id").agg(
        scored_weight,
        (pl.col("pillar_weight") * pl.col("score")).sum().alias("_ws"),
        (pl.col("pillar_weight") * pl.col("reference")).sum().alias("_wr"),
        (pl.col("pillar_weight") * pl.col("coverage")).sum().alias("_wc"),
    )
    overall = overall.with_columns(
        pl.when(pl.col("scored_weight") > 0)
        .then(pl.col("_ws") / pl.col("scored_weight"))
        .round(2)
        .alias("score"),
        pl.when(pl.col("scored_weight") > 0)
        .then(pl.col("_wr") / pl.col("scored_weight"))
        .round(2)
        .alias("reference"),
        (pl.col("_wc") / total_weight if total_weight else pl.lit(0.0))
        .round(3)
        .alias("confidence"),
    ).drop("_ws", "_wr", "_wc")
    pillars = pillars.join(overall.select("employee_id", "scored_weight"), on="employee_id")
    return pillars, overall


# --- peer bands ------------------------------------------------------------------------------


def _bands(
    definition: ScoringModelDefinition, people: pl.DataFrame, overall: pl.DataFrame
) -> dict[tuple[int, tuple[Any, ...]], dict[str, Any]]:
    """The k-anonymous band of overall scores of each comparison group someone is in, keyed
    by (cohort level, the group's attribute values).
    """
    levels = _levels(definition)
    frame = people.join(overall.select("employee_id", "score"), on="employee_id", how="left")
    bands: dict[tuple[int, tuple[Any, ...]], dict[str, Any]] = {}
    for j, keys in enumerate(levels):
        used = frame.filter(pl.col("_level") == j)
        if used.is_empty():
            continue
        if keys:
            wanted = used.select(keys).unique()
            groups = frame.join(wanted, on=keys, nulls_equal=True).group_by(keys).agg("score")
        else:
            groups = frame.select(pl.col("score").implode())
        for row in groups.iter_rows(named=True):
            key = tuple(row[k] for k in keys)
            band = peer_band([np.nan if v is None else v for v in row["score"]], k=K_ANONYMITY)
            bands[(j, key)] = {
                "attributes": dict(zip(keys, key, strict=True)),
                "n": band.n,
                "k": band.k,
                "percentiles": {
                    q: None if v is None else round(v, 2) for q, v in band.percentiles.items()
                },
                "suppressed": band.suppressed,
            }
    return bands


# --- explanations ----------------------------------------------------------------------------


def _inputs_digest(inputs: ScoringInputs, model_hash: str) -> str:
    """SHA-256 of everything a run reads, in a canonical order and rounding."""
    digest = hashlib.sha256(f"{model_hash}|{inputs.as_of.isoformat()}|".encode())
    for frame, order in (
        (inputs.people, ["employee_id"]),
        (inputs.evidence.with_columns(pl.col("total").round(6)), ["employee_id", "type", "window"]),
        (inputs.previous.with_columns(pl.col("score").round(2)), ["employee_id"]),
    ):
        canonical = frame.select(sorted(frame.columns)).sort(order)
        digest.update(canonical.write_csv().encode())
    return digest.hexdigest()


def _position(value: float | None, percentiles: dict[str, float | None]) -> str | None:
    """Where ``value`` falls among the shown percentiles: ``"between P75 and P90"``."""
    if value is None:
        return None
    shown = [(int(label[1:]), v) for label, v in percentiles.items() if v is not None]
    if not shown:
        return None
    below = [p for p, v in shown if v <= value]
    above = [p for p, v in shown if v > value]
    if not below:
        return f"below P{min(above)}"
    if not above:
        return f"at or above P{max(below)}"
    return f"between P{max(below)} and P{min(above)}"


def _assemble(
    definition: ScoringModelDefinition,
    as_of: date,
    *,
    people: pl.DataFrame,
    normalised: pl.DataFrame,
    pillars: pl.DataFrame,
    overall: pl.DataFrame,
    bands: dict[tuple[int, tuple[Any, ...]], dict[str, Any]],
    identity: tuple[str, str],
) -> list[EmployeeScore]:
    model_hash, digest = identity
    levels = _levels(definition)
    pillar_weights = {p.name: p.weight for p in definition.pillars}

    contributions = (
        normalised.join(
            pillars.select("employee_id", "pillar", "w_sufficient", "scored_weight"),
            on=["employee_id", "pillar"],
        )
        .with_columns(
            pl.when(pl.col("sufficient") & (pl.col("scored_weight") > 0))
            .then(
                pl.col("pillar_weight")
                / pl.col("scored_weight")
                * pl.col("weight")
                / pl.col("w_sufficient")
            )
            .round(6)
            .alias("effective"),
        )
        .with_columns(
            (100 * pl.col("effective") * (pl.col("s") - pl.col("baseline")))
            .round(2)
            .alias("contribution")
        )
    )
    metric_entries = _metric_entries(definition, contributions)
    pillar_rows: dict[int, dict[str, dict[str, Any]]] = {}
    for row in pillars.iter_rows(named=True):
        pillar_rows.setdefault(row["employee_id"], {})[row["pillar"]] = row

    joined = people.join(overall, on="employee_id", how="left").sort("employee_id")
    results = []
    for person in joined.iter_rows(named=True):
        employee_id = person["employee_id"]
        prows = pillar_rows.get(employee_id, {})
        metrics = metric_entries.get(employee_id, [])
        pillar_detail = {}
        for name in (p.name for p in definition.pillars):
            prow = prows.get(name)
            scored = [m for m in metrics if m["pillar"] == name and m["contribution"] is not None]
            pillar_detail[name] = {
                "score": None if prow is None or prow["score"] is None else round(prow["score"], 2),
                "weight": pillar_weights[name],
                "coverage": 0.0 if prow is None else round(prow["coverage"], 3),
                "contribution": round(sum(m["contribution"] for m in scored), 2)
                if scored
                else None,
            }
        ranked = sorted(
            (m for m in metrics if m["contribution"] is not None),
            key=lambda m: (-m["contribution"], m["metric"]),
        )
        top_positive = [_brief(m) for m in ranked if m["contribution"] > 0][:TOP]
        top_negative = [_brief(m) for m in reversed(ranked) if m["contribution"] < 0][:TOP]
        missing = [
            {"pillar": m["pillar"], "metric": m["metric"], "reason": m["reason"]}
            for m in metrics
            if m["status"] == "insufficient_evidence"
        ] + [
            {"pillar": p.name, "metric": None, "reason": "no evidence source for this pillar yet"}
            for p in definition.pillars
            if not p.metrics and p.weight > 0
        ]
        level = person["_level"]
        band = bands[(level, tuple(person[k] for k in levels[level]))]
        score_value = person["score"]
        previous = person["previous_score"]
        trend = (
            None if score_value is None or previous is None else round(score_value - previous, 2)
        )
        benchmark = {
            "cohort": person["cohort"],
            **band,
            "position": _position(score_value, band["percentiles"]),
        }
        explanation: dict[str, Any] = {
            "score": score_value,
            "confidence": person["confidence"],
            "reference": person["reference"],
            "trend": trend,
            "previous": None
            if previous is None
            else {"score": previous, "as_of": person["previous_as_of"].isoformat()},
            "pillars": pillar_detail,
            "metrics": metrics,
            "top_positive": top_positive,
            "top_negative": top_negative,
            "missing_evidence": missing,
            "benchmark": benchmark,
        }
        explanation["narrative"] = narrate(explanation, definition, as_of=as_of)
        fingerprint = hashlib.sha256(
            json.dumps(
                [
                    model_hash,
                    as_of.isoformat(),
                    digest,
                    person["cohort"],
                    [[m["metric"], m["value"], m["evidence"]] for m in metrics],
                ],
                separators=(",", ":"),
            ).encode()
        ).hexdigest()
        results.append(
            EmployeeScore(
                employee_id=employee_id,
                score=score_value,
                confidence=person["confidence"],
                trend=trend,
                cohort=person["cohort"],
                pillars={name: detail["score"] for name, detail in pillar_detail.items()},
                flags=_flags(definition, person, trend, as_of),
                fingerprint=fingerprint,
                explanation=explanation,
            )
        )
    return results


def _metric_entries(
    definition: ScoringModelDefinition, contributions: pl.DataFrame
) -> dict[int, list[dict[str, Any]]]:
    """Each employee's metric entries (the explanation's ``metrics``, by metric name), built
    column-wise and handed to Python once.
    """
    lists = pl.List(pl.String)
    meta = pl.DataFrame(
        [
            {
                "metric": m.name,
                "description": m.description or m.name,
                "aggregation": "share" if m.share_of else m.aggregation,
                "signals": list(m.signals),
                "share_of": list(m.share_of) if m.share_of else None,
                "window_name": m.window,
                "min_evidence": m.min_evidence,
                "normalisation": m.normalisation.method,
                "direction": m.direction,
            }
            for _, m in definition.metrics()
        ],
        schema_overrides={"signals": lists, "share_of": lists},
    )
    day = "%Y-%m-%d"
    entry = pl.struct(
        "metric",
        "pillar",
        "description",
        pl.col("value").round(4),
        "aggregation",
        "signals",
        "share_of",
        pl.struct(
            pl.col("window_name").alias("name"),
            pl.col("start").dt.to_string(day),
            pl.col("end").dt.to_string(day),
        ).alias("window"),
        "evidence",
        "min_evidence",
        pl.when(pl.col("sufficient"))
        .then(pl.lit("scored"))
        .otherwise(pl.lit("insufficient_evidence"))
        .alias("status"),
        "reason",
        "normalisation",
        "direction",
        pl.col("s").round(4).alias("normalised"),
        pl.col("baseline").round(4).alias("cohort_mean"),
        pl.when(pl.col("compared_with").is_not_null())
        .then(pl.struct(pl.col("compared_with").alias("cohort"), pl.col("compared_n").alias("n")))
        .alias("compared_with"),
        pl.col("effective").round(4).alias("weight"),
        "contribution",
    )
    grouped = (
        contributions.join(meta, on="metric")
        .sort("employee_id", "metric")
        .group_by("employee_id", maintain_order=True)
        .agg(entry.alias("metrics"))
    )
    return dict(zip(grouped["employee_id"].to_list(), grouped["metrics"].to_list(), strict=True))


def _brief(metric: dict[str, Any]) -> dict[str, Any]:
    keys = ("metric", "pillar", "contribution", "value", "normalised", "description")
    return {k: metric[k] for k in keys}


def _flags(
    definition: ScoringModelDefinition, person: dict[str, Any], trend: float | None, as_of: date
) -> list[str]:
    flags = []
    score_value, confidence = person["score"], person["confidence"]
    if score_value is None:
        flags.append("no_score")
    elif score_value >= definition.high_performer_score and confidence >= definition.min_confidence:
        flags.append("high_performer")
    if confidence < definition.min_confidence:
        flags.append("low_confidence")
    hired = person["hire_date"]
    if hired is not None and (as_of - hired).days < NEW_JOINER_DAYS:
        flags.append("new_joiner")
    if trend is not None and abs(trend) >= BIG_CHANGE:
        flags.append("big_change")
    return flags
