"""Shared fixtures: a migrated database per backend, a rolled-back transaction per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from meritline.db.session import Database
from tests.fixtures.database import BACKENDS, POSTGRES_URL, MigratedDatabase, migrated_database


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") == "true" and not POSTGRES_URL:
        raise pytest.UsageError(
            "CI=true but MERITLINE_TEST_POSTGRES_URL is not set: the PostgreSQL half of the "
            "suite would not run. Run the suite through .ci/run."
        )


def pytest_report_header(config: pytest.Config) -> str:
    where = POSTGRES_URL or "not configured (set MERITLINE_TEST_POSTGRES_URL to include it)"
    return f"meritline backends: {', '.join(BACKENDS)}; PostgreSQL: {where}"


@pytest.fixture(scope="session", params=BACKENDS)
def migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MigratedDatabase]:
    """A database at the migrations' head, shared by the session, per backend."""
    yield from migrated_database(request.param, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session", params=["postgres"] if POSTGRES_URL else [])
def pg_migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MigratedDatabase]:
    """The PostgreSQL database only, for tests of PostgreSQL features (RLS, locks)."""
    yield from migrated_database(request.param, tmp_path_factory.mktemp("pg"))


@pytest.fixture
def connection(migrated: MigratedDatabase) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with migrated.engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def db(migrated: MigratedDatabase, connection: Connection) -> Database:
    """A Database whose units of work are savepoints of the test's transaction."""
    return Database(migrated.engine, bind=connection)


@pytest.fixture
def pg_db(pg_migrated: MigratedDatabase) -> Iterator[Database]:
    """Like ``db``, on PostgreSQL only (tests of row-level security and locking)."""
    with pg_migrated.engine.connect() as conn:
        outer = conn.begin()
        try:
            yield Database(pg_migrated.engine, bind=conn)
        finally:
            outer.rollback()


@pytest.fixture
def backend(migrated: MigratedDatabase) -> str:
    """The backend under test: ``sqlite`` or ``postgres``."""
    return migrated.backend


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file URL for CLI tests (the CLI migrates it on first use)."""
    return f"sqlite:///{tmp_path / 'cli.db'}"
