"""Scoring models as validated data: the default model and the mistakes a user can make."""

from __future__ import annotations

import json

import pytest
import yaml

from meritline.errors import InvalidInput
from meritline.scoring.definition import (
    DEFAULT_MODEL_PATH,
    PILLARS,
    ScoringModelDefinition,
    default_definition,
    parse_definition,
)

NEVER_SCORED = {
    "leave_day",
    "protected_leave_day",
    "after_hours_meeting_hours",
    "weekend_meeting_hours",
}


def _default_data() -> dict:
    return yaml.safe_load(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))


def test_the_default_model_declares_the_thirteen_pillars() -> None:
    model = default_definition()
    assert [p.name for p in model.pillars] == list(PILLARS)
    assert len(PILLARS) == 13
    without_metrics = {p.name for p in model.pillars if not p.metrics}
    assert {"Goal", "Feedback", "Sentiment"} <= without_metrics
    assert model.cohort == ("job_family", "level")


def test_the_default_model_never_reads_leave_or_wellbeing_signals() -> None:
    assert not default_definition().signal_types() & NEVER_SCORED


def test_json_and_yaml_give_the_same_model_and_canonical_form() -> None:
    from_yaml = default_definition()
    from_json = parse_definition(json.dumps(_default_data()))
    assert from_json == from_yaml
    assert from_json.canonical_json() == from_yaml.canonical_json()
    assert json.loads(from_yaml.canonical_json())["name"] == "default"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["pillars"].pop(0), "missing: Goal"),
        (lambda d: d["pillars"].append(dict(d["pillars"][2])), "declared twice"),
        (
            lambda d: d["pillars"][2]["metrics"].append(dict(d["pillars"][2]["metrics"][0])),
            "repeated: prs_merged_per_week",
        ),
        (
            lambda d: d["pillars"][2]["metrics"][0].update(normalisation={"method": "target"}),
            "a target is required",
        ),
        (
            lambda d: d["pillars"][2]["metrics"][0].update(formula="prs * 2"),
            "pillars.2.metrics.0.formula",
        ),
        (lambda d: d["pillars"][2]["metrics"][0].update(window="2y"), "window"),
        (lambda d: d["pillars"][2]["metrics"][0].update(signals=[]), "signals"),
        (lambda d: d["pillars"][2].update(weight=-1), "weight"),
        (lambda d: d.update(cohort=["shoe_size"]), "cohort"),
        (lambda d: d["pillars"][2]["metrics"][0].update(name="PRs Merged"), "name"),
    ],
)
def test_mistakes_are_refused_with_where_and_why(change, message: str) -> None:
    data = _default_data()
    change(data)
    with pytest.raises(InvalidInput, match="not a valid scoring model") as caught:
        parse_definition(json.dumps(data), source="mine.yaml")
    assert message in str(caught.value)
    assert "mine.yaml" in str(caught.value)


def test_a_model_with_no_metrics_at_all_is_refused() -> None:
    data = _default_data()
    for pillar in data["pillars"]:
        pillar.pop("metrics", None)
    with pytest.raises(InvalidInput, match="has no metrics"):
        parse_definition(json.dumps(data))


@pytest.mark.parametrize("text", ["name: [unclosed", "- just\n- a list\n", "42"])
def test_text_that_is_not_a_model_mapping_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_definition(text)


def test_definitions_are_immutable() -> None:
    model = default_definition()
    with pytest.raises(ValueError):
        model.pillars[0].weight = 1.0  # type: ignore[misc]
    assert isinstance(model, ScoringModelDefinition)
