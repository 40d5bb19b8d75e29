"""Calibration sessions through the API: the committee's whole flow from manager reviews to the
lock, the approval queues and separation of duties, group results kept to the roles that may
read them, the visibility rule (404 out of scope), the audit trail and problem+json errors.

The module's server (``live``) is shared; each test builds a tenant of its own (``org``), so
approval queues, calibrator scopes and audit chains never mix between tests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.models import Employee
from tests.api.conftest import Live, issue_tokens
from tests.fixtures.factories import import_lines, new_tenant, person_line
from tests.fixtures.http import CallsWithTokens, assert_problem, ok

API = "/api/v1"
REASON = "Two missed launches the review leaves out."  # 42 characters
DECIDED = "The committee's notes and the evidence support it."
NO_OPERATION = "No such operation for this role."

#: E1 is the CEO. M1 manages the team Eng/Team (A1-A6); H1 and H2 are hrbps of Eng (H1 also
#: facilitates the sessions), H3 the hrbp of Sales; C1 approves compensation, P1 analyses; S1
#: manages S2 in Sales (S2 sits on the committee from outside the team).
ORG = [
    person_line("E1", "", "Exec"),
    person_line("H1", "E1", "People"),
    person_line("H2", "E1", "People"),
    person_line("H3", "E1", "People"),
    person_line("C1", "E1", "People"),
    person_line("P1", "E1", "People"),
    person_line("M1", "E1", "Eng", gender="Male"),
    *(
        person_line(f"A{i}", "M1", "Eng/Team", gender="Female" if i % 2 else "Male")
        for i in range(1, 7)
    ),
    person_line("S1", "E1", "Sales"),
    person_line("S2", "S1", "Sales"),
]
TEAM = [f"A{i}" for i in range(1, 7)]

#: Token name -> (employee number, role, hrbp org units).
TOKENS: dict[str, tuple[str, str, list[str] | None]] = {
    "admin": ("E1", "admin", None),
    "ceo": ("E1", "manager", None),
    "m1": ("M1", "manager", None),
    "s1": ("S1", "manager", None),
    "hrbp": ("H2", "hrbp", ["Eng"]),
    "facilitator": ("H1", "calibrator", None),
    "facilitator_hrbp": ("H1", "hrbp", ["Eng"]),
    "people_hrbp": ("H1", "hrbp", ["People"]),
    "member_m1": ("M1", "calibrator", None),
    "member_s2": ("S2", "calibrator", None),
    "outsider": ("S1", "calibrator", None),  # a calibrator on no session
    "sales_hrbp": ("H3", "hrbp", ["Sales"]),
    "comp": ("C1", "compensation", None),
    "analyst": ("P1", "people_analyst", None),
    "a1": ("A1", "employee", None),
}
#: The proposals M1 writes: (rating, potential, promotion proposed).
PROPOSALS: dict[str, tuple[int, str, bool]] = {
    "A1": (5, "high", True),
    "A2": (4, "high", False),
    "A3": (3, "medium", False),
    "A4": (3, "medium", False),
    "A5": (3, "low", False),
    "A6": (2, "medium", False),
}


@dataclass(frozen=True)
class Org(CallsWithTokens):
    """One test's tenant on the module's server: its tokens and internal ids."""

    live: Live
    tenant_id: int
    tokens: dict[str, str]
    token_ids: dict[str, int]
    employee_ids: dict[str, int]

    @property
    def http(self) -> httpx.Client:
        return self.live.client

    def actor(self, token: str) -> str:
        """How the audit log and the API name the holder of ``token``."""
        number, role, _ = TOKENS[token]
        return f"employee:{self.employee_ids[number]}:{role}:token:{self.token_ids[token]}"


@pytest.fixture
def org(live: Live) -> Org:
    operator = new_tenant(live.database, f"cal-{uuid.uuid4().hex[:12]}")
    import_lines(live.database, operator, ORG)
    issued = issue_tokens(live.database, operator.tenant_id, TOKENS)
    with live.database.unit_of_work(operator.tenant_id, read_only=True) as session:
        ids = dict(session.execute(select(Employee.employee_number, Employee.id)).all())
    return Org(
        live=live,
        tenant_id=operator.tenant_id,
        tokens={name: secret for name, (secret, _) in issued.items()},
        token_ids={name: token_id for name, (_, token_id) in issued.items()},
        employee_ids=ids,
    )


# --- helpers -------------------------------------------------------------------------------


def audit_actions(o: Org) -> list[tuple[str, str, str | None]]:
    """The tenant's audit log, oldest first, as (action, entity type, entity id); the chain must
    verify.
    """
    operator = Subject.operator(o.tenant_id)
    with o.live.database.unit_of_work(o.tenant_id, read_only=True) as session:
        assert audit.verify(session, operator).ok
        events = audit.recent(session, operator, limit=100_000)
    return [(e.action, e.entity_type, e.entity_id) for e in reversed(events)]


def added_since(o: Org, before: list[tuple[str, str, str | None]]) -> list[tuple[str, str]]:
    """(action, entity type) of each event after ``before``; nothing earlier changed."""
    after = audit_actions(o)
    assert after[: len(before)] == before
    return [(action, kind) for action, kind, _ in after[len(before) :]]


def advance(o: Org, cycle: str, *statuses: str) -> None:
    for to in statuses:
        moved = o.post(f"/cycles/{cycle}/transitions", "admin", {"to_status": to})
        assert ok(moved)["status"] == to


def reviewed_cycle(o: Org, proposals: dict[str, tuple[int, str, bool]] = PROPOSALS) -> str:
    """A cycle whose team M1 has reviewed through the reviews API, still open."""
    cycle = f"FY2026 {uuid.uuid4().hex[:8]}"
    body = {"name": cycle, "period_start": "2026-01-01", "period_end": "2026-12-31"}
    ok(o.post("/cycles", "admin", body), 201)
    advance(o, cycle, "open")
    for number, (rating, potential, promotion) in proposals.items():
        review = {"rating": rating, "potential": potential, "promotion_proposed": promotion}
        ok(o.post(f"/cycles/{cycle}/employees/{number}/reviews", "m1", review), 201)
    return cycle


def new_session(o: Org, cycle: str, name: str = "Team", token: str = "admin") -> dict[str, Any]:
    body = {
        "name": name,
        "facilitator": "H1",
        "members": ["M1", "S2"],
        "org_units": ["Eng/Team"],
    }
    return dict(ok(o.post(f"/cycles/{cycle}/calibration-sessions", token, body), 201))


def calibrating(o: Org, **proposals: tuple[int, str, bool]) -> tuple[str, str]:
    """A cycle in calibration with session "Team" over the reviewed team: (cycle, its path)."""
    cycle = reviewed_cycle(o, proposals or PROPOSALS)
    advance(o, cycle, "calibration")
    new_session(o, cycle)
    return cycle, f"/cycles/{cycle}/calibration-sessions/Team"


def adjust(o: Org, path: str, employee: str, token: str = "facilitator", **body: Any) -> Any:
    return o.post(f"{path}/adjustments/{employee}", token, {"reason": REASON, **body})


def queue(o: Org, token: str) -> list[tuple[str, str, str, str]]:
    """(employee, rule, approver role, status) of each case in ``token``'s queue."""
    items = ok(o.get("/approvals", token))
    return [(i["employee_id"], i["rule"], i["approver_role"], i["status"]) for i in items]


