"""Reviews through the API: the cycle lifecycle, versioned reviews, the visibility rule, peer
feedback and its threshold, the audit trail, and problem+json for every mistake.

The module's server (``live``) is shared by its tests, so each test works in a cycle of its own.
"""

from __future__ import annotations

import functools
import itertools
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.audit.schemas import AuditEventRead
from meritline.evidence import ingestion
from meritline.evidence.frames import from_drafts
from meritline.evidence.signals import ExternalAccount, SignalDraft
from meritline.models import Employee, ScoreSnapshot, Signal
from meritline.scoring.jobs import run_scoring
from tests.api.conftest import Live, issue_tokens
from tests.fixtures.http import assert_problem

API = "/api/v1"
QUESTION = "What did this person achieve in the period, and what evidence shows it?"
REASON = "Calibrated against the whole team's delivery this year."
#: When the cited signals happened (one per employee below).
SIGNAL_AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
SNAPSHOT_AS_OF = date(2026, 9, 30)
#: Employee tokens of tenant A besides the conftest's (I1's is "i1").
MORE_TOKENS: dict[str, tuple[str, str, list[str] | None]] = {
    "i2": ("I2", "employee", None),
    "i3": ("I3", "employee", None),
    "s1": ("S1", "employee", None),
    "x1": ("X1", "employee", None),
    "m1_self": ("M1", "employee", None),
}


@dataclass(frozen=True)
class World:
    """The module's server with extra tokens, one signal and one snapshot per employee."""

    live: Live
    tokens: dict[str, str]
    token_ids: dict[str, int]
    signals: dict[str, int]  # employee number -> the id of a signal about them (tenant A)
    snapshots: dict[str, int]  # employee number -> the id of their score snapshot
    employee_ids: dict[str, int]  # employee number -> internal id (tenant A)

    def call(
        self, method: str, path: str, token: str, body: Any = None, **params: Any
    ) -> httpx.Response:
        """``method path`` as ``token`` (a name in ``tokens``, or a raw token string)."""
        secret = self.tokens.get(token, token)
        return self.live.client.request(
            method,
            API + path,
            headers={"Authorization": f"Bearer {secret}"},
            json=body,
            params=params,
        )

    def get(self, path: str, token: str, **params: Any) -> httpx.Response:
        return self.call("GET", path, token, **params)

    def post(self, path: str, token: str, body: Any) -> httpx.Response:
        return self.call("POST", path, token, body)


@contextmanager
def operator_unit_of_work(live: Live, read_only: bool = False) -> Iterator[tuple[Session, Subject]]:
    """What ``run_scoring`` expects: one committed transaction as tenant A's operator."""
    with live.database.unit_of_work(live.tenant_a, read_only=read_only) as session:
        yield session, Subject.operator(live.tenant_a)


@pytest.fixture(scope="module")
def world(live: Live) -> World:
    extra = issue_tokens(live.database, live.tenant_a, MORE_TOKENS)
    tokens = {**live.tokens, **{name: secret for name, (secret, _) in extra.items()}}
    token_ids = {**live.token_ids, **{name: token_id for name, (_, token_id) in extra.items()}}
    people = ("I1", "I2", "I3", "S1")
    drafts = [
        SignalDraft(
            source="tickets",
            type="ticket_solved",
            account=ExternalAccount("employee_id", number),
            occurred_at=SIGNAL_AT,
            external_id=f"reviews-{number}",
        )
        for number in people
    ]
    operator = Subject.operator(live.tenant_a)
    with live.database.unit_of_work(live.tenant_a) as session:
        stored = ingestion.ingest_drafts_batch(
            session, operator, from_drafts(drafts), kind="file", source="tickets"
        )
        assert stored.signals == len(people)
    run = run_scoring(functools.partial(operator_unit_of_work, live), as_of=SNAPSHOT_AS_OF)
    assert run.status == "succeeded", run
    with live.database.unit_of_work(live.tenant_a, read_only=True) as session:
        employee_ids = dict(session.execute(select(Employee.employee_number, Employee.id)).all())
        by_internal = {v: k for k, v in employee_ids.items()}
        signals = {
            by_internal[employee]: signal
            for signal, employee in session.execute(
                select(Signal.id, Signal.employee_id).where(Signal.source == "tickets")
            )
        }
        snapshots = {
            by_internal[employee]: snapshot
            for snapshot, employee in session.execute(
                select(ScoreSnapshot.id, ScoreSnapshot.employee_id)
            )
        }
    assert set(signals) == set(people)
    return World(live, tokens, token_ids, signals, snapshots, employee_ids)


# --- helpers -------------------------------------------------------------------------------


def audit_events(live: Live, tenant_id: int | None = None) -> list[AuditEventRead]:
    """A tenant's audit log (tenant A's by default), newest first; the chain must verify."""
    tenant_id = live.tenant_a if tenant_id is None else tenant_id
    operator = Subject.operator(tenant_id)
    with live.database.unit_of_work(tenant_id, read_only=True) as session:
        assert audit.verify(session, operator).ok
        return audit.recent(session, operator, limit=100_000)


