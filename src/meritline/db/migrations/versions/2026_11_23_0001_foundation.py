"""Foundation: tenants, org tree, employees, reporting lines, sensitive attributes, review cycles,
API tokens and the audit chain, with row-level security on PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:27:59.931262
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from meritline.db.ddl import enable_tenant_isolation, grant_runtime_role, make_append_only

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TENANT_TABLES = (
    "audit_chain_head",
    "audit_event",
    "org_unit",
    "review_cycle",
    "employee",
    "api_token",
    "reporting_line",
    "sensitive_attribute",
    "api_token_org_unit",
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant",
        sa.Column("id", BigId, nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenant_slug")),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", BigId, nullable=False),
        sa.Column("last_seq", BigId, nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_audit_chain_head_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_audit_chain_head_tenant_id")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", BigId, nullable=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("payload_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_audit_event_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("tenant_id", "seq", name=op.f("uq_audit_event_tenant_id_seq")),
    )
    op.create_table(
        "org_unit",
        sa.Column("id", BigId, nullable=False),
        sa.Column("parent_id", BigId, nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["org_unit.tenant_id", "org_unit.id"],
            name=op.f("fk_org_unit_tenant_id_parent_id_org_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_org_unit_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_unit")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_org_unit_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "path", name=op.f("uq_org_unit_tenant_id_path")),
    )
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_unit_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "review_cycle",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'calibration', 'finalized', 'closed')",
            name=op.f("ck_review_cycle_status"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_review_cycle_period_order")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_review_cycle_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cycle")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_review_cycle_tenant_id_name")),
    )
    op.create_table(
        "employee",
        sa.Column("id", BigId, nullable=False),
        sa.Column("employee_number", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("org_unit_id", BigId, nullable=True),
        sa.Column("job_family", sa.String(length=100), nullable=True),
        sa.Column("level", sa.String(length=50), nullable=True),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("hire_date", sa.Date(), nullable=True),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "termination_date IS NULL OR hire_date IS NULL OR termination_date >= hire_date",
            name=op.f("ck_employee_terminated_after_hire"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_unit.tenant_id", "org_unit.id"],
            name=op.f("fk_employee_tenant_id_org_unit_id_org_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_employee_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employee")),
        sa.UniqueConstraint(
            "tenant_id", "employee_number", name=op.f("uq_employee_tenant_id_employee_number")
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_employee_tenant_id_id")),
    )
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_employee_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index("ix_employee_tenant_email", ["tenant_id", "email"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "role IN ('employee', 'manager', 'hrbp', 'calibrator', 'people_analyst', 'legal', 'admin')",
            name=op.f("ck_api_token_role"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_api_token_tenant_id_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_api_token_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_api_token_tenant_id_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "reporting_line",
        sa.Column("id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("manager_id", BigId, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint("employee_id <> manager_id", name=op.f("ck_reporting_line_not_self")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_reporting_line_valid_range")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_reporting_line_tenant_id_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "manager_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_reporting_line_tenant_id_manager_id_employee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_reporting_line_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_line")),
    )
    with op.batch_alter_table("reporting_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reporting_line_employee_validity",
            ["tenant_id", "employee_id", "valid_from"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reporting_line_manager_validity",
            ["tenant_id", "manager_id", "valid_from"],
            unique=False,
        )

    op.create_table(
        "sensitive_attribute",
        sa.Column("id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_sensitive_attribute_tenant_id_employee_id_employee"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sensitive_attribute_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensitive_attribute")),
        sa.UniqueConstraint(
            "tenant_id",
            "employee_id",
            "attribute",
            name=op.f("uq_sensitive_attribute_tenant_id_employee_id_attribute"),
        ),
    )
    with op.batch_alter_table("sensitive_attribute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensitive_attribute_employee_id"), ["employee_id"], unique=False
        )

    op.create_table(
        "api_token_org_unit",
        sa.Column("token_id", BigId, nullable=False),
        sa.Column("org_unit_id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_unit.tenant_id", "org_unit.id"],
            name=op.f("fk_api_token_org_unit_tenant_id_org_unit_id_org_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "token_id"],
            ["api_token.tenant_id", "api_token.id"],
            name=op.f("fk_api_token_org_unit_tenant_id_token_id_api_token"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_api_token_org_unit_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "org_unit_id", name=op.f("pk_api_token_org_unit")),
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)
    make_append_only("audit_event")
    grant_runtime_role(
        context.config.attributes.get("runtime_role", ""), read_append_only=("audit_event",)
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only() CASCADE")
    op.drop_table("api_token_org_unit")
    with op.batch_alter_table("sensitive_attribute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensitive_attribute_employee_id"))

    op.drop_table("sensitive_attribute")
    with op.batch_alter_table("reporting_line", schema=None) as batch_op:
        batch_op.drop_index("ix_reporting_line_manager_validity")
        batch_op.drop_index("ix_reporting_line_employee_validity")

    op.drop_table("reporting_line")
    op.drop_table("api_token")
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.drop_index("ix_employee_tenant_email")
        batch_op.drop_index(batch_op.f("ix_employee_org_unit_id"))

    op.drop_table("employee")
    op.drop_table("review_cycle")
    with op.batch_alter_table("org_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_unit_parent_id"))

    op.drop_table("org_unit")
    op.drop_table("audit_event")
    op.drop_table("audit_chain_head")
    op.drop_table("tenant")