def item_id(o: Org, employee: str, rule: str) -> int:
    """The id of a pending case (the admin sees every queue)."""
    items = ok(o.get("/approvals", "admin"))
    [found] = [i["id"] for i in items if (i["employee_id"], i["rule"]) == (employee, rule)]
    return int(found)


def decide(o: Org, item: int, token: str, decision: str = "approved") -> httpx.Response:
    return o.post(f"/approvals/{item}/decision", token, {"decision": decision, "reason": DECIDED})


# --- the whole flow ------------------------------------------------------------------------


def test_a_cycle_is_calibrated_from_manager_reviews_to_the_lock(org: Org) -> None:
    o = org
    cycle = reviewed_cycle(o)
    advance(o, cycle, "calibration")
    before = audit_actions(o)

    created = new_session(o, cycle)
    assert (created["cycle"], created["name"], created["status"]) == (cycle, "Team", "open")
    assert (created["facilitator"], created["members"]) == ("H1", ["H1", "M1", "S2"])
    assert (created["population"], created["locked_at"]) == (6, None)
    assert created["scope"] == {"org_units": ["Eng/Team"], "employees": []}
    path = f"/cycles/{cycle}/calibration-sessions/Team"
    for token in ("facilitator", "member_m1", "member_s2", "hrbp", "admin", "analyst"):
        assert ok(o.get(path, token)) == created, token
        assert ok(o.get(f"/cycles/{cycle}/calibration-sessions", token)) == [created], token
    assert ok(o.get(f"/cycles/{cycle}/calibration-sessions", "outsider")) == []

    ratings = ok(o.get(f"{path}/ratings", "member_s2"))
    assert [r["employee_id"] for r in ratings] == TEAM
    for r in ratings:
        rating, potential, promotion = PROPOSALS[r["employee_id"]]
        assert (r["rater"], r["proposed_rating"], r["rating"]) == ("M1", rating, rating)
        assert (r["proposed_potential"], r["potential"]) == (potential, potential)
        assert (r["promotion_proposed"], r["adjusted"]) == (promotion, False)
        assert r["evidence_score"] is None  # nobody in this tenant has been scored

    # the members vote before the meeting; a later vote replaces the member's earlier one
    votes = [
        ("member_m1", "A1", "agree", (1, 0, False)),
        ("member_s2", "A1", "question", (1, 1, True)),
        ("facilitator", "A2", "agree", (1, 0, False)),
        ("member_s2", "A2", "agree", (2, 0, False)),
        ("member_m1", "A6", "question", (0, 1, False)),
    ]
    for token, employee, vote, tally in votes:
        cast = ok(o.put(f"{path}/votes/{employee}", token, {"vote": vote, "comment": "why"}))
        assert cast == dict(
            zip(("employee_id", "agree", "question", "disputed"), (employee, *tally), strict=True)
        ), token
    changed = ok(o.put(f"{path}/votes/A1", "member_s2", {"vote": "agree"}))
    assert (changed["agree"], changed["question"], changed["disputed"]) == (2, 0, False)
    summary = ok(o.get(f"{path}/votes", "hrbp"))
    assert (summary["members"], summary["voted"]) == (3, 3)
    assert [(t["employee_id"], t["agree"], t["question"]) for t in summary["items"]] == [
        ("A1", 2, 0),
        ("A2", 2, 0),
        ("A6", 0, 1),
    ]
    assert summary["note"].startswith("0 proposed rating(s) split the committee")

    # the analysis before any change; the promotion proposal is routed to compensation
    pre = ok(o.post(f"{path}/analyses", "analyst"))
    assert (pre["phase"], pre["ratings"]["n"], pre["groups_withheld"]) == ("pre", 6, False)
    assert pre["ratings"]["distribution"]["observed"] == {"1": 0, "2": 1, "3": 3, "4": 1, "5": 1}
    assert queue(o, "comp") == [("A1", "promotion_proposed", "compensation", "pending")]
    assert queue(o, "hrbp") == []

    # the facilitator moves A4 two levels down to the lowest rating, and A3 up a level
    made = ok(adjust(o, path, "A4", rating=1), 201)
    assert [(a["employee_id"], a["field"], a["old_value"], a["new_value"]) for a in made] == [
        ("A4", "rating", "3", "1")
    ]
    assert (made[0]["reason"], made[0]["actor"]) == (REASON, o.actor("facilitator"))
    both = ok(adjust(o, path, "A3", rating=4, potential="high"), 201)
    assert [(a["field"], a["old_value"], a["new_value"]) for a in both] == [
        ("rating", "3", "4"),
        ("potential", "medium", "high"),
    ]
    listed = ok(o.get(f"{path}/adjustments", "member_m1"))
    assert [a["id"] for a in listed] == [a["id"] for a in made + both]
    now = {r["employee_id"]: r for r in ok(o.get(f"{path}/ratings", "facilitator"))}
    assert (now["A4"]["proposed_rating"], now["A4"]["rating"], now["A4"]["adjusted"]) == (
        3,
        1,
        True,
    )
    assert (now["A3"]["rating"], now["A3"]["potential"], now["A3"]["adjusted"]) == (4, "high", True)
    assert (now["A5"]["rating"], now["A5"]["adjusted"]) == (3, False)

    # the routed cases wait in their approvers' queues (an admin sees every queue)
    assert queue(o, "hrbp") == [
        ("A4", "changed_two_levels", "hrbp", "pending"),
        ("A4", "lowest_rating", "hrbp", "pending"),
    ]
    assert queue(o, "facilitator_hrbp") == queue(o, "hrbp")
    assert queue(o, "comp") == [("A1", "promotion_proposed", "compensation", "pending")]
    assert len(queue(o, "admin")) == 3
    assert queue(o, "analyst") == queue(o, "member_s2") == queue(o, "sales_hrbp") == []
    [two_levels, lowest] = ok(o.get("/approvals", "hrbp"))
    assert two_levels["session"] == "Team"
    assert two_levels["reason"] == "Calibration moved the rating 2 levels (3 to 1)."
    assert lowest["reason"] == "The lowest rating of the scale (1)."
    promotion_item = item_id(o, "A1", "promotion_proposed")

    assert_problem(
        o.post(f"{path}/lock", "facilitator"),
        409,
        "3 case(s) still wait for approval (compensation, hrbp); "
        "see `meritline calibration queue`.",
    )
    # separation of duties: the facilitator, with their hrbp token, may not approve their change
    assert_problem(
        decide(o, two_levels["id"], "facilitator_hrbp"),
        409,
        "Separation of duties: nobody decides a case about themself or one they raised or changed; "
        "another approver must.",
    )
    approved = ok(decide(o, two_levels["id"], "hrbp"))
    assert (approved["id"], approved["status"]) == (two_levels["id"], "approved")
    assert (approved["decided_by"], approved["decision_reason"]) == (o.actor("hrbp"), DECIDED)
    assert approved["decided_at"] is not None
    assert_problem(
        decide(o, two_levels["id"], "hrbp", "rejected"),
        409,
        f"Approval item {two_levels['id']} is already approved.",
    )
    assert_problem(
        decide(o, two_levels["id"], "admin"),
        409,
        f"Approval item {two_levels['id']} is already approved.",
    )
    ok(decide(o, lowest["id"], "hrbp"))
    assert_problem(
        o.post(f"{path}/lock", "facilitator"),
        409,
        "1 case(s) still wait for approval (compensation); see `meritline calibration queue`.",
    )
    # an hrbp is not the compensation approver: the case is not in their queue
    assert_problem(
        decide(o, promotion_item, "hrbp"), 404, f"No approval item {promotion_item} in your queue."
    )
    ok(decide(o, promotion_item, "comp"))
    assert queue(o, "admin") == []
    decided = ok(o.get("/approvals?status=approved", "hrbp"))
    assert [(i["rule"], i["decided_by"]) for i in decided] == [
        ("changed_two_levels", o.actor("hrbp")),
        ("lowest_rating", o.actor("hrbp")),
    ]

    post = ok(o.post(f"{path}/analyses", "analyst"))
    assert post["phase"] == "post"
    assert post["ratings"]["distribution"]["observed"] == {"1": 1, "2": 1, "3": 1, "4": 2, "5": 1}
    comparison = ok(o.get(f"{path}/comparison", "analyst"))
    assert comparison["pre"] == pre and comparison["post"] == post
    assert "ratings the evidence does not support: 0 -> 0" in comparison["changes"]

    locked = ok(o.post(f"{path}/lock", "facilitator"))
    assert locked == {"session": "Team", "pushed": 2, "unchanged": 4}
    read = ok(o.get(path, "hrbp"))
    assert read["status"] == "locked" and read["locked_at"] is not None
    # the calibrator role ended with the session: it is not found for them any more
    assert_problem(o.put(f"{path}/votes/A1", "member_m1", {"vote": "agree"}), 404)
    assert_problem(adjust(o, path, "A5", rating=2), 404)  # the facilitator's role ended too
    assert_problem(adjust(o, path, "A5", "hrbp", rating=2), 409, "Session 'Team' is locked.")
    assert_problem(o.post(f"{path}/lock", "hrbp"), 409, "Session 'Team' is locked.")

    # the calibrated ratings are new versions of the reviews, with the reasons; nobody re-enters
    history = ok(o.get(f"/cycles/{cycle}/employees/A4/reviews", "m1"))
    assert [(r["version"], r["origin"], r["rating"], r["author_id"]) for r in history] == [
        (1, "author", 3, "M1"),
        (2, "calibration", 1, None),
    ]
    assert history[1]["reason"] == f"Calibrated in session 'Team': {REASON}"
    assert history[1]["potential"] == "medium"
    a3 = ok(o.get(f"/cycles/{cycle}/employees/A3/reviews", "m1"))[-1]
    assert (a3["version"], a3["origin"], a3["rating"], a3["potential"]) == (
        2,
        "calibration",
        4,
        "high",
    )
    for number in ("A1", "A2", "A5", "A6"):
        untouched = ok(o.get(f"/cycles/{cycle}/employees/{number}/reviews", "m1"))
        assert [r["origin"] for r in untouched] == ["author"], number

    assert added_since(o, before) == [
        ("calibration_session.create", "calibration_session"),
        *[("calibration.vote", "calibration_session")] * 6,
        ("sensitive_attribute.read", "calibration_session"),
        ("calibration.analyze", "calibration_session"),
        ("approval.route", "calibration_session"),
        ("calibration.adjust", "calibration_adjustment"),
        ("approval.route", "calibration_session"),
        *[("calibration.adjust", "calibration_adjustment")] * 2,
        ("approval.decide", "approval_item"),
        ("approval.decide", "approval_item"),
        ("approval.decide", "approval_item"),
        ("sensitive_attribute.read", "calibration_session"),
        ("calibration.analyze", "calibration_session"),
        ("calibration_session.lock", "calibration_session"),
    ]


