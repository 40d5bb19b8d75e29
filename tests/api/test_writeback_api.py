"""Writeback through the API: destinations and the outbox are the admin's (404 for every other
role), a destination is checked before it is kept and its secret never leaves the server, and
finalising a calibrated cycle puts its outcomes in the outbox for each destination; the 9-box
it places is read through the visibility rule.

The server here is this module's own, with a Fernet key of its own, so adding a webhook never
writes a key file; each test builds a tenant of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from meritline.access.subject import Subject
from meritline.api.app import create_app
from meritline.audit import service as audit
from meritline.config import Settings
from meritline.db.session import Database
from meritline.models import Employee, OutboxDelivery, OutboxEvent, WritebackDestination
from tests.api.conftest import issue_tokens, serve
from tests.fixtures.database import MigratedDatabase
from tests.fixtures.factories import import_lines, new_tenant, person_line
from tests.fixtures.http import CallsWithTokens, assert_problem, ok

API = "/api/v1"
KEY = Fernet.generate_key().decode()
SECRET = "whsec-" + uuid.uuid4().hex  # 38 characters
REASON = "The evidence shows a stronger year than the review says."
NO_OPERATION = "No such operation for this role."
DESTINATION_KEYS = {"id", "name", "type", "target", "topics", "active", "created_at"}

#: E1 is the CEO; M1 manages Eng (A1-A4), S1 manages S2 in Sales; H1 is the hrbp of Eng and
#: facilitates; C1 approves compensation.
ORG = [
    person_line("E1", "", "Exec"),
    person_line("H1", "E1", "People"),
    person_line("C1", "E1", "People"),
    person_line("P1", "E1", "People"),
    person_line("L1", "E1", "People"),
    person_line("M1", "E1", "Eng"),
    *(person_line(f"A{i}", "M1", "Eng") for i in range(1, 5)),
    person_line("S1", "E1", "Sales"),
    person_line("S2", "S1", "Sales"),
]
TOKENS: dict[str, tuple[str, str, list[str] | None]] = {
    "admin": ("E1", "admin", None),
    "ceo": ("E1", "manager", None),
    "m1": ("M1", "manager", None),
    "s1": ("S1", "manager", None),
    "hrbp": ("H1", "hrbp", ["Eng"]),
    "facilitator": ("H1", "calibrator", None),
    "comp": ("C1", "compensation", None),
    "analyst": ("P1", "people_analyst", None),
    "legal": ("L1", "legal", None),
    "a1": ("A1", "employee", None),
}
NOT_ADMIN = sorted(set(TOKENS) - {"admin"})
#: The manager reviews: (reviewer token, rating, potential, promotion proposed).
REVIEWS: dict[str, tuple[str, int, str | None, bool]] = {
    "M1": ("ceo", 4, "medium", False),
    "A1": ("m1", 5, "high", True),
    "A2": ("m1", 3, "medium", False),
    "A3": ("m1", 2, "low", False),
    "A4": ("m1", 4, None, False),  # no potential: rated, but not on the 9-box
    "S2": ("s1", 3, "medium", False),
}
TOPICS = ["nine_box.positioned", "promotion.decided", "rating.finalized"]


@dataclass(frozen=True)
class Server:
    client: httpx.Client
    database: Database
    settings: Settings


@pytest.fixture(scope="module")
def server(migrated: MigratedDatabase) -> Iterator[Server]:
    database = Database(migrated.engine)
    settings = Settings(secret_key=KEY)
    app = create_app(settings, database)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        yield Server(client, database, settings)


@dataclass(frozen=True)
class Org(CallsWithTokens):
    """One test's tenant: its tokens and internal ids."""

    server: Server
    tenant_id: int
    tokens: dict[str, str]
    employee_ids: dict[str, int]

    @property
    def http(self) -> httpx.Client:
        return self.server.client


def build_org(server: Server) -> Org:
    operator = new_tenant(server.database, f"wb-{uuid.uuid4().hex[:12]}")
    import_lines(server.database, operator, ORG)
    issued = issue_tokens(server.database, operator.tenant_id, TOKENS)
    with server.database.unit_of_work(operator.tenant_id, read_only=True) as session:
        ids = dict(session.execute(select(Employee.employee_number, Employee.id)).all())
    return Org(
        server=server,
        tenant_id=operator.tenant_id,
        tokens={name: secret for name, (secret, _) in issued.items()},
        employee_ids=ids,
    )


