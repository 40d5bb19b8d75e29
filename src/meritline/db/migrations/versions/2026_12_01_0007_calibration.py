"""Calibration sessions: population, committee, votes, adjustments, analyses, approvals.

* calibration_adjustment and calibration_analysis are append-only (trigger; on
  PostgreSQL also no UPDATE or DELETE for the runtime role).
* api_token.role admits compensation (the approver of promotion proposals).
* Every new table gets the tenant policy.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from meritline.db.ddl import enable_tenant_isolation, grant_runtime_role, make_append_only

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TENANT_TABLES = (
    "calibration_session",
    "calibration_member",
    "calibration_population",
    "calibration_vote",
    "calibration_adjustment",
    "calibration_analysis",
    "approval_item",
)
APPEND_ONLY = (
    "audit_event",
    "signal",
    "score_snapshot",
    "access_log",
    "cycle_transition",
    "review",
    "calibration_adjustment",
    "calibration_analysis",
)
ROLES = "'employee', 'manager', 'hrbp', 'calibrator', 'people_analyst', 'legal', 'admin'"


def _token_roles(roles: str) -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_constraint(op.f("ck_api_token_role"), type_="check")
        batch.create_check_constraint("role", f"role IN ({roles})")


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibration_session",
        sa.Column("id", BigId, nullable=False),
        sa.Column("cycle_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("facilitator_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'locked')", name=op.f("ck_calibration_session_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "cycle_id"],
            ["review_cycle.tenant_id", "review_cycle.id"],
            name=op.f("fk_calibration_session_tenant_id_cycle_id_review_cycle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "facilitator_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_calibration_session_tenant_id_facilitator_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_calibration_session_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_session")),
        sa.UniqueConstraint(
            "tenant_id",
            "cycle_id",
            "name",
            name=op.f("uq_calibration_session_tenant_id_cycle_id_name"),
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_calibration_session_tenant_id_id")),
        info={"classification": "internal"},
    )
    op.create_table(
        "approval_item",
        sa.Column("id", BigId, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approver_role", sa.String(length=32), nullable=False),
        sa.Column("raised_by_id", BigId, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by_id", BigId, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "approver_role IN ('hrbp', 'legal', 'compensation')",
            name=op.f("ck_approval_item_approver_role"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')",
            name=op.f("ck_approval_item_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_approval_item_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "raised_by_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_approval_item_tenant_id_raised_by_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "decided_by_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_approval_item_tenant_id_decided_by_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["calibration_session.tenant_id", "calibration_session.id"],
            name=op.f("fk_approval_item_tenant_id_session_id_calibration_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_approval_item_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_item")),
        sa.UniqueConstraint(
            "tenant_id",
            "session_id",
            "employee_id",
            "rule",
            name=op.f("uq_approval_item_tenant_id_session_id_employee_id_rule"),
        ),
        info={"classification": "personal"},
    )
    with op.batch_alter_table("approval_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_approval_item_queue", ["tenant_id", "approver_role", "status"], unique=False
        )

    op.create_table(
        "calibration_adjustment",
        sa.Column("id", BigId, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.String(length=32), nullable=True),
        sa.Column("new_value", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_employee_id", BigId, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "field IN ('rating', 'potential')", name=op.f("ck_calibration_adjustment_field")
        ),
        sa.CheckConstraint(
            "length(reason) >= 20", name=op.f("ck_calibration_adjustment_reason_given")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_calibration_adjustment_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "actor_employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_calibration_adjustment_tenant_id_actor_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["calibration_session.tenant_id", "calibration_session.id"],
            name=op.f("fk_calibration_adjustment_tenant_id_session_id_calibration_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_calibration_adjustment_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_adjustment")),
        info={"classification": "personal"},
    )
    with op.batch_alter_table("calibration_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calibration_adjustment_session",
            ["tenant_id", "session_id", "employee_id"],
            unique=False,
        )

    op.create_table(
        "calibration_analysis",
        sa.Column("id", BigId, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint("phase IN ('pre', 'post')", name=op.f("ck_calibration_analysis_phase")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["calibration_session.tenant_id", "calibration_session.id"],
            name=op.f("fk_calibration_analysis_tenant_id_session_id_calibration_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_calibration_analysis_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_analysis")),
        info={"classification": "personal"},
    )
    op.create_table(
        "calibration_member",
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "role IN ('facilitator', 'member')", name=op.f("ck_calibration_member_role")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_calibration_member_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["calibration_session.tenant_id", "calibration_session.id"],
            name=op.f("fk_calibration_member_tenant_id_session_id_calibration_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "session_id", "employee_id", name=op.f("pk_calibration_member")
        ),
        info={"classification": "internal"},
    )
    with op.batch_alter_table("calibration_member", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calibration_member_employee", ["tenant_id", "employee_id"], unique=False
        )

    op.create_table(
        "calibration_population",
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_calibration_population_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["calibration_session.tenant_id", "calibration_session.id"],
            name=op.f("fk_calibration_population_tenant_id_session_id_calibration_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "session_id", "employee_id", name=op.f("pk_calibration_population")
        ),
        info={"classification": "internal"},
    )
    op.create_table(
        "calibration_vote",
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("vote", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("vote IN ('agree', 'question')", name=op.f("ck_calibration_vote_vote")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_calibration_vote_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_calibration_vote_tenant_id_member_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["calibration_session.tenant_id", "calibration_session.id"],
            name=op.f("fk_calibration_vote_tenant_id_session_id_calibration_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "session_id", "member_id", "employee_id", name=op.f("pk_calibration_vote")
        ),
        info={"classification": "personal"},
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)
    make_append_only("calibration_adjustment")
    make_append_only("calibration_analysis")
    _token_roles(ROLES.replace("'admin'", "'compensation', 'admin'"))
    postgres = op.get_bind().dialect.name == "postgresql"
    role = context.config.attributes.get("runtime_role", "")
    grant_runtime_role(role, read_append_only=APPEND_ONLY + (("signal_key",) if postgres else ()))


def downgrade() -> None:
    op.execute(
        "UPDATE api_token SET revoked_at = CURRENT_TIMESTAMP, role = 'employee' "
        "WHERE role = 'compensation'"
    )
    _token_roles(ROLES)
    op.drop_table("calibration_vote")
    op.drop_table("calibration_population")
    with op.batch_alter_table("calibration_member", schema=None) as batch_op:
        batch_op.drop_index("ix_calibration_member_employee")

    op.drop_table("calibration_member")
    op.drop_table("calibration_analysis")
    with op.batch_alter_table("calibration_adjustment", schema=None) as batch_op:
        batch_op.drop_index("ix_calibration_adjustment_session")

    op.drop_table("calibration_adjustment")
    with op.batch_alter_table("approval_item", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_item_queue")

    op.drop_table("approval_item")
    op.drop_table("calibration_session")
    if op.get_bind().dialect.name == "postgresql":
        for function in ("calibration_adjustment_append_only", "calibration_analysis_append_only"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
