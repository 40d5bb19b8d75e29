"""Scoring: model versions, scoring runs, score snapshots, employee profiles and the access log.

* ``scoring_model``: a version's name, number, definition and hash are frozen by a trigger; a
  partial unique index allows one active version per tenant.
* ``score_snapshot`` and ``access_log`` are append-only (trigger; on PostgreSQL also no UPDATE or
  DELETE for the runtime role).
* Every table gets the tenant policy.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from meritline.db.ddl import (
    enable_tenant_isolation,
    freeze_columns,
    grant_runtime_role,
    make_append_only,
)

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TENANT_TABLES = ("access_log", "scoring_model", "scoring_run", "score_snapshot", "employee_profile")
APPEND_ONLY = ("audit_event", "signal", "score_snapshot", "access_log")

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", BigId, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_employee_id", BigId, nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_access_log_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
        info={"classification": "personal"},
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_log_employee", ["tenant_id", "employee_id", "at"], unique=False
        )

    op.create_table(
        "scoring_model",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'retired')", name=op.f("ck_scoring_model_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_scoring_model_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_model")),
        sa.UniqueConstraint(
            "tenant_id", "content_hash", name=op.f("uq_scoring_model_tenant_id_content_hash")
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_scoring_model_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id", "name", "version", name=op.f("uq_scoring_model_tenant_id_name_version")
        ),
        info={"classification": "internal"},
    )
    with op.batch_alter_table("scoring_model", schema=None) as batch_op:
        batch_op.create_index(
            "uq_scoring_model_one_active",
            ["tenant_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "scoring_run",
        sa.Column("id", BigId, nullable=False),
        sa.Column("model_id", BigId, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("unscored", sa.Integer(), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=True),
        sa.Column("resumed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name=op.f("ck_scoring_run_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "model_id"],
            ["scoring_model.tenant_id", "scoring_model.id"],
            name=op.f("fk_scoring_run_tenant_id_model_id_scoring_model"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_scoring_run_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_run")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_scoring_run_tenant_id_id")),
        info={"classification": "internal"},
    )
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scoring_run_status", ["tenant_id", "status", "as_of"], unique=False
        )

    op.create_table(
        "score_snapshot",
        sa.Column("id", BigId, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("model_id", BigId, nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("trend", sa.Float(), nullable=True),
        sa.Column("cohort", sa.String(length=300), nullable=False),
        sa.Column("pillars", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_score_snapshot_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "model_id"],
            ["scoring_model.tenant_id", "scoring_model.id"],
            name=op.f("fk_score_snapshot_tenant_id_model_id_scoring_model"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["scoring_run.tenant_id", "scoring_run.id"],
            name=op.f("fk_score_snapshot_tenant_id_run_id_scoring_run"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_score_snapshot_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_snapshot")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_score_snapshot_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "run_id",
            "employee_id",
            name=op.f("uq_score_snapshot_tenant_id_run_id_employee_id"),
        ),
        info={"classification": "personal"},
    )
    with op.batch_alter_table("score_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_score_snapshot_employee", ["tenant_id", "employee_id", "as_of"], unique=False
        )

    op.create_table(
        "employee_profile",
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("snapshot_id", BigId, nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("trend", sa.Float(), nullable=True),
        sa.Column("pillars", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_employee_profile_tenant_id_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "snapshot_id"],
            ["score_snapshot.tenant_id", "score_snapshot.id"],
            name=op.f("fk_employee_profile_tenant_id_snapshot_id_score_snapshot"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_employee_profile_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "employee_id", name=op.f("pk_employee_profile")),
        info={"classification": "personal"},
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)
    freeze_columns("scoring_model", ("name", "version", "definition", "content_hash"))
    make_append_only("score_snapshot")
    make_append_only("access_log")
    postgres = op.get_bind().dialect.name == "postgresql"
    role = context.config.attributes.get("runtime_role", "")
    grant_runtime_role(role, read_append_only=APPEND_ONLY + (("signal_key",) if postgres else ()))


def downgrade() -> None:
    op.drop_table("employee_profile")
    with op.batch_alter_table("score_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_score_snapshot_employee")

    op.drop_table("score_snapshot")
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.drop_index("ix_scoring_run_status")

    op.drop_table("scoring_run")
    with op.batch_alter_table("scoring_model", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_scoring_model_one_active",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.drop_table("scoring_model")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_access_log_employee")

    op.drop_table("access_log")
    if op.get_bind().dialect.name == "postgresql":
        for function in (
            "scoring_model_frozen",
            "score_snapshot_append_only",
            "access_log_append_only",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