# --- group results -------------------------------------------------------------------------


def test_group_results_are_shown_to_a_people_analyst_and_withheld_from_organisers(
    org: Org,
) -> None:
    _, path = calibrating(org)
    shown = ok(org.post(f"{path}/analyses", "analyst"))
    assert shown["groups_withheld"] is False
    groups = {(g["attribute"], g["group"]) for g in shown["ratings"]["groups"]}
    assert {("gender", "Female"), ("gender", "Male")} <= groups
    for token in ("admin", "hrbp"):
        withheld = ok(org.post(f"{path}/analyses", token))
        assert (withheld["groups_withheld"], withheld["ratings"]["groups"]) == (True, []), token
        assert "Female" not in org.post(f"{path}/analyses", token).text
        comparison = ok(org.get(f"{path}/comparison", token))
        assert comparison["pre"]["ratings"]["groups"] == [], token
        assert comparison["pre"]["groups_withheld"] is True
        # the rest of the analysis is theirs to read
        assert withheld["ratings"]["distribution"] == shown["ratings"]["distribution"]
    # the analyst reads the group results of an analysis someone else ran
    assert ok(org.get(f"{path}/comparison", "analyst"))["pre"]["ratings"]["groups"] != []


# --- 404: out of scope ---------------------------------------------------------------------


