"""Employees through the API: the visibility rule, tenants, pagination and validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import EVERYONE_A, PAGE_SIZE_MAX, Live

EMPLOYEES = "/api/v1/employees"

#: Who each token of tenant A sees (see ORG_A and TOKENS_A in conftest).
VISIBLE = {
    "ceo": EVERYONE_A,
    "m1": {"M1", "I1", "I2", "I3"},
    "m2": {"M2", "S1", "S2", "X1"},
    "i1_manager": {"I1", "I3"},
    "i1": {"I1"},
    "calibrator": {"I2"},
    "hrbp": {"H1", "M1", "I1", "I2", "I3"},
    "admin": EVERYONE_A,
    "analyst": EVERYONE_A,
    "legal": EVERYONE_A,
}


def listed(live: Live, token: str, **params: Any) -> list[str]:
    """Every employee id the token lists, following ``next_offset`` page by page."""
    ids: list[str] = []
    offset: int | None = 0
    while offset is not None:
        response = live.get(EMPLOYEES, token, offset=offset, **params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["offset"] == offset
        assert len(page["items"]) <= PAGE_SIZE_MAX
        ids += [item["employee_id"] for item in page["items"]]
        offset = page["next_offset"]
    assert page["total"] == len(ids)
    return ids


@pytest.mark.parametrize("token", sorted(VISIBLE))
def test_a_token_lists_exactly_whom_its_role_may_see(live: Live, token: str) -> None:
    ids = listed(live, token)
    assert ids == sorted(ids)
    assert set(ids) == VISIBLE[token]


@pytest.mark.parametrize("token", ["m1", "i1", "hrbp", "admin"])
def test_single_reads_agree_with_the_list(live: Live, token: str) -> None:
    for number in sorted(EVERYONE_A | {"B9", "NOPE"}):
        expected = 200 if number in VISIBLE[token] else 404
        assert live.get(f"{EMPLOYEES}/{number}", token).status_code == expected, number


def test_an_employee_reads_with_department_and_current_manager(live: Live) -> None:
    response = live.get(f"{EMPLOYEES}/I3", "m1")
    assert response.status_code == 200
    assert response.json() == {
        "employee_id": "I3",
        "name": "Person I3",
        "email": "i3@example.com",
        "department": "Eng/Platform",
        "manager_id": "I1",
        "job_family": None,
        "level": "IC2",
        "location": "Berlin",
        "hire_date": None,
        "termination_date": None,
        "status": "active",
    }


def test_out_of_scope_is_the_same_404_as_missing(live: Live) -> None:
    hidden = live.get(f"{EMPLOYEES}/S1", "m1")
    missing = live.get(f"{EMPLOYEES}/ZZ9", "m1")
    for response in (hidden, missing):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    hidden_body, missing_body = hidden.json(), missing.json()
    assert hidden_body == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "No employee 'S1'.",
        "instance": f"{EMPLOYEES}/S1",
    }
    assert {**missing_body, "detail": "", "instance": ""} == {
        **hidden_body,
        "detail": "",
        "instance": "",
    }
    assert missing_body["detail"] == hidden_body["detail"].replace("S1", "ZZ9")


def test_a_tenant_sees_only_its_own_employees(live: Live) -> None:
    own = live.get(f"{EMPLOYEES}/E1", "admin")
    assert own.status_code == 200
    assert (own.json()["name"], own.json()["department"]) == ("Person E1", "Exec")
    assert live.get(f"{EMPLOYEES}/B9", "admin").status_code == 404
    assert "B9" not in listed(live, "admin")

    other = live.get(f"{EMPLOYEES}/E1", live.token_b)
    assert (other.json()["name"], other.json()["department"]) == ("Bea Other", "Ops")
    assert live.get(f"{EMPLOYEES}/M1", live.token_b).status_code == 404
    assert set(listed(live, live.token_b)) == {"E1", "B9"}


def test_the_department_filter_takes_the_subtree_not_the_prefix(live: Live) -> None:
    assert set(listed(live, "admin", department="Eng")) == {"M1", "I1", "I2", "I3"}
    assert set(listed(live, "m2", department="Eng")) == set()


def test_the_search_matches_its_text_literally(live: Live) -> None:
    assert set(listed(live, "admin", q="person i")) == {"I1", "I2", "I3"}
    assert set(listed(live, "m2", q="person i")) == set()
    # "_" and "%" appear in no name, e-mail or id, so they must match no one
    assert listed(live, "admin", q="_") == []
    assert listed(live, "admin", q="%") == []


def test_limit_and_offset_page_through_in_employee_id_order(live: Live) -> None:
    everyone = sorted(EVERYONE_A)
    first = live.get(EMPLOYEES, "admin", limit=2).json()
    assert [item["employee_id"] for item in first["items"]] == everyone[:2]
    assert (first["total"], first["limit"], first["offset"], first["next_offset"]) == (
        10,
        2,
        0,
        2,
    )
    last = live.get(EMPLOYEES, "admin", limit=2, offset=8).json()
    assert [item["employee_id"] for item in last["items"]] == everyone[8:]
    assert last["next_offset"] is None
    beyond = live.get(EMPLOYEES, "admin", limit=2, offset=50).json()
    assert (beyond["items"], beyond["total"], beyond["next_offset"]) == ([], 10, None)


@pytest.mark.parametrize("limit", [None, PAGE_SIZE_MAX + 1, 10_000])
def test_a_limit_above_the_maximum_is_capped(live: Live, limit: int | None) -> None:
    params = {} if limit is None else {"limit": limit}
    page = live.get(EMPLOYEES, "admin", **params).json()
    assert page["limit"] == PAGE_SIZE_MAX
    assert len(page["items"]) == PAGE_SIZE_MAX
    assert page["next_offset"] == PAGE_SIZE_MAX


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": -1}, "limit"), ({"offset": -1}, "offset")],
)
def test_a_bad_page_is_422_problem(live: Live, params: dict[str, int], field: str) -> None:
    response = live.get(EMPLOYEES, "admin", **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert [error["loc"] for error in body["errors"]] == [["query", field]]


def test_an_offset_beyond_the_database_range_is_422_problem(live: Live) -> None:
    # its own connection: a server error drops the connection it was sent on
    with httpx.Client(base_url=live.client.base_url) as client:
        response = client.get(
            EMPLOYEES,
            params={"offset": 2**63},
            headers={"Authorization": f"Bearer {live.tokens['admin']}"},
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