def new_events(live: Live, before: list[AuditEventRead]) -> list[tuple[str, str, str | None]]:
    """(action, entity type, entity id) of each event since ``before``, oldest first."""
    after = audit_events(live)
    added = after[: len(after) - len(before)]
    assert after[len(added) :] == before  # append-only: nothing else changed
    return [(e.action, e.entity_type, e.entity_id) for e in reversed(added)]


def cycle_name() -> str:
    return f"FY2026 {uuid.uuid4().hex[:8]}"


def new_cycle(w: World, status: str = "draft", token: str = "admin", **template: Any) -> str:
    """A fresh cycle (the default template, or ``template``), moved on to ``status``."""
    name = cycle_name()
    body: dict[str, Any] = {
        "name": name,
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
    }
    if template:
        body["template"] = template
    created = w.post("/cycles", token, body)
    assert created.status_code == 201, created.text
    advance(w, name, status, token)
    return name


STATUSES = ["draft", "open", "calibration", "finalized", "shared", "closed"]


def advance(w: World, name: str, status: str, token: str = "admin") -> None:
    """Move the cycle on, one status at a time, until it is ``status``."""
    current = w.get(f"/cycles/{name}", token).json()["status"]
    for to in STATUSES[STATUSES.index(current) + 1 : STATUSES.index(status) + 1]:
        moved = w.post(f"/cycles/{name}/transitions", token, {"to_status": to})
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == to


def reviews_path(name: str, employee: str) -> str:
    return f"/cycles/{name}/employees/{employee}/reviews"


def submit(w: World, name: str, employee: str, token: str, **body: Any) -> httpx.Response:
    return w.post(reviews_path(name, employee), token, body)


def amend(w: World, name: str, employee: str, token: str, **body: Any) -> httpx.Response:
    return w.post(reviews_path(name, employee) + "/amendments", token, body)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the happy path ------------------------------------------------------------------------


def test_a_cycle_from_draft_to_shared_with_a_review_amended_and_a_self_review(
    world: World,
) -> None:
    w = world
    name = cycle_name()
    before = audit_events(w.live)
    created = w.post(
        "/cycles",
        "admin",
        {"name": name, "period_start": "2026-01-01", "period_end": "2026-12-31"},
    )
    assert created.status_code == 201, created.text
    cycle = created.json()
    assert (cycle["name"], cycle["status"]) == (name, "draft")
    assert (cycle["period_start"], cycle["period_end"]) == ("2026-01-01", "2026-12-31")
    assert [lv["value"] for lv in cycle["template"]["scale"]] == [1, 2, 3, 4, 5]
    assert cycle["template"]["min_peer_responses"] == 3
    assert w.get(f"/cycles/{name}", "m1").json() == cycle
    assert name in [c["name"] for c in w.get("/cycles", "i1").json()]

    opened = w.post(f"/cycles/{name}/transitions", "admin", {"to_status": "open"})
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"

    first = submit(
        w,
        name,
        "I1",
        "m1",
        rating=4,
        potential="high",
        assessment="Led the platform migration.",
        answers={QUESTION: "The migration, on time."},
        citations=[{"kind": "signal", "id": w.signals["I1"], "note": "a ticket"}],
    )
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert (v1["cycle"], v1["employee_id"], v1["kind"], v1["version"]) == (name, "I1", "manager", 1)
    assert (v1["author_id"], v1["origin"], v1["reason"]) == ("M1", "author", None)
    assert (v1["rating"], v1["rating_label"]) == (4, "Exceeds expectations")
    assert (v1["potential"], v1["promotion_proposed"]) == ("high", False)
    assert v1["answers"] == {QUESTION: "The migration, on time."}
    [citation] = v1["citations"]
    assert (citation["kind"], citation["id"], citation["note"]) == (
        "signal",
        w.signals["I1"],
        "a ticket",
    )
    assert when(citation["occurred_at"]) == SIGNAL_AT  # filled in by meritline

    second = amend(w, name, "I1", "m1", rating=3, reason=REASON)
    assert second.status_code == 201, second.text
    v2 = second.json()
    assert (v2["version"], v2["rating"], v2["rating_label"]) == (2, 3, "Meets expectations")
    assert v2["reason"] == REASON
    assert v2["id"] != v1["id"]
    # what the amendment does not set carries over from version 1
    for field in ("potential", "assessment", "answers", "citations", "promotion_proposed"):
        assert v2[field] == v1[field], field

    history = w.get(reviews_path(name, "I1"), "m1")
    assert history.status_code == 200, history.text
    assert history.json() == [v1, v2]  # version 1 is still readable, exactly as it was
    # the CEO sees I1 too (an indirect report)
    assert [r["version"] for r in w.get(reviews_path(name, "I1"), "ceo").json()] == [1, 2]

    own = submit(w, name, "I1", "i1", kind="self", rating=5, assessment="A great year.")
    assert own.status_code == 201, own.text
    mine = own.json()
    assert (mine["kind"], mine["version"], mine["author_id"]) == ("self", 1, "I1")
    assert (mine["rating"], mine["rating_label"]) == (5, "Far exceeds expectations")

    # before the cycle is shared, I1 sees their self review only
    assert w.get(reviews_path(name, "I1"), "i1").json() == [mine]
    listed = w.get(f"/cycles/{name}/reviews", "m1").json()
    assert [(r["employee_id"], r["version"], r["rating"]) for r in listed] == [("I1", 2, 3)]
    assert w.get(f"/cycles/{name}/reviews", "i1").json() == []
    self_reviews = w.get(f"/cycles/{name}/reviews", "m1", kind="self").json()
    assert [(r["employee_id"], r["kind"]) for r in self_reviews] == [("I1", "self")]

    for to in ("calibration", "finalized"):
        advance(w, name, to)
        assert w.get(reviews_path(name, "I1"), "i1").json() == [mine], to
    advance(w, name, "shared")
    shared = w.get(reviews_path(name, "I1"), "i1")
    assert shared.status_code == 200, shared.text
    assert sorted(shared.json(), key=lambda r: (r["kind"], r["version"])) == [v1, v2, mine]
    advance(w, name, "closed")
    assert len(w.get(reviews_path(name, "I1"), "i1").json()) == 3

    transitions = w.get(f"/cycles/{name}/transitions", "m1")
    assert transitions.status_code == 200, transitions.text
    steps = transitions.json()
    assert [(t["from_status"], t["to_status"]) for t in steps] == list(itertools.pairwise(STATUSES))
    actor = rf"employee:{w.employee_ids['M2']}:admin:token:{w.token_ids['admin']}"
    assert all(re.fullmatch(actor, t["actor"]) for t in steps), steps
    times = [when(t["at"]) for t in steps]
    assert times == sorted(times)

    cycle_id = str(cycle["id"])
    assert new_events(w.live, before) == [
        ("review_cycle.create", "review_cycle", cycle_id),
        ("review_cycle.transition", "review_cycle", cycle_id),
        ("review.submit", "review", str(v1["id"])),
        ("review.amend", "review", str(v2["id"])),
        ("review.submit", "review", str(mine["id"])),
        *[("review_cycle.transition", "review_cycle", cycle_id)] * 4,
    ]


