"""Scores through the API: profile and explanation, the visibility rule, and the access log."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.db.session import Database
from meritline.evidence import aggregates, ingestion
from meritline.evidence.frames import from_drafts
from meritline.evidence.signals import ExternalAccount, SignalDraft
from meritline.scoring import service
from meritline.scoring.definition import PILLARS
from meritline.scoring.jobs import run_scoring
from meritline.scoring.schemas import AccessLogEntry, RunSummary
from tests.api.conftest import EVERYONE_A, ORG_A, ORG_B, Live
from tests.fixtures.factories import HEADER, import_lines, person_line
from tests.fixtures.scoring import EXPLANATION_KEYS, PERCENTILES, PROFILE_KEYS

EMPLOYEES = "/api/v1/employees"
RESOURCES = ("profile", "explanation")

#: Tenant A is scored as of this date, tenant B as of another, so that a read shows whose it is.
AS_OF_A = date(2026, 9, 30)
AS_OF_B = date(2026, 6, 30)
HIRED = "2020-01-15"
#: I2 alone has kudos, so I2 alone is raised by them.
KUDOS_FOR_I2 = 6
#: N1 joins Eng after tenant A's scoring date: visible to M1, but never scored.
LATE_JOINER = person_line("N1", "M1", "Eng/Platform") + ",2026-10-01"


@dataclass(frozen=True)
class Scored:
    """The module's live server, after one scoring run in each tenant."""

    live: Live
    run_a: RunSummary
    run_b: RunSummary


def operator_unit_of_work(
    database: Database, tenant_id: int
) -> Callable[..., AbstractContextManager[tuple[Session, Subject]]]:
    """What ``run_scoring`` expects: one committed transaction as the tenant's operator."""

    @contextmanager
    def unit_of_work(read_only: bool = False) -> Iterator[tuple[Session, Subject]]:
        with database.unit_of_work(tenant_id, read_only=read_only) as session:
            yield session, Subject.operator(tenant_id)

    return unit_of_work


@pytest.fixture(scope="module")
def scored(live: Live) -> Scored:
    """Hire dates for (almost) everyone, then one scoring run per tenant, once per module.

    ``live`` is module scoped, so these tenants are this module's own: the other API tests
    never see these hire dates, people or scores.
    """
    header = f"{HEADER},hire_date"
    lines_a = [f"{line},{HIRED}" for line in ORG_A] + [LATE_JOINER]
    import_lines(live.database, Subject.operator(live.tenant_a), lines_a, header=header)
    # B9 keeps no hire date (see test_a_person_without_a_hire_date_is_scored_too)
    lines_b = [f"{ORG_B[0]},{HIRED}", f"{ORG_B[1]},"]
    import_lines(live.database, Subject.operator(live.tenant_b), lines_b, header=header)
    give_kudos(live, "I2", KUDOS_FOR_I2)
    run_a = run_scoring(operator_unit_of_work(live.database, live.tenant_a), as_of=AS_OF_A)
    run_b = run_scoring(operator_unit_of_work(live.database, live.tenant_b), as_of=AS_OF_B)
    return Scored(live=live, run_a=run_a, run_b=run_b)


def give_kudos(live: Live, employee: str, count: int) -> None:
    """``count`` kudos received by ``employee`` in 2026, ingested and rolled up (tenant A)."""
    drafts = [
        SignalDraft(
            source="kudos",
            type="kudos_received",
            account=ExternalAccount("employee_id", employee),
            occurred_at=datetime(2026, 3 + i, 2, 10, tzinfo=UTC),
            external_id=f"kudos-{employee}-{i}",
        )
        for i in range(count)
    ]
    operator = Subject.operator(live.tenant_a)
    with live.database.unit_of_work(live.tenant_a) as session:
        stored = ingestion.ingest_drafts_batch(
            session, operator, from_drafts(drafts), kind="file", source="kudos"
        )
        assert stored.signals == count
        aggregates.refresh(session, operator)


def path(employee: str, resource: str) -> str:
    return f"{EMPLOYEES}/{employee}/{resource}"


def access_log(live: Live, tenant_id: int | None = None) -> list[AccessLogEntry]:
    """A tenant's whole access log (tenant A's by default), newest first."""
    tenant_id = live.tenant_a if tenant_id is None else tenant_id
    with live.database.unit_of_work(tenant_id, read_only=True) as session:
        return service.access_log(session, Subject.operator(tenant_id), limit=100_000)


def new_entries(
    live: Live, before: list[AccessLogEntry], tenant_id: int | None = None
) -> list[AccessLogEntry]:
    """What was logged since ``before`` was read, newest first."""
    after = access_log(live, tenant_id)
    assert after[len(after) - len(before) :] == before  # append-only: nothing else changed
    return after[: len(after) - len(before)]


