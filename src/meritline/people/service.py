"""People use cases: import an HRIS export, and read employees through the visibility rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utctoday
from meritline.errors import InvalidInput, NotFound
from meritline.models import Employee, SensitiveAttribute
from meritline.people import queries
from meritline.people.hris_file import DEPARTMENT_SEPARATOR
from meritline.people.schemas import (
    EmployeeFilters,
    EmployeePage,
    EmployeeRead,
    ImportSummary,
    PeopleFile,
    PersonRow,
    RowError,
    SensitiveAttributesRead,
)

#: Employee columns an import may set, each only when the file has that column.
EMPLOYEE_FIELDS = (
    "name",
    "email",
    "job_family",
    "level",
    "location",
    "hire_date",
    "termination_date",
)


def _require_admin(subject: Subject) -> None:
    if subject.role != "admin":
        raise NotFound("No such operation for this role.")


# --- import ---------------------------------------------------------------------------------


def import_people(
    session: Session,
    subject: Subject,
    people: PeopleFile,
    *,
    effective_date: date | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import a validated people file: all of it, or (on any error) nothing.

    Re-importing the same file changes nothing. A changed manager closes the open reporting
    line on ``effective_date`` (default today) and opens a new one; a termination date ends the
    line the day after. Columns absent from the file are left as they are; a blank cell clears
    the value (a blank sensitive attribute is deleted: meritline keeps no more than the HRIS).
    """
    _require_admin(subject)
    effective = effective_date or utctoday()
    existing = queries.all_employees(session)
    errors = list(people.errors) + _check_against_database(session, people, existing, effective)
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s) in the file; nothing was imported.",
            errors=sorted(errors, key=lambda e: e.line),
        )
    summary = ImportSummary(rows=len(people.rows), unknown_columns=people.unknown_columns)
    columns = set(people.columns)
    records: list[AuditRecord] = []

    unit_ids = (
        _ensure_org_units(session, people, summary, records) if "department" in columns else {}
    )
    ids = _upsert_employees(session, people, existing, unit_ids, columns, summary, records)
    if "manager_id" in columns:
        _sync_reporting_lines(session, subject, people, ids, effective, summary, records)
    if people.sensitive_columns:
        _sync_sensitive(session, subject, people, ids, summary, records)
    records.append(AuditRecord("people.import", "tenant", subject.tenant_id, summary.model_dump()))
    audit.record_many(session, subject, records)
    summary.dry_run = dry_run
    return summary


def _check_against_database(
    session: Session, people: PeopleFile, existing: dict[str, Employee], as_of: date
) -> list[RowError]:
    """Unknown managers, manager-chain cycles and e-mails used by someone else."""
    errors: list[RowError] = []
    in_file = {row.employee_id: row for row in people.rows}
    emails = {e.email: number for number, e in existing.items() if number not in in_file}
    for row in people.rows:
        if row.manager_id and row.manager_id not in in_file and row.manager_id not in existing:
            errors.append(
                RowError(
                    line=row.line,
                    employee_id=row.employee_id,
                    reason=f"unknown manager {row.manager_id} (not in the file nor in meritline)",
                )
            )
        owner = emails.get(row.email)
        if owner is not None:
            errors.append(
                RowError(
                    line=row.line,
                    employee_id=row.employee_id,
                    reason=f"e-mail {row.email} belongs to employee {owner} already in meritline",
                )
            )
    if "manager_id" not in people.columns:
        return errors
    chain = queries.manager_chain_edges(session, as_of)
    chain.update({row.employee_id: row.manager_id for row in people.rows if row.manager_id})
    for row in people.rows:
        if not row.manager_id:
            chain.pop(row.employee_id, None)
    reported: set[str] = set()
    for row in people.rows:
        cycle = _cycle_from(row.employee_id, chain)
        if cycle and row.employee_id not in reported:
            reported.update(cycle)
            members = [in_file[m] for m in cycle if m in in_file]
            path = " -> ".join([*cycle, cycle[0]])
            for member in members:
                errors.append(
                    RowError(
                        line=member.line,
                        employee_id=member.employee_id,
                        reason=f"cycle in the manager chain: {path}",
                    )
                )
    return errors


