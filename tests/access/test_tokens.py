"""API tokens: only a hash is stored, and authentication turns a live token into its subject."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from meritline.access import service as access
from meritline.access.schemas import TokenCreated
from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.clock import utcnow
from meritline.db.session import Database
from meritline.errors import InvalidInput, NotFound, Unauthorized
from meritline.models import ApiToken, AuditEvent
from meritline.people import queries as people_queries
from meritline.people import service as people
from meritline.people.schemas import EmployeeFilters
from tests.fixtures.factories import HEADER, import_lines, new_tenant, person_line

D1 = date(2025, 1, 1)
LEAVES_SOON = date.today() + timedelta(days=10)


@pytest.fixture
def operator(db: Database) -> Subject:
    """A tenant with a small org; E4 has left, E5 leaves in ten days."""
    operator = new_tenant(db)
    import_lines(
        db,
        operator,
        [
            person_line("E1", "", "Eng") + ",",
            person_line("E2", "E1", "Eng/Platform") + ",",
            person_line("E3", "E1", "") + ",",
            person_line("E4", "E1", "Eng") + ",2025-01-31",
            person_line("E5", "E1", "Sales") + f",{LEAVES_SOON}",
        ],
        header=HEADER + ",termination_date",
        effective_date=D1,
    )
    return operator


def create(db: Database, operator: Subject, **options: Any) -> TokenCreated:
    with db.unit_of_work(operator.tenant_id) as session:
        return access.create_token(session, operator, **options)


def authenticate(db: Database, token: str, *, tenant_id: int | None = None, **options: Any) -> Any:
    """Authenticate in a session of ``tenant_id`` (by default the tenant the token names)."""
    tenant_id = access.tenant_of_token(token) if tenant_id is None else tenant_id
    with db.unit_of_work(tenant_id) as session:
        return access.authenticate(session, token, **options)


def employee_id(db: Database, tenant_id: int, number: str) -> int:
    with db.unit_of_work(tenant_id) as session:
        employee = people_queries.employee_by_number(session, number)
        assert employee is not None
        return employee.id


def org_unit_id(db: Database, tenant_id: int, path: str) -> int:
    with db.unit_of_work(tenant_id) as session:
        return people_queries.org_units_by_path(session, [path])[path].id


# --- storage ----------------------------------------------------------------------------------


def test_only_the_sha256_of_a_token_is_stored(db: Database, operator: Subject) -> None:
    created = create(db, operator, employee_number="E1", role="manager", label="ci")
    token = created.token
    assert token.startswith(f"ml_{operator.tenant_id}_")
    secret = token.removeprefix(f"ml_{operator.tenant_id}_")
    assert len(secret) >= 43  # 32 random bytes, url-safe base64
    with db.unit_of_work(operator.tenant_id) as session:
        stored = session.scalars(select(ApiToken).where(ApiToken.id == created.id)).one()
        assert stored.token_hash != token
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        raw = session.execute(
            text("SELECT * FROM api_token WHERE id = :id"), {"id": created.id}
        ).one()
        events = session.scalars(select(AuditEvent)).all()
    for value in raw:
        assert token not in str(value)
        assert secret not in str(value)
    for event in events:  # nor does the audit log hold it
        assert secret not in repr(event.payload)


def test_each_token_is_fresh(db: Database, operator: Subject) -> None:
    first = create(db, operator, employee_number="E1", role="manager")
    second = create(db, operator, employee_number="E1", role="manager")
    assert first.token != second.token
    assert first.id != second.id


def test_listing_tokens_never_shows_the_secret(db: Database, operator: Subject) -> None:
    created = create(db, operator, employee_number="E2", role="employee", label="laptop")
    with db.unit_of_work(operator.tenant_id) as session:
        tokens = access.list_tokens(session, operator)
    assert [(t.id, t.employee_id, t.role, t.label) for t in tokens] == [
        (created.id, "E2", "employee", "laptop")
    ]
    secret = created.token.removeprefix(f"ml_{operator.tenant_id}_")
    assert secret not in tokens[0].model_dump_json()


def test_creating_a_token_is_audited(db: Database, operator: Subject) -> None:
    created = create(db, operator, employee_number="E2", role="employee")
    with db.unit_of_work(operator.tenant_id) as session:
        latest = audit.recent(session, operator, limit=1)[0]
    assert latest.action == "api_token.create"
    assert latest.entity_type == "api_token"
    assert latest.entity_id == str(created.id)
    assert latest.actor == "cli:operator"


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["employee", "manager", "admin", "people_analyst", "legal"])
def test_authenticate_returns_the_tokens_subject(
    db: Database, operator: Subject, role: str
) -> None:
    created = create(db, operator, employee_number="E2", role=role)
    subject = authenticate(db, created.token)
    assert subject == Subject(
        tenant_id=operator.tenant_id,
        role=role,
        employee_id=employee_id(db, operator.tenant_id, "E2"),
        org_unit_ids=(),
        token_id=created.id,
    )
    assert created.org_units == []


def test_a_revoked_token_is_refused(db: Database, operator: Subject) -> None:
    created = create(db, operator, employee_number="E1", role="manager")
    assert authenticate(db, created.token).role == "manager"
    with db.unit_of_work(operator.tenant_id) as session:
        revoked = access.revoke_token(session, operator, token_id=created.id)
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthorized):
        authenticate(db, created.token)


def test_an_expired_token_is_refused(db: Database, operator: Subject) -> None:
    created = create(db, operator, employee_number="E1", role="manager", expires_in_days=7)
    assert created.expires_at is not None
    assert authenticate(db, created.token).token_id == created.id
    assert authenticate(db, created.token, now=utcnow() + timedelta(days=6)).role == "manager"
    for later in (timedelta(days=7, seconds=1), timedelta(days=3650)):
        with pytest.raises(Unauthorized):
            authenticate(db, created.token, now=utcnow() + later)


def test_a_token_of_someone_who_has_left_is_refused(db: Database, operator: Subject) -> None:
    created = create(db, operator, employee_number="E5", role="employee")
    assert authenticate(db, created.token).role == "employee"
    with pytest.raises(Unauthorized):
        authenticate(db, created.token, now=utcnow() + timedelta(days=30))


def test_a_token_works_through_the_employees_last_day(db: Database, operator: Subject) -> None:
    """termination_date is the last working day: the people list still shows them active."""
    created = create(db, operator, employee_number="E5", role="employee")
    last_day = datetime.combine(LEAVES_SOON, time(12), tzinfo=UTC)
    with pytest.raises(Unauthorized):
        authenticate(db, created.token, now=last_day + timedelta(days=1))
    assert authenticate(db, created.token, now=last_day).role == "employee"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "ml",
        "ml_",
        "ml_1",
        "ml_1_",
        "ml_1_short",
        "ml_x_" + "a" * 43,
        "ml__" + "a" * 43,
        "xx_1_" + "a" * 43,
        "Bearer ml_1_" + "a" * 43,
    ],
)
def test_a_malformed_token_is_refused(db: Database, operator: Subject, token: str) -> None:
    with pytest.raises(Unauthorized):
        authenticate(db, token, tenant_id=operator.tenant_id)


def test_a_well_formed_but_unknown_token_is_refused(db: Database, operator: Subject) -> None:
    create(db, operator, employee_number="E1", role="admin")
    with pytest.raises(Unauthorized):
        authenticate(db, f"ml_{operator.tenant_id}_" + "a" * 43)


def test_a_token_does_not_work_in_another_tenant(db: Database, operator: Subject) -> None:
    other = new_tenant(db)
    import_lines(db, other, [person_line("E1"), person_line("E2", "E1")], effective_date=D1)
    created = create(db, operator, employee_number="E1", role="admin")
    secret = created.token.removeprefix(f"ml_{operator.tenant_id}_")
    # the genuine token, presented in the other tenant's transaction
    with pytest.raises(Unauthorized):
        authenticate(db, created.token, tenant_id=other.tenant_id)
    # the secret re-labelled with the other tenant's id
    with pytest.raises(Unauthorized):
        authenticate(db, f"ml_{other.tenant_id}_{secret}")
    assert authenticate(db, created.token).tenant_id == operator.tenant_id


# --- roles and scope ----------------------------------------------------------------------------


def test_an_hrbp_token_defaults_to_the_employees_own_org_unit(
    db: Database, operator: Subject
) -> None:
    created = create(db, operator, employee_number="E1", role="hrbp")
    assert created.org_units == ["Eng"]
    subject = authenticate(db, created.token)
    assert subject.role == "hrbp"
    assert subject.org_unit_ids == (org_unit_id(db, operator.tenant_id, "Eng"),)
    with db.unit_of_work(operator.tenant_id) as session:
        page = people.list_employees(
            session, subject, filters=EmployeeFilters(include_terminated=True)
        )
    # Eng and its sub-unit; not E3 (no department) nor E5 (Sales)
    assert [item.employee_id for item in page.items] == ["E1", "E2", "E4"]


def test_an_hrbp_token_takes_the_org_units_it_is_given(db: Database, operator: Subject) -> None:
    created = create(
        db, operator, employee_number="E3", role="hrbp", org_unit_paths=["Eng/Platform", "Sales"]
    )
    assert created.org_units == ["Eng/Platform", "Sales"]
    subject = authenticate(db, created.token)
    assert set(subject.org_unit_ids) == {
        org_unit_id(db, operator.tenant_id, "Eng/Platform"),
        org_unit_id(db, operator.tenant_id, "Sales"),
    }


def assert_refused(
    db: Database, operator: Subject, error: type[Exception], match: str, **options: Any
) -> None:
    with pytest.raises(error, match=match):
        create(db, operator, **options)
    with db.unit_of_work(operator.tenant_id) as session:  # and nothing was stored
        assert session.scalars(select(ApiToken)).all() == []


def test_only_an_hrbp_token_is_scoped_to_org_units(db: Database, operator: Subject) -> None:
    for role in ("employee", "manager", "admin"):
        assert_refused(
            db,
            operator,
            InvalidInput,
            "Only the hrbp",
            employee_number="E1",
            role=role,
            org_unit_paths=["Eng"],
        )


def test_an_hrbp_token_needs_known_org_units(db: Database, operator: Subject) -> None:
    assert_refused(
        db,
        operator,
        InvalidInput,
        "Unknown org unit",
        employee_number="E1",
        role="hrbp",
        org_unit_paths=["Eng", "Nowhere"],
    )
    # E3 has no department to default to
    assert_refused(db, operator, InvalidInput, "org-unit", employee_number="E3", role="hrbp")


def test_an_unknown_role_is_invalid_input(db: Database, operator: Subject) -> None:
    assert_refused(db, operator, InvalidInput, "Unknown role", employee_number="E1", role="root")
    assert_refused(db, operator, InvalidInput, "Unknown role", employee_number="E1", role="Admin")


def test_an_unknown_employee_is_not_found(db: Database, operator: Subject) -> None:
    assert_refused(db, operator, NotFound, "E99", employee_number="E99", role="employee")


def test_someone_who_has_left_gets_no_token(db: Database, operator: Subject) -> None:
    assert_refused(db, operator, InvalidInput, "has left", employee_number="E4", role="employee")


def test_only_an_admin_creates_tokens(db: Database, operator: Subject) -> None:
    manager = authenticate(db, create(db, operator, employee_number="E1", role="manager").token)
    with pytest.raises(NotFound), db.unit_of_work(operator.tenant_id) as session:
        access.create_token(session, manager, employee_number="E1", role="admin")
    admin = authenticate(db, create(db, operator, employee_number="E1", role="admin").token)
    with db.unit_of_work(operator.tenant_id) as session:
        created = access.create_token(session, admin, employee_number="E2", role="employee")
        latest = audit.recent(session, admin, limit=1)[0]
    assert authenticate(db, created.token).role == "employee"
    assert latest.actor == f"employee:{admin.employee_id}:admin:token:{admin.token_id}"
