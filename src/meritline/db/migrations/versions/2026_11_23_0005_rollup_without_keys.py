"""The daily rollup without foreign keys: it is derived data, rebuilt from ``signal``.

``signal_daily`` loses its keys to ``tenant`` and ``employee``. Every row is computed from
signals that already hold both keys, and a refresh writes hundreds of thousands of rows in one
statement: a per-row key check there added nothing but time (on PostgreSQL, before ``employee``
had planner statistics, 90% of a refresh). Row-level security still confines it to its tenant.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TENANT_KEY = "fk_signal_daily_tenant_id_tenant"
EMPLOYEE_KEY = "fk_signal_daily_tenant_id_employee_id_employee"


def upgrade() -> None:
    with op.batch_alter_table("signal_daily") as batch:
        batch.drop_constraint(EMPLOYEE_KEY, type_="foreignkey")
        batch.drop_constraint(TENANT_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("signal_daily") as batch:
        batch.create_foreign_key(TENANT_KEY, "tenant", ["tenant_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(
            EMPLOYEE_KEY,
            "employee",
            ["tenant_id", "employee_id"],
            ["tenant_id", "id"],
            ondelete="CASCADE",
        )
