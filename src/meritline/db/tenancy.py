"""Tenant isolation in the session: one place that scopes every ORM statement to one tenant.

A session opened for a tenant (``session.info["tenant_id"]``)

* adds ``tenant_id = :tenant`` to every ORM SELECT, UPDATE and DELETE on a tenant table,
* refuses to flush a row that belongs to another tenant, and
* on PostgreSQL sets ``meritline.tenant_id`` for the transaction (``set_config(..., true)``),
  which the row-level security policies read; a session without a tenant sets it empty, and
  the policies then return nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from meritline.db.base import TenantScoped

TENANT_SETTING = "meritline.tenant_id"


def session_tenant(session: Session) -> int | None:
    """Return the tenant a session is scoped to, if any."""
    tenant_id = session.info.get("tenant_id")
    return int(tenant_id) if tenant_id is not None else None


@event.listens_for(Session, "after_begin")
def _set_tenant_for_transaction(
    session: Session, _transaction: SessionTransaction, connection: Any
) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant_id = session_tenant(session)
    connection.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": TENANT_SETTING, "value": "" if tenant_id is None else str(tenant_id)},
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    tenant_id = session_tenant(state.session)
    if tenant_id is None or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            )
        )


@event.listens_for(Session, "before_flush")
def _check_tenant_of_new_rows(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant_id = session_tenant(session)
    if tenant_id is None:
        return
    for obj in session.new:
        if isinstance(obj, TenantScoped):
            if getattr(obj, "tenant_id", None) is None:
                obj.tenant_id = tenant_id
            elif obj.tenant_id != tenant_id:
                raise RuntimeError(
                    f"refusing to write a {type(obj).__name__} of tenant {obj.tenant_id} "
                    f"in a session of tenant {tenant_id}"
                )


def bind_tenant(session: Session, tenant_id: int) -> None:
    """Scope an open session to ``tenant_id`` from now on (used right after creating a tenant)."""
    session.info["tenant_id"] = tenant_id
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": TENANT_SETTING, "value": str(tenant_id)},
        )
