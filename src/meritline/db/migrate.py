"""Schema migrations: upgrade, inspect the revision, and refuse to run on a stale schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from meritline.db.engine import create_db_engine
from meritline.errors import SchemaOutdated

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None, *, runtime_role: str = "") -> Config:
    """An Alembic config pointing at the packaged migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s",
    )
    config.attributes["connection"] = connection
    config.attributes["runtime_role"] = runtime_role
    return config


def head_revision() -> str:
    """The revision the code expects."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads; merge them")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def owner_engine(url: str, *, search_path: str | None = None) -> Iterator[Engine]:
    """An engine on the login role itself (no SET ROLE), for DDL."""
    engine = create_db_engine(url, search_path=search_path)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(url: str, *, runtime_role: str = "", search_path: str | None = None) -> str | None:
    """Upgrade the database to head; return the revision it was at before."""
    with owner_engine(url, search_path=search_path) as engine, engine.begin() as connection:
        before = current_revision(connection)
        command.upgrade(alembic_config(connection, runtime_role=runtime_role), "head")
    return before


def ensure_schema(url: str, *, auto_migrate: bool | None, runtime_role: str = "") -> None:
    """Make sure the schema is at head: upgrade it when allowed, or say what to run."""
    head = head_revision()
    with owner_engine(url) as engine, engine.connect() as connection:
        current = current_revision(connection)
    if current == head:
        return
    allowed = auto_migrate if auto_migrate is not None else url.startswith("sqlite")
    if allowed:
        upgrade(url, runtime_role=runtime_role)
        return
    state = "empty" if current is None else f"at revision {current}"
    raise SchemaOutdated(
        f"The database is {state}; this version of meritline needs revision {head}. "
        "Run `meritline db upgrade` (or set MERITLINE_AUTO_MIGRATE=true)."
    )


def database_revision(engine: Engine) -> str | None:
    """Connect, and return the revision the database is at (raises when unreachable)."""
    with engine.connect() as connection:
        return current_revision(connection)
