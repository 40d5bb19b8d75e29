"""Migration 0003 (signal write path): the backlog's days become months, tenant keys go.

Runs on SQLite and, when MERITLINE_TEST_POSTGRES_URL is set, on PostgreSQL, each time on a
fresh database (a new file, or a new schema) migrated step by step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from meritline.db.engine import create_db_engine
from meritline.db.migrate import alembic_config, current_revision, head_revision
from tests.fixtures.database import BACKENDS, POSTGRES_URL, RUNTIME_ROLE

TENANT_KEYS = ("fk_signal_tenant_id_tenant", "fk_signal_key_tenant_id_tenant")

tenant = sa.table(
    "tenant",
    sa.column("id", sa.BigInteger),
    sa.column("slug", sa.String),
    sa.column("name", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
employee = sa.table(
    "employee",
    sa.column("id", sa.BigInteger),
    sa.column("tenant_id", sa.BigInteger),
    sa.column("employee_number", sa.String),
    sa.column("name", sa.String),
    sa.column("email", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
signal = sa.table(
    "signal",
    sa.column("id", sa.BigInteger),
    sa.column("tenant_id", sa.BigInteger),
    sa.column("employee_id", sa.BigInteger),
    sa.column("source", sa.String),
    sa.column("type", sa.String),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("value", sa.Float),
    sa.column("external_id", sa.String),
    sa.column("ingested_at", sa.DateTime(timezone=True)),
)
backlog_0002 = sa.table(
    "aggregate_backlog",
    sa.column("tenant_id", sa.BigInteger),
    sa.column("employee_id", sa.BigInteger),
    sa.column("type", sa.String),
    sa.column("day", sa.Date),
    sa.column("touched_at", sa.DateTime(timezone=True)),
)
backlog_0003 = sa.table(
    "aggregate_backlog",
    sa.column("tenant_id", sa.BigInteger),
    sa.column("employee_id", sa.BigInteger),
    sa.column("type", sa.String),
    sa.column("month", sa.Date),
    sa.column("queued_at", sa.DateTime(timezone=True)),
)


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00+00:00")


#: (tenant, employee, type, day, touched_at) as queued under 0002; the tenant is 0 or 1 (A, B).
#: In March the later day was touched first, so a month must take the earliest stamp of its days.
QUEUED_DAYS = [
    (0, 1, "pr_merged", date(2026, 3, 5), at("2026-03-25", "12:00")),
    (0, 1, "pr_merged", date(2026, 3, 20), at("2026-03-20", "08:00")),
    (0, 1, "pr_merged", date(2026, 4, 1), at("2026-04-02", "07:30")),
    (0, 2, "pr_merged", date(2026, 3, 7), at("2026-03-07", "18:00")),
    (1, 1, "pr_merged", date(2026, 3, 10), at("2026-03-10", "09:15")),
]
#: The same backlog by month: (tenant, employee, type, first of month, earliest stamp).
QUEUED_MONTHS = {
    (0, 1, "pr_merged", date(2026, 3, 1), at("2026-03-20", "08:00")),
    (0, 1, "pr_merged", date(2026, 4, 1), at("2026-04-02", "07:30")),
    (0, 2, "pr_merged", date(2026, 3, 1), at("2026-03-07", "18:00")),
    (1, 1, "pr_merged", date(2026, 3, 1), at("2026-03-10", "09:15")),
}


@dataclass
class FreshDatabase:
    """An empty database, and the engine on its owner (the login role) that migrates it."""

    backend: str
    engine: Engine
    runtime_role: str

    def migrate(self, revision: str, *, down: bool = False) -> None:
        with self.engine.begin() as conn:
            config = alembic_config(conn, runtime_role=self.runtime_role)
            if down:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)
        with self.engine.connect() as conn:
            assert current_revision(conn) == (head_revision() if revision == "head" else revision)


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FreshDatabase]:
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'm0003.db'}")
        try:
            yield FreshDatabase("sqlite", engine, "")
        finally:
            engine.dispose()
        return
    schema = f"mlt_{uuid.uuid4().hex[:10]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_db_engine(POSTGRES_URL, search_path=schema)
    try:
        yield FreshDatabase("postgres", engine, RUNTIME_ROLE)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def insert_0002_data(conn: Connection, backend: str) -> list[int]:
    """Two tenants, one signal, and the backlog of :data:`QUEUED_DAYS`; return the tenant ids."""
    now = at("2026-04-03", "10:00")
    tenant_ids = [
        conn.execute(
            sa.insert(tenant)
            .values(slug=f"t{i}", name=f"Tenant {i}", created_at=now)
            .returning(tenant.c.id)
        ).scalar_one()
        for i in range(2)
    ]
    employee_id = conn.execute(
        sa.insert(employee)
        .values(
            tenant_id=tenant_ids[0],
            employee_number="E1",
            name="Ada",
            email="ada@example.com",
            created_at=now,
            updated_at=now,
        )
        .returning(employee.c.id)
    ).scalar_one()
    if backend == "postgres":
        conn.execute(text("SELECT ensure_signal_partitions(ARRAY[DATE '2026-03-01'])"))
        conn.execute(
            text(
                "INSERT INTO signal_key (tenant_id, source, external_id, signal_id) "
                "VALUES (:t, 'github', 'pr-1', 1)"
            ),
            {"t": tenant_ids[0]},
        )
    conn.execute(
        sa.insert(signal).values(
            tenant_id=tenant_ids[0],
            employee_id=employee_id,
            source="github",
            type="pr_merged",
            occurred_at=at("2026-03-05", "11:00"),
            value=1.0,
            external_id="pr-1",
            ingested_at=now,
        )
    )
    conn.execute(
        sa.insert(backlog_0002),
        [
            {"tenant_id": tenant_ids[t], "employee_id": e, "type": k, "day": d, "touched_at": ts}
            for t, e, k, d, ts in QUEUED_DAYS
        ],
    )
    return tenant_ids


def utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def backlog_rows(
    conn: Connection, table: sa.TableClause, tenant_ids: list[int]
) -> set[tuple[int, int, str, date, datetime]]:
    tenant_of = {tid: i for i, tid in enumerate(tenant_ids)}
    rows = conn.execute(sa.select(table)).all()
    return {(tenant_of[t], e, k, d, utc(ts)) for t, e, k, d, ts in rows}


def backlog_columns(conn: Connection) -> list[str]:
    return [c["name"] for c in sa.inspect(conn).get_columns("aggregate_backlog")]


def postgres_tenant_keys(conn: Connection) -> set[str]:
    """The named keys in the test schema, partitions' copies included."""
    return set(
        conn.scalars(
            text(
                "SELECT c.conname FROM pg_constraint c "
                "JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = current_schema() AND c.contype = 'f' "
                "AND c.conname = ANY(:names)"
            ),
            {"names": list(TENANT_KEYS)},
        )
    )