def session_routes(path: str) -> list[tuple[str, str, Any]]:
    """Every route of one session, with a body that would be accepted."""
    return [
        ("GET", path, None),
        ("GET", f"{path}/ratings", None),
        ("PUT", f"{path}/votes/A1", {"vote": "agree"}),
        ("GET", f"{path}/votes", None),
        ("POST", f"{path}/analyses", None),
        ("GET", f"{path}/comparison", None),
        ("POST", f"{path}/adjustments/A4", {"rating": 2, "reason": REASON}),
        ("GET", f"{path}/adjustments", None),
        ("POST", f"{path}/lock", None),
    ]


@pytest.mark.parametrize("token", ["outsider", "a1", "s1", "ceo", "other_tenant"])
def test_a_caller_out_of_scope_gets_404_from_every_session_route(org: Org, token: str) -> None:
    cycle, path = calibrating(org)
    ok(org.post(f"{path}/analyses", "admin"))  # routes A1's promotion proposal
    promotion = item_id(org, "A1", "promotion_proposed")
    secret = org.live.token_b if token == "other_tenant" else token
    before = audit_actions(org)
    detail = (
        f"No review cycle named {cycle!r}; `meritline cycle list` shows them."
        if token == "other_tenant"
        else f"No calibration session 'Team' in {cycle!r}."
    )
    for method, route, body in session_routes(path):
        assert_problem(org.call(method, route, secret, body), 404, detail)
    assert_problem(
        org.post(
            f"/cycles/{cycle}/calibration-sessions",
            secret,
            {"name": "Mine", "facilitator": "H1", "org_units": ["Eng/Team"]},
        ),
        404,
        detail if token == "other_tenant" else NO_OPERATION,
    )
    if token != "other_tenant":
        assert ok(org.get(f"/cycles/{cycle}/calibration-sessions", secret)) == []
    assert ok(org.get("/approvals", secret)) == []
    assert_problem(
        decide(org, promotion, secret), 404, f"No approval item {promotion} in your queue."
    )
    assert added_since(org, before) == []
    assert ok(org.get(f"{path}/adjustments", "admin")) == []
    assert ok(org.get(f"{path}/votes", "admin"))["voted"] == 0
    assert ok(org.get(path, "admin"))["status"] == "open"