def test_a_custom_template_is_kept_and_rules_the_ratings(world: World) -> None:
    scale = [{"value": v, "label": f"Level {v}"} for v in (1, 2, 3, 4)]
    guideline = {"1": 0.1, "2": 0.3, "3": 0.4, "4": 0.2}
    name = new_cycle(
        world,
        "open",
        scale=scale,
        guideline=guideline,
        questions=["Impact?"],
        self_review=False,
        min_peer_responses=4,
    )
    template = world.get(f"/cycles/{name}", "i1").json()["template"]
    assert template["scale"] == scale
    assert {int(k): v for k, v in template["guideline"].items()} == {1: 0.1, 2: 0.3, 3: 0.4, 4: 0.2}
    assert (template["questions"], template["self_review"]) == (["Impact?"], False)
    assert (template["peer_feedback"], template["min_peer_responses"]) == (True, 4)

    assert_problem(
        submit(world, name, "I2", "m1", rating=5),
        422,
        "Rating 5 is not on the cycle's scale (1, 2, 3, 4).",
    )
    assert_problem(
        submit(world, name, "I2", "m1", rating=4, answers={QUESTION: "?"}),
        422,
        f"Not a question of the cycle: {QUESTION!r}.",
    )
    assert_problem(
        submit(world, name, "I1", "i1", kind="self", rating=3),
        422,
        f"Cycle {name!r} has no self reviews.",
    )
    done = submit(world, name, "I2", "m1", rating=4, answers={"Impact?": "Large."})
    assert done.status_code == 201, done.text
    assert (done.json()["rating"], done.json()["rating_label"]) == (4, "Level 4")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ({"guideline": {"1": 0.5, "2": 0.6, "3": 0, "4": 0, "5": 0}}, "must sum to 1, not 1.1"),
        (
            {
                "scale": [{"value": 1, "label": "a"}, {"value": 2, "label": "b"}],
                "guideline": {"1": 0.2, "2": 0.3, "3": 0.5},
            },
            "the guideline names values not on the scale: [3]",
        ),
        ({"min_peer_responses": 2}, "greater than or equal to 3"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_template_is_422_and_creates_nothing(
    world: World, template: dict[str, Any], problem: str
) -> None:
    name = cycle_name()
    before = audit_events(world.live)
    response = world.post(
        "/cycles",
        "admin",
        {
            "name": name,
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "template": template,
        },
    )
    body = assert_problem(response, 422, "The request is not valid.")
    assert any(problem in e["msg"] for e in body["errors"]), body["errors"]
    assert_problem(world.get(f"/cycles/{name}", "admin"), 404)
    assert new_events(world.live, before) == []


def test_only_admin_and_hrbp_create_and_move_cycles(world: World) -> None:
    name = new_cycle(world, token="hrbp")
    for token in ("m1", "i1", "ceo"):
        assert_problem(
            world.post(f"/cycles/{name}/transitions", token, {"to_status": "open"}),
            404,
            "No such operation for this role.",
        )
        body = {"name": cycle_name(), "period_start": "2026-01-01", "period_end": "2026-12-31"}
        assert_problem(world.post("/cycles", token, body), 404)
    assert world.get(f"/cycles/{name}", "admin").json()["status"] == "draft"
    assert world.get(f"/cycles/{name}/transitions", "admin").json() == []
    assert_problem(
        world.post(
            "/cycles",
            "admin",
            {"name": name, "period_start": "2026-01-01", "period_end": "2026-12-31"},
        ),
        409,
        f"A review cycle named {name!r} already exists.",
    )


# --- 409: the lifecycle --------------------------------------------------------------------


def test_a_transition_that_is_not_the_next_status_is_409_and_changes_nothing(
    world: World,
) -> None:
    name = new_cycle(world)
    before = audit_events(world.live)
    for wrong in ("calibration", "shared", "closed", "draft"):
        assert_problem(
            world.post(f"/cycles/{name}/transitions", "admin", {"to_status": wrong}),
            409,
            f"Cycle {name!r} is 'draft': it can move to 'open' next, not to {wrong!r}.",
        )
    body = assert_problem(
        world.post(f"/cycles/{name}/transitions", "admin", {"to_status": "reopened"}), 422
    )
    assert body["errors"][0]["loc"] == ["body", "to_status"]
    assert world.get(f"/cycles/{name}", "admin").json()["status"] == "draft"
    assert world.get(f"/cycles/{name}/transitions", "admin").json() == []
    assert new_events(world.live, before) == []

    advance(world, name, "closed")
    assert_problem(
        world.post(f"/cycles/{name}/transitions", "admin", {"to_status": "open"}),
        409,
        f"Cycle {name!r} is 'closed': it is closed, not to 'open'.",
    )
    assert_problem(
        world.post("/cycles/no-such-cycle/transitions", "admin", {"to_status": "open"}),
        404,
        "No review cycle named 'no-such-cycle'; `meritline cycle list` shows them.",
    )


@pytest.mark.parametrize("status", ["draft", "calibration", "finalized", "shared", "closed"])
def test_reviews_are_written_only_while_the_cycle_is_open(world: World, status: str) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, "I2", "m1", rating=3).status_code == 201
    if status == "draft":
        name = new_cycle(world)
    else:
        advance(world, name, status)
    before = audit_events(world.live)
    later = "; ratings now change through calibration adjustments" * (status == "calibration")
    detail = f"Cycle {name!r} is {status!r}, not open for reviews{later}."
    assert_problem(submit(world, name, "I3", "m1", rating=3), 409, detail)
    assert_problem(submit(world, name, "I1", "i1", kind="self", rating=3), 409, detail)
    if status != "draft":
        assert_problem(amend(world, name, "I2", "m1", rating=4, reason=REASON), 409, detail)
        assert [r["version"] for r in world.get(reviews_path(name, "I2"), "m1").json()] == [1]
    assert world.get(reviews_path(name, "I3"), "m1").json() == []
    assert new_events(world.live, before) == []


