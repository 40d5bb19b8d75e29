"""Bearer tokens: anything but a live token of the tenant it names is 401 problem+json."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.clock import utcnow
from meritline.models import ApiToken, Employee
from tests.api.conftest import Live
from tests.fixtures.factories import import_lines, new_tenant, person_line

EMPLOYEES = "/api/v1/employees"


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert (body["status"], body["title"], body["instance"]) == (401, "Unauthorized", EMPLOYEES)


def test_a_valid_token_is_accepted(live: Live) -> None:
    assert live.get(EMPLOYEES, "admin").status_code == 200


def test_no_token_is_401(live: Live) -> None:
    assert_unauthorized(live.get(EMPLOYEES))


def test_another_scheme_is_401(live: Live) -> None:
    response = live.client.get(
        EMPLOYEES, headers={"Authorization": f"Basic {live.tokens['admin']}"}
    )
    assert_unauthorized(response)


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "ml_1_tooshort",
        "ml_x_" + "a" * 43,
        "xx_1_" + "a" * 43,
        "ml_{tenant}_" + "a" * 43,  # well formed, never issued
    ],
)
def test_a_garbage_token_is_401(live: Live, token: str) -> None:
    assert_unauthorized(live.get(EMPLOYEES, token.format(tenant=live.tenant_a)))


def test_a_tampered_secret_is_401(live: Live) -> None:
    token = live.tokens["admin"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_unauthorized(live.get(EMPLOYEES, tampered))


def test_a_revoked_token_is_401(live: Live) -> None:
    operator = Subject.operator(live.tenant_a)
    with live.database.unit_of_work(live.tenant_a) as session:
        created = access.create_token(session, operator, employee_number="M1", role="admin")
    assert live.get(EMPLOYEES, created.token).status_code == 200
    with live.database.unit_of_work(live.tenant_a) as session:
        access.revoke_token(session, operator, token_id=created.id)
    assert_unauthorized(live.get(EMPLOYEES, created.token))


def test_a_token_relabelled_with_another_tenant_is_401(live: Live) -> None:
    prefix, tenant, secret = live.tokens["admin"].split("_", 2)
    assert tenant == str(live.tenant_a)
    assert_unauthorized(live.get(EMPLOYEES, f"{prefix}_{live.tenant_b}_{secret}"))
    # and the other way round: tenant B's token presented as tenant A's
    prefix, tenant, secret = live.token_b.split("_", 2)
    assert live.get(EMPLOYEES, live.token_b).status_code == 200
    assert_unauthorized(live.get(EMPLOYEES, f"{prefix}_{live.tenant_a}_{secret}"))


def test_expired_tokens_and_tokens_of_leavers_are_401(live: Live) -> None:
    operator = new_tenant(live.database, f"api-c-{uuid.uuid4().hex[:12]}")
    import_lines(live.database, operator, [person_line("A1"), person_line("A2", "A1")])
    with live.database.unit_of_work(operator.tenant_id) as session:
        expiring = access.create_token(
            session, operator, employee_number="A1", role="admin", expires_in_days=1
        )
        leaving = access.create_token(session, operator, employee_number="A2", role="employee")
    tokens = [expiring.token, leaving.token]
    assert [live.get(EMPLOYEES, token).status_code for token in tokens] == [200, 200]
    with live.database.unit_of_work(operator.tenant_id) as session:
        now = utcnow()
        expired, last_day = now - timedelta(seconds=1), now.date() - timedelta(days=1)
        session.execute(
            update(ApiToken).where(ApiToken.id == expiring.id).values(expires_at=expired)
        )
        session.execute(
            update(Employee)
            .where(Employee.employee_number == "A2")
            .values(termination_date=last_day)
        )
    for token in tokens:
        assert_unauthorized(live.get(EMPLOYEES, token))
