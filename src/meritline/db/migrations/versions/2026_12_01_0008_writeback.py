"""Writeback and the 9-box: the outbox, destinations, deliveries, and 9-box positions.

* outbox_event and nine_box_position are append-only (trigger; on PostgreSQL also no
  UPDATE or DELETE for the runtime role).
* Every new table gets the tenant policy.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from meritline.db.ddl import enable_tenant_isolation, grant_runtime_role, make_append_only

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TENANT_TABLES = ("outbox_event", "writeback_destination", "outbox_delivery", "nine_box_position")
APPEND_ONLY = (
    "audit_event",
    "signal",
    "score_snapshot",
    "access_log",
    "cycle_transition",
    "review",
    "calibration_adjustment",
    "calibration_analysis",
    "outbox_event",
    "nine_box_position",
)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("id", BigId, nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "topic IN ('rating.finalized', 'nine_box.positioned', 'promotion.decided')",
            name=op.f("ck_outbox_event_topic"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_outbox_event_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_outbox_event_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name=op.f("uq_outbox_event_tenant_id_idempotency_key")
        ),
        info={"classification": "personal"},
    )
    op.create_table(
        "writeback_destination",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("secret_ciphertext", sa.String(length=1000), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "type IN ('webhook', 'csv')", name=op.f("ck_writeback_destination_type")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_writeback_destination_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_destination")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_writeback_destination_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id", "name", name=op.f("uq_writeback_destination_tenant_id_name")
        ),
        info={"classification": "secret"},
    )
    op.create_table(
        "outbox_delivery",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("destination_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')", name=op.f("ck_outbox_delivery_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "destination_id"],
            ["writeback_destination.tenant_id", "writeback_destination.id"],
            name=op.f("fk_outbox_delivery_tenant_id_destination_id_writeback_destination"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["outbox_event.tenant_id", "outbox_event.id"],
            name=op.f("fk_outbox_delivery_tenant_id_event_id_outbox_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_outbox_delivery_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_delivery")),
        sa.UniqueConstraint(
            "tenant_id",
            "event_id",
            "destination_id",
            name=op.f("uq_outbox_delivery_tenant_id_event_id_destination_id"),
        ),
        info={"classification": "internal"},
    )
    with op.batch_alter_table("outbox_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_delivery_due", ["tenant_id", "status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "nine_box_position",
        sa.Column("id", BigId, nullable=False),
        sa.Column("cycle_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("performance", sa.String(length=8), nullable=False),
        sa.Column("potential", sa.String(length=8), nullable=False),
        sa.Column("box", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "performance IN ('low', 'medium', 'high')",
            name=op.f("ck_nine_box_position_performance"),
        ),
        sa.CheckConstraint(
            "potential IN ('low', 'medium', 'high')", name=op.f("ck_nine_box_position_potential")
        ),
        sa.CheckConstraint("box BETWEEN 1 AND 9", name=op.f("ck_nine_box_position_box")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "cycle_id"],
            ["review_cycle.tenant_id", "review_cycle.id"],
            name=op.f("fk_nine_box_position_tenant_id_cycle_id_review_cycle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "employee_id"],
            ["employee.tenant_id", "employee.id"],
            name=op.f("fk_nine_box_position_tenant_id_employee_id_employee"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_nine_box_position_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nine_box_position")),
        sa.UniqueConstraint(
            "tenant_id",
            "cycle_id",
            "employee_id",
            name=op.f("uq_nine_box_position_tenant_id_cycle_id_employee_id"),
        ),
        info={"classification": "personal"},
    )
    with op.batch_alter_table("nine_box_position", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nine_box_position_employee", ["tenant_id", "employee_id"], unique=False
        )

    for table in TENANT_TABLES:
        enable_tenant_isolation(table)
    make_append_only("outbox_event")
    make_append_only("nine_box_position")
    postgres = op.get_bind().dialect.name == "postgresql"
    role = context.config.attributes.get("runtime_role", "")
    grant_runtime_role(role, read_append_only=APPEND_ONLY + (("signal_key",) if postgres else ()))


def downgrade() -> None:
    with op.batch_alter_table("nine_box_position", schema=None) as batch_op:
        batch_op.drop_index("ix_nine_box_position_employee")

    op.drop_table("nine_box_position")
    with op.batch_alter_table("outbox_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_delivery_due")

    op.drop_table("outbox_delivery")
    op.drop_table("writeback_destination")
    op.drop_table("outbox_event")
    if op.get_bind().dialect.name == "postgresql":
        for function in ("outbox_event_append_only", "nine_box_position_append_only"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
