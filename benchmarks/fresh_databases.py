"""Fresh databases for the benchmarks: a temporary SQLite file, or a throw-away PostgreSQL
schema migrated to head and used through the runtime role (row-level security applies), dropped
afterwards.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, make_url, text

from meritline.db.engine import create_db_engine
from meritline.db.migrate import upgrade
from meritline.db.session import Database

RUNTIME_ROLE = "meritline_app"


@dataclass(frozen=True)
class FreshDatabase:
    """A database at head. ``url`` is the login URL; ``schema`` is set on PostgreSQL.

    Plain data, so it can be handed to another process, which builds its own engines.
    """

    backend: str
    url: str
    schema: str | None

    @property
    def cli_url(self) -> str:
        """A URL for a ``meritline`` child process (PostgreSQL: pinned to the schema)."""
        if self.schema is None:
            return self.url
        options = {"options": f"-csearch_path={self.schema}"}
        return make_url(self.url).update_query_dict(options).render_as_string(hide_password=False)

    def runtime(self) -> Database:
        """The application's database: on PostgreSQL the runtime role, refusing to bypass RLS."""
        if self.schema is None:
            return Database(create_db_engine(self.url))
        engine = create_db_engine(
            self.url, role=RUNTIME_ROLE, search_path=self.schema, enforce_rls=True
        )
        return Database(engine)

    def analyze(self) -> None:
        """After a bulk load, what autovacuum would do in a deployment (this machine's server
        runs with it off): planner statistics, and the visibility map that lets a covering
        index answer without visiting the table (PostgreSQL; nothing on SQLite).
        """
        if self.schema is None:
            return
        engine = self.owner_engine().execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            tables = conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": self.schema}
            ).all()
            conn.execute(
                text("VACUUM ANALYZE " + ", ".join(f'"{self.schema}"."{t}"' for t in tables))
            )
        engine.dispose()

    def owner_engine(self) -> Engine:
        """An engine on the login role (the schema owner on PostgreSQL)."""
        return create_db_engine(self.url, search_path=self.schema)


@contextmanager
def fresh_database(backend: str, pg_url: str | None) -> Iterator[FreshDatabase]:
    """A database at head for ``backend`` (``sqlite`` or ``postgres``), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            yield FreshDatabase("sqlite", url, None)
        return
    if not pg_url:
        raise SystemExit("PostgreSQL benchmarks need a URL (--postgres ...)")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_db_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade(pg_url, runtime_role=RUNTIME_ROLE, search_path=schema)
        yield FreshDatabase("postgres", pg_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