def test_a_calibrator_sees_the_population_only_while_the_session_is_open(org: Org) -> None:
    cycle, path = calibrating(org, A2=(4, "high", False), A3=(3, "medium", False))
    employee = "/employees/{}"
    for number in TEAM:  # the whole population, reviewed or not
        assert ok(org.get(employee.format(number), "member_s2"))["employee_id"] == number
        assert_problem(
            org.get(employee.format(number), "outsider"), 404, f"No employee {number!r}."
        )
    # the session opens the population, not the rest of the company
    for number in ("M1", "S1", "H1"):
        assert_problem(org.get(employee.format(number), "member_s2"), 404)
    assert ok(org.get(employee.format("S2"), "member_s2"))["employee_id"] == "S2"
    assert ok(org.get(employee.format("A2"), "facilitator"))["employee_id"] == "A2"

    ok(org.post(f"{path}/lock", "hrbp"))
    for number in TEAM:
        for token in ("member_s2", "facilitator"):
            assert_problem(org.get(employee.format(number), token), 404, f"No employee {number!r}.")
    assert ok(org.get(employee.format("S2"), "member_s2"))["employee_id"] == "S2"
    # the committee's calibrator role ended with the session; the organisers keep the record
    assert_problem(org.get(f"{path}/ratings", "member_s2"), 404)
    assert [r["employee_id"] for r in ok(org.get(f"{path}/ratings", "hrbp"))] == TEAM
    assert ok(org.get(f"/cycles/{cycle}/employees/A2/reviews", "m1"))[0]["rating"] == 4


