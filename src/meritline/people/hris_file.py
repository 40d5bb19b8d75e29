"""Read and validate an HRIS people export (CSV) without touching the database.

Checks every row before anything is written: required fields, e-mail syntax, ISO dates,
plausible birth years, duplicate ids and e-mails. Checks that need the database (unknown
managers, cycles through existing people) are in the service.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from meritline.clock import utctoday
from meritline.people.schemas import PeopleFile, PersonRow, RowError

REQUIRED_COLUMNS = ("employee_id", "name", "email")
OPTIONAL_COLUMNS = (
    "manager_id",
    "department",
    "job_family",
    "level",
    "location",
    "hire_date",
    "termination_date",
)
#: Protected characteristics recognised by name; any ``sensitive_<name>`` column is one too.
SENSITIVE_COLUMNS = (
    "gender",
    "ethnicity",
    "birth_year",
    "age_band",
    "disability",
    "veteran_status",
    "sexual_orientation",
    "religion",
)
SENSITIVE_PREFIX = "sensitive_"
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEPARTMENT_SEPARATOR = "/"
MAX_FIELD_LENGTH = {"employee_id": 64, "name": 200, "email": 320, "level": 50, "location": 100}


def normalise_column(name: str) -> str:
    """``"Hire Date "`` -> ``"hire_date"``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def normalise_department(path: str) -> str:
    """Tidy a department path: ``" Eng / Platform "`` -> ``"Eng/Platform"``."""
    parts = [part.strip() for part in path.split(DEPARTMENT_SEPARATOR)]
    return DEPARTMENT_SEPARATOR.join(part for part in parts if part)


def read_people_file(path: Path) -> PeopleFile:
    """Parse and validate a people CSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return _file_error(f"file not found: {path}")
    except UnicodeDecodeError as exc:
        return _file_error(f"not UTF-8 text ({exc.reason} at byte {exc.start}); export as UTF-8")
    return parse_people_csv(text)


def parse_people_csv(text: str) -> PeopleFile:
    """Parse and validate people CSV text (the whole file is checked; nothing stops early)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return _file_error("the file is empty; expected a header line")
    except csv.Error as exc:
        return _file_error(f"unreadable CSV: {exc}")
    columns = [normalise_column(c) for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if missing or duplicated:
        reasons = []
        if missing:
            reasons.append(f"missing required column(s): {', '.join(missing)}")
        if duplicated:
            reasons.append(f"repeated column(s): {', '.join(duplicated)}")
        return _file_error("; ".join(reasons), columns=columns)
    sensitive = [c for c in columns if c in SENSITIVE_COLUMNS or c.startswith(SENSITIVE_PREFIX)]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(sensitive)
    unknown = [c for c in columns if c not in known and c]

    rows: list[PersonRow] = []
    errors: list[RowError] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, tuple[int, str]] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(field.strip() for field in record):
                continue
            if len(record) != len(columns):
                errors.append(
                    RowError(
                        line=line,
                        employee_id=record[0].strip() if record else None,
                        reason=f"has {len(record)} fields, the header has {len(columns)}",
                    )
                )
                continue
            values = {c: v.strip() for c, v in zip(columns, record, strict=True) if c in known}
            row, row_errors = _validate_row(line, values, sensitive)
            errors.extend(row_errors)
            if row is None:
                continue
            if row.employee_id in seen_ids:
                errors.append(
                    RowError(
                        line=line,
                        employee_id=row.employee_id,
                        reason=f"duplicate employee_id (first on line {seen_ids[row.employee_id]})",
                    )
                )
                continue
            if row.email in seen_emails:
                first_line, first_id = seen_emails[row.email]
                errors.append(
                    RowError(
                        line=line,
                        employee_id=row.employee_id,
                        reason=f"e-mail {row.email} is also {first_id}'s (line {first_line})",
                    )
                )
                continue
            seen_ids[row.employee_id] = line
            seen_emails[row.email] = (line, row.employee_id)
            rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(line=reader.line_num, employee_id=None, reason=f"bad CSV: {exc}"))
    if not rows and not errors:
        errors.append(RowError(line=1, employee_id=None, reason="the file has no data rows"))
    return PeopleFile(
        rows=rows,
        columns=columns,
        unknown_columns=unknown,
        sensitive_columns=sensitive,
        errors=errors,
    )


def _validate_row(
    line: int, values: dict[str, str], sensitive: list[str]
) -> tuple[PersonRow | None, list[RowError]]:
    employee_id = values.get("employee_id") or None
    problems: list[str] = []
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            problems.append(f"missing {column}")
    for column, limit in MAX_FIELD_LENGTH.items():
        if len(values.get(column, "")) > limit:
            problems.append(f"{column} longer than {limit} characters")
    email = values.get("email", "").lower()
    if email and not EMAIL_PATTERN.match(email):
        problems.append(f"bad e-mail {values['email']!r}")
    dates: dict[str, date | None] = {}
    for column in ("hire_date", "termination_date"):
        raw = values.get(column, "")
        try:
            dates[column] = date.fromisoformat(raw) if raw else None
        except ValueError:
            problems.append(f"bad {column} {raw!r} (expected YYYY-MM-DD)")
    hired, left = dates.get("hire_date"), dates.get("termination_date")
    if hired and left and left < hired:
        problems.append("termination_date is before hire_date")
    manager_id = values.get("manager_id") or None
    if manager_id is not None and manager_id == employee_id:
        problems.append("is their own manager (a cycle in the manager chain)")
    birth_year = values.get("birth_year", "")
    if birth_year and not (birth_year.isdigit() and 1900 <= int(birth_year) <= utctoday().year):
        problems.append(f"bad birth_year {birth_year!r} (expected a year such as 1985)")
    if problems:
        return None, [RowError(line=line, employee_id=employee_id, reason=p) for p in problems]
    department = normalise_department(values.get("department", ""))
    try:
        row = PersonRow(
            line=line,
            employee_id=values["employee_id"],
            name=values["name"],
            email=email,
            manager_id=manager_id,
            department=department or None,
            job_family=values.get("job_family") or None,
            level=values.get("level") or None,
            location=values.get("location") or None,
            hire_date=hired,
            termination_date=left,
            sensitive={
                column.removeprefix(SENSITIVE_PREFIX): values.get(column) or None
                for column in sensitive
            },
        )
    except ValidationError as exc:
        reason = "; ".join(error["msg"] for error in exc.errors())
        return None, [RowError(line=line, employee_id=employee_id, reason=reason)]
    return row, []


def _file_error(reason: str, *, columns: list[str] | None = None) -> PeopleFile:
    return PeopleFile(
        rows=[],
        columns=columns or [],
        unknown_columns=[],
        sensitive_columns=[],
        errors=[RowError(line=1, employee_id=None, reason=reason)],
    )