@pytest.fixture
def org(server: Server) -> Org:
    return build_org(server)


# --- helpers -------------------------------------------------------------------------------


def audit_actions(o: Org) -> list[tuple[str, str]]:
    """(action, entity type) of the tenant's audit events, oldest first; the chain verifies."""
    operator = Subject.operator(o.tenant_id)
    with o.server.database.unit_of_work(o.tenant_id, read_only=True) as session:
        assert audit.verify(session, operator).ok
        events = audit.recent(session, operator, limit=100_000)
    return [(e.action, e.entity_type) for e in reversed(events)]


def webhook(name: str = "comp", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "webhook",
        "target": "https://comp.example.com/meritline",
        "secret": SECRET,
        **extra,
    }


def advance(o: Org, cycle: str, *statuses: str) -> None:
    for to in statuses:
        moved = o.post(f"/cycles/{cycle}/transitions", "admin", {"to_status": to})
        assert ok(moved)["status"] == to


def calibrated_cycle(o: Org) -> str:
    """A cycle through reviews and a locked session over Eng, ready to be finalized: A1's
    promotion approved by compensation, A2 calibrated from 3 to 4.
    """
    cycle = f"FY2026 {uuid.uuid4().hex[:8]}"
    body = {"name": cycle, "period_start": "2026-01-01", "period_end": "2026-12-31"}
    ok(o.post("/cycles", "admin", body), 201)
    advance(o, cycle, "open")
    for number, (token, rating, potential, promotion) in REVIEWS.items():
        review = {"rating": rating, "potential": potential, "promotion_proposed": promotion}
        ok(o.post(f"/cycles/{cycle}/employees/{number}/reviews", token, review), 201)
    advance(o, cycle, "calibration")
    session = {"name": "Eng", "facilitator": "H1", "org_units": ["Eng"]}
    ok(o.post(f"/cycles/{cycle}/calibration-sessions", "admin", session), 201)
    path = f"/cycles/{cycle}/calibration-sessions/Eng"
    ok(o.post(f"{path}/analyses", "admin"))
    ok(o.post(f"{path}/adjustments/A2", "facilitator", {"rating": 4, "reason": REASON}), 201)
    [promotion] = ok(o.get("/approvals", "comp"))
    assert (promotion["employee_id"], promotion["rule"]) == ("A1", "promotion_proposed")
    decision = {"decision": "approved", "reason": "Budgeted, and the evidence supports it."}
    ok(o.post(f"/approvals/{promotion['id']}/decision", "comp", decision))
    assert_problem(
        o.post(f"/cycles/{cycle}/transitions", "admin", {"to_status": "finalized"}),
        409,
        "Calibration session(s) 'Eng' are still open; lock them before finalising.",
    )
    assert ok(o.post(f"{path}/lock", "facilitator"))["pushed"] == 1
    return cycle


def outbox_rows(o: Org) -> list[tuple[str, str, str]]:
    """(destination name, topic, idempotency key) of every delivery, sorted."""
    with o.server.database.unit_of_work(o.tenant_id, read_only=True) as session:
        rows = session.execute(
            select(WritebackDestination.name, OutboxEvent.topic, OutboxEvent.idempotency_key)
            .join(OutboxDelivery, OutboxDelivery.destination_id == WritebackDestination.id)
            .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
            .where(OutboxDelivery.status == "pending")
        ).all()
    return sorted((name, topic, key) for name, topic, key in rows)


def payloads(o: Org) -> dict[str, dict[str, Any]]:
    """Each outbox event's payload, by idempotency key."""
    with o.server.database.unit_of_work(o.tenant_id, read_only=True) as session:
        events = session.execute(select(OutboxEvent.idempotency_key, OutboxEvent.payload)).all()
    return {key: payload for key, payload in events}


# --- admin only ----------------------------------------------------------------------------