def test_a_second_submission_is_409_amend_it_instead(world: World) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, "I2", "m1", rating=3).status_code == 201
    assert_problem(
        submit(world, name, "I2", "ceo", rating=4),
        409,
        f"I2 already has a manager review in {name!r}; amend it with a reason.",
    )
    assert_problem(
        amend(world, name, "I3", "m1", rating=4, reason=REASON),
        404,
        f"I3 has no manager review in {name!r} to amend.",
    )
    # another reviewer may amend, and becomes the author of the new version
    amended = amend(world, name, "I2", "ceo", rating=4, reason=REASON)
    assert amended.status_code == 201, amended.text
    assert (amended.json()["version"], amended.json()["author_id"]) == (2, "E1")
    history = world.get(reviews_path(name, "I2"), "m1").json()
    assert [(r["version"], r["author_id"], r["rating"]) for r in history] == [
        (1, "M1", 3),
        (2, "E1", 4),
    ]


# --- 422: what a review may hold -----------------------------------------------------------


@pytest.mark.parametrize("rating", [6, 0, 2.5, -1])
def test_a_rating_off_the_scale_is_422(world: World, rating: float) -> None:
    name = new_cycle(world, "open")
    assert_problem(
        submit(world, name, "I2", "m1", rating=rating),
        422,
        f"Rating {rating:g} is not on the cycle's scale (1, 2, 3, 4, 5).",
    )
    assert submit(world, name, "I2", "m1", rating=2).status_code == 201
    assert_problem(amend(world, name, "I2", "m1", rating=rating, reason=REASON), 422)
    assert [r["rating"] for r in world.get(reviews_path(name, "I2"), "m1").json()] == [2]


def test_a_manager_review_needs_a_rating_and_known_fields(world: World) -> None:
    name = new_cycle(world, "open")
    assert_problem(
        submit(world, name, "I2", "m1", assessment="Fine."), 422, "A manager review needs a rating."
    )
    body = assert_problem(submit(world, name, "I2", "m1", rating=3, potential="huge"), 422)
    assert body["errors"][0]["loc"] == ["body", "potential"]
    body = assert_problem(submit(world, name, "I2", "m1", rating=3, mood="good"), 422)
    assert body["errors"][0]["loc"] == ["body", "mood"]
    assert_problem(
        submit(world, name, "I1", "i1", kind="self", rating=3, potential="high"),
        422,
        "Potential and promotion are for the manager review.",
    )
    assert world.get(reviews_path(name, "I2"), "m1").json() == []