def _cycle_from(start: str, chain: dict[str, str]) -> list[str] | None:
    """The cycle ``start`` lies on, if any (following each employee's manager)."""
    seen: dict[str, int] = {}
    path: list[str] = []
    node: str | None = start
    while node is not None and node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = chain.get(node)
    if node is None or node != start:
        return None
    return path[seen[node] :]


def _ensure_org_units(
    session: Session, people: PeopleFile, summary: ImportSummary, records: list[AuditRecord]
) -> dict[str, int]:
    """Create the org units the file's department paths need (parents first)."""
    known = {path: unit.id for path, unit in queries.all_org_units(session).items()}
    wanted: set[str] = set()
    for row in people.rows:
        if row.department:
            parts = row.department.split(DEPARTMENT_SEPARATOR)
            wanted.update(DEPARTMENT_SEPARATOR.join(parts[: i + 1]) for i in range(len(parts)))
    missing = sorted(wanted - set(known), key=lambda p: (p.count(DEPARTMENT_SEPARATOR), p))
    by_depth: dict[int, list[str]] = {}
    for path in missing:
        by_depth.setdefault(path.count(DEPARTMENT_SEPARATOR), []).append(path)
    for depth in sorted(by_depth):
        rows = []
        for path in by_depth[depth]:
            parent, _, name = path.rpartition(DEPARTMENT_SEPARATOR)
            rows.append(
                {
                    "tenant_id": session.info["tenant_id"],
                    "path": path,
                    "name": name,
                    "parent_id": known[parent] if parent else None,
                }
            )
        created = queries.insert_org_units(session, rows)
        known.update(created)
        records.extend(
            AuditRecord("org_unit.create", "org_unit", created[p], {"path": p})
            for p in by_depth[depth]
        )
    summary.org_units_created = len(missing)
    return known


def _employee_values(row: PersonRow, columns: set[str], unit_ids: dict[str, int]) -> dict[str, Any]:
    values = {field: getattr(row, field) for field in EMPLOYEE_FIELDS if field in columns}
    values["name"], values["email"] = row.name, row.email
    if "department" in columns:
        values["org_unit_id"] = unit_ids[row.department] if row.department else None
    return values


def _upsert_employees(
    session: Session,
    people: PeopleFile,
    existing: dict[str, Employee],
    unit_ids: dict[str, int],
    columns: set[str],
    summary: ImportSummary,
    records: list[AuditRecord],
) -> dict[str, int]:
    """Insert new employees, update changed ones; return internal ids by HRIS id."""
    tenant_id = session.info["tenant_id"]
    new_rows, changes, unchanged = [], [], 0
    for row in people.rows:
        values = _employee_values(row, columns, unit_ids)
        current = existing.get(row.employee_id)
        if current is None:
            new_rows.append({"tenant_id": tenant_id, "employee_number": row.employee_id, **values})
            continue
        diff = {k: v for k, v in values.items() if getattr(current, k) != v}
        if diff:
            changes.append({"id": current.id, **diff})
        else:
            unchanged += 1
    created = queries.insert_employees(session, new_rows)
    queries.update_employees(session, changes)
    records.extend(
        AuditRecord("employee.create", "employee", created[r["employee_number"]], r)
        for r in new_rows
    )
    records.extend(
        AuditRecord("employee.update", "employee", c["id"], {"changed": c}) for c in changes
    )
    summary.employees_created, summary.employees_updated = len(new_rows), len(changes)
    summary.employees_unchanged = unchanged
    ids = {number: employee.id for number, employee in existing.items()}
    ids.update(created)
    return ids


