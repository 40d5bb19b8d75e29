"""People use cases: read employees through the visibility rule (imports: ``importing``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utctoday
from meritline.errors import InvalidInput, NotFound
from meritline.models import Employee
from meritline.people import queries
from meritline.people.schemas import (
    EmployeeFilters,
    EmployeePage,
    EmployeeRead,
    SensitiveAttributesRead,
)

# --- reads ----------------------------------------------------------------------------------


def _to_read(row: Any, as_of: date) -> EmployeeRead:
    employee: Employee = row[0]
    left = employee.termination_date is not None and employee.termination_date < as_of
    return EmployeeRead(
        employee_id=employee.employee_number,
        name=employee.name,
        email=employee.email,
        department=row.department,
        manager_id=row.manager_number,
        job_family=employee.job_family,
        level=employee.level,
        location=employee.location,
        hire_date=employee.hire_date,
        termination_date=employee.termination_date,
        status="terminated" if left else "active",
    )


def list_employees(
    session: Session,
    subject: Subject,
    *,
    filters: EmployeeFilters | None = None,
    limit: int = 50,
    offset: int = 0,
    as_of: date | None = None,
) -> EmployeePage:
    """The employees ``subject`` may see, one page at a time, ordered by HRIS id."""
    if limit < 1 or offset < 0:
        raise InvalidInput("limit must be at least 1 and offset at least 0.")
    today = as_of or utctoday()
    rows, total = queries.list_visible(
        session,
        subject,
        as_of=today,
        filters=filters or EmployeeFilters(),
        limit=limit,
        offset=offset,
    )
    next_offset = offset + limit if offset + limit < total else None
    return EmployeePage(
        items=[_to_read(row, today) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=next_offset,
    )


def get_employee(
    session: Session, subject: Subject, *, employee_id: str, as_of: date | None = None
) -> EmployeeRead:
    """One employee by HRIS id; ``NotFound`` when absent or outside the subject's visibility."""
    today = as_of or utctoday()
    row = queries.get_visible(session, subject, employee_number=employee_id, as_of=today)
    if row is None:
        raise NotFound(f"No employee {employee_id!r}.")
    return _to_read(row, today)


def get_sensitive_attributes(
    session: Session, subject: Subject, *, employee_id: str
) -> SensitiveAttributesRead:
    """Special-category attributes of one employee, for fairness-analysis roles only.

    Other roles get ``NotFound`` (the data's existence does not leak); every read is audited.
    """
    if not subject.may_read_sensitive:
        raise NotFound(f"No sensitive attributes for {employee_id!r}.")
    row = queries.get_visible(session, subject, employee_number=employee_id, as_of=utctoday())
    if row is None:
        raise NotFound(f"No employee {employee_id!r}.")
    employee: Employee = row[0]
    attributes = queries.sensitive_of(session, employee.id)
    audit.record(
        session,
        subject,
        AuditRecord(
            "sensitive_attribute.read", "employee", employee.id, {"attributes": sorted(attributes)}
        ),
    )
    return SensitiveAttributesRead(employee_id=employee.employee_number, attributes=attributes)
