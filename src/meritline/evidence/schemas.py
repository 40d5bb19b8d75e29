"""Evidence schemas: what ingestion reports, and what users read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConnectorCreated(BaseModel):
    """A new webhook connector: where to point the tool (the secret is not shown again)."""

    id: str
    type: str
    name: str
    webhook_path: str


class ConnectorRead(BaseModel):
    """A configured connector."""

    id: str
    type: str
    name: str
    webhook_path: str
    created_at: datetime


class IngestSummary(BaseModel):
    """What one import, delivery or retry did with its events."""

    batch_id: int | None = None
    source: str
    events: int = 0
    signals: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    ignored_reason: str | None = None
    identities_matched_by_email: int = 0

    def add(self, other: IngestSummary) -> None:
        """Add another summary's counts to this one."""
        for name in ("events", "signals", "duplicates", "quarantined", "ignored"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.identities_matched_by_email += other.identities_matched_by_email


class WebhookResult(BaseModel):
    """The response to a webhook delivery."""

    status: str = Field(description="stored, ignored, quarantined or duplicate")
    delivery: str
    signals: int = 0
    quarantined: int = 0
    duplicates: int = 0
    reason: str | None = None


class IngestStatus(BaseModel):
    """``meritline ingest status``: the state of the evidence store."""

    signals: int
    quarantined: int
    ignored: int
    duplicates: int
    #: Employee-type months waiting for ``meritline aggregates refresh``.
    aggregate_backlog: int = 0
    by_source: list[dict[str, Any]] = Field(default_factory=list)


class QuarantinedRead(BaseModel):
    """An event waiting in quarantine, with why."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    reason_code: str
    reason: str
    source: str
    origin: str
    line: int | None
    account_kind: str | None
    account_value: str | None
    signal_type: str | None
    occurred_at: datetime | None
    external_id: str | None
    raw: str | None
    received_at: datetime


class QuarantinePage(BaseModel):
    """A page of quarantined events."""

    total: int
    items: list[QuarantinedRead]


class RetrySummary(BaseModel):
    """``meritline ingest retry``: how many quarantined events became signals."""

    retried: int
    signals: int
    duplicates: int
    still_unknown: int


class IdentityImportSummary(BaseModel):
    """``meritline identities import``."""

    mappings: int
    created_or_updated: int


class AggregateRefresh(BaseModel):
    """``meritline aggregates refresh``."""

    mode: str
    #: Employee-type months recomputed (the whole history for a full refresh).
    months: int
    #: Day buckets they now hold, and the signals in them.
    buckets: int
    signals: int
    backlog_left: int


class WindowRow(BaseModel):
    """One employee's totals of one signal type over the standard windows, as of a date."""

    employee_id: str
    type: str
    windows: dict[str, dict[str, float]]


class WindowsReport(BaseModel):
    """Rolling windows as of a date."""

    as_of: date
    windows: dict[str, tuple[date, date]]
    rows: list[WindowRow]