def test_an_hrbp_of_another_org_unit_does_not_read_the_sessions_ratings(org: Org) -> None:
    _, path = calibrating(org)
    # H3 is the hrbp of Sales: A1-A6 (Eng/Team) are out of their scope
    for number in TEAM:
        assert_problem(org.get(f"/employees/{number}", "sales_hrbp"), 404)
    response = org.get(f"{path}/ratings", "sales_hrbp")
    assert response.status_code == 404, [(r["employee_id"], r["rating"]) for r in response.json()]


def test_after_the_lock_a_calibrator_reads_no_rating_of_the_population(org: Org) -> None:
    _, path = calibrating(org)
    ok(org.post(f"{path}/lock", "admin"))
    assert_problem(org.get("/employees/A1", "member_s2"), 404)
    response = org.get(f"{path}/ratings", "member_s2")
    shown = response.json() if response.status_code == 200 else []
    assert [(r["employee_id"], r["rating"]) for r in shown] == []


def test_a_member_does_not_read_their_own_rating_in_a_session_before_it_is_shared(
    org: Org,
) -> None:
    cycle = reviewed_cycle(org)
    ok(org.post(f"/cycles/{cycle}/employees/M1/reviews", "ceo", {"rating": 2}), 201)
    advance(org, cycle, "calibration")
    body = {"name": "Eng", "facilitator": "H1", "members": ["M1"], "org_units": ["Eng"]}
    assert (
        ok(org.post(f"/cycles/{cycle}/calibration-sessions", "admin", body), 201)["population"] == 7
    )
    # the reviews API keeps M1's own manager review from them, whatever their role
    for token in ("m1", "member_m1"):
        assert ok(org.get(f"/cycles/{cycle}/employees/M1/reviews", token)) == [], token
    rows = ok(org.get(f"/cycles/{cycle}/calibration-sessions/Eng/ratings", "member_m1"))
    assert "A1" in [r["employee_id"] for r in rows]
    assert [r["rating"] for r in rows if r["employee_id"] == "M1"] in ([], [None])


# --- 422 and 409 ---------------------------------------------------------------------------


