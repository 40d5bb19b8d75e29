"""Importing an HRIS export: validate everything first, then write set-based, audited."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utctoday
from meritline.errors import InvalidInput
from meritline.models import Employee, SensitiveAttribute
from meritline.people import queries
from meritline.people.hris_file import DEPARTMENT_SEPARATOR
from meritline.people.schemas import ImportSummary, PeopleFile, PersonRow, RowError

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


def import_people(
    session: Session,
    subject: Subject,
    people: PeopleFile,
    *,
    effective_date: date | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import a parsed people file: all of it, or (on any error) nothing.

    Re-importing the same file changes nothing. Reporting lines follow the file from
    ``effective_date`` (default today; see :func:`_sync_reporting_lines`). Columns absent from
    the file are left as they are; a blank cell clears the value (a blank sensitive attribute is
    deleted: meritline keeps no more than the HRIS).
    """
    require_role(subject, "admin")
    effective = effective_date or utctoday()
    existing = queries.all_employees(session)
    errors = list(people.errors) + _check_against_database(session, people, existing, effective)
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s) in the file; nothing was imported.",
            errors=sorted(errors, key=lambda e: e.line),
        )
    summary = ImportSummary(
        rows=len(people.rows),
        unknown_columns=people.unknown_columns,
        warnings=_reports_of_leavers(people, existing, effective),
    )
    columns = set(people.columns)
    records: list[AuditRecord] = []

    unit_ids = (
        _ensure_org_units(session, subject, people, summary, records)
        if "department" in columns
        else {}
    )
    ids = _upsert_employees(session, subject, people, existing, unit_ids, columns, summary, records)
    if "manager_id" in columns:
        new_employees = {number for number in ids if number not in existing}
        _sync_reporting_lines(
            session, subject, people, ids, new_employees, effective, summary, records
        )
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


def _reports_of_leavers(
    people: PeopleFile, existing: dict[str, Employee], effective: date
) -> list[RowError]:
    """Warnings for people still at work whose manager has left (no one above would see them)."""
    left_on = {number: e.termination_date for number, e in existing.items()}
    left_on.update({row.employee_id: row.termination_date for row in people.rows})
    warnings = []
    for row in people.rows:
        still_here = row.termination_date is None or row.termination_date >= effective
        manager_left = left_on.get(row.manager_id or "")
        if still_here and manager_left is not None and manager_left < effective:
            warnings.append(
                RowError(
                    line=row.line,
                    employee_id=row.employee_id,
                    reason=f"reports to {row.manager_id}, who left on {manager_left}",
                )
            )
    return warnings


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
    session: Session,
    subject: Subject,
    people: PeopleFile,
    summary: ImportSummary,
    records: list[AuditRecord],
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
                    "tenant_id": subject.tenant_id,
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
    subject: Subject,
    people: PeopleFile,
    existing: dict[str, Employee],
    unit_ids: dict[str, int],
    columns: set[str],
    summary: ImportSummary,
    records: list[AuditRecord],
) -> dict[str, int]:
    """Insert new employees, update changed ones; return internal ids by HRIS id."""
    tenant_id = subject.tenant_id
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


@dataclass
class _Line:
    """A reporting line being reconciled (a mutable copy of the stored row)."""

    id: int
    manager_id: int
    valid_from: date
    valid_to: date | None

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to > day)


def _sync_reporting_lines(
    session: Session,
    subject: Subject,
    people: PeopleFile,
    ids: dict[str, int],
    new_employees: set[str],
    effective: date,
    summary: ImportSummary,
    records: list[AuditRecord],
) -> None:
    """Make reporting lines say what the file says, from ``effective`` on.

    The file describes who manages whom from ``effective`` until any later change already
    recorded (a future-dated move stands); history before ``effective`` is kept. A termination
    ends every line the day after the last day. The line in force on ``effective`` is kept when
    its manager agrees with the file, and otherwise closed there (or deleted when it starts that
    day), so an employee never has two managers on one day. Every change is audited.
    """
    history = queries.lines_by_employee(session)
    opened: list[dict[str, Any]] = []
    ended: dict[int, _Line] = {}
    deleted: dict[int, _Line] = {}
    for row in people.rows:
        employee_id = ids[row.employee_id]
        manager_id = ids[row.manager_id] if row.manager_id else None
        end = row.termination_date + timedelta(days=1) if row.termination_date else None
        lines = [
            _Line(ln.id, ln.manager_id, ln.valid_from, ln.valid_to)
            for ln in history.get(employee_id, [])
        ]
        if end is not None:  # nothing runs past the last day
            for line in lines:
                if line.valid_from >= end:
                    deleted[line.id] = line
                elif line.valid_to is None or line.valid_to > end:
                    line.valid_to, ended[line.id] = end, line
            lines = [line for line in lines if line.id not in deleted]
        in_force = next((line for line in lines if line.in_force_on(effective)), None)
        if in_force is not None and in_force.manager_id == manager_id:
            continue
        if in_force is not None:  # the manager changed or was removed
            if in_force.valid_from == effective:
                deleted[in_force.id] = in_force
                ended.pop(in_force.id, None)
            else:
                in_force.valid_to, ended[in_force.id] = effective, in_force
            summary.reporting_lines_closed += 1
        if manager_id is None:
            continue
        start = effective
        if row.employee_id in new_employees and row.hire_date is not None:
            start = row.hire_date  # a new employee's first line starts when they start
        elif row.hire_date is not None:
            start = max(start, row.hire_date)
        later = [line.valid_from for line in lines if line.valid_from > start]
        stop = min([*later, *([end] if end else [])], default=None)
        if stop is not None and stop <= start:
            continue  # left, or a recorded change begins, before this line would start
        opened.append(
            {
                "tenant_id": subject.tenant_id,
                "employee_id": employee_id,
                "manager_id": manager_id,
                "valid_from": start,
                "valid_to": stop,
            }
        )
    queries.delete_lines(session, list(deleted))
    queries.update_lines(session, [{"id": i, "valid_to": ln.valid_to} for i, ln in ended.items()])
    new_ids = queries.insert_lines(session, opened)
    summary.reporting_lines_opened = len(opened)
    records.extend(
        AuditRecord("reporting_line.delete", "reporting_line", i, asdict(line))
        for i, line in deleted.items()
    )
    records.extend(
        AuditRecord("reporting_line.end", "reporting_line", i, {"valid_to": line.valid_to})
        for i, line in ended.items()
    )
    records.extend(
        AuditRecord("reporting_line.open", "reporting_line", line_id, line)
        for line_id, line in zip(new_ids, opened, strict=True)
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
