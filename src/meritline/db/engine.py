"""Engines: SQLite pragmas, and on PostgreSQL the switch to the runtime role that RLS binds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.pool import NullPool


def is_postgres(url: str) -> bool:
    """Tell whether a database URL points at PostgreSQL."""
    return make_url(url).get_backend_name() == "postgresql"


def create_db_engine(
    url: str, *, role: str = "", echo: bool = False, search_path: str | None = None
) -> Engine:
    """Create an engine for ``url``.

    SQLite gets foreign keys, WAL and a busy timeout, and every transaction starts with
    ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing mid-way.
    PostgreSQL connections switch to ``role`` (when given) so row-level security applies even
    when the login role is privileged, and optionally pin a ``search_path`` (used by tests).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=None if memory else NullPool,
        )
        _configure_sqlite(engine, wal=not memory)
        return engine

    engine = create_engine(url, echo=echo, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            if search_path:
                cur.execute(f'SET search_path TO "{search_path}"')
            if role:
                cur.execute(f'SET ROLE "{role}"')
        dbapi_conn.commit()

    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
