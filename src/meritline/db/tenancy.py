"""Tenant isolation in the session: one place that scopes every ORM statement to one tenant.

A session opened for a tenant (``session.info["tenant_id"]``)

* adds ``tenant_id = :tenant`` to every ORM SELECT, UPDATE and DELETE on a tenant table
  (subqueries and CTEs included),
* refuses INSERT parameters, new rows and changed rows that belong to another tenant, and
  ORM bulk UPDATE by primary key (use :func:`meritline.db.bulk.bulk_update`, which is scoped),
* on PostgreSQL sets ``meritline.tenant_id`` for the transaction (``set_config(..., true)``),
  which the row-level security policies read.

A session without a tenant may touch only tables without ``tenant_id`` (the tenant registry);
any ORM statement on a tenant table raises, and on PostgreSQL the setting is emptied so the
policies return nothing either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.orm import (
    Mapper,
    ORMExecuteState,
    Session,
    SessionTransaction,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors

from meritline.db.base import TenantScoped

TENANT_SETTING = "meritline.tenant_id"


class TenantScopeError(RuntimeError):
    """A statement would read or write outside the session's tenant (a programming error)."""


def session_tenant(session: Session) -> int | None:
    """Return the tenant a session is scoped to, if any."""
    tenant_id = session.info.get("tenant_id")
    return int(tenant_id) if tenant_id is not None else None


def bind_tenant(session: Session, tenant_id: int) -> None:
    """Scope an open session to ``tenant_id`` from now on (used right after creating a tenant)."""
    session.info["tenant_id"] = tenant_id
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": TENANT_SETTING, "value": str(tenant_id)},
        )


def _is_tenant_table(mapper: Mapper[Any] | None) -> bool:
    return mapper is not None and issubclass(mapper.class_, TenantScoped)


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


def _touches_tenant_table(statement: Any) -> bool:
    """Whether any table in the statement (subqueries included) has a ``tenant_id`` column."""
    return any(
        isinstance(element, Table) and "tenant_id" in element.c
        for element in visitors.iterate(statement)
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return
    tenant_id = session_tenant(state.session)
    if tenant_id is None:
        if _touches_tenant_table(state.statement):
            raise TenantScopeError("a statement on a tenant table in a session without a tenant")
        return
    if state.is_insert:
        if _is_tenant_table(state.bind_mapper):
            params = state.parameters
            rows: list[Mapping[str, Any]] = (
                list(params)
                if isinstance(params, list)
                else [params]
                if isinstance(params, Mapping)
                else [{}]
            )
            if any(row.get("tenant_id") != tenant_id for row in rows):
                raise TenantScopeError(f"INSERT of rows not of tenant {tenant_id}")
        return
    if state.is_update and state.is_executemany and _is_tenant_table(state.bind_mapper):
        raise TenantScopeError("ORM bulk UPDATE by primary key is not tenant-scoped")
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            )
        )


@event.listens_for(Session, "before_flush")
def _check_tenant_of_rows(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant_id = session_tenant(session)
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise TenantScopeError(f"writing a {type(obj).__name__} without a tenant")
        if obj in session.new and getattr(obj, "tenant_id", None) is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantScopeError(
                f"refusing to write a {type(obj).__name__} of tenant {obj.tenant_id} "
                f"in a session of tenant {tenant_id}"
            )
