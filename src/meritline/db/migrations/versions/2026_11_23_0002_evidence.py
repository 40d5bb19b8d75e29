"""Evidence: webhook connectors, external identities, ingestion batches, signals (partitioned
by month on PostgreSQL), quarantine and the daily rollup with its backlog.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

from meritline.db.ddl import (
    enable_tenant_isolation,
    grant_runtime_role,
    make_append_only,
    monthly_partitioner,
)

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TENANT_TABLES = (
    "connector",
    "external_identity",
    "ingest_batch",
    "quarantine",
    "signal",
    "signal_daily",
    "aggregate_backlog",
)
APPEND_ONLY = ("audit_event", "signal")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    role = context.config.attributes.get("runtime_role", "")
    # a partitioned table's primary key must include the partition column; ids come from a
    # sequence (identity columns on partitioned tables need PostgreSQL 17)
    partitioning: dict[str, Any] = {}
    id_default: Any = None
    primary_key = sa.PrimaryKeyConstraint("id", name=op.f("pk_signal"))
    if postgres:
        op.execute("CREATE SEQUENCE signal_id_seq AS bigint")
        partitioning = {"postgresql_partition_by": "RANGE (occurred_at)"}
        id_default = sa.text("nextval('signal_id_seq')")
        primary_key = sa.PrimaryKeyConstraint("id", "occurred_at", name=op.f("pk_signal"))
    op.create_table(
        "connector",
        sa.Column("id", BigId, nullable=False),
        sa.Column("public_id", sa.String(length=120), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_ciphertext", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_connector_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector")),
        sa.UniqueConstraint("public_id", name=op.f("uq_connector_public_id")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_connector_tenant_id_id")),
    )
    op.create_table(
        "external_identity",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_external_identity_tenant_id_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_external_identity_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_identity")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "value", name=op.f("uq_external_identity_tenant_id_kind_value")
        ),
    )
    op.create_index(
        op.f("ix_external_identity_employee_id"), "external_identity", ["employee_id"], unique=False
    )
    op.create_table(
        "ingest_batch",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("connector_id", BigId, nullable=True),
        sa.Column("delivery_id", sa.String(length=200), nullable=True),
        sa.Column("event", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=500), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("ignored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("ignored_reason", sa.String(length=200), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "kind IN ('webhook', 'file', 'retry', 'demo')", name=op.f("ck_ingest_batch_kind")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_ingest_batch_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batch")),
        sa.UniqueConstraint(
            "tenant_id",
            "connector_id",
            "delivery_id",
            name=op.f("uq_ingest_batch_tenant_id_connector_id_delivery_id"),
        ),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", BigId, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=500), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("batch_id", BigId, nullable=True),
        sa.Column("account_kind", sa.String(length=32), nullable=True),
        sa.Column("account_value", sa.String(length=320), nullable=True),
        sa.Column("signal_source", sa.String(length=64), nullable=True),
        sa.Column("signal_type", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "reason_code IN ('unknown_person', 'invalid_row', 'malformed_payload')",
            name=op.f("ck_quarantine_reason_code"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved', 'discarded')", name=op.f("ck_quarantine_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_quarantine_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "tenant_id", "fingerprint", name=op.f("uq_quarantine_tenant_id_fingerprint")
        ),
    )
    op.create_index(
        "ix_quarantine_status", "quarantine", ["tenant_id", "status", "reason_code"], unique=False
    )
    op.create_table(
        "signal",
        sa.Column("id", BigId, server_default=id_default, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("batch_id", BigId, nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_signal_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_signal_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        primary_key,
        **partitioning,
    )
    op.create_index(
        "ix_signal_employee_type_time",
        "signal",
        ["tenant_id", "employee_id", "type", "occurred_at"],
        unique=False,
    )
    if not postgres:
        op.create_index(
            "uq_signal_tenant_id_source_external_id",
            "signal",
            ["tenant_id", "source", "external_id"],
            unique=True,
        )
    if postgres:
        op.create_table(
            "signal_key",
            sa.Column("tenant_id", BigId, nullable=False),
            sa.Column("source", sa.String(length=64), nullable=False),
            sa.Column("external_id", sa.String(length=200), nullable=False),
            sa.Column("signal_id", BigId, nullable=False),
            sa.ForeignKeyConstraint(
                ["tenant_id"],
                ["tenant.id"],
                name=op.f("fk_signal_key_tenant_id_tenant"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(
                "tenant_id", "source", "external_id", name=op.f("pk_signal_key")
            ),
        )
    op.create_table(
        "signal_daily",
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_signal_daily_tenant_id_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_signal_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "employee_id", "type", "day", name=op.f("pk_signal_daily")
        ),
    )
    op.create_table(
        "aggregate_backlog",
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_aggregate_backlog_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "employee_id", "type", "day", name=op.f("pk_aggregate_backlog")
        ),
    )
    for table in TENANT_TABLES + (("signal_key",) if postgres else ()):
        enable_tenant_isolation(table)
    make_append_only("signal")
    monthly_partitioner("signal", role=role)
    grant_runtime_role(role, read_append_only=APPEND_ONLY + (("signal_key",) if postgres else ()))
    if postgres and role:
        op.execute(f'GRANT USAGE, SELECT ON SEQUENCE signal_id_seq TO "{role}"')


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("aggregate_backlog", "signal_daily", "quarantine", "ingest_batch"):
        op.drop_table(table)
    if postgres:
        op.drop_table("signal_key")
        op.execute("DROP FUNCTION IF EXISTS ensure_signal_partitions(date[])")
        op.execute("DROP TABLE signal CASCADE")
        op.execute("DROP FUNCTION IF EXISTS signal_append_only() CASCADE")
        op.execute("DROP SEQUENCE IF EXISTS signal_id_seq")
    else:
        op.drop_table("signal")
    op.drop_table("external_identity")
    op.drop_table("connector")
