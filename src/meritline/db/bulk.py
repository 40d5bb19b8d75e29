"""Set-based writes, scoped to the session's tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, bindparam, insert, update
from sqlalchemy.orm import Session

from meritline.db.tenancy import TenantScopeError, session_tenant


def bulk_insert(model: type[Any]) -> Insert:
    """An INSERT for many rows at once.

    ``render_nulls`` keeps ``None`` values in the statement, so rows that differ only in which
    columns are empty still share one multi-row INSERT instead of splitting into many.
    """
    return insert(model).execution_options(render_nulls=True)


def bulk_update(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE many rows by id, each with its own values, only within the session's tenant.

    Each row holds ``id`` and the columns to change; rows changing the same columns share one
    ``executemany``. A row of another tenant matches nothing.
    """
    tenant_id = session_tenant(session)
    if tenant_id is None:
        raise TenantScopeError("bulk_update in a session without a tenant")
    table = model.__table__
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        columns = tuple(sorted(k for k in row if k != "id"))
        groups.setdefault(columns, []).append({"row_id": row["id"], **row})
    for columns, params in groups.items():
        statement = (
            update(table)
            .where(table.c.tenant_id == tenant_id, table.c.id == bindparam("row_id"))
            .values({c: bindparam(c) for c in columns})
        )
        session.execute(statement, [{k: v for k, v in p.items() if k != "id"} for p in params])