@pytest.mark.parametrize("token", NOT_ADMIN)
def test_destinations_and_the_outbox_are_404_for_every_role_but_admin(org: Org, token: str) -> None:
    before = audit_actions(org)
    assert_problem(org.get("/writeback/destinations", token), 404, NO_OPERATION)
    assert_problem(org.post("/writeback/destinations", token, webhook()), 404, NO_OPERATION)
    assert_problem(org.get("/writeback/outbox", token), 404, NO_OPERATION)
    assert ok(org.get("/writeback/destinations", "admin")) == []
    assert audit_actions(org) == before


def test_without_a_token_it_is_401(org: Org) -> None:
    for method, body in (("GET", None), ("POST", webhook())):
        response = org.server.client.request(method, f"{API}/writeback/destinations", json=body)
        assert_problem(response, 401, "Send a token: Authorization: Bearer <token>.")
    assert ok(org.get("/writeback/destinations", "admin")) == []


# --- destinations --------------------------------------------------------------------------


def test_a_webhook_destination_is_kept_and_its_secret_never_shown(org: Org) -> None:
    before = audit_actions(org)
    created = org.post("/writeback/destinations", "admin", webhook(topics=["rating.finalized"]))
    body = ok(created, 201)
    assert set(body) == DESTINATION_KEYS
    assert (body["name"], body["type"], body["target"]) == (
        "comp",
        "webhook",
        "https://comp.example.com/meritline",
    )
    assert (body["topics"], body["active"]) == (["rating.finalized"], True)
    listed = org.get("/writeback/destinations", "admin")
    assert ok(listed) == [body]
    outbox = org.get("/writeback/outbox", "admin")
    assert ok(outbox) == {
        "events": 0,
        "deliveries": {"pending": 0, "delivered": 0, "dead": 0},
        "next_attempt_at": None,
        "dead": [],
    }
    for response in (created, listed, outbox):
        assert SECRET not in response.text
        assert "secret" not in response.text
    # stored encrypted with the server's key, not as written
    with org.server.database.unit_of_work(org.tenant_id, read_only=True) as session:
        [stored] = session.scalars(select(WritebackDestination.secret_ciphertext)).all()
    assert stored is not None and SECRET not in stored
    assert Fernet(KEY.encode()).decrypt(stored.encode()).decode() == SECRET
    assert audit_actions(org)[len(before) :] == [
        ("writeback.destination.add", "writeback_destination")
    ]


@pytest.mark.parametrize(
    ("change", "detail", "loc"),
    [
        (
            {"target": "ftp://comp.example.com/in"},
            "A webhook needs an http(s) URL, not 'ftp://comp.example.com/in'.",
            None,
        ),
        (
            {"target": "comp.example.com/meritline"},
            "A webhook needs an http(s) URL, not 'comp.example.com/meritline'.",
            None,
        ),
        ({"target": "https://"}, "A webhook needs an http(s) URL, not 'https://'.", None),
        (
            {"secret": None},
            "A webhook needs --secret (at least 16 characters) to sign with.",
            None,
        ),
        ({"secret": "x" * 15}, None, ["body", "secret"]),
        ({"type": "sftp"}, None, ["body", "type"]),
        ({"name": "comp team"}, None, ["body", "name"]),
        ({"topics": ["review.submitted"]}, None, ["body", "topics", 0]),
        ({"colour": "blue"}, None, ["body", "colour"]),
    ],
)
def test_a_bad_webhook_is_422_and_adds_nothing(
    org: Org, change: dict[str, Any], detail: str | None, loc: list[Any] | None
) -> None:
    before = audit_actions(org)
    response = org.post("/writeback/destinations", "admin", webhook(**change))
    problem = assert_problem(response, 422, detail or "The request is not valid.")
    if loc is not None:
        assert [e["loc"] for e in problem["errors"]] == [loc]
    assert SECRET not in response.text
    assert ok(org.get("/writeback/destinations", "admin")) == []
    assert audit_actions(org) == before


