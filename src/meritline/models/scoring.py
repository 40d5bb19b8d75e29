"""Scoring: model versions, scoring runs, immutable score snapshots, one profile per employee,
and the log of who read whose scores.

* ``scoring_model`` rows are content-addressed versions: the definition and its hash never
  change (a trigger refuses it), so a snapshot's model can always be read back. One version per
  tenant is active at a time.
* ``score_snapshot`` is append-only: a score, once computed, is what it was forever.
* ``employee_profile`` is the one row per employee dashboards read, upserted by each run.
* ``access_log`` is append-only: every read of a profile or an explanation, and why.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped, same_tenant_fk

MODEL_STATUSES = ("draft", "active", "retired")
RUN_STATUSES = ("running", "succeeded", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    return CheckConstraint(f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")", column)


class ScoringModel(TenantScoped, Base):
    """One immutable version of a scoring model (the validated definition, as canonical JSON)."""

    __tablename__ = "scoring_model"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "name", "version"),
        UniqueConstraint("tenant_id", "content_hash"),
        _one_of("status", MODEL_STATUSES),
        Index(
            "uq_scoring_model_one_active",
            "tenant_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    #: 1, 2, 3 ... per model name; with the name, the label ``default@3``.
    version: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: SHA-256 of the canonical JSON of ``definition``.
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        """How users name the version: ``name@version``."""
        return f"{self.name}@{self.version}"


class ScoringRun(TenantScoped, Base):
    """One scoring run: what it scored, as of when, with which model, and how it went."""

    __tablename__ = "scoring_run"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        same_tenant_fk("model_id", "scoring_model", ondelete="RESTRICT"),
        _one_of("status", RUN_STATUSES),
        Index("ix_scoring_run_status", "tenant_id", "status", "as_of"),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(BigId)
    as_of: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="running")
    #: The employee ids asked for (``--employees``), or null for every active employee.
    selection: Mapped[list[str] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    #: Employees the run is to write, those it wrote, and those with no score (no evidence).
    employees: Mapped[int] = mapped_column(default=0)
    written: Mapped[int] = mapped_column(default=0)
    unscored: Mapped[int] = mapped_column(default=0)
    #: SHA-256 of every input of the run (the model, the as-of date, the cohorts' evidence).
    inputs_digest: Mapped[str | None] = mapped_column(String(64))
    #: How often ``--resume`` picked the run up again.
    resumed: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ScoreSnapshot(TenantScoped, Base):
    """One employee's score as of a date under one model version, with its explanation."""

    __tablename__ = "score_snapshot"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "run_id", "employee_id"),
        same_tenant_fk("run_id", "scoring_run", ondelete="RESTRICT"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("model_id", "scoring_model", ondelete="RESTRICT"),
        Index("ix_score_snapshot_employee", "tenant_id", "employee_id", "as_of"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId)
    employee_id: Mapped[int] = mapped_column(BigId)
    model_id: Mapped[int] = mapped_column(BigId)
    model_version: Mapped[str] = mapped_column(String(80))
    as_of: Mapped[date]
    #: 0..100, or null when no pillar has evidence.
    score: Mapped[float | None] = mapped_column(Float)
    #: 0..1: the share of the model's weight that evidence stands behind.
    confidence: Mapped[float] = mapped_column(Float)
    #: The score change since the employee's latest snapshot with an earlier as-of date.
    trend: Mapped[float | None] = mapped_column(Float)
    cohort: Mapped[str] = mapped_column(String(300))
    #: Pillar name to 0..100 or null.
    pillars: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The explanation: metrics, contributions, missing evidence, benchmark, narrative.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: SHA-256 of the inputs behind this score (its evidence, its cohort's, the model, the date).
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmployeeProfile(TenantScoped, Base):
    """The latest score of one employee: what dashboards and the profile API read."""

    __tablename__ = "employee_profile"
    __table_args__ = (
        same_tenant_fk("employee_id", "employee", ondelete="CASCADE"),
        same_tenant_fk("snapshot_id", "score_snapshot", ondelete="RESTRICT"),
        {"info": {"classification": "personal"}},
    )

    tenant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The snapshot this profile shows.
    snapshot_id: Mapped[int] = mapped_column(BigId)
    model_version: Mapped[str] = mapped_column(String(80))
    as_of: Mapped[date]
    score: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    trend: Mapped[float | None] = mapped_column(Float)
    pillars: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: e.g. ``high_performer``, ``low_confidence``, ``new_joiner``, ``no_score``.
    flags: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessLog(TenantScoped, Base):
    """A read of one employee's scores: who read whose data, when, and why."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_employee", "tenant_id", "employee_id", "at"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The audit log's name for the reader (``employee:12:manager:token:3``, ``cli:operator``).
    actor: Mapped[str] = mapped_column(String(200))
    actor_employee_id: Mapped[int | None] = mapped_column(BigId)
    role: Mapped[str] = mapped_column(String(32))
    #: Whose data was read (no foreign key: the log outlives what it logs).
    employee_id: Mapped[int] = mapped_column(BigId)
    #: What was read: ``profile``, ``explanation``, ``export``.
    resource: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
