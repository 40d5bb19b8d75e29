"""The unit of work: one transaction per request, CLI command or job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

import meritline.db.tenancy  # noqa: F401  (registers the tenant-scoping session events)
from meritline.config import Settings
from meritline.db.engine import SQLITE_BEGIN, create_db_engine


class Database:
    """An engine and its session factory; ``unit_of_work`` commits once, or rolls back."""

    def __init__(self, engine: Engine, *, bind: Connection | None = None) -> None:
        """Use ``engine``; or, given ``bind``, run every unit of work in a savepoint of that
        connection's transaction (tests roll the whole transaction back afterwards).
        """
        self.engine = engine
        self.sessions = sessionmaker(
            bind=bind if bind is not None else engine,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """Build the database the settings describe."""
        return cls(
            create_db_engine(
                settings.database_url,
                role=settings.database_role,
                echo=settings.echo_sql,
                enforce_rls=True,
            )
        )

    @property
    def dialect(self) -> str:
        """The backend name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(
        self, tenant_id: int | None = None, *, commit: bool = True, read_only: bool = False
    ) -> Iterator[Session]:
        """Open a session (scoped to ``tenant_id`` when given); commit on success.

        With ``commit=False`` the transaction is rolled back at the end (dry runs). A
        ``read_only`` unit of work does not take SQLite's write lock, so it never waits for a
        long import; it must not write.
        """
        session = self.sessions(info={"tenant_id": tenant_id})
        try:
            session.begin()
            if read_only:
                session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
            yield session
            if commit:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
