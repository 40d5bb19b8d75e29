"""The scoring read path: windows straight from a covering signal index; a keyless rollup.

* ``ix_signal_employee_type_time`` also carries ``value``: per employee and type, the signals of
  any date range are one index range with everything a window sum needs, so scoring reads them
  without touching the table (and without depending on the rollup being refreshed).
* ``signal_daily`` loses its keys to ``tenant`` and ``employee``. It is derived data, computed
  from signals that hold both keys, and a refresh writes hundreds of thousands of rows in one
  statement: a per-row key check added nothing but time (on PostgreSQL, before ``employee`` had
  planner statistics, 90% of a refresh). Row-level security still confines it to its tenant.

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

SIGNAL_INDEX = "ix_signal_employee_type_time"
TENANT_KEY = "fk_signal_daily_tenant_id_tenant"
EMPLOYEE_KEY = "fk_signal_daily_tenant_id_employee_id_employee"


def _signal_index(*columns: str) -> None:
    op.drop_index(SIGNAL_INDEX, table_name="signal")
    op.create_index(SIGNAL_INDEX, "signal", ["tenant_id", "employee_id", "type", *columns])


def upgrade() -> None:
    _signal_index("occurred_at", "value")
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
    _signal_index("occurred_at")
