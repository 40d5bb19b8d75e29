"""Set-based writes of resolved signals: idempotent on (tenant, source, external_id).

A *resolved frame* is a signal frame with ``employee_id`` (see :mod:`meritline.evidence.frames`).
Each backend takes the fastest path it has, below the ORM (tens of thousands of rows per call):

* SQLite: one ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` on the table's unique
  index; stored = the connection's change count.
* PostgreSQL: one statement that claims the keys in ``signal_key`` (``ON CONFLICT DO NOTHING``)
  and inserts the signals whose key it claimed, reading the rows from arrays (a few rows, as
  from a webhook) or from a temporary table filled by ``COPY`` (many rows, as from a file).
  Concurrent imports of the same event store it once: the key's primary key decides.

Both then queue the employee-type months they touched in ``aggregate_backlog`` (see
:mod:`meritline.evidence.aggregates`), once per transaction.

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
from meritline.evidence import queries

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
_QUEUED_MONTHS = "meritline_queued_months"


def _tenant(session: Session) -> int:
    tenant_id = session_tenant(session)
    if tenant_id is None:
        raise TenantScopeError("signals written in a session without a tenant")
    return tenant_id


def _transaction_set(session: Session, key: str) -> set[Any]:
    """A set kept for the session's current transaction only (what it has done so far)."""
    transaction = session.get_transaction()
    owner, known = session.info.get(key, (None, None))
    if owner is not transaction or not isinstance(known, set):
        known = set()
        session.info[key] = (transaction, known)
    return known


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
        _queue_months(session, frame)
    return stored


def _queue_months(session: Session, frame: pl.DataFrame) -> None:
    """Queue the frame's employee-type months for the rollup, skipping those this transaction
    queued already (a superset of the stored rows' months: a duplicate's month is recomputed
    for nothing, which is harmless).
    """
    months = frame.select(
        "employee_id", "type", pl.col("occurred_at").dt.truncate("1mo").dt.date().alias("month")
    ).unique()
    queued: set[tuple[int, str, date]] = _transaction_set(session, _QUEUED_MONTHS)
    fresh = set(months.iter_rows()) - queued
    if fresh:
        queries.queue_months(session, sorted(fresh))
        queued.update(fresh)


_INSERT_POSTGRES = """
WITH fresh AS MATERIALIZED (
    SELECT nextval('signal_id_seq') AS id, s.* FROM {source}
), keys AS (
    INSERT INTO signal_key (tenant_id, source, external_id, signal_id)
    SELECT %(tenant_id)s, source, external_id, id FROM fresh
    ON CONFLICT DO NOTHING
    RETURNING signal_id
), stored AS (
    INSERT INTO signal (id, tenant_id, employee_id, source, type, occurred_at, value,
                        attributes, external_id, batch_id, ingested_at)
    SELECT f.id, %(tenant_id)s, f.employee_id, f.source, f.type, f.occurred_at, f.value,
           f.attributes::json, f.external_id, %(batch_id)s, %(now)s
    FROM fresh f JOIN keys k ON k.signal_id = f.id
    RETURNING 1
)
SELECT count(*) FROM stored
"""
#: A few rows (a webhook) come as arrays, in the statement itself.
_FROM_ARRAYS = _INSERT_POSTGRES.format(
    source="""unnest(%(employee_id)s::bigint[], %(source)s::text[], %(type)s::text[],
                %(occurred_at)s::timestamptz[], %(value)s::float8[], %(attributes)s::text[],
                %(external_id)s::text[])
         AS s (employee_id, source, type, occurred_at, value, attributes, external_id)"""
)
#: Many rows (a file) are copied into a temporary table first: COPY is the fastest way in.
_FROM_STAGE = _INSERT_POSTGRES.format(source="signal_stage s")
_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS signal_stage (
    employee_id bigint, source text, type text, occurred_at timestamptz, value float8,
    attributes text, external_id text
) ON COMMIT DROP
"""
#: From this many rows on, the staged path.
_MANY = 500


def _insert_postgres(session: Session, frame: pl.DataFrame, batch_id: int | None) -> int:
    tenant_id = _tenant(session)
    ensure_partitions(session, frame)
    params: dict[str, Any] = {"tenant_id": tenant_id, "batch_id": batch_id, "now": utcnow()}
    with _driver_connection(session).cursor() as cursor:
        if frame.height < _MANY:
            params.update({name: frame.get_column(name).to_list() for name in STORED_COLUMNS})
            cursor.execute(_FROM_ARRAYS, params)
        else:
            cursor.execute(_STAGE)
            cursor.execute("TRUNCATE signal_stage")
            # the planner cannot see inside the CTEs and guesses millions of rows: it would
            # spend longer compiling the statement (JIT) than running it, and sort on disk
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
            payload = frame.select(STORED_COLUMNS).write_csv(
                include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.6f+00:00"
            )
            columns = ", ".join(STORED_COLUMNS)
            with cursor.copy(f"COPY signal_stage ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(payload.encode())
            cursor.execute(_FROM_STAGE, params)
        row = cursor.fetchone()
    stored = int(row[0]) if row else 0
    if stored:
        _queue_months(session, frame)
    return stored


def ensure_partitions(session: Session, frame: pl.DataFrame) -> None:
    """Create the month partitions the frame's signals need (PostgreSQL), once per transaction
    (a partition created by a transaction that rolls back is gone again).
    """
    months = frame.select(pl.col("occurred_at").dt.truncate("1mo").dt.date().unique())
    known: set[date] = _transaction_set(session, _KNOWN_MONTHS)
    missing = sorted(set(months.to_series().to_list()) - known)
    if missing:
        session.execute(text("SELECT ensure_signal_partitions(:months)"), {"months": missing})
        known.update(missing)
