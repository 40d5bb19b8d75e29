"""Learning-management exports: course completions.

CSV columns: the person (``employee_id`` or ``email``), ``course_id``, ``completed_at`` (a date
or an ISO time), and optionally ``course`` (its name), ``hours`` and ``score``. Each row is a
``course_completed`` signal whose value is the hours when given, else 1::

    email,course_id,course,completed_at,hours,score
    ana@acme.example,SEC-101,Secure coding,2026-02-11,3.5,92
"""

from __future__ import annotations

from typing import Any

from meritline.evidence.connectors.files import CsvFileConnector
from meritline.evidence.connectors.tabular import (
    RowProblem,
    number,
    person,
    required,
)
from meritline.evidence.connectors.tabular import timestamp as parse_time
from meritline.evidence.signals import SignalDraft


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


class LmsCsvConnector(CsvFileConnector):
    """Course completions from an LMS export."""

    type = "lms_csv"
    description = "LMS course completions, CSV: employee_id|email,course_id,completed_at,..."
    required_columns = frozenset({"course_id", "completed_at"})
    convert = staticmethod(completion)
