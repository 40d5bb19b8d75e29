"""Alembic environment: runs on the connection meritline hands over (see ``meritline.db.migrate``)."""

from __future__ import annotations

import re
from typing import Any

from alembic import context
from sqlalchemy import Connection

import meritline.models  # noqa: F401  (registers every table on Base.metadata)
from meritline.db.base import Base

config = context.config
target_metadata = Base.metadata


#: Month partitions (``signal_p202603``) are created at run time, not declared in the models.
PARTITION = re.compile(r"^[a-z_]+_p\d{6}$")


def _include(dialect: str) -> Any:
    """Skip partitions, and objects the models declare for another backend only."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and reflected and name and PARTITION.match(name):
            return False
        dialects = getattr(obj, "info", {}).get("dialects")
        if dialects is None and type_ == "table" and compare_to is not None:
            dialects = compare_to.info.get("dialects")
        return dialects is None or dialect in dialects

    return include


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `meritline db upgrade`, not the alembic CLI")
_run(connection)
