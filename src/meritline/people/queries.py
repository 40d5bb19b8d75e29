"""SQL for people and the org tree. Every read is scoped to the session's tenant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from meritline.access.queries import line_valid_on, visibility_filter
from meritline.access.subject import Subject
from meritline.db.bulk import bulk_insert, bulk_update
from meritline.models import Employee, OrgUnit, ReportingLine, SensitiveAttribute
from meritline.people.schemas import EmployeeFilters

# --- org units ------------------------------------------------------------------------------


def all_org_units(session: Session) -> dict[str, OrgUnit]:
    """Every org unit of the tenant, by path."""
    return {unit.path: unit for unit in session.scalars(select(OrgUnit))}


def org_units_by_path(session: Session, paths: Iterable[str]) -> dict[str, OrgUnit]:
    """The org units with these paths."""
    query = select(OrgUnit).where(OrgUnit.path.in_(list(paths)))
    return {unit.path: unit for unit in session.scalars(query)}


def org_unit_paths(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Paths of the given org units."""
    query = select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(list(ids)))
    return {row.id: row.path for row in session.execute(query)}


def insert_org_units(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert org units; return their ids by path."""
    if not rows:
        return {}
    ids = session.scalars(bulk_insert(OrgUnit, returning_ids=True), list(rows))
    return {row["path"]: org_unit_id for row, org_unit_id in zip(rows, ids, strict=True)}


# --- employees ------------------------------------------------------------------------------


def employee_by_number(session: Session, employee_number: str) -> Employee | None:
    """The employee with this HRIS id."""
    query = select(Employee).where(Employee.employee_number == employee_number)
    return session.scalars(query).first()


def employee_by_id(session: Session, employee_id: int) -> Employee | None:
    """The employee with this internal id."""
    return session.scalars(select(Employee).where(Employee.id == employee_id)).first()


def employees_by_numbers(session: Session, numbers: Sequence[str]) -> dict[str, int]:
    """Internal ids of the employees with these HRIS ids (absent ones are left out)."""
    found: dict[str, int] = {}
    for start in range(0, len(numbers), 900):
        chunk = numbers[start : start + 900]
        query = select(Employee.employee_number, Employee.id).where(
            Employee.employee_number.in_(chunk)
        )
        found.update({number: employee_id for number, employee_id in session.execute(query)})
    return found


def employee_numbers(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """HRIS ids by internal id."""
    wanted = sorted(ids)
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 900):
        query = select(Employee.id, Employee.employee_number).where(
            Employee.id.in_(wanted[start : start + 900])
        )
        found.update({employee_id: number for employee_id, number in session.execute(query)})
    return found


def all_employees(session: Session) -> dict[str, Employee]:
    """Every employee of the tenant, by HRIS id."""
    return {e.employee_number: e for e in session.scalars(select(Employee))}


def insert_employees(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert employees; return their ids by HRIS id."""
    if not rows:
        return {}
    ids = session.scalars(bulk_insert(Employee, returning_ids=True), list(rows))
    return {row["employee_number"]: i for row, i in zip(rows, ids, strict=True)}


def update_employees(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Update employees by id (each row: ``id`` and the changed columns)."""
    bulk_update(session, Employee, rows)


# --- reporting lines ------------------------------------------------------------------------


def lines_by_employee(session: Session) -> dict[int, list[ReportingLine]]:
    """Every reporting line of the tenant, per employee, oldest first."""
    query = select(ReportingLine).order_by(
        ReportingLine.employee_id, ReportingLine.valid_from, ReportingLine.id
    )
    history: dict[int, list[ReportingLine]] = {}
    for line in session.scalars(query):
        history.setdefault(line.employee_id, []).append(line)
    return history


def insert_lines(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert reporting lines; return their ids in the order given."""
    if not rows:
        return []
    return list(session.scalars(bulk_insert(ReportingLine, returning_ids=True), list(rows)))


def update_lines(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Update reporting lines by id."""
    bulk_update(session, ReportingLine, rows)


def delete_lines(session: Session, ids: Sequence[int]) -> None:
    """Delete reporting lines that never took effect."""
    if ids:
        session.execute(delete(ReportingLine).where(ReportingLine.id.in_(list(ids))))


# --- sensitive attributes -------------------------------------------------------------------


def sensitive_values(session: Session) -> dict[tuple[int, str], SensitiveAttribute]:
    """Every sensitive attribute of the tenant, by (employee id, attribute)."""
    return {(a.employee_id, a.attribute): a for a in session.scalars(select(SensitiveAttribute))}


def sensitive_of(session: Session, employee_id: int) -> dict[str, str]:
    """One employee's sensitive attributes."""
    query = select(SensitiveAttribute.attribute, SensitiveAttribute.value).where(
        SensitiveAttribute.employee_id == employee_id
    )
    return {row.attribute: row.value for row in session.execute(query)}


def insert_sensitive(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert sensitive attributes."""
    if rows:
        session.execute(bulk_insert(SensitiveAttribute), list(rows))


def update_sensitive(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Update sensitive attributes by id."""
    bulk_update(session, SensitiveAttribute, rows)


def delete_sensitive(session: Session, ids: Sequence[int]) -> None:
    """Delete sensitive attributes the HRIS no longer holds."""
    if ids:
        session.execute(delete(SensitiveAttribute).where(SensitiveAttribute.id.in_(list(ids))))


# --- reads through the visibility rule ------------------------------------------------------

Manager = aliased(Employee, name="manager")


def _listing_query(subject: Subject, as_of: date, filters: EmployeeFilters) -> Any:
    current_line = and_(ReportingLine.employee_id == Employee.id, line_valid_on(as_of))
    query = (
        select(
            Employee,
            OrgUnit.path.label("department"),
            Manager.employee_number.label("manager_number"),
        )
        .outerjoin(OrgUnit, OrgUnit.id == Employee.org_unit_id)
        .outerjoin(ReportingLine, current_line)
        .outerjoin(Manager, Manager.id == ReportingLine.manager_id)
        .where(visibility_filter(subject, as_of))
    )
    conditions: list[ColumnElement[bool]] = []
    if filters.q:
        text = filters.q.lower()  # matched literally: % and _ are not wildcards
        conditions.append(
            or_(
                func.lower(Employee.name).contains(text, autoescape=True),
                Employee.email.contains(text, autoescape=True),
                func.lower(Employee.employee_number).contains(text, autoescape=True),
            )
        )
    if filters.department:
        conditions.append(
            or_(
                OrgUnit.path == filters.department,
                OrgUnit.path.startswith(f"{filters.department}/", autoescape=True),
            )
        )
    for column, value in (
        (Employee.job_family, filters.job_family),
        (Employee.level, filters.level),
        (Employee.location, filters.location),
    ):
        if value:
            conditions.append(column == value)
    if not filters.include_terminated:
        conditions.append(
            or_(Employee.termination_date.is_(None), Employee.termination_date >= as_of)
        )
    return query.where(*conditions)


def list_visible(
    session: Session,
    subject: Subject,
    *,
    as_of: date,
    filters: EmployeeFilters,
    limit: int,
    offset: int,
) -> tuple[Sequence[Row[Any]], int]:
    """One page of the employees ``subject`` may see, and how many there are in all."""
    query = _listing_query(subject, as_of, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Employee.employee_number).limit(limit).offset(offset)
    ).all()
    return rows, total


def get_visible(
    session: Session, subject: Subject, *, employee_number: str, as_of: date
) -> Row[Any] | None:
    """One employee, if ``subject`` may see them."""
    query = _listing_query(subject, as_of, EmployeeFilters(include_terminated=True)).where(
        Employee.employee_number == employee_number
    )
    return session.execute(query).first()


def visible_employee_id(
    session: Session, subject: Subject, *, employee_number: str, as_of: date
) -> int | None:
    """The internal id of one employee, if ``subject`` may see them: ``get_visible`` without
    the listing's columns, for reads that need only the id.
    """
    query = select(Employee.id).where(
        Employee.employee_number == employee_number, visibility_filter(subject, as_of)
    )
    return session.scalar(query)


def terminated_before(session: Session, ids: Sequence[int], day: date) -> list[int]:
    """Which of these employees had left before ``day``."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(Employee.id).where(Employee.id.in_(list(ids)), Employee.termination_date < day)
        )
    )


def visible_ids(session: Session, subject: Subject, *, as_of: date) -> set[int]:
    """The internal ids of every employee ``subject`` may see."""
    return set(session.scalars(select(Employee.id).where(visibility_filter(subject, as_of))))


def manager_chain_edges(session: Session, as_of: date) -> dict[str, str]:
    """Current manager of every employee with one, by HRIS id (for cycle checks)."""
    query = (
        select(Employee.employee_number, Manager.employee_number.label("manager_number"))
        .join(ReportingLine, ReportingLine.employee_id == Employee.id)
        .join(Manager, Manager.id == ReportingLine.manager_id)
        .where(line_valid_on(as_of))
    )
    return {row.employee_number: row.manager_number for row in session.execute(query)}
