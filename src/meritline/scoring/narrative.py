"""A plain-language narrative of an explanation, by templates (the AI layer may offer more).

Every sentence carries ``evidence``: the metrics (signal types, window, count), pillars or peer
group it rests on, so a reader can follow each claim back to the records behind it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from meritline.scoring.definition import ScoringModelDefinition


def narrate(
    explanation: dict[str, Any], definition: ScoringModelDefinition, *, as_of: date
) -> list[dict[str, Any]]:
    """The narrative of ``explanation``: a list of ``{"text", "evidence"}`` sentences."""
    metrics = {m["metric"]: m for m in explanation["metrics"]}
    sentences = [_headline(explanation, as_of)]
    sentences.append(_benchmark(explanation["benchmark"]))
    for item in explanation["top_positive"]:
        sentences.append(_contributor(metrics[item["metric"]], lift=True))
    for item in explanation["top_negative"]:
        sentences.append(_contributor(metrics[item["metric"]], lift=False))
    thin = [metrics[m["metric"]] for m in explanation["missing_evidence"] if m["metric"]]
    if thin:
        names = _join([_describe(m) for m in thin])
        sentences.append(
            _sentence(
                f"Not enough evidence for {names}; "
                + ("its weight goes" if len(thin) == 1 else "their weight goes")
                + " to the other metrics of the pillar, and the confidence is lower.",
                [_metric_ref(m) for m in thin],
            )
        )
    unsourced = [m["pillar"] for m in explanation["missing_evidence"] if m["metric"] is None]
    if unsourced:
        sentences.append(
            _sentence(
                f"{_join(unsourced)} {'has' if len(unsourced) == 1 else 'have'} no evidence "
                "source yet; this lowers the confidence, not the score.",
                [{"pillar": p, "weight": _weight(definition, p)} for p in unsourced],
            )
        )
    if explanation["trend"] is not None and explanation["previous"]:
        change, previous = explanation["trend"], explanation["previous"]
        text = (
            f"Unchanged since the previous score of {previous['as_of']}."
            if abs(change) < 0.05
            else f"{'Up' if change > 0 else 'Down'} {abs(change):.1f} points since the previous "
            f"score ({previous['score']:.1f} as of {previous['as_of']})."
        )
        sentences.append(_sentence(text, [{"previous_score": previous}]))
    return sentences


def _headline(explanation: dict[str, Any], as_of: date) -> dict[str, Any]:
    scored = {n: p["score"] for n, p in explanation["pillars"].items() if p["score"] is not None}
    if explanation["score"] is None:
        return _sentence(
            f"There is no score as of {as_of}: no metric of the model has enough evidence.",
            [{"missing_evidence": len(explanation["missing_evidence"])}],
        )
    return _sentence(
        f"Overall score {explanation['score']:.0f} of 100 as of {as_of}, with confidence "
        f"{explanation['confidence']:.0%}: the share of the model's weight that evidence stands "
        f"behind. A peer at the cohort's mean on every measured metric would score "
        f"{explanation['reference']:.0f}.",
        [{"pillar": name, "score": value} for name, value in scored.items()],
    )


def _benchmark(benchmark: dict[str, Any]) -> dict[str, Any]:
    ref = [{"peer_group": benchmark["cohort"], "n": benchmark["n"]}]
    if benchmark["position"] is None:
        reasons = benchmark["suppressed"]
        reason = reasons.get("p50") or next(iter(reasons.values()), "no score to compare")
        return _sentence(f"No peer comparison is shown: {reason}.", ref)
    median = benchmark["percentiles"].get("p50")
    tail = f" (median {median:.0f})" if median is not None else ""
    return _sentence(
        f"Among the {benchmark['n']} people of {benchmark['cohort']} with a score, this is "
        f"{benchmark['position']}{tail}.",
        ref,
    )


def _contributor(metric: dict[str, Any], *, lift: bool) -> dict[str, Any]:
    change = metric["contribution"]
    effect = f"adds {change:.1f} points" if lift else f"takes {abs(change):.1f} points away"
    side = "better than" if lift else "worse than"
    return _sentence(
        f"{_describe(metric, capital=True)}: {_format(metric)} from {metric['window']['start']} "
        f"to {metric['window']['end']}, {side} the cohort's mean; it {effect}.",
        [_metric_ref(metric)],
    )


def _describe(metric: dict[str, Any], *, capital: bool = False) -> str:
    text = str(metric["description"]).strip().rstrip(".")
    if not capital and text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text


def _format(metric: dict[str, Any]) -> str:
    value, kind = metric["value"], metric["aggregation"]
    if kind == "per_week":
        return f"{value:.1f} a week"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "mean":
        return f"{value:.2f} on average"
    return f"{value:g}"


def _metric_ref(metric: dict[str, Any]) -> dict[str, Any]:
    return {
        "metric": metric["metric"],
        "signals": metric["share_of"] or metric["signals"],
        "window": {"start": metric["window"]["start"], "end": metric["window"]["end"]},
        "signal_count": metric["evidence"],
    }


def _weight(definition: ScoringModelDefinition, pillar: str) -> float:
    return next(p.weight for p in definition.pillars if p.name == pillar)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": text, "evidence": evidence}
