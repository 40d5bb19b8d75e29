"""Special-category attributes: people_analyst and legal only, and every read is audited."""

from __future__ import annotations

import pytest

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.audit.schemas import AuditEventRead
from meritline.people import queries as people_queries
from tests.api.conftest import Live

READ = "sensitive_attribute.read"


def sensitive(employee: str) -> str:
    return f"/api/v1/employees/{employee}/sensitive-attributes"


def audit_events(live: Live) -> list[AuditEventRead]:
    """Tenant A's audit log, newest first; the chain must verify."""
    operator = Subject.operator(live.tenant_a)
    with live.database.unit_of_work(live.tenant_a) as session:
        assert audit.verify(session, operator).ok
        return audit.recent(session, operator, limit=10_000)


def internal_id(live: Live, number: str) -> int:
    with live.database.unit_of_work(live.tenant_a) as session:
        employee = people_queries.employee_by_number(session, number)
        assert employee is not None
        return employee.id


@pytest.mark.parametrize(("token", "role"), [("analyst", "people_analyst"), ("legal", "legal")])
def test_analyst_and_legal_read_them_and_each_read_is_audited(
    live: Live, token: str, role: str
) -> None:
    before = audit_events(live)
    for _ in range(2):
        response = live.get(sensitive("I1"), token)
        assert response.status_code == 200
        assert response.json() == {
            "employee_id": "I1",
            "classification": "special_category",
            "attributes": {"gender": "Male", "birth_year": "1985"},
        }
    after = audit_events(live)
    new = after[: len(after) - len(before)]
    assert [event.action for event in new] == [READ, READ]
    for event in new:
        assert (event.entity_type, event.entity_id) == ("employee", str(internal_id(live, "I1")))
        assert event.actor.endswith(f":{role}:token:{live.token_ids[token]}")


@pytest.mark.parametrize("token", ["m1", "ceo", "admin", "i1", "hrbp", "calibrator"])
def test_other_roles_get_404_and_nothing_is_audited(live: Live, token: str) -> None:
    before = audit_events(live)
    for employee in ("I1", "I2", "ZZ9"):  # each token sees I1 or I2; ZZ9 does not exist
        response = live.get(sensitive(employee), token)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert audit_events(live) == before


def test_a_missing_employee_is_404_and_not_audited(live: Live) -> None:
    before = audit_events(live)
    assert live.get(sensitive("ZZ9"), "analyst").status_code == 404
    assert live.get(sensitive("B9"), "legal").status_code == 404  # tenant B's
    assert audit_events(live) == before
