"""Set-based writes, scoped to the session's tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, bindparam, insert, update
from sqlalchemy.orm import Session

from meritline.db.tenancy import TenantScopeError, session_tenant


def bulk_insert(model: type[Any], *, returning_ids: bool = False) -> Insert:
    """An INSERT for many rows at once (one ``executemany``), optionally returning the new ids
    in the order of the rows given.

    ``render_nulls`` keeps rows that differ only in which columns are empty in one batch.
    """
    statement = insert(model).execution_options(render_nulls=True)
    if returning_ids:
        statement = statement.returning(model.id, sort_by_parameter_order=True)
    return statement


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