@pytest.mark.parametrize("reason", [None, "", "fix", "x" * 19])
def test_an_amendment_without_a_reason_of_20_characters_is_422(
    world: World, reason: str | None
) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, "I2", "m1", rating=3).status_code == 201
    body: dict[str, Any] = {"rating": 4}
    if reason is not None:
        body["reason"] = reason
    problem = assert_problem(
        world.post(reviews_path(name, "I2") + "/amendments", "m1", body),
        422,
        "The request is not valid.",
    )
    assert [e["loc"] for e in problem["errors"]] == [["body", "reason"]]
    assert amend(world, name, "I2", "m1", rating=4, reason="x" * 20).status_code == 201
    assert [r["version"] for r in world.get(reviews_path(name, "I2"), "m1").json()] == [1, 2]


def test_citations_must_be_the_employees_own_evidence(world: World) -> None:
    name = new_cycle(world, "open")
    before = audit_events(world.live)
    foreign = [
        ("signal", world.signals["I2"]),  # another employee's signal
        ("signal", world.signals["S1"]),  # not even a report of M1's
        ("signal", 10**9),  # no such signal
        ("snapshot", world.snapshots["I2"]),
        ("feedback", 10**9),
    ]
    for kind, evidence_id in foreign:
        assert_problem(
            submit(
                world, name, "I1", "m1", rating=3, citations=[{"kind": kind, "id": evidence_id}]
            ),
            422,
            f"Cited {kind} {evidence_id} is not evidence about this employee.",
        )
    # one foreign citation among good ones spoils the whole review
    mixed = [
        {"kind": "signal", "id": world.signals["I1"]},
        {"kind": "signal", "id": world.signals["I2"]},
    ]
    assert_problem(submit(world, name, "I1", "m1", rating=3, citations=mixed), 422)
    assert world.get(reviews_path(name, "I1"), "m1").json() == []
    assert new_events(world.live, before) == []

    own = [
        {"kind": "signal", "id": world.signals["I1"]},
        {"kind": "snapshot", "id": world.snapshots["I1"], "occurred_at": "2000-01-01T00:00:00Z"},
    ]
    response = submit(world, name, "I1", "m1", rating=3, citations=own)
    assert response.status_code == 201, response.text
    cited = response.json()["citations"]
    assert [(c["kind"], c["id"]) for c in cited] == [(c["kind"], c["id"]) for c in own]
    # meritline dates the evidence itself; whatever the caller claimed is replaced
    assert when(cited[0]["occurred_at"]) == SIGNAL_AT
    assert when(cited[1]["occurred_at"]) == datetime(2026, 9, 30, tzinfo=UTC)

    # an amendment's citations are checked too, and a bad one leaves the review as it was
    bad = [{"kind": "signal", "id": world.signals["I3"]}]
    assert_problem(amend(world, name, "I1", "m1", citations=bad, reason=REASON), 422)
    assert len(world.get(reviews_path(name, "I1"), "m1").json()) == 1


# --- 404: the visibility rule --------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "employee"),
    [
        ("m2", "I1"),  # another team's manager
        ("i1_manager", "I2"),  # a peer, not a report
        ("hrbp", "S1"),  # outside the hrbp's org units
        ("m1", "X1"),  # in "Engineering", which is not under "Eng"
        ("m1", "NOPE"),  # nobody
    ],
)
def test_an_employee_out_of_scope_is_404_for_every_review_route(
    world: World, token: str, employee: str
) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, "I1", "ceo", rating=3).status_code == 201
    assert submit(world, name, "S1", "ceo", rating=3).status_code == 201
    assert submit(world, name, "I2", "ceo", rating=3).status_code == 201
    before = audit_events(world.live)
    detail = f"No employee {employee!r}."
    assert_problem(submit(world, name, employee, token, rating=3), 404, detail)
    assert_problem(amend(world, name, employee, token, rating=4, reason=REASON), 404, detail)
    assert_problem(world.get(reviews_path(name, employee), token), 404, detail)
    assert_problem(world.get(f"/cycles/{name}/employees/{employee}/feedback", token), 404, detail)
    assert_problem(
        world.post(
            f"/cycles/{name}/employees/{employee}/feedback-requests",
            token,
            {"responders": ["E1"]},
        ),
        404,
        detail,
    )
    listed = {r["employee_id"] for r in world.get(f"/cycles/{name}/reviews", token).json()}
    assert employee not in listed
    assert new_events(world.live, before) == []


