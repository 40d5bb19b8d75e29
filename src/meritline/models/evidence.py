"""Evidence: connectors, identities, ingestion batches, signals, quarantine and daily rollups.

``signal`` is append-only. On PostgreSQL it is partitioned by month of ``occurred_at``, so the
unique key on ``(tenant, source, external_id)`` lives in ``signal_key`` (a partitioned table's
unique indexes must include the partition column); on SQLite it is a unique index of the table.
``info["dialects"]`` names the backends an object exists on (the migration and the drift check
honour it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped, same_tenant_fk

#: Kinds of external account an identity maps (generic files may use any ``kind:value``).
ACCOUNT_KINDS = ("email", "github", "jira", "calendar", "slack", "teams", "lms", "employee_id")
BATCH_KINDS = ("webhook", "file", "retry", "demo")
QUARANTINE_REASONS = ("unknown_person", "invalid_row", "malformed_payload")
QUARANTINE_STATUSES = ("open", "resolved", "discarded")


class Connector(TenantScoped, Base):
    """A configured webhook source; its signing secret is stored encrypted, never in clear."""

    __tablename__ = "connector"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("public_id"),
        {"info": {"classification": "secret"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The id in the webhook URL: ``wh_<tenant slug>_<random>``.
    public_id: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    secret_ciphertext: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class ExternalIdentity(TenantScoped, Base):
    """A work-tool account (a GitHub login, a Jira accountId, an e-mail) of one employee."""

    __tablename__ = "external_identity"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "value"),
        same_tenant_fk("employee_id", "employee", ondelete="CASCADE"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: Normalised: lower-cased for case-insensitive kinds (e-mail, GitHub, calendar).
    value: Mapped[str] = mapped_column(String(320))
    employee_id: Mapped[int] = mapped_column(BigId, index=True)
    #: How the mapping was made: ``import`` (a mapping file) or ``manual``.
    origin: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IngestBatch(TenantScoped, Base):
    """One webhook delivery or one file import, with what became of its events.

    Unique per connector and delivery id: a redelivery finds this row and only counts itself in
    ``duplicates``.
    """

    __tablename__ = "ingest_batch"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connector_id", "delivery_id"),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in BATCH_KINDS) + ")", name="kind"),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The connector or file format.
    source: Mapped[str] = mapped_column(String(64))
    connector_id: Mapped[int | None] = mapped_column(BigId)
    delivery_id: Mapped[str | None] = mapped_column(String(200))
    event: Mapped[str | None] = mapped_column(String(100))
    #: The file name, for imports.
    reference: Mapped[str | None] = mapped_column(String(500))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    events: Mapped[int] = mapped_column(default=0)
    signals: Mapped[int] = mapped_column(default=0)
    quarantined: Mapped[int] = mapped_column(default=0)
    ignored: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    ignored_reason: Mapped[str | None] = mapped_column(String(200))


class Signal(TenantScoped, Base):
    """One immutable piece of evidence about one employee."""

    __tablename__ = "signal"
    __table_args__ = (
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        # covering: a window sum per employee and type reads the index alone
        Index(
            "ix_signal_employee_type_time",
            "tenant_id",
            "employee_id",
            "type",
            "occurred_at",
            "value",
        ),
        Index(
            "uq_signal_tenant_id_source_external_id",
            "tenant_id",
            "source",
            "external_id",
            unique=True,
            info={"dialects": ("sqlite",)},
        ),
        {
            "info": {"classification": "personal"},
            "postgresql_partition_by": "RANGE (occurred_at)",
        },
    )

    #: On PostgreSQL the primary key is ``(id, occurred_at)`` (it must include the partition key).
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: No key of its own to ``tenant``: ``(tenant_id, employee_id)`` references the employee,
    #: which belongs to the tenant, so a second per-row check would only slow bulk imports.
    tenant_id: Mapped[int] = mapped_column(BigId)
    employee_id: Mapped[int] = mapped_column(BigId)
    source: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    value: Mapped[float] = mapped_column(Float)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    external_id: Mapped[str] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(BigId)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignalKey(TenantScoped, Base):
    """PostgreSQL only: the unique ``(tenant, source, external_id)`` of every stored signal.

    An index of ``signal`` kept by the store in the signal's own statement, so it has no foreign
    key of its own (a per-row check on the hot path for a tenant the signal already names).
    """

    __tablename__ = "signal_key"
    __table_args__ = {"info": {"classification": "internal", "dialects": ("postgresql",)}}

    tenant_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # byte order ("C"): ids are opaque, and comparing bytes makes the key's index cheaper to fill
    source: Mapped[str] = mapped_column(String(64, collation="C"), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200, collation="C"), primary_key=True)
    signal_id: Mapped[int] = mapped_column(BigId)


class QuarantinedEvent(TenantScoped, Base):
    """An event that could not become a signal, with why, until it can (or is discarded).

    ``fingerprint`` makes quarantining idempotent: the same event, or the same bad line, is held
    once however often it is delivered.
    """

    __tablename__ = "quarantine"
    __table_args__ = (
        UniqueConstraint("tenant_id", "fingerprint"),
        Index("ix_quarantine_status", "tenant_id", "status", "reason_code"),
        CheckConstraint(
            "reason_code IN (" + ", ".join(f"'{r}'" for r in QUARANTINE_REASONS) + ")",
            name="reason_code",
        ),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in QUARANTINE_STATUSES) + ")", name="status"
        ),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    #: The connector type or file format, and the delivery id or file name with its line.
    source: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(500))
    line: Mapped[int | None]
    batch_id: Mapped[int | None] = mapped_column(BigId)
    # the signal it would become, when it parsed (an unknown person): retried as is
    account_kind: Mapped[str | None] = mapped_column(String(32))
    account_value: Mapped[str | None] = mapped_column(String(320))
    signal_source: Mapped[str | None] = mapped_column(String(64))
    signal_type: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime | None]
    value: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    external_id: Mapped[str | None] = mapped_column(String(200))
    #: What arrived, as it arrived (a file line or a payload), for events that did not parse.
    raw: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class SignalDaily(TenantScoped, Base):
    """Count and sum of one employee's signals of one type on one UTC day (the rollup).

    Derived from ``signal`` and rebuilt from it, so without foreign keys of its own: a refresh
    writes a row per employee, type and day, and a key check per row would only add time.
    """

    __tablename__ = "signal_daily"
    __table_args__ = {"info": {"classification": "personal"}}

    tenant_id: Mapped[int] = mapped_column(BigId, primary_key=True)

    employee_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    count: Mapped[int]
    total: Mapped[float] = mapped_column(Float)


class AggregateBacklog(TenantScoped, Base):
    """Months of one employee's signal type whose daily rollup is stale, written with the
    signals in the same transaction.

    A month, not a day: a bulk import of a year of evidence queues at most twelve rows per
    employee and type instead of one per day, and a refresh recomputes a month from the signal
    index in one range read. A work queue with no foreign keys (nothing else refers to it).
    """

    __tablename__ = "aggregate_backlog"
    __table_args__ = {"info": {"classification": "internal"}}

    tenant_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The first day of the month.
    month: Mapped[date] = mapped_column(primary_key=True)
    #: When the month was first queued (queueing it again changes nothing).
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
