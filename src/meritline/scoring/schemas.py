"""Scoring schemas: model versions, runs, profiles, explanations and exports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class ModelVersion(BaseModel):
    """A stored version of a scoring model."""

    version: str = Field(description="name@number, e.g. default@2")
    name: str
    number: int
    status: str
    content_hash: str
    created_at: datetime
    activated_at: datetime | None
    retired_at: datetime | None
    definition: dict[str, Any]


class ModelValidation(BaseModel):
    """A model file that passed validation, in brief."""

    name: str
    content_hash: str
    pillars: dict[str, float]
    metrics: int
    signal_types: list[str]
    stored_as: str | None = Field(description="The stored version with the same content, if any")


class ModelActivation(BaseModel):
    """What ``model activate`` did."""

    version: str
    created: bool
    previous: str | None = Field(description="The version this activation retired, if any.")
    already_active: bool = False


class ModelChange(BaseModel):
    """One difference between two model versions."""

    path: str
    change: str
    old: Any = None
    new: Any = None


class ModelDiff(BaseModel):
    """The differences between two model versions."""

    old: str
    new: str
    changes: list[ModelChange]


class RunSummary(BaseModel):
    """A scoring run, as the log records it."""

    run_id: int
    status: str
    model_version: str
    as_of: date
    selection: list[str] | None
    employees: int
    written: int
    unscored: int
    resumed: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    inputs_digest: str | None
    error: str | None


class Profile(BaseModel):
    """One employee's latest score: what dashboards read."""

    employee_id: str
    as_of: date
    model_version: str
    score: float | None
    confidence: float
    trend: float | None
    pillars: dict[str, float | None]
    flags: list[str]
    updated_at: datetime


class Contributor(BaseModel):
    """A metric that moved the score, in points."""

    metric: str
    pillar: str
    contribution: float
    value: float | None = None
    normalised: float | None = None
    description: str = ""


class MissingEvidence(BaseModel):
    """A metric (or a pillar with no source) that had too little evidence to count."""

    pillar: str
    metric: str | None
    reason: str | None


class Benchmark(BaseModel):
    """The k-anonymous peer band of the employee's cohort."""

    cohort: str
    attributes: dict[str, Any]
    n: int
    k: int
    percentiles: dict[str, float | None]
    suppressed: dict[str, str]
    position: str | None


class Sentence(BaseModel):
    """One sentence of the narrative and the evidence it rests on."""

    text: str
    evidence: list[dict[str, Any]]


class Explanation(BaseModel):
    """Why a score is what it is."""

    employee_id: str
    as_of: date
    model_version: str
    fingerprint: str
    score: float | None
    confidence: float
    reference: float | None
    trend: float | None
    cohort: str
    pillars: dict[str, float | None]
    pillar_details: dict[str, dict[str, Any]]
    metrics: list[dict[str, Any]]
    top_positive: list[Contributor]
    top_negative: list[Contributor]
    missing_evidence: list[MissingEvidence]
    benchmark: Benchmark
    narrative: list[Sentence]


class ExportRow(BaseModel):
    """One line of ``score export``."""

    employee_id: str
    as_of: date
    model_version: str
    score: float | None
    confidence: float
    pillars: dict[str, float | None]


class AccessLogEntry(BaseModel):
    """A read of someone's scores."""

    at: datetime
    actor: str
    role: str
    employee_id: str
    resource: str
    purpose: str