def test_direct_and_indirect_reports_are_in_scope(world: World) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, "I3", "i1_manager", rating=3).status_code == 201  # direct
    amended = amend(world, name, "I3", "m1", rating=4, reason=REASON)  # indirect
    assert amended.status_code == 201, amended.text
    assert submit(world, name, "I2", "hrbp", rating=2).status_code == 201  # hrbp of Eng
    assert submit(world, name, "S1", "m2", rating=5).status_code == 201
    listed = {
        token: sorted(r["employee_id"] for r in world.get(f"/cycles/{name}/reviews", token).json())
        for token in ("ceo", "m1", "i1_manager", "m2", "hrbp", "admin", "i1")
    }
    assert listed == {
        "ceo": ["I2", "I3", "S1"],
        "m1": ["I2", "I3"],
        "i1_manager": ["I3"],
        "m2": ["S1"],
        "hrbp": ["I2", "I3"],
        "admin": ["I2", "I3", "S1"],
        "i1": [],
    }


def test_another_tenants_token_sees_nothing_of_this_tenant(world: World) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, "E1", "admin", rating=4).status_code == 201
    assert submit(world, name, "I1", "m1", rating=4).status_code == 201
    other = world.live.token_b
    missing = f"No review cycle named {name!r}; `meritline cycle list` shows them."
    assert_problem(world.get(f"/cycles/{name}", other), 404, missing)
    assert_problem(world.get(reviews_path(name, "I1"), other), 404, missing)
    assert_problem(submit(world, name, "I1", other, rating=3), 404, missing)
    assert name not in [c["name"] for c in world.get("/cycles", other).json()]

    # tenant B's own cycle of the same name knows neither I1 nor tenant A's E1 review
    created = world.post(
        "/cycles",
        other,
        {"name": name, "period_start": "2026-01-01", "period_end": "2026-12-31"},
    )
    assert created.status_code == 201, created.text
    assert (
        world.post(f"/cycles/{name}/transitions", other, {"to_status": "open"}).status_code == 200
    )
    assert_problem(submit(world, name, "I1", other, rating=3), 404, "No employee 'I1'.")
    assert_problem(world.get(reviews_path(name, "I1"), other), 404, "No employee 'I1'.")
    assert world.get(reviews_path(name, "E1"), other).json() == []
    assert world.get(f"/cycles/{name}/reviews", other).json() == []
    # and tenant A's cycle of that name is still open, with its two reviews
    assert world.get(f"/cycles/{name}", "admin").json()["status"] == "open"
    assert len(world.get(f"/cycles/{name}/reviews", "admin").json()) == 2


def test_nobody_writes_their_own_manager_review(world: World) -> None:
    name = new_cycle(world, "open")
    assert_problem(
        submit(world, name, "I1", "i1_manager", rating=5),
        422,
        "Nobody writes their own manager review; submit a self review.",
    )
    assert_problem(
        submit(world, name, "M2", "admin", rating=5),
        422,
        "Nobody writes their own manager review; submit a self review.",
    )
    # an employee token is no reviewer at all
    assert_problem(
        submit(world, name, "I1", "i1", rating=5), 404, "No such operation for this role."
    )
    # and a self review is the employee's own: not even their manager writes it
    assert_problem(
        submit(world, name, "I3", "i1_manager", kind="self", rating=3),
        404,
        "Only I3 writes their self review.",
    )
    assert world.get(reviews_path(name, "I1"), "admin").json() == []
    assert world.get(reviews_path(name, "I3"), "admin").json() == []


def test_an_employee_reads_their_manager_review_only_once_shared(world: World) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, "M1", "ceo", rating=4).status_code == 201
    assert submit(world, name, "M1", "m1_self", kind="self", rating=4).status_code == 201
    for status in ("open", "calibration", "finalized"):
        advance(world, name, status)
        for token in ("m1_self", "m1"):  # as an employee, and in their manager role
            kinds = [r["kind"] for r in world.get(reviews_path(name, "M1"), token).json()]
            assert kinds == ["self"], (status, token)
    advance(world, name, "shared")
    for token in ("m1_self", "m1"):
        kinds = [r["kind"] for r in world.get(reviews_path(name, "M1"), token).json()]
        assert kinds == ["manager", "self"], token


@pytest.mark.parametrize(("token", "number"), [("m1", "M1"), ("hrbp", "H1"), ("admin", "M2")])
def test_whatever_their_role_nobody_reads_their_own_manager_review_before_it_is_shared(
    world: World, token: str, number: str
) -> None:
    name = new_cycle(world, "open")
    assert submit(world, name, number, "ceo", rating=2).status_code == 201
    for status in ("open", "calibration", "finalized"):
        advance(world, name, status)
        assert world.get(reviews_path(name, number), token).json() == [], (status, token)
        listed = [r["employee_id"] for r in world.get(f"/cycles/{name}/reviews", token).json()]
        assert number not in listed, (status, token)
        # the CEO, who wrote it, reads it all along
        assert len(world.get(reviews_path(name, number), "ceo").json()) == 1
    advance(world, name, "shared")
    [review] = world.get(reviews_path(name, number), token).json()
    assert (review["employee_id"], review["rating"], review["author_id"]) == (number, 2, "E1")
    listed = [r["employee_id"] for r in world.get(f"/cycles/{name}/reviews", token).json()]
    assert number in listed


# --- peer feedback -------------------------------------------------------------------------


def feedback_path(name: str, employee: str) -> str:
    return f"/cycles/{name}/employees/{employee}/feedback"