def postgres_collation(conn: Connection, column: str) -> str | None:
    value: str | None = conn.scalar(
        text(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'signal_key' "
            "AND column_name = :column"
        ),
        {"column": column},
    )
    return value


def sqlite_signal_references(conn: Connection) -> set[str]:
    """The tables ``signal``'s foreign keys point at."""
    return {row[2] for row in conn.exec_driver_sql("PRAGMA foreign_key_list(signal)")}


def sqlite_signal_triggers(conn: Connection) -> set[str]:
    return set(
        conn.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'signal'")
        )
    )


def assert_signal_is_append_only(engine: Engine) -> None:
    for statement in ("UPDATE signal SET value = 2.0", "DELETE FROM signal"):
        with pytest.raises(DBAPIError, match="signal is append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM signal")).scalars().all() == [1.0]


def test_upgrade_merges_backlog_days_into_months_and_drops_tenant_keys(
    fresh: FreshDatabase,
) -> None:
    postgres = fresh.backend == "postgres"
    fresh.migrate("0002")
    with fresh.engine.begin() as conn:
        tenant_ids = insert_0002_data(conn, fresh.backend)
        # what 0003 removes is there before it runs (else the checks below prove nothing)
        if postgres:
            assert postgres_tenant_keys(conn) == set(TENANT_KEYS)
            assert postgres_collation(conn, "external_id") is None
        else:
            assert "tenant" in sqlite_signal_references(conn)

    fresh.migrate("0003")
    with fresh.engine.connect() as conn:
        columns = backlog_columns(conn)
        assert "month" in columns and "queued_at" in columns
        assert "day" not in columns and "touched_at" not in columns
        assert backlog_rows(conn, backlog_0003, tenant_ids) == QUEUED_MONTHS
        assert conn.scalar(text("SELECT count(*) FROM signal")) == 1
        if postgres:
            assert postgres_tenant_keys(conn) == set()
            assert postgres_collation(conn, "external_id") == "C"
            assert postgres_collation(conn, "source") == "C"
            # the rebuilt backlog keeps tenant isolation and the runtime role's grants
            assert conn.scalar(
                text(
                    "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class "
                    "WHERE oid = 'aggregate_backlog'::regclass"
                )
            )
            assert (
                conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_policies WHERE tablename = 'aggregate_backlog' "
                        "AND schemaname = current_schema()"
                    )
                )
                == 1
            )
            assert conn.scalar(
                text("SELECT has_table_privilege(:role, 'aggregate_backlog', 'INSERT, DELETE')"),
                {"role": RUNTIME_ROLE},
            )
        else:
            references = sqlite_signal_references(conn)
            assert "tenant" not in references
            assert "employee" in references
            assert sqlite_signal_triggers(conn) == {"signal_no_update", "signal_no_delete"}
            indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("signal")}
            assert {
                "ix_signal_employee_type_time",
                "uq_signal_tenant_id_source_external_id",
            } <= indexes
    if not postgres:
        assert_signal_is_append_only(fresh.engine)

    # the key is now (tenant, employee, type, month): a second March row for employee 1 clashes
    with (
        pytest.raises(sa.exc.IntegrityError),
        fresh.engine.begin() as conn,
    ):
        conn.execute(
            sa.insert(backlog_0003).values(
                tenant_id=tenant_ids[0],
                employee_id=1,
                type="pr_merged",
                month=date(2026, 3, 1),
                queued_at=at("2026-05-01", "00:00"),
            )
        )

    fresh.migrate("0002", down=True)
    with fresh.engine.connect() as conn:
        columns = backlog_columns(conn)
        assert "day" in columns and "touched_at" in columns
        assert "month" not in columns and "queued_at" not in columns
        # a month comes back as its first day, stamped with when it was first queued
        assert backlog_rows(conn, backlog_0002, tenant_ids) == QUEUED_MONTHS
        if postgres:
            assert postgres_tenant_keys(conn) == set(TENANT_KEYS)
            assert postgres_collation(conn, "external_id") is None
        else:
            assert "tenant" in sqlite_signal_references(conn)
            assert sqlite_signal_triggers(conn) == {"signal_no_update", "signal_no_delete"}
    if not postgres:
        assert_signal_is_append_only(fresh.engine)

    fresh.migrate("head")
    with fresh.engine.connect() as conn:
        assert backlog_rows(conn, backlog_0003, tenant_ids) == QUEUED_MONTHS
        if postgres:
            assert postgres_tenant_keys(conn) == set()
            assert postgres_collation(conn, "external_id") == "C"
        else:
            assert "tenant" not in sqlite_signal_references(conn)
            assert sqlite_signal_triggers(conn) == {"signal_no_update", "signal_no_delete"}
