"""Set-based writes of resolved signals: idempotent on (tenant, source, external_id).

A *resolved frame* is a signal frame with ``employee_id`` (see :mod:`meritline.evidence.frames`).
Each backend takes the fastest path it has, below the ORM (tens of thousands of rows per call):

* SQLite: one ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` on the table's unique
  index; stored = the connection's change count.
* PostgreSQL: ``COPY`` into a temporary staging table, then one statement that claims the keys in
  ``signal_key`` (``ON CONFLICT DO NOTHING``), inserts the signals whose key it claimed, and
  queues their day buckets in ``aggregate_backlog``. Concurrent imports of the same event store
  it once: the key's primary key decides.

Rows are written with the session's tenant on the session's connection and transaction, so
row-level security (PostgreSQL) checks every one of them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from meritline.clock import utcnow
from meritline.db.tenancy import TenantScopeError, session_tenant

STORED_COLUMNS = (
    "employee_id",
    "source",
    "type",
    "occurred_at",
    "value",
    "attributes",
    "external_id",
)
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.6f"
_KNOWN_MONTHS = "meritline_signal_months"


def _tenant(session: Session) -> int:
    tenant_id = session_tenant(session)
    if tenant_id is None:
        raise TenantScopeError("signals written in a session without a tenant")
    return tenant_id


def _driver_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def insert_signals(session: Session, frame: pl.DataFrame, *, batch_id: int | None) -> int:
    """Store the frame's signals that are new; return how many were stored."""
    if frame.is_empty():
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _insert_postgres(session, frame, batch_id)
    return _insert_sqlite(session, frame, batch_id)


def _insert_sqlite(session: Session, frame: pl.DataFrame, batch_id: int | None) -> int:
    tenant_id, now = _tenant(session), utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = frame.select(
        pl.lit(tenant_id).alias("tenant_id"),
        *STORED_COLUMNS[:3],
        pl.col("occurred_at").dt.strftime(_SQLITE_TIME),
        *STORED_COLUMNS[4:],
        pl.lit(batch_id, pl.Int64).alias("batch_id"),
        pl.lit(now).alias("ingested_at"),
    ).iter_rows()
    db = _driver_connection(session)
    before = db.total_changes
    db.executemany(
        "INSERT INTO signal (tenant_id, employee_id, source, type, occurred_at, value, "
        "attributes, external_id, batch_id, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, source, external_id) DO NOTHING",
        rows,
    )
    stored = int(db.total_changes - before)
    if stored:
        _queue_days_sqlite(db, tenant_id, frame)
    return stored


def _queue_days_sqlite(db: Any, tenant_id: int, frame: pl.DataFrame) -> None:
    """Queue the frame's day buckets (a superset of the stored rows' buckets: harmless)."""
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    days = frame.select(
        "employee_id", "type", pl.col("occurred_at").dt.date().cast(pl.String).alias("day")
    ).unique()
    db.executemany(
        "INSERT INTO aggregate_backlog (tenant_id, employee_id, type, day, touched_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, employee_id, type, day) "
        "DO UPDATE SET touched_at = excluded.touched_at",
        ((tenant_id, e, t, d, now) for e, t, d in days.iter_rows()),
    )


_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS signal_stage (
    employee_id bigint, source text, type text, occurred_at timestamptz, value float8,
    attributes text, external_id text
) ON COMMIT DROP
"""

_FROM_STAGE = """
WITH fresh AS MATERIALIZED (
    SELECT nextval('signal_id_seq') AS id, s.* FROM signal_stage s
), keys AS (
    INSERT INTO signal_key (tenant_id, source, external_id, signal_id)
    SELECT :tenant_id, source, external_id, id FROM fresh
    ON CONFLICT DO NOTHING
    RETURNING signal_id
), stored AS (
    INSERT INTO signal (id, tenant_id, employee_id, source, type, occurred_at, value,
                        attributes, external_id, batch_id, ingested_at)
    SELECT f.id, :tenant_id, f.employee_id, f.source, f.type, f.occurred_at, f.value,
           f.attributes::json, f.external_id, :batch_id, :now
    FROM fresh f JOIN keys k ON k.signal_id = f.id
    RETURNING employee_id, type, occurred_at
), queued AS (
    INSERT INTO aggregate_backlog (tenant_id, employee_id, type, day, touched_at)
    SELECT DISTINCT :tenant_id, employee_id, type, (occurred_at AT TIME ZONE 'UTC')::date, :now
    FROM stored
    ON CONFLICT (tenant_id, employee_id, type, day) DO UPDATE SET touched_at = excluded.touched_at
)
SELECT count(*) FROM stored
"""


def _insert_postgres(session: Session, frame: pl.DataFrame, batch_id: int | None) -> int:
    tenant_id = _tenant(session)
    ensure_partitions(session, frame)
    session.execute(text(_STAGE))
    session.execute(text("TRUNCATE signal_stage"))
    payload = frame.select(STORED_COLUMNS).write_csv(
        include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.6f+00:00"
    )
    with _driver_connection(session).cursor() as cursor:
        columns = ", ".join(STORED_COLUMNS)
        with cursor.copy(f"COPY signal_stage ({columns}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(payload.encode())
    stored = session.execute(
        text(_FROM_STAGE),
        {"tenant_id": tenant_id, "batch_id": batch_id, "now": utcnow()},
    ).scalar_one()
    return int(stored)


def ensure_partitions(session: Session, frame: pl.DataFrame) -> None:
    """Create the month partitions the frame's signals need (PostgreSQL), once per transaction
    (a partition created by a transaction that rolls back is gone again).
    """
    months = frame.select(pl.col("occurred_at").dt.truncate("1mo").dt.date().unique())
    known: set[date] = session.info.setdefault(_KNOWN_MONTHS, set())
    missing = sorted(set(months.to_series().to_list()) - known)
    if missing:
        session.execute(text("SELECT ensure_signal_partitions(:months)"), {"months": missing})
        known.update(missing)