def inbox(world: World, token: str) -> list[dict[str, Any]]:
    response = world.get("/feedback-requests", token)
    assert response.status_code == 200, response.text
    return list(response.json())


def answer(world: World, feedback_id: int, token: str, text: str) -> httpx.Response:
    return world.post(f"/feedback-requests/{feedback_id}/answer", token, {"response": text})


def test_peer_feedback_is_shown_from_three_answers_and_anonymous_ones_name_nobody(
    world: World,
) -> None:
    w = world
    name = new_cycle(w, "open")
    before = audit_events(w.live)
    anonymous = w.post(
        feedback_path(name, "I2") + "-requests",
        "m1",
        {"responders": ["I1", "I3"], "anonymous": True},
    )
    assert anonymous.status_code == 201, anonymous.text
    named = w.post(
        feedback_path(name, "I2") + "-requests",
        "m1",
        {"responders": ["S1", "X1", "S1", "I1"], "relation": "other"},
    )
    assert named.status_code == 201, named.text
    items = named.json()
    # everyone asked about I2, with no answers: asking S1 twice, or I1 again, asks once
    assert [(i["responder_id"], i["relation"], i["anonymous"], i["status"]) for i in items] == [
        # the requester learns whom they asked anonymously, never whether or when they answer
        ("I1", "peer", True, "asked"),
        ("I3", "peer", True, "asked"),
        ("S1", "other", False, "requested"),
        ("X1", "other", False, "requested"),
    ]
    assert {i["employee_id"] for i in items} == {"I2"}
    ids = {i["responder_id"]: i["id"] for i in items}

    for token, number in (("i1", "I1"), ("i3", "I3"), ("s1", "S1"), ("x1", "X1")):
        mine = [i for i in inbox(w, token) if i["id"] == ids[number]]
        assert [(i["employee_id"], i["status"]) for i in mine] == [("I2", "requested")], token
    assert ids["I1"] not in [i["id"] for i in inbox(w, "i3")]

    # only the colleague asked answers: anyone else is 404, whatever their role
    for token in ("i3", "m1", "admin", "i2"):
        assert_problem(
            answer(w, ids["I1"], token, "Not mine to give."),
            404,
            f"No feedback request {ids['I1']} for you.",
        )
    assert_problem(answer(w, 10**9, "i1", "Nothing."), 404)
    assert_problem(w.post(f"/feedback-requests/{ids['I1']}/answer", "i1", {"response": ""}), 422)

    given = answer(w, ids["I1"], "i1", "Always unblocks the team.")
    assert given.status_code == 200, given.text
    assert (given.json()["status"], given.json()["response"]) == (
        "submitted",
        "Always unblocks the team.",
    )
    assert given.json()["responded_at"] is not None
    assert_problem(
        answer(w, ids["I1"], "i1", "Changed my mind."),
        409,
        f"Feedback request {ids['I1']} is already submitted.",
    )
    assert ids["I1"] not in [i["id"] for i in inbox(w, "i1")]
    assert answer(w, ids["S1"], "s1", "Great at explaining the data.").status_code == 200

    two = w.get(feedback_path(name, "I2"), "m1")
    assert two.status_code == 200, two.text
    summary = two.json()
    assert (summary["requested"], summary["submitted"], summary["threshold"]) == (4, 2, 3)
    assert (summary["shown"], summary["items"]) == (False, [])
    assert summary["note"].startswith("2 of the 3 answers needed")
    assert "unblocks" not in two.text and "explaining" not in two.text

    assert answer(w, ids["I3"], "i3", "Reviews code with care.").status_code == 200
    three = w.get(feedback_path(name, "I2"), "m1")
    summary = three.json()
    assert (summary["requested"], summary["submitted"], summary["shown"]) == (4, 3, True)
    # two anonymous answers beside a named one would point at the two asked anonymously:
    # anonymous answers wait for three of their own
    assert summary["note"] == (
        "3 answer(s): shown but for 2 anonymous one(s), held back until 3 anonymous answers exist."
    )
    shown = {i["response"]: i for i in summary["items"]}
    assert set(shown) == {"Great at explaining the data."}
    assert shown["Great at explaining the data."]["responder_id"] == "S1"
    assert "unblocks" not in three.text and "Reviews code" not in three.text
    assert all(i["status"] == "submitted" for i in summary["items"])
    # the hrbp of Eng and the admin read it too; the same items
    for token in ("hrbp", "admin", "ceo"):
        assert w.get(feedback_path(name, "I2"), token).json()["items"] == summary["items"]

    # I2 never reads feedback about themself; M2 (another team) does not see I2 at all
    assert_problem(
        w.get(feedback_path(name, "I2"), "i2"),
        404,
        "Feedback about yourself is shared with you by your manager.",
    )
    assert_problem(w.get(feedback_path(name, "I2"), "m2"), 404, "No employee 'I2'.")

    i2 = str(w.employee_ids["I2"])
    assert new_events(w.live, before) == [
        ("peer_feedback.request", "employee", i2),
        ("peer_feedback.request", "employee", i2),
        ("peer_feedback.answer", "peer_feedback", str(ids["I1"])),
        ("peer_feedback.answer", "peer_feedback", str(ids["S1"])),
        ("peer_feedback.read", "employee", i2),
        ("peer_feedback.answer", "peer_feedback", str(ids["I3"])),
        *[("peer_feedback.read", "employee", i2)] * 4,
    ]

    # a submitted answer may be cited in I2's review, dated when it was given
    cited = submit(w, name, "I2", "m1", rating=4, citations=[{"kind": "feedback", "id": ids["S1"]}])
    assert cited.status_code == 201, cited.text
    [citation] = cited.json()["citations"]
    assert when(citation["occurred_at"]) == when(
        shown["Great at explaining the data."]["responded_at"]
    )
    # one not answered yet is no evidence
    assert_problem(
        amend(
            w, name, "I2", "m1", citations=[{"kind": "feedback", "id": ids["X1"]}], reason=REASON
        ),
        422,
        f"Cited feedback {ids['X1']} is not evidence about this employee.",
    )

    # once the cycle moves on, the last request cannot be answered any more
    advance(w, name, "calibration")
    assert_problem(
        answer(w, ids["X1"], "x1", "Too late."), 409, "The cycle is no longer open for feedback."
    )


