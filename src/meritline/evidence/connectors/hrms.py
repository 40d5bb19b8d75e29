"""HRMS attendance and leave exports.

CSV columns: the person (``employee_id`` or ``email``), ``date``, ``kind`` (``leave`` or
``absence``), and optionally ``leave_type`` (annual, sick, parental, ...) and ``days`` (default
1; 0.5 for half a day). ``leave`` rows become ``leave_day`` signals and ``absence`` rows
``absence_day`` signals, valued in days::

    employee_id,date,kind,leave_type,days
    E0042,2026-04-06,leave,parental,1

Protected leave (parental, maternity, paternity, adoption, medical, sick), whether filed as
leave or as absence, becomes a ``protected_leave_day`` signal instead, also marked
``protected: true``: a type of its own, so no scoring metric can count it against anyone by
reading ``leave_day`` or ``absence_day``.
"""

from __future__ import annotations

from typing import Any

from meritline.evidence.connectors.files import CsvFileConnector
from meritline.evidence.connectors.tabular import (
    RowProblem,
    number,
    person,
)
from meritline.evidence.connectors.tabular import timestamp as parse_time
from meritline.evidence.signals import SignalDraft

PROTECTED_LEAVE = frozenset({"parental", "maternity", "paternity", "adoption", "medical", "sick"})
KINDS = {"leave": "leave_day", "absence": "absence_day"}
PROTECTED_TYPE = "protected_leave_day"


def leave_signal_type(kind: str, leave_type: str | None) -> str:
    """The signal type of a day off: protected leave has its own, whatever the kind.

    >>> leave_signal_type("absence", "sick"), leave_signal_type("absence", None)
    ('protected_leave_day', 'absence_day')
    """
    return PROTECTED_TYPE if leave_type in PROTECTED_LEAVE else KINDS[kind]


def leave_or_absence(row: dict[str, Any]) -> list[SignalDraft]:
    """One leave or absence row as its signal."""
    who = person(row)
    day = parse_time(row.get("date"), "date")
    kind = str(row.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise RowProblem(f"bad kind {row.get('kind')!r} (leave or absence)")
    days = number(row.get("days"), "days", default=1.0)
    if not 0 < days <= 1:
        raise RowProblem("days must be more than 0 and at most 1 per row")
    leave_type = str(row.get("leave_type") or "").strip().lower() or None
    attributes = {"leave_type": leave_type, "protected": leave_type in PROTECTED_LEAVE}
    key = f"hrms:{who.kind}:{who.value}:{day.date()}:{kind}:{leave_type or ''}"
    signal_type = leave_signal_type(kind, leave_type)
    return [SignalDraft("hrms", signal_type, who, day, key, days, attributes)]


class HrmsCsvConnector(CsvFileConnector):
    """Leave and absence days from an HRMS export."""

    type = "hrms_csv"
    description = "HRMS leave and absence, CSV: employee_id|email,date,kind,leave_type,days"
    required_columns = frozenset({"date", "kind"})
    convert = staticmethod(leave_or_absence)
