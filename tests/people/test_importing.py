"""Importing people: all or nothing, idempotent, effective-dated reporting lines, sensitive data."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.db.session import Database
from meritline.errors import InvalidInput
from meritline.models import AuditEvent, Employee, OrgUnit, ReportingLine, SensitiveAttribute
from meritline.people.schemas import RowError
from tests.fixtures.factories import import_lines, new_tenant, person_line

D1, D2 = date(2025, 1, 1), date(2025, 6, 1)
CHANGE_COUNTS = (
    "employees_created",
    "employees_updated",
    "org_units_created",
    "reporting_lines_opened",
    "reporting_lines_closed",
    "sensitive_values_set",
    "sensitive_values_removed",
)


@pytest.fixture
def operator(db: Database) -> Subject:
    return new_tenant(db)


def org() -> list[str]:
    return [
        person_line("E1", department="Company"),
        person_line("E2", "E1", "Company/Eng"),
        person_line("E3", "E2", "Company/Eng/Platform"),
        person_line("E4", "E2", "Company/Eng/Platform"),
    ]


def count(db: Database, operator: Subject, model: type) -> int:
    with db.unit_of_work(operator.tenant_id) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def lines(db: Database, operator: Subject) -> list[tuple[str, str, date, date | None]]:
    with db.unit_of_work(operator.tenant_id) as session:
        emp = {e.id: e.employee_number for e in session.scalars(select(Employee))}
        return sorted(
            (emp[line.employee_id], emp[line.manager_id], line.valid_from, line.valid_to)
            for line in session.scalars(select(ReportingLine))
        )


def test_first_import_creates_people_org_units_lines_and_sensitive_data(
    db: Database, operator: Subject
) -> None:
    summary = import_lines(db, operator, org(), effective_date=D1)
    assert (summary.employees_created, summary.org_units_created) == (4, 3)
    assert summary.reporting_lines_opened == 3 and summary.sensitive_values_set == 8
    with db.unit_of_work(operator.tenant_id) as session:
        tree = {u.path: u.parent_id for u in session.scalars(select(OrgUnit))}
        ids = {u.path: u.id for u in session.scalars(select(OrgUnit))}
    assert tree == {
        "Company": None,
        "Company/Eng": ids["Company"],
        "Company/Eng/Platform": ids["Company/Eng"],
    }
    assert lines(db, operator) == [
        ("E2", "E1", D1, None),
        ("E3", "E2", D1, None),
        ("E4", "E2", D1, None),
    ]


def test_reimporting_the_same_file_changes_nothing(db: Database, operator: Subject) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    before = (lines(db, operator), count(db, operator, SensitiveAttribute))
    again = import_lines(db, operator, org(), effective_date=D2)
    assert again.employees_unchanged == 4
    assert again.model_dump(include=set(CHANGE_COUNTS)) == dict.fromkeys(CHANGE_COUNTS, 0)
    assert (lines(db, operator), count(db, operator, SensitiveAttribute)) == before


def test_a_changed_manager_closes_the_line_and_opens_a_new_one(
    db: Database, operator: Subject
) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    moved = org()
    moved[3] = person_line("E4", "E1", "Company")
    summary = import_lines(db, operator, moved, effective_date=D2)
    assert (
        summary.employees_updated,
        summary.reporting_lines_opened,
        summary.reporting_lines_closed,
    ) == (1, 1, 1)
    assert ("E4", "E2", D1, D2) in lines(db, operator)
    assert ("E4", "E1", D2, None) in lines(db, operator)


def test_a_termination_ends_the_reporting_line_the_day_after(
    db: Database, operator: Subject
) -> None:
    header = "employee_id,name,email,manager_id,termination_date"
    rows = ["E1,A,a@example.com,,", "E2,B,b@example.com,E1,"]
    import_lines(db, operator, rows, header=header, effective_date=D1)
    rows[1] = "E2,B,b@example.com,E1,2025-03-31"
    import_lines(db, operator, rows, header=header, effective_date=D2)
    assert lines(db, operator) == [("E2", "E1", D1, date(2025, 4, 1))]
    assert import_lines(db, operator, rows, header=header).reporting_lines_opened == 0


def test_columns_absent_from_the_file_are_left_alone(db: Database, operator: Subject) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    import_lines(db, operator, ["E3,New Name,e3@example.com"], header="employee_id,name,email")
    with db.unit_of_work(operator.tenant_id) as session:
        e3 = session.scalars(select(Employee).where(Employee.employee_number == "E3")).one()
    assert (e3.name, e3.level, e3.location) == ("New Name", "IC2", "Berlin")
    assert ("E3", "E2", D1, None) in lines(db, operator)


def test_a_blank_sensitive_value_is_deleted_and_values_never_reach_the_audit_log(
    db: Database, operator: Subject
) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    changed = org()
    changed[0] = person_line("E1", department="Company", gender="")
    assert import_lines(db, operator, changed).sensitive_values_removed == 1
    with db.unit_of_work(operator.tenant_id) as session:
        payloads = [json.dumps(p) for p in session.scalars(select(AuditEvent.payload))]
    assert payloads  # the imports were audited
    # the payloads, not the read models: a 64-digit hash may contain "1990" by chance
    assert not any("Female" in p or "1990" in p for p in payloads)


def expect_errors(db: Database, operator: Subject, rows: list[str]) -> list[RowError]:
    with pytest.raises(InvalidInput) as caught:
        import_lines(db, operator, rows)
    errors: list[RowError] = caught.value.details["errors"]
    return errors


def test_any_error_writes_nothing_and_reports_every_line(db: Database, operator: Subject) -> None:
    rows = [*org(), person_line("E5", "E404"), "E6,,e6@example.com,,,,,,"]
    errors = expect_errors(db, operator, rows)
    assert [(e.line, e.employee_id, e.reason) for e in errors] == [
        (6, "E5", "unknown manager E404 (not in the file nor in meritline)"),
        (7, "E6", "missing name"),
    ]
    assert count(db, operator, Employee) == 0 and count(db, operator, OrgUnit) == 0


def test_a_cycle_in_the_manager_chain_is_reported_for_each_member(
    db: Database, operator: Subject
) -> None:
    rows = [
        person_line("E1", "E3"),
        person_line("E2", "E1"),
        person_line("E3", "E2"),
        person_line("E4", "E1"),
    ]
    errors = expect_errors(db, operator, rows)
    assert sorted(e.employee_id or "" for e in errors) == ["E1", "E2", "E3"]
    assert all("cycle in the manager chain" in e.reason for e in errors)


def test_a_cycle_through_people_already_in_meritline_is_caught(
    db: Database, operator: Subject
) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    errors = expect_errors(db, operator, [person_line("E2", "E4", "Company/Eng")])
    assert [e.employee_id for e in errors] == ["E2"]
    assert "E2 -> E4 -> E2" in errors[0].reason


def test_an_email_owned_by_someone_else_is_refused(db: Database, operator: Subject) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    errors = expect_errors(db, operator, [person_line("E9", email="e1@example.com")])
    assert "belongs to employee E1" in errors[0].reason


def test_the_import_is_audited(db: Database, operator: Subject) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    with db.unit_of_work(operator.tenant_id) as session:
        actions = [e.action for e in audit.recent(session, operator, limit=100)]
        assert audit.verify(session, operator).ok
    assert actions[0] == "people.import"
    assert actions.count("employee.create") == 4 and actions.count("org_unit.create") == 3


def test_a_backdated_correction_runs_until_the_next_recorded_change(
    db: Database, operator: Subject
) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    moved = org()
    moved[3] = person_line("E4", "E1", "Company")
    import_lines(db, operator, moved, effective_date=D2)
    corrected = org()
    corrected[3] = person_line("E4", "E3", "Company")
    march = date(2025, 3, 1)
    summary = import_lines(db, operator, corrected, effective_date=march)
    assert summary.reporting_lines_closed == 1 and summary.reporting_lines_opened == 1
    e4 = [ln for ln in lines(db, operator) if ln[0] == "E4"]
    assert e4 == [("E4", "E1", D2, None), ("E4", "E2", D1, march), ("E4", "E3", march, D2)]


def test_a_routine_import_keeps_a_future_dated_move(db: Database, operator: Subject) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    moved = org()
    moved[3] = person_line("E4", "E1", "Company")
    future = date(2099, 1, 1)
    import_lines(db, operator, moved, effective_date=future)
    routine = import_lines(db, operator, org(), effective_date=D2)  # still E2 today
    assert (routine.reporting_lines_closed, routine.reporting_lines_opened) == (0, 0)
    e4 = [ln for ln in lines(db, operator) if ln[0] == "E4"]
    assert e4 == [("E4", "E1", future, None), ("E4", "E2", D1, future)]


def test_a_termination_before_a_recorded_move_ends_everything(
    db: Database, operator: Subject
) -> None:
    header = "employee_id,name,email,manager_id,termination_date"
    rows = ["M1,A,a@example.com,,", "M2,B,b@example.com,,", "E,E,e@example.com,M1,"]
    import_lines(db, operator, rows, header=header, effective_date=D1)
    rows[2] = "E,E,e@example.com,M2,"
    import_lines(db, operator, rows, header=header, effective_date=D2)
    rows[2] = "E,E,e@example.com,M2,2025-03-31"
    import_lines(db, operator, rows, header=header, effective_date=date(2025, 7, 1))
    assert lines(db, operator) == [("E", "M1", D1, date(2025, 4, 1))]


def test_reporting_line_changes_are_audited(db: Database, operator: Subject) -> None:
    import_lines(db, operator, org(), effective_date=D1)
    moved = org()
    moved[3] = person_line("E4", "E1", "Company")
    import_lines(db, operator, moved, effective_date=D1)  # same day: the old line is deleted
    with db.unit_of_work(operator.tenant_id) as session:
        actions = [e.action for e in audit.recent(session, operator, limit=5)]
    assert {"reporting_line.delete", "reporting_line.open"} <= set(actions)


def test_someone_reporting_to_a_leaver_is_warned_about(db: Database, operator: Subject) -> None:
    header = "employee_id,name,email,manager_id,termination_date"
    rows = ["M,A,a@example.com,,2025-01-31", "E,E,e@example.com,M,"]
    summary = import_lines(db, operator, rows, header=header, effective_date=D2)
    assert [(w.employee_id, w.reason) for w in summary.warnings] == [
        ("E", "reports to M, who left on 2025-01-31")
    ]