def test_an_anonymous_answer_cannot_be_traced_through_request_ids_times_or_order(
    world: World,
) -> None:
    name = new_cycle(world, "open")
    asked = world.post(
        feedback_path(name, "I2") + "-requests",
        "m1",
        {"responders": ["I1", "I3", "S1"], "anonymous": True},
    ).json()
    # the manager knows whom they asked, by request id
    who = {i["id"]: i["responder_id"] for i in asked}
    assert sorted(who.values()) == ["I1", "I3", "S1"]
    # answered in the order of asking, with texts that sort the other way round
    for item, text in zip(asked, ("c: from I1", "b: from I3", "a: from S1"), strict=True):
        token = {"I1": "i1", "I3": "i3", "S1": "s1"}[item["responder_id"]]
        assert answer(world, item["id"], token, text).status_code == 200
    summary = world.get(feedback_path(name, "I2"), "m1").json()
    assert summary["shown"]
    for item in summary["items"]:
        assert item["anonymous"] is True
        assert (item["id"], item["responder_id"]) == (None, None), item
        assert (item["requested_at"], item["responded_at"]) == (None, None), item
    responses = [i["response"] for i in summary["items"]]
    assert sorted(responses) == ["a: from S1", "b: from I3", "c: from I1"]
    assert responses != ["c: from I1", "b: from I3", "a: from S1"]  # not in the order of asking


def test_feedback_requests_are_checked(world: World) -> None:
    name = new_cycle(world, "open")
    path = feedback_path(name, "I2") + "-requests"
    assert_problem(
        world.post(path, "m1", {"responders": ["I1", "I2"]}),
        422,
        "Feedback on someone is not asked of themself.",
    )
    assert_problem(world.post(path, "m1", {"responders": ["I1", "B9"]}), 422, "No employee 'B9'.")
    assert_problem(world.post(path, "m1", {"responders": []}), 422)
    assert_problem(
        world.post(path, "i1", {"responders": ["I3"]}), 404, "No such operation for this role."
    )
    assert world.get(feedback_path(name, "I2"), "m1").json()["requested"] == 0

    draft = new_cycle(world)
    assert_problem(
        world.post(feedback_path(draft, "I2") + "-requests", "m1", {"responders": ["I1"]}),
        409,
        f"Cycle {draft!r} is 'draft'; feedback is asked while it is open.",
    )
    no_peers = new_cycle(world, "open", peer_feedback=False)
    assert_problem(
        world.post(feedback_path(no_peers, "I2") + "-requests", "m1", {"responders": ["I1"]}),
        422,
        f"Cycle {no_peers!r} has no peer feedback.",
    )


def test_the_threshold_follows_the_template(world: World) -> None:
    name = new_cycle(world, "open", min_peer_responses=4)
    asked = world.post(
        feedback_path(name, "I3") + "-requests",
        "m1",
        {"responders": ["I1", "I2", "S1", "X1"]},
    ).json()
    tokens = {"I1": "i1", "I2": "i2", "S1": "s1", "X1": "x1"}
    for count, item in enumerate(asked, start=1):
        assert answer(world, item["id"], tokens[item["responder_id"]], "ok").status_code == 200
        summary = world.get(feedback_path(name, "I3"), "i1_manager").json()
        assert (summary["submitted"], summary["threshold"]) == (count, 4)
        assert summary["shown"] == (count >= 4)
        assert len(summary["items"]) == (4 if count >= 4 else 0)


def test_an_employee_cannot_tell_whether_their_manager_review_was_written(world: World) -> None:
    name = new_cycle(world, "open")
    unwritten = amend(world, name, "I1", "i1", rating=3, reason=REASON)
    assert submit(world, name, "I1", "m1", rating=4).status_code == 201
    written = amend(world, name, "I1", "i1", rating=3, reason=REASON)
    assert unwritten.status_code == written.status_code == 404
    assert unwritten.json()["detail"] == written.json()["detail"]