def test_a_bad_adjustment_is_422_and_changes_nothing(org: Org) -> None:
    _, path = calibrating(org)
    before = audit_actions(org)
    short = assert_problem(
        org.post(f"{path}/adjustments/A4", "facilitator", {"rating": 2, "reason": "x" * 19}),
        422,
        "The request is not valid.",
    )
    assert [e["loc"] for e in short["errors"]] == [["body", "reason"]]
    assert "at least 20 characters" in short["errors"][0]["msg"]
    assert_problem(
        org.post(f"{path}/adjustments/A4", "facilitator", {"rating": 2}),
        422,
        "The request is not valid.",
    )
    for rating in (6, 0, 2.5):
        assert_problem(
            adjust(org, path, "A4", rating=rating),
            422,
            f"Rating {rating:g} is not on the cycle's scale.",
        )
    body = assert_problem(adjust(org, path, "A4", potential="huge"), 422)
    assert body["errors"][0]["loc"] == ["body", "potential"]
    assert_problem(adjust(org, path, "A4"), 422)  # neither rating nor potential
    assert_problem(
        adjust(org, path, "A4", rating=3, potential="medium"), 422, "A4 already has those values."
    )
    assert_problem(adjust(org, path, "S2", rating=3), 404, "S2 is not in session 'Team'.")
    assert_problem(org.put(f"{path}/votes/A4", "member_m1", {"vote": "maybe"}), 422)
    assert_problem(org.put(f"{path}/votes/S2", "member_m1", {"vote": "agree"}), 404)
    # a member votes, only the facilitator (or an organiser) adjusts
    assert_problem(
        adjust(org, path, "A4", "member_m1", rating=2),
        404,
        "Only the facilitator or an organiser changes ratings in a session.",
    )
    # an organiser who is not on the committee does not vote
    assert_problem(
        org.put(f"{path}/votes/A4", "hrbp", {"vote": "agree"}),
        404,
        "You are not on session 'Team'.",
    )
    assert ok(org.get(f"{path}/adjustments", "admin")) == []
    assert {r["employee_id"]: r["rating"] for r in ok(org.get(f"{path}/ratings", "admin"))} == {
        n: p[0] for n, p in PROPOSALS.items()
    }
    assert added_since(org, before) == []


def test_a_session_is_created_by_organisers_over_people_they_see(org: Org) -> None:
    cycle = reviewed_cycle(org)
    base = f"/cycles/{cycle}/calibration-sessions"
    body = {"name": "Team", "facilitator": "H1", "org_units": ["Eng/Team"]}
    for token in ("m1", "facilitator", "analyst", "comp", "a1"):
        assert_problem(org.post(base, token, body), 404, NO_OPERATION)
    # the Sales hrbp sees nobody of the team; listing them by name does not get round it
    assert_problem(
        org.post(base, "sales_hrbp", {**body, "org_units": [], "employees": ["A1", "A2"]}),
        422,
        "Nobody you can see is in that population.",
    )
    assert_problem(
        org.post(base, "hrbp", {**body, "org_units": ["Nope"]}), 422, "No org unit 'Nope'."
    )
    assert_problem(org.post(base, "hrbp", {**body, "members": ["ZZ"]}), 422, "No employee 'ZZ'.")
    problem = assert_problem(org.post(base, "hrbp", {**body, "org_units": []}), 422)
    assert "org units or employees" in problem["errors"][0]["msg"]
    assert ok(org.get(base, "admin")) == []
    made = ok(org.post(base, "admin", {**body, "employees": ["S2"]}), 201)
    assert made["population"] == 7  # the team and S2, listed by name
    assert_problem(
        org.post(base, "hrbp", body), 409, f"Cycle {cycle!r} already has a session named 'Team'."
    )


def test_an_hrbp_creates_a_session_over_their_org_units(org: Org) -> None:
    cycle = reviewed_cycle(org)
    base = f"/cycles/{cycle}/calibration-sessions"
    body = {"name": "Team", "facilitator": "H1", "members": ["S2"], "org_units": ["Eng/Team"]}
    assert_problem(
        org.post(base, "sales_hrbp", body), 422, "Nobody you can see is in that population."
    )
    made = ok(org.post(base, "hrbp", body), 201)
    assert (made["population"], made["members"]) == (6, ["H1", "S2"])


