"""Reviews: cycle templates and the lifecycle's log, versioned reviews and peer feedback.

* ``review_cycle`` gains its template (scale, guideline, questions, self and peer reviews; the
  default template for cycles made before) and the ``shared`` status.
* ``cycle_transition`` and ``review`` are append-only (trigger; on PostgreSQL also no UPDATE or
  DELETE for the runtime role): an amendment is a new version, never an edit.
* ``peer_feedback``: requests and their answers.
* Every new table gets the tenant policy.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import context, op

from meritline.db.ddl import enable_tenant_isolation, grant_runtime_role, make_append_only

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TENANT_TABLES = ("cycle_transition", "review", "peer_feedback")
APPEND_ONLY = (
    "audit_event",
    "signal",
    "score_snapshot",
    "access_log",
    "cycle_transition",
    "review",
)
OLD_STATUSES = "status IN ('draft', 'open', 'calibration', 'finalized', 'closed')"
NEW_STATUSES = "status IN ('draft', 'open', 'calibration', 'finalized', 'shared', 'closed')"
#: What cycles made before templates existed get: the default template at this revision.
DEFAULT_TEMPLATE = {
    "scale": [
        {"value": 1, "label": "Does not meet expectations"},
        {"value": 2, "label": "Partially meets expectations"},
        {"value": 3, "label": "Meets expectations"},
        {"value": 4, "label": "Exceeds expectations"},
        {"value": 5, "label": "Far exceeds expectations"},
    ],
    "guideline": {"1": 0.1, "2": 0.2, "3": 0.4, "4": 0.2, "5": 0.1},
    "questions": [
        "What did this person achieve in the period, and what evidence shows it?",
        "Where should they grow next?",
    ],
    "self_review": True,
    "peer_feedback": True,
    "min_peer_responses": 3,
}


def _tenant_fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_{target}"),
        ondelete=ondelete,
    )


def _tenant_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenant.id"], name=op.f(f"fk_{table}_tenant_id_tenant"), ondelete="CASCADE"
    )


def upgrade() -> None:
    with op.batch_alter_table("review_cycle") as batch:
        batch.add_column(
            sa.Column(
                "template",
                sa.JSON(),
                nullable=False,
                server_default=sa.text(f"'{json.dumps(DEFAULT_TEMPLATE)}'"),
            )
        )
        batch.drop_constraint(op.f("ck_review_cycle_status"), type_="check")
        batch.create_check_constraint("status", NEW_STATUSES)
        batch.create_unique_constraint(op.f("uq_review_cycle_tenant_id_id"), ["tenant_id", "id"])
    with op.batch_alter_table("review_cycle") as batch:
        batch.alter_column("template", server_default=None)

    op.create_table(
        "cycle_transition",
        sa.Column("id", BigId, nullable=False),
        sa.Column("cycle_id", BigId, nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        _tenant_fk("cycle_transition", "cycle_id", "review_cycle", "CASCADE"),
        _tenant_key("cycle_transition"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_transition")),
        info={"classification": "internal"},
    )
    op.create_table(
        "review",
        sa.Column("id", BigId, nullable=False),
        sa.Column("cycle_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", BigId, nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("potential", sa.String(length=16), nullable=True),
        sa.Column("promotion_proposed", sa.Boolean(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("amends_id", BigId, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint("kind IN ('manager', 'self')", name=op.f("ck_review_kind")),
        sa.CheckConstraint("origin IN ('author', 'calibration')", name=op.f("ck_review_origin")),
        sa.CheckConstraint(
            "potential IN ('low', 'medium', 'high')", name=op.f("ck_review_potential")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_review_version")),
        sa.CheckConstraint(
            "(version = 1) = (amends_id IS NULL)",
            name=op.f("ck_review_amendment_names_what_it_amends"),
        ),
        _tenant_fk("review", "cycle_id", "review_cycle", "CASCADE"),
        _tenant_fk("review", "employee_id", "employee", "RESTRICT"),
        _tenant_fk("review", "author_id", "employee", "RESTRICT"),
        _tenant_fk("review", "amends_id", "review", "RESTRICT"),
        _tenant_key("review"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_review_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "cycle_id",
            "employee_id",
            "kind",
            "version",
            name=op.f("uq_review_tenant_id_cycle_id_employee_id_kind_version"),
        ),
        info={"classification": "personal"},
    )
    op.create_index("ix_review_cycle_employee", "review", ["tenant_id", "cycle_id", "employee_id"])
    op.create_table(
        "peer_feedback",
        sa.Column("id", BigId, nullable=False),
        sa.Column("cycle_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("responder_id", BigId, nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "relation IN ('peer', 'upward', 'other')", name=op.f("ck_peer_feedback_relation")
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'submitted', 'declined')",
            name=op.f("ck_peer_feedback_status"),
        ),
        sa.CheckConstraint(
            "employee_id <> responder_id", name=op.f("ck_peer_feedback_not_about_oneself")
        ),
        _tenant_fk("peer_feedback", "cycle_id", "review_cycle", "CASCADE"),
        _tenant_fk("peer_feedback", "employee_id", "employee", "RESTRICT"),
        _tenant_fk("peer_feedback", "responder_id", "employee", "RESTRICT"),
        _tenant_key("peer_feedback"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_feedback")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_peer_feedback_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "cycle_id",
            "employee_id",
            "responder_id",
            name=op.f("uq_peer_feedback_tenant_id_cycle_id_employee_id_responder_id"),
        ),
        info={"classification": "personal"},
    )
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)
    make_append_only("cycle_transition")
    make_append_only("review")
    postgres = op.get_bind().dialect.name == "postgresql"
    role = context.config.attributes.get("runtime_role", "")
    grant_runtime_role(role, read_append_only=APPEND_ONLY + (("signal_key",) if postgres else ()))


def downgrade() -> None:
    op.drop_table("peer_feedback")
    op.drop_index("ix_review_cycle_employee", table_name="review")
    op.drop_table("review")
    op.drop_table("cycle_transition")
    if op.get_bind().dialect.name == "postgresql":
        for function in ("cycle_transition_append_only", "review_append_only"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
    op.execute("UPDATE review_cycle SET status = 'finalized' WHERE status = 'shared'")
    with op.batch_alter_table("review_cycle") as batch:
        batch.drop_constraint(op.f("uq_review_cycle_tenant_id_id"), type_="unique")
        batch.drop_constraint(op.f("ck_review_cycle_status"), type_="check")
        batch.create_check_constraint("status", OLD_STATUSES)
        batch.drop_column("template")
