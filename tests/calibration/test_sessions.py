"""Calibration sessions on every backend: committee visibility, votes, adjustments with reasons,
routing with separation of duties, protected attributes kept to permitted roles, and lock.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.calibration import routing, sessions
from meritline.calibration.schemas import (
    Adjustment,
    AdjustmentCreate,
    Decision,
    SessionCreate,
    VoteCast,
)
from meritline.db.session import Database
from meritline.errors import Conflict, NotFound
from meritline.people import service as people
from meritline.people.schemas import EmployeeFilters
from meritline.reviews import service as reviews
from meritline.reviews.schemas import ReviewCycleCreate, ReviewSubmit
from tests.fixtures.factories import import_lines, new_tenant, person_line

CYCLE, NAME = "FY2026", "Engineering"
#: M1 manages the Engineering/A team (A1-A6), M2 the Engineering/B team (B1-B6); H is the
#: hrbp, L legal, C compensation, P a people analyst, X someone in Sales.
PEOPLE = [
    person_line("M0", department="Engineering"),
    person_line("M1", "M0", "Engineering/A", gender="Male"),
    person_line("M2", "M0", "Engineering/B"),
    *(
        person_line(f"A{i}", "M1", "Engineering/A", gender="Female" if i % 2 else "Male")
        for i in range(1, 7)
    ),
    *(
        person_line(f"B{i}", "M2", "Engineering/B", gender="Female" if i % 2 else "Male")
        for i in range(1, 7)
    ),
    person_line("H", department="People"),
    person_line("L", department="People"),
    person_line("C", department="People"),
    person_line("P", department="People"),
    person_line("X", department="Sales"),
]
PROPOSED = {"A1": 5, "A2": 4, "A3": 4, "A4": 3, "A5": 3, "A6": 1, "B1": 3, "B2": 2, "B3": 3}


@pytest.fixture
def acme(db: Database) -> Subject:
    operator = new_tenant(db)
    import_lines(db, operator, PEOPLE)
    with db.unit_of_work(operator.tenant_id) as session:
        reviews.create_cycle(
            session,
            operator,
            ReviewCycleCreate(
                name=CYCLE, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31)
            ),
        )
        reviews.transition_cycle(session, operator, name=CYCLE, to_status="open")
    for number, rating in PROPOSED.items():
        manager = as_(db, operator, "M1" if number.startswith("A") else "M2", "manager")
        with db.unit_of_work(operator.tenant_id) as session:
            reviews.submit_review(
                session,
                manager,
                cycle=CYCLE,
                employee_id=number,
                data=ReviewSubmit(
                    rating=rating, potential="medium", promotion_proposed=number == "A1"
                ),
            )
    with db.unit_of_work(operator.tenant_id) as session:
        reviews.transition_cycle(session, operator, name=CYCLE, to_status="calibration")
        sessions.create_session(
            session,
            operator,
            cycle=CYCLE,
            data=SessionCreate(
                name=NAME, facilitator="M0", members=["M1", "M2"], org_units=["Engineering"]
            ),
        )
    return operator


def as_(
    db: Database, operator: Subject, number: str, role: str, units: list[str] | None = None
) -> Subject:
    with db.unit_of_work(operator.tenant_id, read_only=True) as session:
        return access.act_as(
            session, operator, employee_number=number, role=role, org_unit_paths=units
        )


def visible(db: Database, subject: Subject) -> set[str]:
    with db.unit_of_work(subject.tenant_id, read_only=True) as session:
        page = people.list_employees(
            session, subject, filters=EmployeeFilters(), limit=500, offset=0
        )
    return {e.employee_id for e in page.items}


def test_a_calibrator_sees_the_population_only_while_the_session_is_open(
    db: Database, acme: Subject
) -> None:
    calibrator = as_(db, acme, "M2", "calibrator")
    engineering = {"M0", "M1", "M2", *(f"{t}{i}" for t in "AB" for i in range(1, 7))}
    assert visible(db, calibrator) == engineering
    outsider = as_(db, acme, "X", "calibrator")
    assert visible(db, outsider) == {"X"}
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(NotFound):
        sessions.proposed_ratings(session, outsider, cycle=CYCLE, name=NAME)
    approve_everything(db, acme)
    with db.unit_of_work(acme.tenant_id) as session:
        sessions.lock(session, acme, cycle=CYCLE, name=NAME)
    assert visible(db, calibrator) == {"M2"}


def test_votes_show_where_the_committee_disagrees(db: Database, acme: Subject) -> None:
    for member, vote in (("M0", "agree"), ("M1", "agree"), ("M2", "question")):
        who = as_(db, acme, member, "calibrator")
        with db.unit_of_work(acme.tenant_id) as session:
            sessions.cast_vote(
                session, who, cycle=CYCLE, name=NAME, employee_id="A1", data=VoteCast(vote=vote)
            )
            sessions.cast_vote(
                session, who, cycle=CYCLE, name=NAME, employee_id="B1", data=VoteCast(vote="agree")
            )
    with db.unit_of_work(acme.tenant_id) as session:
        summary = sessions.vote_summary(session, acme, cycle=CYCLE, name=NAME)
    tallies = {t.employee_id: (t.agree, t.question, t.disputed) for t in summary.items}
    assert tallies == {"A1": (2, 1, True), "B1": (3, 0, False)}
    assert summary.voted == 3 and summary.alpha is not None and summary.alpha < 0.5
    outsider = as_(db, acme, "X", "employee")
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(NotFound):
        sessions.cast_vote(
            session, outsider, cycle=CYCLE, name=NAME, employee_id="A1", data=VoteCast(vote="agree")
        )


def test_adjustments_need_a_reason_and_are_never_edited(db: Database, acme: Subject) -> None:
    with pytest.raises(ValidationError, match="at least 20 characters"):
        AdjustmentCreate(rating=3, reason="too generous")
    facilitator = as_(db, acme, "M0", "calibrator")
    with db.unit_of_work(acme.tenant_id) as session:
        made = adjust_in(
            session, facilitator, "A2", 3, "Evidence shows a solid, not exceptional, year"
        )
    assert [(a.field, a.old_value, a.new_value) for a in made] == [("rating", "4", "3")]
    member = as_(db, acme, "M1", "calibrator")
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(NotFound, match="facilitator"):
        adjust_in(session, member, "A3", 3, "Members vote; the facilitator changes")
    for statement in (
        "UPDATE calibration_adjustment SET new_value = '5'",
        "DELETE FROM calibration_adjustment",
    ):
        with (
            pytest.raises(DBAPIError, match=r"append-only|permission denied"),
            db.unit_of_work(acme.tenant_id) as session,
        ):
            session.execute(text(statement))


def test_sensitive_cases_are_routed_and_nobody_decides_their_own(
    db: Database, acme: Subject
) -> None:
    facilitator = as_(db, acme, "M0", "calibrator")
    with db.unit_of_work(acme.tenant_id) as session:
        adjust_in(session, facilitator, "A4", 1, "Two missed launches the review leaves out")
        queue = sessions.approval_queue(session, acme)
    routed = {(i.employee_id, i.rule, i.approver_role) for i in queue}
    assert ("A4", "changed_two_levels", "hrbp") in routed
    assert ("A4", "lowest_rating", "hrbp") in routed
    assert ("A6", "lowest_rating", "hrbp") in routed  # proposed at the lowest rating
    assert ("A1", "promotion_proposed", "compensation") in routed
    item = next(i for i in queue if (i.employee_id, i.rule) == ("A4", "changed_two_levels"))
    # the facilitator who made the change, as hrbp, may not approve it
    raiser = as_(db, acme, "M0", "hrbp", ["Engineering"])
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(Conflict, match="Separation"):
        sessions.decide(
            session,
            raiser,
            item_id=item.id,
            data=Decision(decision="approved", reason="My own change looks fine"),
        )
    # another role's queue is not theirs
    legal = as_(db, acme, "L", "legal")
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(NotFound):
        sessions.decide(
            session,
            legal,
            item_id=item.id,
            data=Decision(decision="approved", reason="Not my queue to decide"),
        )
    with (
        db.unit_of_work(acme.tenant_id) as session,
        pytest.raises(Conflict, match="wait for approval"),
    ):
        sessions.lock(session, acme, cycle=CYCLE, name=NAME)
    hrbp = as_(db, acme, "H", "hrbp", ["Engineering"])
    with db.unit_of_work(acme.tenant_id) as session:
        decided = sessions.decide(
            session,
            hrbp,
            item_id=item.id,
            data=Decision(decision="rejected", reason="Evidence does not show two missed launches"),
        )
    assert (decided.status, decided.decided_by) == ("rejected", hrbp.actor)


def test_a_decided_case_is_revisited_when_the_rating_changes_again(
    db: Database, acme: Subject
) -> None:
    def a2_items() -> dict[str, tuple[str, str]]:
        with db.unit_of_work(acme.tenant_id) as session:
            items = sessions.approval_queue(session, acme, status=None)
        return {i.rule: (i.status, i.reason) for i in items if i.employee_id == "A2"}

    def set_a2(rating: int, reason: str) -> None:
        with db.unit_of_work(acme.tenant_id) as session:
            adjust_in(session, acme, "A2", rating, reason)

    set_a2(2, "Missed the two commitments of the year")
    hrbp = as_(db, acme, "H", "hrbp", ["Engineering"])
    with db.unit_of_work(acme.tenant_id) as session:
        item = next(i for i in sessions.approval_queue(session, acme) if i.employee_id == "A2")
        sessions.decide(
            session,
            hrbp,
            item_id=item.id,
            data=Decision(decision="rejected", reason="A two-level drop needs written evidence"),
        )
    approve_everything(db, acme)
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(Conflict, match="rejected"):
        sessions.lock(session, acme, cycle=CYCLE, name=NAME)
    # a change the rule still names sends the case back, with the new values
    set_a2(1, "Both commitments missed and the review omits it")
    items = a2_items()
    assert items["changed_two_levels"][0] == "pending"
    assert "(4 to 1)" in items["changed_two_levels"][1]
    assert items["lowest_rating"][0] == "pending"
    # a change the rules no longer name withdraws the cases, decided or not
    set_a2(3, "After review: one commitment was missed")
    assert a2_items() == {
        "changed_two_levels": ("withdrawn", items["changed_two_levels"][1]),
        "lowest_rating": ("withdrawn", items["lowest_rating"][1]),
    }
    approve_everything(db, acme)
    with db.unit_of_work(acme.tenant_id) as session:
        assert sessions.lock(session, acme, cycle=CYCLE, name=NAME).pushed == 1


def test_group_results_are_shown_only_to_roles_that_may_read_protected_attributes(
    db: Database, acme: Subject
) -> None:
    with db.unit_of_work(acme.tenant_id) as session:
        for_admin = sessions.analyze(session, acme, cycle=CYCLE, name=NAME)
    analyst = as_(db, acme, "P", "people_analyst")
    with db.unit_of_work(acme.tenant_id) as session:
        for_analyst = sessions.analyze(session, analyst, cycle=CYCLE, name=NAME)
    assert for_admin.phase == "pre" and for_admin.ratings.n == len(PROPOSED)
    assert for_admin.groups_withheld and for_admin.ratings.groups == []
    assert not for_analyst.groups_withheld
    assert {(g.attribute, g.group) for g in for_analyst.ratings.groups} >= {
        ("gender", "Female"),
        ("gender", "Male"),
    }


def test_locking_pushes_the_calibrated_ratings_into_the_reviews(
    db: Database, acme: Subject
) -> None:
    with db.unit_of_work(acme.tenant_id) as session:
        sessions.analyze(session, acme, cycle=CYCLE, name=NAME)
        adjust_in(session, acme, "A3", 3, "Peer feedback and evidence match a 3")
        sessions.analyze(session, acme, cycle=CYCLE, name=NAME)
    approve_everything(db, acme)
    with db.unit_of_work(acme.tenant_id) as session:
        result = sessions.lock(session, acme, cycle=CYCLE, name=NAME)
        history = reviews.review_history(session, acme, cycle=CYCLE, employee_id="A3")
        comparison = sessions.compare(session, acme, cycle=CYCLE, name=NAME)
        with pytest.raises(Conflict, match="locked"):
            adjust_in(session, acme, "A3", 4, "Changing it after the lock is refused")
    assert result.pushed == 1
    latest = history[-1]
    assert (latest.version, latest.rating, latest.origin) == (2, 3, "calibration")
    assert "Peer feedback and evidence match a 3" in (latest.reason or "")
    assert comparison.pre is not None and comparison.post is not None
    assert any(line.startswith("raters flagged") for line in comparison.changes)


def adjust_in(
    session: Session, who: Subject, employee: str, rating: float, reason: str
) -> list[Adjustment]:
    """The session's adjustment of ``employee``'s rating, as ``who``."""
    return sessions.adjust(
        session,
        who,
        cycle=CYCLE,
        name=NAME,
        employee_id=employee,
        data=AdjustmentCreate(rating=rating, reason=reason),
    )


def approve_everything(db: Database, operator: Subject) -> None:
    """Decide every pending case as an approver of its role who raised none of them."""
    deciders = {
        "hrbp": as_(db, operator, "H", "hrbp", ["Engineering"]),
        "legal": as_(db, operator, "L", "legal"),
        "compensation": as_(db, operator, "C", "compensation"),
    }
    with db.unit_of_work(operator.tenant_id) as session:
        for item in sessions.approval_queue(session, operator):
            sessions.decide(
                session,
                deciders[item.approver_role],
                item_id=item.id,
                data=Decision(decision="approved", reason="Reviewed against the evidence: fine"),
            )


def test_the_routing_policy_is_data() -> None:
    case = routing.Case(
        1,
        proposed_rating=4,
        rating=3,
        lowest_rating=1,
        promotion_proposed=False,
        evidence_flags=("rating_above_evidence",),
        protected_leave_days=12,
        raised_by=9,
    )
    routed = routing.route([case])
    assert [(r.rule, r.approver_role) for r in routed] == [
        ("rating_not_supported", "hrbp"),
        ("protected_leave", "legal"),
    ]
    assert "12 day(s)" in routed[1].reason and routed[0].raised_by == 9
    strict = routing.RoutingPolicy(
        rules=[routing.Rule(name="changed_two_levels", approver_role="hrbp", threshold=1)]
    )
    assert [r.rule for r in routing.route([case], strict)] == ["changed_two_levels"]


def test_a_person_is_calibrated_once_per_cycle(db: Database, acme: Subject) -> None:
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(Conflict, match="once per"):
        sessions.create_session(
            session,
            acme,
            cycle=CYCLE,
            data=SessionCreate(name="Team A", facilitator="M1", org_units=["Engineering/A"]),
        )


def test_whoever_changed_a_rating_last_does_not_decide_its_case(
    db: Database, acme: Subject
) -> None:
    facilitator = as_(db, acme, "M0", "calibrator")
    hrbp = as_(db, acme, "H", "hrbp", ["Engineering"])
    for who, rating, reason in (
        (facilitator, 5, "Carried the migration almost alone this year"),
        (hrbp, 1, "The migration was a team effort; two deadlines missed"),
    ):
        with db.unit_of_work(acme.tenant_id) as session:
            adjust_in(session, who, "A5", rating, reason)
    with db.unit_of_work(acme.tenant_id) as session:
        [item] = [
            i
            for i in sessions.approval_queue(session, acme)
            if (i.employee_id, i.rule) == ("A5", "changed_two_levels")
        ]
    # the waiting case describes the rating as it is now
    assert "(3 to 1)" in item.reason
    decision = Decision(decision="approved", reason="Checked against the evidence: fine")
    for changer in (hrbp, as_(db, acme, "M0", "hrbp", ["Engineering"])):
        with db.unit_of_work(acme.tenant_id) as session, pytest.raises(Conflict, match="changed"):
            sessions.decide(session, changer, item_id=item.id, data=decision)
    other = as_(db, acme, "P", "hrbp", ["Engineering"])
    with db.unit_of_work(acme.tenant_id) as session:
        assert sessions.decide(session, other, item_id=item.id, data=decision).status == "approved"
