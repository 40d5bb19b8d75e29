"""Scoring models as declarative data: pillars with weights, and metrics that say how evidence
becomes a score. Validated here; never code and never a formula string.

A model file (YAML or JSON) looks like::

    name: default
    description: Twelve months of evidence across thirteen pillars.
    cohort: [job_family, level]
    pillars:
      - name: Productivity
        weight: 0.15
        metrics:
          - name: prs_merged
            signals: [pr_merged]
            window: 365d
            aggregation: per_week
            normalisation: {method: percentile}
            direction: higher
            min_evidence: 4

Metric values are computed over the window ending on the as-of date, normalised within the
employee's cohort to 0..1 (percentile rank, z-score through the normal CDF, or progress toward a
target), and flipped when lower is better. A metric with less evidence than ``min_evidence`` is
"insufficient evidence": its weight goes to the pillar's other metrics and confidence drops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from meritline.errors import InvalidInput

PillarName = Literal[
    "Goal",
    "Feedback",
    "Productivity",
    "Attendance",
    "Collaboration",
    "Leadership",
    "Learning",
    "Behavioral",
    "Quality",
    "Innovation",
    "CustomerImpact",
    "Sentiment",
    "Recognition",
]
#: The thirteen pillars every model declares (a pillar may have no metrics yet).
PILLARS: tuple[str, ...] = get_args(PillarName)
#: Employee attributes a cohort may be made of.
COHORT_ATTRIBUTES = ("job_family", "level", "org_unit", "location")
WINDOWS = ("30d", "90d", "180d", "365d", "qtd", "ytd")

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Weight = Annotated[float, Field(gt=0, le=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Normalisation(_Strict):
    """How a metric's raw value becomes 0..1 within the cohort.

    ``percentile``: the share of the cohort below (ties count half). ``zscore``: the normal CDF
    of the z-score within the cohort, clipped at +-3. ``target``: value / target, capped at 1
    (no cohort needed).
    """

    method: Literal["percentile", "zscore", "target"]
    target: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _target_given(self) -> Normalisation:
        if (self.method == "target") != (self.target is not None):
            raise ValueError("a target is required with method 'target', and only then")
        return self


class Metric(_Strict):
    """One measurable thing in a pillar."""

    name: Slug
    description: str = ""
    #: Signal types summed into the value.
    signals: Annotated[tuple[Slug, ...], Field(min_length=1)]
    #: When given, the value is a share: the ``signals`` total over this total (e.g. after-hours
    #: meeting hours over all meeting hours).
    share_of: tuple[Slug, ...] | None = None
    window: Literal["30d", "90d", "180d", "365d", "qtd", "ytd"] = "365d"
    #: ``count`` of signals, ``sum`` of their values, ``per_week`` (sum over the window's weeks),
    #: or ``mean`` value per signal.
    aggregation: Literal["count", "sum", "per_week", "mean"] = "sum"
    normalisation: Normalisation
    direction: Literal["higher", "lower"] = "higher"
    #: Signals needed in the window (of ``signals``, or of ``share_of`` for a share). Zero for
    #: counts where none is itself a fact (no unplanned absence, no kudos received).
    min_evidence: Annotated[int, Field(ge=0)] = 1
    weight: Weight = 1.0


class Pillar(_Strict):
    """A weighted group of metrics; it may have none yet (it then reports no evidence)."""

    name: PillarName
    description: str = ""
    #: Zero declares a pillar that does not count yet.
    weight: Annotated[float, Field(ge=0, le=1000)]
    metrics: tuple[Metric, ...] = ()


class ScoringModelDefinition(_Strict):
    """A whole scoring model, as a user writes it."""

    name: Slug
    description: str = ""
    #: Employees are compared with others sharing these attributes.
    cohort: tuple[Literal["job_family", "level", "org_unit", "location"], ...] = (
        "job_family",
        "level",
    )
    #: A cohort smaller than this falls back to a coarser one (dropping attributes from the
    #: right), and in the end to everyone.
    min_cohort: Annotated[int, Field(ge=2)] = 5
    #: A profile flag: overall score at or above this, with enough confidence.
    high_performer_score: Annotated[float, Field(ge=0, le=100)] = 80.0
    #: ... and at least this confidence; below it a profile is flagged ``low_confidence``.
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.3
    pillars: tuple[Pillar, ...]

    @model_validator(mode="after")
    def _consistent(self) -> ScoringModelDefinition:
        names = [p.name for p in self.pillars]
        missing = [p for p in PILLARS if p not in names]
        if missing:
            raise ValueError(f"every pillar must be declared; missing: {', '.join(missing)}")
        if len(set(names)) != len(names):
            raise ValueError("a pillar is declared twice")
        metrics = [m.name for p in self.pillars for m in p.metrics]
        twice = sorted({m for m in metrics if metrics.count(m) > 1})
        if twice:
            raise ValueError(f"metric names must be unique; repeated: {', '.join(twice)}")
        if not metrics:
            raise ValueError("the model has no metrics")
        return self

    def metrics(self) -> list[tuple[Pillar, Metric]]:
        """Every (pillar, metric) pair, in declaration order."""
        return [(pillar, metric) for pillar in self.pillars for metric in pillar.metrics]

    def signal_types(self) -> set[str]:
        """Every signal type the model reads."""
        return {t for _, m in self.metrics() for t in (*m.signals, *(m.share_of or ()))}

    def canonical_json(self) -> str:
        """The definition as canonical JSON (sorted keys): what versions and fingerprints hash."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


DEFAULT_MODEL_PATH = Path(__file__).with_name("default_model.yaml")


def parse_definition(text: str, *, source: str = "model") -> ScoringModelDefinition:
    """Validate a model written as YAML or JSON; ``InvalidInput`` says what is wrong, and where."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source} is not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{source} must be a mapping with name, pillars, ...")
    try:
        return ScoringModelDefinition.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'model'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidInput(f"{source} is not a valid scoring model: {problems}") from None


def load_definition(path: Path) -> ScoringModelDefinition:
    """Read and validate a model file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text; save the model as UTF-8.") from None
    return parse_definition(text, source=path.name)


def default_definition() -> ScoringModelDefinition:
    """The model that ships with meritline."""
    return load_definition(DEFAULT_MODEL_PATH)


def diff_definitions(
    old: ScoringModelDefinition, new: ScoringModelDefinition
) -> list[dict[str, Any]]:
    """What changed from ``old`` to ``new``: ``{"path", "change", "old", "new"}`` per difference,
    with pillars and metrics matched by name (``pillars.Quality.metrics.pr_merge_rate.weight``).
    """
    return _diff(_keyed(old.model_dump(mode="json")), _keyed(new.model_dump(mode="json")), "")


def _keyed(value: Any) -> Any:
    """Lists of named items (pillars, metrics) as mappings by name, so they diff by name."""
    if isinstance(value, dict):
        return {k: _keyed(v) for k, v in value.items()}
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and "name" in v for v in value)
    ):
        return {v["name"]: _keyed({k: x for k, x in v.items() if k != "name"}) for v in value}
    return value


def _diff(old: Any, new: Any, path: str) -> list[dict[str, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                changes.append({"path": where, "change": "removed", "old": old[key], "new": None})
            elif key not in old:
                changes.append({"path": where, "change": "added", "old": None, "new": new[key]})
            else:
                changes.extend(_diff(old[key], new[key], where))
        return changes
    if old == new:
        return []
    return [{"path": path, "change": "changed", "old": old, "new": new}]
