"""Signal write path: no per-row foreign key checks that add nothing, and a monthly backlog.

* ``signal`` loses its own key to ``tenant``: ``(tenant_id, employee_id)`` already references
  the employee, which belongs to the tenant.
* ``signal_key`` (PostgreSQL) loses its key to ``tenant``: it is an index of ``signal``, written
  in the same statement. Its text columns compare bytes (collation "C"): cheaper to index.
* ``aggregate_backlog`` queues (employee, type, month) instead of (employee, type, day), with no
  foreign key: a bulk import queues at most twelve rows per employee and type for a year.
  Queued days become their months; ``queued_at`` (when first queued) replaces ``touched_at``
  (when last touched), so queueing a month again writes nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from meritline.db.ddl import enable_tenant_isolation, grant_runtime_role, make_append_only

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_FIRST_OF_MONTH = {
    "postgresql": "date_trunc('month', day)::date",
    "sqlite": "date(day, 'start of month')",
}


def _replace_backlog(
    column: str, first_of: str, stamps: tuple[str, str], *, tenant_fk: bool
) -> None:
    """Rebuild ``aggregate_backlog`` keyed by ``column``, carrying the queued rows over (their
    time stamp renamed from ``stamps[0]`` to ``stamps[1]``).
    """
    old_stamp, stamp = stamps
    op.rename_table("aggregate_backlog", "aggregate_backlog_old")
    if op.get_bind().dialect.name == "postgresql":  # index names are unique per schema
        op.execute(
            "ALTER TABLE aggregate_backlog_old "
            "RENAME CONSTRAINT pk_aggregate_backlog TO pk_aggregate_backlog_old"
        )
    tenant_key = (
        [
            sa.ForeignKeyConstraint(
                ["tenant_id"],
                ["tenant.id"],
                name=op.f("fk_aggregate_backlog_tenant_id_tenant"),
                ondelete="CASCADE",
            )
        ]
        if tenant_fk
        else []
    )
    op.create_table(
        "aggregate_backlog",
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("employee_id", BigId, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column(column, sa.Date(), nullable=False),
        sa.Column(stamp, sa.DateTime(timezone=True), nullable=False),
        *tenant_key,
        sa.PrimaryKeyConstraint(
            "tenant_id", "employee_id", "type", column, name=op.f("pk_aggregate_backlog")
        ),
    )
    enable_tenant_isolation("aggregate_backlog")
    op.execute(
        f"INSERT INTO aggregate_backlog (tenant_id, employee_id, type, {column}, {stamp}) "  # noqa: S608
        f"SELECT tenant_id, employee_id, type, {first_of}, min({old_stamp}) "
        f"FROM aggregate_backlog_old GROUP BY tenant_id, employee_id, type, {first_of}"
    )
    op.drop_table("aggregate_backlog_old")


def _signal_key_collation(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column, length in (("source", 64), ("external_id", 200)):
        op.alter_column(
            "signal_key",
            column,
            type_=sa.String(length, collation=collation),
            existing_type=sa.String(length),
            existing_nullable=False,
        )


def _signal_tenant_keys(*, add: bool) -> None:
    """Drop (or restore) the per-row keys from ``signal`` and ``signal_key`` to ``tenant``."""
    tables = ("signal", "signal_key") if op.get_bind().dialect.name == "postgresql" else ()
    for table in tables:
        name = f"fk_{table}_tenant_id_tenant"
        if add:
            op.create_foreign_key(name, table, "tenant", ["tenant_id"], ["id"], ondelete="CASCADE")
        else:
            op.drop_constraint(name, table, type_="foreignkey")
    if not tables:
        # SQLite rebuilds the table for this, and its triggers with it
        with op.batch_alter_table("signal") as batch:
            if add:
                batch.create_foreign_key(
                    "fk_signal_tenant_id_tenant",
                    "tenant",
                    ["tenant_id"],
                    ["id"],
                    ondelete="CASCADE",
                )
            else:
                batch.drop_constraint("fk_signal_tenant_id_tenant", type_="foreignkey")
        make_append_only("signal")


def _grant() -> None:
    role = context.config.attributes.get("runtime_role", "")
    grant_runtime_role(role, read_append_only=("audit_event", "signal", "signal_key"))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _signal_tenant_keys(add=False)
    _signal_key_collation("C")
    _replace_backlog(
        "month", _FIRST_OF_MONTH[dialect], ("touched_at", "queued_at"), tenant_fk=False
    )
    _grant()


def downgrade() -> None:
    # a month comes back as its first day, so run `meritline aggregates refresh --full` after
    _replace_backlog("day", "month", ("queued_at", "touched_at"), tenant_fk=True)
    _signal_tenant_keys(add=True)
    _signal_key_collation("default")
    _grant()