def assert_not_found(response: httpx.Response, employee: str, resource: str) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": f"No employee {employee!r}.",
        "instance": path(employee, resource),
    }


def test_both_tenants_were_scored_in_full(scored: Scored) -> None:
    assert (scored.run_a.status, scored.run_a.as_of) == ("succeeded", AS_OF_A)
    assert (scored.run_a.employees, scored.run_a.written) == (len(EVERYONE_A), len(EVERYONE_A))
    assert scored.run_a.model_version == "default@1"
    assert (scored.run_b.status, scored.run_b.as_of) == ("succeeded", AS_OF_B)


def test_a_manager_reads_the_profile_of_a_report(scored: Scored) -> None:
    response = scored.live.get(path("I2", "profile"), "m1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PROFILE_KEYS
    assert (body["employee_id"], body["as_of"]) == ("I2", AS_OF_A.isoformat())
    assert body["model_version"] == "default@1"
    # metrics with min_evidence 0 (absence, kudos, courses) score everyone, evidence or not
    assert isinstance(body["score"], float) and 0 <= body["score"] <= 100
    assert 0 < body["confidence"] < 1  # seven pillars have no evidence source yet
    assert body["trend"] is None  # the first score
    assert list(body["pillars"]) == list(PILLARS)
    assert body["pillars"]["Goal"] is None and body["pillars"]["Attendance"] is not None
    assert isinstance(body["flags"], list) and "new_joiner" not in body["flags"]


def test_the_explanation_agrees_with_the_profile(scored: Scored) -> None:
    profile = scored.live.get(path("I2", "profile"), "m1").json()
    response = scored.live.get(path("I2", "explanation"), "m1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == EXPLANATION_KEYS
    for key in ("employee_id", "as_of", "model_version", "score", "confidence", "pillars"):
        assert body[key] == profile[key], key
    assert re.fullmatch(r"[0-9a-f]{64}", body["fingerprint"])
    assert set(body["pillar_details"]) == set(PILLARS)
    raised = {c["metric"]: c for c in body["top_positive"]}
    assert raised["kudos_received"]["value"] == KUDOS_FOR_I2
    assert raised["kudos_received"]["pillar"] == "Recognition"
    assert all(c["contribution"] > 0 for c in body["top_positive"])
    assert "kudos_received" not in {c["metric"] for c in body["top_negative"]}
    missing = {(m["pillar"], m["metric"]) for m in body["missing_evidence"]}
    assert ("Goal", None) in missing  # no source yet
    assert ("Productivity", "prs_merged_per_week") in missing  # no signals at all

    band = body["benchmark"]
    assert {"cohort", "n", "percentiles", "suppressed"} <= set(band)
    assert band["cohort"] == body["cohort"]
    assert band["n"] == len(EVERYONE_A)  # tenant A's people only, never tenant B's
    assert set(band["percentiles"]) == PERCENTILES
    assert set(band["suppressed"]) <= PERCENTILES
    for label, value in band["percentiles"].items():
        assert (value is None) == (label in band["suppressed"]), label

    assert body["narrative"]
    for sentence in body["narrative"]:
        assert set(sentence) == {"text", "evidence"}
        assert sentence["text"] and sentence["evidence"], sentence
    cited = [e for s in body["narrative"] for e in s["evidence"]]
    assert any(e.get("metric") == "kudos_received" for e in cited)


def test_evidence_moves_the_score(scored: Scored) -> None:
    with_kudos = scored.live.get(path("I2", "profile"), "admin").json()
    without = scored.live.get(path("I3", "profile"), "admin").json()
    assert with_kudos["pillars"]["Recognition"] > without["pillars"]["Recognition"]
    assert with_kudos["score"] > without["score"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_an_employee_reads_their_own_scores(scored: Scored, resource: str) -> None:
    live = scored.live
    before = access_log(live)
    response = live.get(path("I1", resource), "i1")
    assert response.status_code == 200, response.text
    assert response.json()["employee_id"] == "I1"
    [entry] = new_entries(live, before)
    assert (entry.employee_id, entry.resource, entry.role) == ("I1", resource, "employee")
    assert entry.purpose == "own record"
    assert entry.actor.endswith(f":employee:token:{live.token_ids['i1']}")


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize(
    ("token", "role", "employee", "purpose"),
    [
        ("m1", "manager", "I3", "line management"),
        ("ceo", "manager", "X1", "line management"),
        ("i1_manager", "manager", "I3", "line management"),
        ("hrbp", "hrbp", "I2", "HR business partnering"),
        ("calibrator", "calibrator", "I2", "calibration"),
        ("admin", "admin", "S2", "administration"),
        ("analyst", "people_analyst", "H1", "people analytics"),
        ("legal", "legal", "E1", "legal review"),
    ],
)
def test_each_read_is_logged_once_with_the_roles_usual_purpose(
    scored: Scored, resource: str, token: str, role: str, employee: str, purpose: str
) -> None:
    live = scored.live
    before = access_log(live)
    assert live.get(path(employee, resource), token).status_code == 200
    [entry] = new_entries(live, before)
    assert (entry.employee_id, entry.resource, entry.role) == (employee, resource, role)
    assert entry.purpose == purpose
    assert entry.actor.endswith(f":{role}:token:{live.token_ids[token]}")


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_given_purpose_is_logged_as_given(scored: Scored, resource: str) -> None:
    live = scored.live
    why = "Q3 calibration prep, ticket HR-1234"
    before = access_log(live)
    assert live.get(path("I2", resource), "m1", purpose=why).status_code == 200
    assert [e.purpose for e in new_entries(live, before)] == [why]

    before = access_log(live)
    assert live.get(path("I2", resource), "m1", purpose="   ").status_code == 200
    assert [e.purpose for e in new_entries(live, before)] == ["line management"]

    longest = "x" * 200
    before = access_log(live)
    assert live.get(path("I2", resource), "m1", purpose=longest).status_code == 200
    assert [e.purpose for e in new_entries(live, before)] == [longest]


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_purpose_over_200_characters_is_422_and_not_logged(scored: Scored, resource: str) -> None:
    live = scored.live
    before = access_log(live)
    response = live.get(path("I2", resource), "m1", purpose="x" * 201)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in response.json()["errors"]] == [["query", "purpose"]]
    assert access_log(live) == before


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize(
    ("token", "employee"),
    [
        ("m2", "I1"),  # another manager's line
        ("m1", "S1"),
        ("m1", "M2"),  # a peer
        ("m1", "E1"),  # one's own manager
        ("i1_manager", "I2"),
        ("i1", "I3"),  # an employee token sees no one but its employee
        ("calibrator", "I1"),
        ("hrbp", "X1"),  # "Engineering" is not under the hrbp's "Eng"
    ],
)
def test_out_of_scope_is_the_same_404_as_missing_and_not_logged(
    scored: Scored, resource: str, token: str, employee: str
) -> None:
    live = scored.live
    assert live.get(path(employee, resource), "admin").status_code == 200  # it has scores
    before = access_log(live)
    assert_not_found(live.get(path(employee, resource), token), employee, resource)
    assert_not_found(live.get(path("ZZ9", resource), token), "ZZ9", resource)
    assert access_log(live) == before


@pytest.mark.parametrize("resource", RESOURCES)
def test_another_tenants_employees_are_404(scored: Scored, resource: str) -> None:
    live = scored.live
    before_a, before_b = access_log(live), access_log(live, live.tenant_b)
    assert_not_found(live.get(path("B9", resource), "admin"), "B9", resource)
    assert_not_found(live.get(path("M1", resource), live.token_b), "M1", resource)
    assert access_log(live) == before_a
    assert access_log(live, live.tenant_b) == before_b

    # E1 exists in both tenants: each token reads its own tenant's E1 and no one else's scores
    own = live.get(path("E1", resource), "admin")
    other = live.get(path("E1", resource), live.token_b)
    assert (own.status_code, other.status_code) == (200, 200)
    assert own.json()["as_of"] == AS_OF_A.isoformat()
    assert other.json()["as_of"] == AS_OF_B.isoformat()
    [entry_b] = new_entries(live, before_b, live.tenant_b)
    assert (entry_b.employee_id, entry_b.resource, entry_b.role) == ("E1", resource, "admin")


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_visible_employee_without_a_score_is_404_and_not_logged(
    scored: Scored, resource: str
) -> None:
    live = scored.live
    assert live.get(f"{EMPLOYEES}/N1", "m1").status_code == 200  # visible, hired after AS_OF_A
    before = access_log(live)
    response = live.get(path("N1", resource), "m1")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("No score for 'N1'")
    assert access_log(live) == before


@pytest.mark.parametrize("resource", RESOURCES)
def test_no_token_is_401_and_not_logged(scored: Scored, resource: str) -> None:
    live = scored.live
    before = access_log(live)
    for response in (
        live.get(path("I1", resource)),
        live.get(path("I1", resource), "ml_x_" + "a" * 43),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
    assert access_log(live) == before


def test_a_person_without_a_hire_date_is_scored_too(scored: Scored) -> None:
    assert (scored.run_b.employees, scored.run_b.written) == (2, 2)  # E1 (hired 2020) and B9
    response = scored.live.get(path("B9", "profile"), scored.live.token_b)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == AS_OF_B.isoformat() and body["score"] is not None
    assert "new_joiner" not in body["flags"]
