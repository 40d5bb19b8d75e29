"""Review cycles and reviews at the service layer, on every backend: the lifecycle, versions
that are never edited in place, and who may write and read what.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.db.session import Database
from meritline.errors import Conflict, InvalidInput, NotFound
from meritline.evidence import ingestion
from meritline.evidence.frames import from_drafts
from meritline.evidence.signals import ExternalAccount, SignalDraft
from meritline.models import Signal
from meritline.reviews import service
from meritline.reviews.schemas import (
    Citation,
    CycleTemplate,
    FeedbackAnswer,
    FeedbackRequest,
    ReviewAmend,
    ReviewCycleCreate,
    ReviewSubmit,
)
from tests.fixtures.factories import import_lines, new_tenant, person_line

CYCLE = "FY2026"
#: E1 manages E2 and E3; E3 manages E4; E5 is in another team under E1's peer E6.
TEAM = [
    person_line("E1"),
    person_line("E2", "E1"),
    person_line("E3", "E1"),
    person_line("E4", "E3"),
    person_line("E6"),
    person_line("E5", "E6"),
]


@pytest.fixture
def acme(db: Database) -> Subject:
    operator = new_tenant(db)
    import_lines(db, operator, TEAM)
    with db.unit_of_work(operator.tenant_id) as session:
        service.create_cycle(
            session,
            operator,
            ReviewCycleCreate(
                name=CYCLE, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31)
            ),
        )
        service.transition_cycle(session, operator, name=CYCLE, to_status="open")
    return operator


def as_(db: Database, operator: Subject, number: str, role: str = "manager") -> Subject:
    with db.unit_of_work(operator.tenant_id, read_only=True) as session:
        return access.act_as(session, operator, employee_number=number, role=role)


def test_the_lifecycle_moves_one_step_at_a_time_and_keeps_its_actors(
    db: Database, acme: Subject
) -> None:
    with db.unit_of_work(acme.tenant_id) as session:
        with pytest.raises(Conflict, match="'calibration' next"):
            service.transition_cycle(session, acme, name=CYCLE, to_status="finalized")
        for status in ("calibration", "finalized", "shared", "closed"):
            service.transition_cycle(session, acme, name=CYCLE, to_status=status)
        with pytest.raises(Conflict, match="closed"):
            service.transition_cycle(session, acme, name=CYCLE, to_status="open")
        history = service.cycle_history(session, acme, name=CYCLE)
    assert [(t.from_status, t.to_status) for t in history] == [
        ("draft", "open"),
        ("open", "calibration"),
        ("calibration", "finalized"),
        ("finalized", "shared"),
        ("shared", "closed"),
    ]
    assert {t.actor for t in history} == {"cli:operator"}


def test_a_manager_cannot_move_a_cycle(db: Database, acme: Subject) -> None:
    manager = as_(db, acme, "E1")
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(NotFound):
        service.transition_cycle(session, manager, name=CYCLE, to_status="calibration")


def test_an_amendment_is_a_new_version_and_keeps_what_it_does_not_change(
    db: Database, acme: Subject
) -> None:
    manager = as_(db, acme, "E1")
    with db.unit_of_work(acme.tenant_id) as session:
        first = service.submit_review(
            session,
            manager,
            cycle=CYCLE,
            employee_id="E2",
            data=ReviewSubmit(rating=3, potential="high", assessment="Solid year."),
        )
        amended = service.amend_review(
            session,
            manager,
            cycle=CYCLE,
            employee_id="E2",
            data=ReviewAmend(rating=4, reason="The Q4 launch results arrived after the draft."),
        )
        history = service.review_history(session, manager, cycle=CYCLE, employee_id="E2")
    assert (first.version, amended.version) == (1, 2)
    assert (amended.rating, amended.potential, amended.assessment) == (4, "high", "Solid year.")
    assert [(v.version, v.rating, v.reason) for v in history] == [
        (1, 3, None),
        (2, 4, "The Q4 launch results arrived after the draft."),
    ]


def test_stored_reviews_and_transitions_refuse_update_and_delete(
    db: Database, acme: Subject
) -> None:
    manager = as_(db, acme, "E1")
    with db.unit_of_work(acme.tenant_id) as session:
        service.submit_review(
            session, manager, cycle=CYCLE, employee_id="E2", data=ReviewSubmit(rating=3)
        )
    for statement in (
        "UPDATE review SET rating = 5",
        "DELETE FROM review",
        "UPDATE cycle_transition SET actor = 'someone else'",
        "DELETE FROM cycle_transition",
    ):
        with (
            pytest.raises(DBAPIError, match=r"append-only|permission denied"),
            db.unit_of_work(acme.tenant_id) as session,
        ):
            session.execute(text(statement))


def test_who_may_write_which_review(db: Database, acme: Subject) -> None:
    e1, e3, e2 = as_(db, acme, "E1"), as_(db, acme, "E3"), as_(db, acme, "E2", "employee")
    with db.unit_of_work(acme.tenant_id) as session:
        # an indirect report is in scope; another team is not; nobody reviews themself
        service.submit_review(
            session, e1, cycle=CYCLE, employee_id="E4", data=ReviewSubmit(rating=3)
        )
        with pytest.raises(NotFound):
            service.submit_review(
                session, e3, cycle=CYCLE, employee_id="E5", data=ReviewSubmit(rating=3)
            )
        with pytest.raises(InvalidInput, match="own manager review"):
            service.submit_review(
                session, e1, cycle=CYCLE, employee_id="E1", data=ReviewSubmit(rating=3)
            )
        # an employee writes their self review and nobody else's
        service.submit_review(
            session, e2, cycle=CYCLE, employee_id="E2", data=ReviewSubmit(kind="self", rating=4)
        )
        with pytest.raises(NotFound):
            service.submit_review(
                session, e2, cycle=CYCLE, employee_id="E3", data=ReviewSubmit(kind="self")
            )
        with pytest.raises(InvalidInput, match="not on the cycle's scale"):
            service.submit_review(
                session, e1, cycle=CYCLE, employee_id="E2", data=ReviewSubmit(rating=3.5)
            )


def test_an_employee_reads_their_manager_review_once_the_cycle_is_shared(
    db: Database, acme: Subject
) -> None:
    e1, e2 = as_(db, acme, "E1"), as_(db, acme, "E2", "employee")
    with db.unit_of_work(acme.tenant_id) as session:
        service.submit_review(
            session, e1, cycle=CYCLE, employee_id="E2", data=ReviewSubmit(rating=4)
        )
        service.submit_review(
            session, e2, cycle=CYCLE, employee_id="E2", data=ReviewSubmit(kind="self", rating=5)
        )
        seen = [v.kind for v in service.review_history(session, e2, cycle=CYCLE, employee_id="E2")]
        assert seen == ["self"]
        for status in ("calibration", "finalized", "shared"):
            service.transition_cycle(session, acme, name=CYCLE, to_status=status)
        seen = [v.kind for v in service.review_history(session, e2, cycle=CYCLE, employee_id="E2")]
        assert sorted(seen) == ["manager", "self"]
        with pytest.raises(Conflict, match="not open"):
            service.amend_review(
                session,
                e1,
                cycle=CYCLE,
                employee_id="E2",
                data=ReviewAmend(rating=5, reason="Changing it after it was shared."),
            )


def test_peer_answers_appear_from_three_on_and_anonymous_ones_name_nobody(
    db: Database, acme: Subject
) -> None:
    e1 = as_(db, acme, "E1")
    with db.unit_of_work(acme.tenant_id) as session:
        asked = service.request_feedback(
            session,
            e1,
            cycle=CYCLE,
            employee_id="E2",
            data=FeedbackRequest(responders=["E3", "E4", "E5", "E3"], anonymous=True),
        )
        assert len(asked) == 3  # asking E3 twice asks once
        ids = {item.responder_id: item.id for item in asked}
    for number in ("E3", "E4"):
        colleague = as_(db, acme, number, "employee")
        with db.unit_of_work(acme.tenant_id) as session:
            service.answer_feedback(
                session, colleague, feedback_id=ids[number], data=FeedbackAnswer(response="Kind")
            )
    with db.unit_of_work(acme.tenant_id) as session:
        summary = service.feedback_summary(session, e1, cycle=CYCLE, employee_id="E2")
        assert (summary.submitted, summary.shown, summary.items) == (2, False, [])
        with pytest.raises(NotFound):  # only the colleague asked may answer
            service.answer_feedback(
                session, e1, feedback_id=ids["E5"], data=FeedbackAnswer(response="x")
            )
    e5 = as_(db, acme, "E5", "employee")
    with db.unit_of_work(acme.tenant_id) as session:
        service.answer_feedback(
            session, e5, feedback_id=ids["E5"], data=FeedbackAnswer(response="Helpful")
        )
        with pytest.raises(Conflict, match="already submitted"):
            service.answer_feedback(
                session, e5, feedback_id=ids["E5"], data=FeedbackAnswer(response="Again")
            )
        summary = service.feedback_summary(session, e1, cycle=CYCLE, employee_id="E2")
    assert summary.shown and summary.submitted == 3
    assert {i.response for i in summary.items} == {"Kind", "Helpful"}
    assert {i.responder_id for i in summary.items} == {None}


def test_a_template_is_validated_data(db: Database, acme: Subject) -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        CycleTemplate(guideline={1: 0.5, 2: 0.4})
    with pytest.raises(ValueError, match="not on the scale"):
        CycleTemplate(guideline={1: 0.5, 9: 0.5})
    with pytest.raises(ValueError, match="greater than or equal to 3"):
        CycleTemplate(min_peer_responses=2)


def test_a_scale_of_ones_own_has_no_guideline_unless_given() -> None:
    four = [{"value": v, "label": f"L{v}"} for v in range(1, 5)]
    assert CycleTemplate.model_validate({"scale": four}).guideline == {}
    assert CycleTemplate().guideline == {1: 0.1, 2: 0.2, 3: 0.4, 4: 0.2, 5: 0.1}


def test_a_signal_from_outside_the_period_is_not_evidence_of_it(
    db: Database, acme: Subject
) -> None:
    drafts = [
        SignalDraft("gen", "pr_merged", ExternalAccount("employee_id", "E2"), at, f"s{i}")
        for i, at in enumerate(
            (datetime(2025, 12, 30, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
        )
    ]
    with db.unit_of_work(acme.tenant_id) as session:
        ingestion.ingest(session, from_drafts(drafts), source="g", origin="g", batch_id=None)
        ids = {
            s.occurred_at.year: s.id
            for s in session.scalars(select(Signal).where(Signal.external_id.in_(["s0", "s1"])))
        }
    manager = as_(db, acme, "E1")
    cite = [Citation(kind="signal", id=ids[2025])]
    with db.unit_of_work(acme.tenant_id) as session, pytest.raises(InvalidInput, match="outside"):
        service.submit_review(
            session,
            manager,
            cycle=CYCLE,
            employee_id="E2",
            data=ReviewSubmit(rating=3, citations=cite),
        )
    with db.unit_of_work(acme.tenant_id) as session:
        review = service.submit_review(
            session,
            manager,
            cycle=CYCLE,
            employee_id="E2",
            data=ReviewSubmit(rating=3, citations=[Citation(kind="signal", id=ids[2026])]),
        )
    assert review.citations[0].occurred_at == datetime(2026, 6, 1, tzinfo=UTC)