def test_adjusting_is_409_while_the_cycle_is_not_in_calibration(org: Org) -> None:
    cycle = reviewed_cycle(org)
    new_session(org, cycle)  # sessions may be set up while the cycle is open
    path = f"/cycles/{cycle}/calibration-sessions/Team"
    before = audit_actions(org)
    assert_problem(
        adjust(org, path, "A4", rating=2),
        409,
        f"Cycle {cycle!r} is 'open'; adjustments are made in calibration.",
    )
    assert added_since(org, before) == []
    advance(org, cycle, "calibration")
    assert ok(adjust(org, path, "A4", rating=2), 201)[0]["new_value"] == "2"
    # a session for a cycle that has moved past calibration is refused
    later = reviewed_cycle(org)
    advance(org, later, "calibration", "finalized")
    assert_problem(
        org.post(
            f"/cycles/{later}/calibration-sessions",
            "hrbp",
            {"name": "Late", "facilitator": "H1", "org_units": ["Eng/Team"]},
        ),
        409,
        f"Cycle {later!r} is 'finalized'; sessions are for open cycles.",
    )


def test_a_rejected_case_blocks_the_lock_until_the_committee_adjusts_again(org: Org) -> None:
    cycle, path = calibrating(org, A4=(3, "medium", False), A5=(3, "low", False))
    ok(adjust(org, path, "A4", rating=1), 201)
    lowest = item_id(org, "A4", "lowest_rating")
    two = item_id(org, "A4", "changed_two_levels")
    ok(decide(org, two, "hrbp"))
    rejected = ok(decide(org, lowest, "hrbp", "rejected"))
    assert rejected["status"] == "rejected"
    assert_problem(
        org.post(f"{path}/lock", "hrbp"),
        409,
        "1 case(s) were rejected by their approver: adjust them again (the case then returns "
        "to the approver) before locking.",
    )
    # a change of potential does not answer a rejected rating: the case stays rejected
    again = adjust(
        org, path, "A4", potential="low", reason="After review: one launch shipped late."
    )
    assert ok(again, 201)[0]["field"] == "potential"
    assert queue(org, "hrbp") == []
    assert_problem(org.post(f"{path}/lock", "hrbp"), 409)
    # a rating the rule still names sends it back to the approver, with the new values
    ok(
        adjust(org, path, "A4", rating=2, reason="Ratings reviewed: two launches shipped late."),
        201,
    )
    everything = ok(org.get("/approvals?status=all", "hrbp"))
    states = {(i["employee_id"], i["rule"]): i["status"] for i in everything}
    # off the lowest rating and one level from the proposal: both cases are withdrawn
    assert states[("A4", "lowest_rating")] == "withdrawn"
    assert states[("A4", "changed_two_levels")] == "withdrawn"
    short = {"decision": "approved", "reason": "short"}
    assert_problem(org.post(f"/approvals/{lowest}/decision", "hrbp", short), 422)
    assert_problem(decide(org, lowest, "hrbp"), 409)  # withdrawn: nothing left to decide
    assert ok(org.post(f"{path}/lock", "hrbp")) == {"session": "Team", "pushed": 1, "unchanged": 5}
    [version] = ok(org.get(f"/cycles/{cycle}/employees/A4/reviews", "m1"))[1:]
    assert (version["rating"], version["potential"]) == (2, "low")


def test_nobody_decides_a_case_about_themself(org: Org) -> None:
    # H2, an hrbp of Eng, is calibrated in a session of their own by the admin
    cycle = reviewed_cycle(org, {})
    ok(org.post(f"/cycles/{cycle}/employees/H2/reviews", "ceo", {"rating": 1}), 201)
    advance(org, cycle, "calibration")
    body = {"name": "People", "facilitator": "H1", "employees": ["H2"]}
    ok(org.post(f"/cycles/{cycle}/calibration-sessions", "admin", body), 201)
    path = f"/cycles/{cycle}/calibration-sessions/People"
    ok(org.post(f"{path}/analyses", "admin"))
    lowest = item_id(org, "H2", "lowest_rating")
    separation = (
        "Separation of duties: nobody decides a case about themself or one they raised or changed; "
        "another approver must."
    )
    assert_problem(decide(org, lowest, "hrbp"), 409, separation)  # H2, about H2
    assert_problem(decide(org, lowest, "admin"), 409, separation)  # E1 proposed the rating
    decided = ok(decide(org, lowest, "people_hrbp"))
    assert (decided["status"], decided["decided_by"]) == ("approved", org.actor("people_hrbp"))