def test_a_csv_destination_needs_an_existing_folder(org: Org, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "ratings.csv"
    csv = {"name": "hris", "type": "csv", "target": str(missing)}
    assert_problem(
        org.post("/writeback/destinations", "admin", csv),
        422,
        f"No folder {str(missing.parent)!r} for the CSV file; create it first.",
    )
    assert ok(org.get("/writeback/destinations", "admin")) == []
    target = str(tmp_path / "ratings.csv")
    made = ok(org.post("/writeback/destinations", "admin", {**csv, "target": target}), 201)
    assert (made["name"], made["type"], made["target"], made["topics"]) == (
        "hris",
        "csv",
        target,
        [],
    )
    assert not (tmp_path / "ratings.csv").exists()  # written on delivery, not before


def test_a_duplicate_name_is_409_in_the_tenant_only(org: Org, tmp_path: Path) -> None:
    first = ok(org.post("/writeback/destinations", "admin", webhook()), 201)
    before = audit_actions(org)
    assert_problem(
        org.post("/writeback/destinations", "admin", webhook(target="https://other.example")),
        409,
        "A destination named 'comp' exists already.",
    )
    csv = {"name": "comp", "type": "csv", "target": str(tmp_path / "comp.csv")}
    assert_problem(
        org.post("/writeback/destinations", "admin", csv),
        409,
        "A destination named 'comp' exists already.",
    )
    assert ok(org.get("/writeback/destinations", "admin")) == [first]
    assert audit_actions(org) == before
    # another tenant knows nothing of this one's destinations, and may use the name
    other = build_org(org.server)
    assert ok(other.get("/writeback/destinations", "admin")) == []
    theirs = ok(other.post("/writeback/destinations", "admin", webhook()), 201)
    assert theirs["name"] == "comp"
    assert ok(org.get("/writeback/destinations", "admin")) == [first]
    assert [d["id"] for d in ok(other.get("/writeback/destinations", "admin"))] == [theirs["id"]]


# --- finalising: the outbox and the 9-box -------------------------------------------------


def test_finalising_a_cycle_puts_its_outcomes_in_the_outbox_for_each_destination(
    org: Org, tmp_path: Path
) -> None:
    ok(org.post("/writeback/destinations", "admin", webhook()), 201)
    csv = {
        "name": "hris",
        "type": "csv",
        "target": str(tmp_path / "ratings.csv"),
        "topics": ["rating.finalized"],
    }
    ok(org.post("/writeback/destinations", "admin", csv), 201)
    cycle = calibrated_cycle(org)
    # nothing is written back before the cycle is finalized
    assert ok(org.get("/writeback/outbox", "admin"))["events"] == 0

    advance(org, cycle, "finalized")
    cycle_id = ok(org.get(f"/cycles/{cycle}", "admin"))["id"]
    ratings = [f"rating.finalized:{cycle_id}:{n}" for n in REVIEWS]
    boxes = [f"nine_box.positioned:{cycle_id}:{n}" for n, review in REVIEWS.items() if review[2]]
    promotions = [f"promotion.decided:{cycle_id}:A1"]
    events = ratings + boxes + promotions
    status = ok(org.get("/writeback/outbox", "admin"))
    assert status["events"] == len(events) == 12
    assert status["deliveries"] == {"pending": 12 + 6, "delivered": 0, "dead": 0}
    assert status["next_attempt_at"] is not None and status["dead"] == []
    topic_of = {key: key.split(":")[0] for key in events}
    assert outbox_rows(org) == sorted(
        [("comp", topic_of[key], key) for key in events]
        + [("hris", "rating.finalized", key) for key in ratings]
    )
    assert sorted(set(topic_of.values())) == TOPICS

    sent = payloads(org)
    a2 = sent[f"rating.finalized:{cycle_id}:A2"]
    assert (a2["cycle"], a2["employee_id"], a2["rating"], a2["calibrated"]) == (
        cycle,
        "A2",
        4,
        True,
    )
    assert (a2["rating_label"], a2["review_version"]) == ("Exceeds expectations", 2)
    a3 = sent[f"rating.finalized:{cycle_id}:A3"]
    assert (a3["rating"], a3["calibrated"], a3["review_version"]) == (2, False, 1)
    star = sent[f"nine_box.positioned:{cycle_id}:A1"]
    assert (star["performance"], star["potential"], star["box"], star["label"]) == (
        "high",
        "high",
        9,
        "Star",
    )
    promoted = sent[f"promotion.decided:{cycle_id}:A1"]
    assert (promoted["decision"], promoted["approver_role"]) == ("approved", "compensation")

    # the outbox holds one event per outcome: moving the cycle on adds none
    advance(org, cycle, "shared")
    assert ok(org.get("/writeback/outbox", "admin"))["events"] == 12
    # finalising is audited like every transition, and the chain still verifies
    actions = audit_actions(org)
    assert actions.count(("review_cycle.transition", "review_cycle")) == 4
    assert actions.count(("writeback.destination.add", "writeback_destination")) == 2
    assert actions[-1] == ("review_cycle.transition", "review_cycle")


def test_a_destination_added_after_the_cycle_is_finalized_gets_nothing_of_it(org: Org) -> None:
    cycle = calibrated_cycle(org)
    advance(org, cycle, "finalized")
    status = ok(org.get("/writeback/outbox", "admin"))
    assert (status["events"], status["deliveries"]["pending"]) == (12, 0)
    ok(org.post("/writeback/destinations", "admin", webhook()), 201)
    status = ok(org.get("/writeback/outbox", "admin"))
    assert (status["events"], status["deliveries"]["pending"]) == (12, 0)


#: Who sees whose 9-box position once the cycle is finalized.
NINE_BOX_SEEN = {
    "admin": {"M1", "A1", "A2", "A3", "S2"},
    "analyst": {"M1", "A1", "A2", "A3", "S2"},
    "ceo": {"M1", "A1", "A2", "A3", "S2"},
    "m1": {"A1", "A2", "A3"},
    "s1": {"S2"},
    "hrbp": {"M1", "A1", "A2", "A3"},
    "comp": {"M1", "A1", "A2", "A3", "S2"},
}


def test_the_nine_box_is_listed_through_the_visibility_rule(org: Org) -> None:
    cycle = calibrated_cycle(org)
    assert ok(org.get(f"/cycles/{cycle}/nine-box", "admin")) == []  # placed when finalized
    advance(org, cycle, "finalized")
    grid = {p["employee_id"]: p for p in ok(org.get(f"/cycles/{cycle}/nine-box", "admin"))}
    assert {
        n: (p["performance"], p["potential"], p["box"], p["label"]) for n, p in grid.items()
    } == {
        "M1": ("high", "medium", 6, "High performer"),
        "A1": ("high", "high", 9, "Star"),
        "A2": ("high", "medium", 6, "High performer"),  # calibrated from 3 to 4
        "A3": ("low", "low", 1, "Underperformer"),
        "S2": ("medium", "medium", 5, "Core player"),
    }
    assert {p["cycle"] for p in grid.values()} == {cycle}
    assert grid["A2"]["rating"] == 4
    for token, expected in NINE_BOX_SEEN.items():
        seen = ok(org.get(f"/cycles/{cycle}/nine-box", token))
        others = {p["employee_id"] for p in seen} - {TOKENS[token][0]}
        assert others == expected - {TOKENS[token][0]}, token
        assert all(p == grid[p["employee_id"]] for p in seen), token
    # a manager sees no one outside their reports: M1 sees nobody of Sales, S1 nobody of Eng
    assert "S2" not in {p["employee_id"] for p in ok(org.get(f"/cycles/{cycle}/nine-box", "m1"))}
    other_admin = build_org(org.server).tokens["admin"]
    assert_problem(
        org.get(f"/cycles/{cycle}/nine-box", other_admin),
        404,
        f"No review cycle named {cycle!r}; `meritline cycle list` shows them.",
    )


@pytest.mark.parametrize(("token", "number"), [("m1", "M1"), ("a1", "A1")])
def test_nobody_reads_their_own_nine_box_position_before_the_cycle_is_shared(
    org: Org, token: str, number: str
) -> None:
    cycle = calibrated_cycle(org)
    advance(org, cycle, "finalized")
    assert ok(org.get(f"/cycles/{cycle}/employees/{number}/reviews", token)) == []
    own = [p for p in ok(org.get(f"/cycles/{cycle}/nine-box", token)) if p["employee_id"] == number]
    assert own == [], own
