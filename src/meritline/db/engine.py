"""Engines: SQLite pragmas, and on PostgreSQL the switch to the runtime role that RLS binds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.pool import QueuePool

from meritline.errors import ConfigurationError

#: Execution option naming how a SQLite transaction begins; read-only work uses ``DEFERRED`` so
#: that readers never wait for a writer (WAL lets them read the last committed state).
SQLITE_BEGIN = "meritline_sqlite_begin"


def is_postgres(url: str) -> bool:
    """Tell whether a database URL points at PostgreSQL."""
    return make_url(url).get_backend_name() == "postgresql"


def create_db_engine(
    url: str,
    *,
    role: str = "",
    echo: bool = False,
    search_path: str | None = None,
    enforce_rls: bool = False,
) -> Engine:
    """Create an engine for ``url``.

    SQLite gets foreign keys, WAL and a busy timeout, and a writing transaction starts with
    ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing mid-way.
    PostgreSQL connections switch to ``role`` (when given) so row-level security applies even
    when the login role is privileged, and optionally pin a ``search_path`` (used by tests).
    With ``enforce_rls`` (the application's runtime engine) a connection whose effective role is a
    superuser or has BYPASSRLS is refused, so tenant isolation can never be silently off.
    SQL parameters are kept out of error messages and logs (they may hold personal data)
    unless ``echo`` is on.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=not echo,
            # pooled (one thread at a time per connection): opening a connection and setting
            # its pragmas costs more than a small transaction
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=None if memory else QueuePool,
        )
        _configure_sqlite(engine, wal=not memory)
        return engine

    engine = create_engine(url, echo=echo, hide_parameters=not echo, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        user, bypasses = None, False
        with dbapi_conn.cursor() as cur:
            if search_path:
                cur.execute(f'SET search_path TO "{search_path}"')
            if role:
                cur.execute(f'SET ROLE "{role}"')
            if enforce_rls:
                cur.execute(
                    "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
                user, bypasses = cur.fetchone()
        dbapi_conn.commit()
        if enforce_rls and bypasses:
            dbapi_conn.close()
            raise ConfigurationError(
                f"Refusing to run as PostgreSQL role {user!r}: it bypasses row-level security. "
                "Log in as an unprivileged role, or set MERITLINE_DATABASE_ROLE to one "
                "(`meritline db upgrade` creates meritline_app)."
            )

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
        cur.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk inserts keep indexes cached
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(SQLITE_BEGIN, 'IMMEDIATE')}")
