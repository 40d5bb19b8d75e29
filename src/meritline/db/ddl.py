"""DDL that autogenerate cannot express, for migrations to call.

* Row-level security: on PostgreSQL every tenant table gets ``FORCE ROW LEVEL SECURITY`` and a
  policy that matches ``tenant_id`` against the transaction's ``meritline.tenant_id`` setting;
  when no tenant is set the setting is empty, the comparison is NULL, and nothing is visible.
* The runtime role: created without BYPASSRLS and granted DML on the schema's tables.
* Append-only tables: UPDATE and DELETE are refused by a trigger (both backends) and, on
  PostgreSQL, not granted to the runtime role.

Every migration that adds a tenant table calls :func:`enable_tenant_isolation` for it and then
:func:`grant_runtime_role` (a test fails when a table with ``tenant_id`` lacks the policy).
These helpers are part of the migration history: change them only in backward-compatible ways.
"""

from __future__ import annotations

from alembic import op

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('meritline.tenant_id', true), '')::bigint"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def enable_tenant_isolation(table: str) -> None:
    """Force row-level security on ``table`` with the tenant policy (PostgreSQL only)."""
    if not _is_postgres():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )


def grant_runtime_role(role: str, *, read_append_only: tuple[str, ...] = ()) -> None:
    """Create ``role`` (NOLOGIN, NOBYPASSRLS) if missing and grant it the schema's tables.

    Tables in ``read_append_only`` and the tenant registry get SELECT and INSERT only, and the
    migration bookkeeping SELECT only.
    """
    if not role or not _is_postgres():
        return
    # the role name comes from settings, never from a request
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" NOLOGIN NOBYPASSRLS;
            END IF;
            IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                EXECUTE format('GRANT %I TO %I', '{role}', current_user);  -- lets it SET ROLE
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO "{role}"', current_schema());
            EXECUTE format(
                'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO "{role}"',
                current_schema());
            EXECUTE format(
                'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO "{role}"', current_schema());
        END $$;
        """  # noqa: S608
    )
    for table in (*read_append_only, "tenant"):
        op.execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM "{role}"')
    op.execute(f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM "{role}"')


def make_append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` with a trigger."""
    message = f"{table} is append-only"
    if _is_postgres():
        op.execute(
            f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{message}'; END $$;
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
            """
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def monthly_partitioner(table: str, *, role: str) -> None:
    """PostgreSQL: ``ensure_<table>_partitions(date[])``, which creates missing month partitions.

    ``table`` is partitioned by range of a timestamp. The function runs as the schema owner
    (SECURITY DEFINER, with the migration's search path), so the runtime role can create the
    partition a new month needs without the right to create tables. Each partition gets the
    tenant policy too, and no grants: the runtime role reaches rows only through the parent.
    """
    if not _is_postgres():
        return
    predicate = TENANT_PREDICATE.replace("'", "''")  # inside a quoted format string
    op.execute(
        f"""
        CREATE FUNCTION ensure_{table}_partitions(months date[]) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
        DECLARE
            month date;
            name text;
            created integer := 0;
        BEGIN
            FOREACH month IN ARRAY months LOOP
                month := date_trunc('month', month)::date;
                name := '{table}_p' || to_char(month, 'YYYYMM');
                CONTINUE WHEN to_regclass(name) IS NOT NULL;
                BEGIN
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF {table} FOR VALUES FROM (%L) TO (%L)',
                        name, to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00',
                        to_char(month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
                EXCEPTION WHEN duplicate_table THEN
                    CONTINUE;  -- created meanwhile by a concurrent transaction
                END;
                EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
                EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', name);
                EXECUTE format(
                    'CREATE POLICY tenant_isolation ON %I USING ({predicate}) '
                    'WITH CHECK ({predicate})', name);
                created := created + 1;
            END LOOP;
            RETURN created;
        END $$;
        """
    )
    if role:
        op.execute(f'GRANT EXECUTE ON FUNCTION ensure_{table}_partitions(date[]) TO "{role}"')


def freeze_columns(table: str, columns: tuple[str, ...]) -> None:
    """Refuse any UPDATE that changes ``columns`` of ``table`` (the row's other columns may move).

    For versions that must stay what they were (a scoring model's definition once stored).
    """
    message = f"{table}: {', '.join(columns)} cannot change; create a new version"
    if _is_postgres():
        # compared as text: json has no equality operator
        changed = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in columns)
        op.execute(
            f"""
            CREATE FUNCTION {table}_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {changed} THEN RAISE EXCEPTION '{message}'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_frozen();
            """
        )
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    op.execute(
        f"CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table} "
        f"WHEN {changed} BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )
