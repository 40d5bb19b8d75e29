"""Tenant isolation: no query crosses tenants, in the ORM on both backends and in PostgreSQL RLS."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from meritline.db.base import Base
from meritline.db.bulk import bulk_update
from meritline.db.engine import create_db_engine
from meritline.db.session import Database
from meritline.db.tenancy import TenantScopeError
from meritline.errors import ConfigurationError
from meritline.models import Employee, SensitiveAttribute
from tests.fixtures.database import MigratedDatabase
from tests.fixtures.factories import import_lines, new_tenant, person_line

TENANT_TABLES = sorted(t.name for t in Base.metadata.tables.values() if "tenant_id" in t.c)


def make_two_tenants(db: Database) -> tuple[int, int]:
    a, b = new_tenant(db), new_tenant(db)
    import_lines(db, a, [person_line("A1"), person_line("A2", "A1")])
    import_lines(db, b, [person_line("B1"), person_line("B2", "B1"), person_line("B3", "B1")])
    return a.tenant_id, b.tenant_id


@pytest.fixture
def two_tenants(db: Database) -> tuple[int, int]:
    return make_two_tenants(db)


def test_orm_reads_updates_and_deletes_stay_in_the_tenant(
    db: Database, two_tenants: tuple[int, int]
) -> None:
    a, b = two_tenants
    with db.unit_of_work(b) as session:
        b_ids = list(session.scalars(select(Employee.id)))
    with db.unit_of_work(a) as session:
        numbers = set(session.scalars(select(Employee.employee_number)))
        assert numbers == {"A1", "A2"}
        # even an explicit filter on the other tenant finds nothing
        assert session.scalars(select(Employee).where(Employee.tenant_id == b)).all() == []
        assert session.get(Employee, b_ids[0]) is None
        renamed = session.execute(
            update(Employee).where(Employee.id.in_(b_ids)).values(name="hacked")
        )
        assert renamed.rowcount == 0
        deleted = session.execute(
            delete(SensitiveAttribute).where(SensitiveAttribute.tenant_id == b)
        )
        assert deleted.rowcount == 0
    with db.unit_of_work(b) as session:
        names = set(session.scalars(select(Employee.name)))
        assert "hacked" not in names
        assert session.scalar(select(func.count()).select_from(SensitiveAttribute)) == 6


def test_bulk_writes_cannot_reach_another_tenant(
    db: Database, two_tenants: tuple[int, int]
) -> None:
    a, b = two_tenants
    with db.unit_of_work(b) as session:
        b_id = session.scalars(select(Employee.id)).first()
    with pytest.raises(TenantScopeError, match="bulk UPDATE"), db.unit_of_work(a) as session:
        session.execute(update(Employee), [{"id": b_id, "name": "PWNED"}])
    with db.unit_of_work(a) as session:
        bulk_update(session, Employee, [{"id": b_id, "name": "PWNED"}])
    with pytest.raises(TenantScopeError, match="INSERT"), db.unit_of_work(a) as session:
        session.execute(
            insert(Employee),
            [{"tenant_id": b, "employee_number": "X", "name": "X", "email": "x@example.com"}],
        )
    with db.unit_of_work(b) as session:
        assert "PWNED" not in set(session.scalars(select(Employee.name)))
        assert session.scalar(select(func.count()).select_from(Employee)) == 3


def test_a_loaded_row_cannot_be_moved_to_another_tenant(
    db: Database, two_tenants: tuple[int, int]
) -> None:
    a, b = two_tenants
    with pytest.raises(TenantScopeError), db.unit_of_work(a) as session:
        employee = session.scalars(select(Employee)).first()
        assert employee is not None
        employee.tenant_id = b
        session.flush()


def test_a_session_without_a_tenant_cannot_touch_tenant_tables(
    db: Database, two_tenants: tuple[int, int]
) -> None:
    with pytest.raises(TenantScopeError), db.unit_of_work() as session:
        session.scalars(select(Employee.name)).all()
    with pytest.raises(TenantScopeError), db.unit_of_work() as session:
        session.scalar(select(func.count()).select_from(SensitiveAttribute))


def test_foreign_keys_cannot_link_rows_of_two_tenants(
    db: Database, two_tenants: tuple[int, int]
) -> None:
    a, b = two_tenants
    with db.unit_of_work(a) as session:
        mine = session.scalars(select(Employee.id)).first()
    with db.unit_of_work(b) as session:
        theirs = session.scalars(select(Employee.id)).first()
    with pytest.raises(IntegrityError), db.unit_of_work(a) as session:
        session.execute(
            text(
                "INSERT INTO reporting_line (tenant_id, employee_id, manager_id, valid_from) "
                "VALUES (:a, :mine, :theirs, '2025-01-01')"
            ),
            {"a": a, "mine": mine, "theirs": theirs},
        )


def test_a_session_refuses_to_write_another_tenants_row(
    db: Database, two_tenants: tuple[int, int]
) -> None:
    a, b = two_tenants
    with pytest.raises(TenantScopeError, match="refusing to write"), db.unit_of_work(a) as session:
        session.add(Employee(tenant_id=b, employee_number="X", name="X", email="x@example.com"))
        session.flush()


def test_rls_is_forced_with_a_policy_on_every_tenant_table(pg_migrated: MigratedDatabase) -> None:
    engine = pg_migrated.owner_engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    """
                    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                           (SELECT count(*) FROM pg_policies p
                             WHERE p.schemaname = n.nspname AND p.tablename = c.relname)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
                      AND EXISTS (SELECT 1 FROM information_schema.columns col
                                  WHERE col.table_schema = n.nspname
                                    AND col.table_name = c.relname
                                    AND col.column_name = 'tenant_id')
                    """
                ),
                {"schema": pg_migrated.schema},
            ).all()
            role = conn.execute(
                text("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'meritline_app'")
            ).one()
    finally:
        engine.dispose()
    assert sorted(r[0] for r in rows) == TENANT_TABLES
    for name, enabled, forced, policies in rows:
        assert enabled and forced and policies >= 1, name
    assert role == (False, False)


def test_rls_hides_other_tenants_from_raw_sql(pg_db: Database) -> None:
    """Raw SQL bypasses the ORM criteria; on PostgreSQL the database itself still isolates."""
    db = pg_db
    a, b = make_two_tenants(db)
    with db.unit_of_work(a) as session:
        assert session.execute(text("SELECT count(*) FROM employee")).scalar() == 2
        assert session.execute(text("UPDATE employee SET name = 'x'")).rowcount == 2
        gone = session.execute(
            text("DELETE FROM sensitive_attribute WHERE tenant_id = :b"), {"b": b}
        )
        assert gone.rowcount == 0
        session.execute(text("UPDATE employee SET name = 'y' WHERE tenant_id = :b"), {"b": b})
    with db.unit_of_work(b) as session:
        assert (
            session.execute(text("SELECT count(*) FROM employee WHERE name IN ('x', 'y')")).scalar()
            == 0
        )
        assert session.execute(text("SELECT count(*) FROM sensitive_attribute")).scalar() == 6


def test_rls_fails_closed_without_a_tenant(pg_db: Database) -> None:
    db = pg_db
    a, _ = make_two_tenants(db)
    with db.unit_of_work() as session:
        assert session.execute(text("SELECT count(*) FROM employee")).scalar() == 0
    with pytest.raises(Exception, match="row-level security"), db.unit_of_work() as session:
        session.execute(
            text(
                "INSERT INTO org_unit (tenant_id, name, path, created_at) "
                "VALUES (:t, 'x', 'x', now())"
            ),
            {"t": a},
        )


def test_the_runtime_engine_refuses_a_role_that_bypasses_rls(pg_migrated: MigratedDatabase) -> None:
    engine = create_db_engine(
        pg_migrated.owner_url, search_path=pg_migrated.schema, enforce_rls=True
    )
    try:
        with pytest.raises(ConfigurationError, match="bypasses row-level security"):
            engine.connect()
    finally:
        engine.dispose()


def test_the_runtime_role_cannot_rename_tenants_or_touch_migrations(pg_db: Database) -> None:
    for statement in ("UPDATE tenant SET name = 'x'", "DELETE FROM alembic_version"):
        with pytest.raises(Exception, match="permission denied"), pg_db.unit_of_work() as session:
            session.execute(text(statement))
