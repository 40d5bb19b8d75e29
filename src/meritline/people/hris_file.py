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
from meritline.errors import InvalidInput
from meritline.models import Employee, OrgUnit, SensitiveAttribute
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
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
YEAR_PATTERN = re.compile(r"^[0-9]{4}$")
DEPARTMENT_SEPARATOR = "/"
DELIMITERS = (",", ";", "\t", "|")


def _length(column: object) -> int:
    length = getattr(getattr(column, "type", None), "length", None)
    assert isinstance(length, int)
    return length


#: Longest value each column may hold, read from the tables that store them.
MAX_FIELD_LENGTH = {
    "employee_id": _length(Employee.employee_number),
    "name": _length(Employee.name),
    "email": _length(Employee.email),
    "job_family": _length(Employee.job_family),
    "level": _length(Employee.level),
    "location": _length(Employee.location),
    "department": _length(OrgUnit.path),
}
MAX_DEPARTMENT_PART = _length(OrgUnit.name)
MAX_SENSITIVE_VALUE = _length(SensitiveAttribute.value)
MAX_ATTRIBUTE_NAME = _length(SensitiveAttribute.attribute)


def normalise_column(name: str) -> str:
    """``"Hire Date "`` -> ``"hire_date"``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def normalise_department(path: str) -> str:
    """Tidy a department path: ``" Eng / Platform "`` -> ``"Eng/Platform"``."""
    parts = [part.strip() for part in path.split(DEPARTMENT_SEPARATOR)]
    return DEPARTMENT_SEPARATOR.join(part for part in parts if part)


def read_people_file(path: Path) -> PeopleFile:
    """Parse and validate a people CSV file; ``InvalidInput`` when it cannot be read at all."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give the CSV file inside it.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"No such file: {path}.") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); export it as UTF-8."
        ) from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}.") from None
    return parse_people_csv(text)


def sniff_delimiter(header_line: str) -> str:
    """The delimiter a header uses: comma, semicolon (spreadsheet exports), tab or pipe."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_people_csv(text: str) -> PeopleFile:
    """Parse and validate people CSV text (the whole file is checked; nothing stops early)."""
    text = text.removeprefix("\ufeff")
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return _file_error("the file is empty; expected a header line")
    except csv.Error as exc:
        return _file_error(f"unreadable CSV: {exc}")
    columns = [normalise_column(c) or f"(column {i})" for i, c in enumerate(header, 1)]
    sensitive = [
        c
        for c in columns
        if c in SENSITIVE_COLUMNS or (c.startswith(SENSITIVE_PREFIX) and c != SENSITIVE_PREFIX)
    ]
    attribute_of = {c: c.removeprefix(SENSITIVE_PREFIX) for c in sensitive}
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    duplicated += sorted(
        f"{a} (as {' and '.join(c for c in sensitive if attribute_of[c] == a)})"
        for a in set(attribute_of.values())
        if list(attribute_of.values()).count(a) > 1
    )
    too_long = [a for a in attribute_of.values() if len(a) > MAX_ATTRIBUTE_NAME]
    if missing or duplicated or too_long:
        reasons = []
        if missing:
            hint = " (is it comma-separated?)" if len(columns) == 1 else ""
            reasons.append(f"missing required column(s): {', '.join(missing)}{hint}")
        if duplicated:
            reasons.append(f"repeated column(s): {', '.join(duplicated)}")
        if too_long:
            reasons.append(
                f"column name(s) longer than {MAX_ATTRIBUTE_NAME}: {', '.join(too_long)}"
            )
        return _file_error("; ".join(reasons), columns=columns)
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(sensitive)
    unknown = [c for c in columns if c not in known]

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
    if any("\x00" in value for value in values.values()):
        problems.append("contains a NUL character")
    for column, limit in MAX_FIELD_LENGTH.items():
        if len(values.get(column, "")) > limit:
            problems.append(f"{column} longer than {limit} characters")
    for part in values.get("department", "").split(DEPARTMENT_SEPARATOR):
        if len(part.strip()) > MAX_DEPARTMENT_PART:
            problems.append(f"a department name is longer than {MAX_DEPARTMENT_PART} characters")
    for column in sensitive:
        if len(values.get(column, "")) > MAX_SENSITIVE_VALUE:
            problems.append(f"{column} longer than {MAX_SENSITIVE_VALUE} characters")
    email = values.get("email", "").lower()
    if email and not EMAIL_PATTERN.match(email):
        problems.append(f"bad e-mail {values['email']!r}")
    dates: dict[str, date | None] = {}
    for column in ("hire_date", "termination_date"):
        raw = values.get(column, "")
        try:
            if raw and not DATE_PATTERN.match(raw):
                raise ValueError(raw)
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
    if birth_year and not (
        YEAR_PATTERN.match(birth_year) and 1900 <= int(birth_year) <= utctoday().year
    ):
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