def _sync_reporting_lines(
    session: Session,
    subject: Subject,
    people: PeopleFile,
    ids: dict[str, int],
    effective: date,
    summary: ImportSummary,
    records: list[AuditRecord],
) -> None:
    """Open, close and end reporting lines so that they match the file from ``effective`` on.

    History before ``effective`` is kept. Lines overlapping ``[effective, ...)`` that disagree
    with the file are closed on ``effective`` (or deleted when they start on or after it, as a
    back-dated correction replaces them), so an employee never has two managers on one day.
    """
    history = queries.lines_by_employee(session)
    opened: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    discarded: list[int] = []
    for row in people.rows:
        employee_id = ids[row.employee_id]
        manager_id = ids[row.manager_id] if row.manager_id else None
        end = row.termination_date + timedelta(days=1) if row.termination_date else None
        lines = history.get(employee_id, [])
        latest = lines[-1] if lines else None
        overlapping = [ln for ln in lines if ln.valid_to is None or ln.valid_to > effective]
        continues = (
            latest is not None
            and manager_id is not None
            and latest.manager_id == manager_id
            and (overlapping == [latest] or (not overlapping and end is not None))
        )
        if continues and latest is not None:  # same manager: at most the end date changes
            if latest.valid_to != end and (end is None or end > latest.valid_from):
                updates.append({"id": latest.id, "valid_to": end})
            continue
        for line in overlapping:  # the manager changed, was removed, or history is corrected
            if line.valid_from >= effective:
                discarded.append(line.id)
            else:
                updates.append({"id": line.id, "valid_to": effective})
            summary.reporting_lines_closed += 1
        if manager_id is None:
            continue
        start = effective if lines else min(row.hire_date or effective, effective)
        if end is not None and end <= start:
            continue  # left before the line would start
        opened.append(
            {
                "tenant_id": subject.tenant_id,
                "employee_id": employee_id,
                "manager_id": manager_id,
                "valid_from": start,
                "valid_to": end,
            }
        )
    queries.delete_lines(session, discarded)
    queries.update_lines(session, updates)
    queries.insert_lines(session, opened)
    summary.reporting_lines_opened = len(opened)
    records.extend(
        AuditRecord("reporting_line.open", "employee", line["employee_id"], line) for line in opened
    )
    records.extend(
        AuditRecord("reporting_line.update", "reporting_line", u["id"], u) for u in updates
    )


def _sync_sensitive(
    session: Session,
    subject: Subject,
    people: PeopleFile,
    ids: dict[str, int],
    summary: ImportSummary,
    records: list[AuditRecord],
) -> None:
    """Store sensitive attributes apart from the employee row; the audit log names no values."""
    stored = queries.sensitive_values(session)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    removals: list[int] = []
    for row in people.rows:
        employee_id = ids[row.employee_id]
        touched: list[str] = []
        for attribute, value in row.sensitive.items():
            current: SensitiveAttribute | None = stored.get((employee_id, attribute))
            if value is None:
                if current is not None:
                    removals.append(current.id)
                    touched.append(attribute)
            elif current is None:
                inserts.append(
                    {
                        "tenant_id": subject.tenant_id,
                        "employee_id": employee_id,
                        "attribute": attribute,
                        "value": value,
                    }
                )
                touched.append(attribute)
            elif current.value != value:
                updates.append({"id": current.id, "value": value})
                touched.append(attribute)
        if touched:
            records.append(
                AuditRecord(
                    "sensitive_attribute.write", "employee", employee_id, {"attributes": touched}
                )
            )
    queries.insert_sensitive(session, inserts)
    queries.update_sensitive(session, updates)
    queries.delete_sensitive(session, removals)
    summary.sensitive_values_set = len(inserts) + len(updates)
    summary.sensitive_values_removed = len(removals)


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
    employee = get_employee(session, subject, employee_id=employee_id)
    internal = queries.employee_by_number(session, employee.employee_id)
    assert internal is not None  # visible employees exist
    attributes = queries.sensitive_of(session, internal.id)
    audit.record(
        session,
        subject,
        AuditRecord(
            "sensitive_attribute.read", "employee", internal.id, {"attributes": sorted(attributes)}
        ),
    )
    return SensitiveAttributesRead(employee_id=employee.employee_id, attributes=attributes)
