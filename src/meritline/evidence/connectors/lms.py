"""Learning-management exports: course completions.

CSV columns: the person (``employee_id`` or ``email``), ``course_id``, ``completed_at`` (a date
or an ISO time), and optionally ``course`` (its name), ``hours`` and ``score``. Each row is a
``course_completed`` signal whose value is the hours when given, else 1::

    email,course_id,course,completed_at,hours,score
    ana@acme.example,SEC-101,Secure coding,2026-02-11,3.5,92
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from meritline.evidence.connectors.files import FileConnector, FileRecord
from meritline.evidence.connectors.tabular import (
    RowProblem,
    csv_rows,
    header_columns,
    number,
    person,
    records,
    required,
)
from meritline.evidence.connectors.tabular import timestamp as parse_time
from meritline.evidence.signals import SignalDraft


class LmsCsvConnector(FileConnector):
    """Course completions from an LMS export."""

    type = "lms_csv"
    description = "LMS course completions, CSV: employee_id|email,course_id,completed_at,..."
    suffixes = (".csv",)

    @classmethod
    def recognises(cls, path: Path, first_line: str) -> bool:
        """A CSV header with ``course_id`` and ``completed_at``."""
        columns = header_columns(first_line)
        return path.suffix.lower() == ".csv" and {"course_id", "completed_at"} <= columns

    def read(self, path: Path) -> Iterator[FileRecord]:
        """Stream course completions and rejected rows."""
        return records(csv_rows(path), completion)


def completion(row: dict[str, Any]) -> list[SignalDraft]:
    """One completion row as its signal."""
    who = person(row)
    course_id = required(row, "course_id")
    completed = parse_time(row.get("completed_at"), "completed_at")
    hours = number(row.get("hours"), "hours", default=1.0)
    if hours < 0:
        raise RowProblem("hours cannot be negative")
    attributes: dict[str, object] = {"course_id": course_id}
    if row.get("course"):
        attributes["course"] = row["course"]
    if row.get("score"):
        attributes["score"] = number(row["score"], "score")
    key = f"lms:{who.kind}:{who.value}:{course_id}:{completed.date()}"
    return [SignalDraft("lms", "course_completed", who, completed, key, hours, attributes)]
