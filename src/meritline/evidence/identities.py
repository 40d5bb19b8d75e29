"""Identity resolution set-up: which work-tool account belongs to which employee.

Mapping file (CSV): ``employee_id,kind,value`` per line, for instance
``E0042,github,ana-garcia`` or ``E0042,jira,5b10ac8d82e05b22cc7d4ef5``. The whole file is
checked first; on any problem nothing is written and every bad line is listed.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utcnow
from meritline.errors import InvalidInput
from meritline.evidence import queries
from meritline.evidence.frames import normalise_accounts
from meritline.evidence.schemas import IdentityImportSummary
from meritline.people.schemas import RowError

KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
COLUMNS = ("employee_id", "kind", "value")


def _normalised(kind: str, value: str) -> tuple[str, str]:
    frame = pl.DataFrame(
        {"account_kind": [kind], "account_value": [value], "account_email": [None]},
        schema={"account_kind": pl.String, "account_value": pl.String, "account_email": pl.String},
    )
    row = normalise_accounts(frame).row(0)
    return str(row[0]), str(row[1])


def parse_mapping_csv(text: str) -> list[tuple[int, str, str, str]]:
    """(line, employee number, kind, value) per row; ``InvalidInput`` listing every bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [c.strip().lower() for c in next(reader, [])]
    if tuple(header[:3]) != COLUMNS:
        raise InvalidInput(f"The mapping file must start with the header {','.join(COLUMNS)}.")
    rows: list[tuple[int, str, str, str]] = []
    errors: list[RowError] = []
    for line, record in enumerate(reader, start=2):
        if not any(field.strip() for field in record):
            continue
        cells = [field.strip() for field in record] + ["", "", ""]
        number, kind, value = cells[0], cells[1].lower(), cells[2]
        problem = None
        if not number:
            problem = "missing employee_id"
        elif not KIND.match(kind):
            problem = f"bad kind {kind!r} (e.g. github, jira, email, calendar)"
        elif not value or len(value) > 320:
            problem = "missing value" if not value else "value longer than 320 characters"
        if problem:
            errors.append(RowError(line=line, employee_id=number or None, reason=problem))
            continue
        kind, value = _normalised(kind, value)
        rows.append((line, number, kind, value))
    seen: dict[tuple[str, str], int] = {}
    for line, number, kind, value in rows:
        first = seen.setdefault((kind, value), line)
        if first != line:
            errors.append(
                RowError(
                    line=line,
                    employee_id=number,
                    reason=f"{kind} {value!r} is mapped twice (first on line {first})",
                )
            )
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s) in the mapping file; nothing was imported.", errors=errors
        )
    return rows


def import_mappings(
    session: Session, subject: Subject, rows: list[tuple[int, str, str, str]], *, origin: str
) -> IdentityImportSummary:
    """Record mappings (replacing an account's previous owner); unknown employees refuse all."""
    require_role(subject, "admin")
    numbers = sorted({number for _, number, _, _ in rows})
    employees = queries.employees_by_number(session, numbers)
    errors = [
        RowError(line=line, employee_id=number, reason=f"no employee {number}")
        for line, number, _, _ in rows
        if number not in employees
    ]
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s) in the mappings; nothing was imported.", errors=errors
        )
    now = utcnow()
    queries.upsert_identities(
        session,
        [
            {
                "tenant_id": subject.tenant_id,
                "kind": kind,
                "value": value,
                "employee_id": employees[number],
                "origin": origin,
                "created_at": now,
            }
            for _, number, kind, value in rows
        ],
    )
    audit.record(
        session,
        subject,
        AuditRecord("identities.mapped", "external_identity", None, {"mappings": len(rows)}),
    )
    return IdentityImportSummary(mappings=len(rows), created_or_updated=len(rows))


def add_mapping(
    session: Session, subject: Subject, *, kind: str, value: str, employee_number: str
) -> IdentityImportSummary:
    """Map one account to one employee."""
    text = f"{','.join(COLUMNS)}\n" + _csv_line(employee_number, kind, value)
    return import_mappings(session, subject, parse_mapping_csv(text), origin="manual")


def import_file(session: Session, subject: Subject, path: Path) -> IdentityImportSummary:
    """Import a mapping file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Cannot read {path}: {exc}.") from None
    return import_mappings(session, subject, parse_mapping_csv(text), origin="import")


def _csv_line(*cells: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()
