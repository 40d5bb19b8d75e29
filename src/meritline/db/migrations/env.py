"""Alembic environment: runs on the connection meritline hands over (see ``meritline.db.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import meritline.models  # noqa: F401  (registers every table on Base.metadata)
from meritline.db.base import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `meritline db upgrade`, not the alembic CLI")
_run(connection)
