"""Rolling windows of evidence per employee and signal type, as of a date.

Two layers, both set-based SQL:

* ``signal_daily`` holds each employee's count and sum per signal type and UTC day. Ingestion
  queues the (employee, type, month) it touches in ``aggregate_backlog`` in the same
  transaction as the signals; ``refresh`` recomputes the day buckets of those months only. This
  backlog is the watermark: unlike a "last signal id seen", it cannot skip a late or
  concurrently committed signal (sequence values on PostgreSQL commit out of order), and a
  signal dated last March lands in last March's bucket whenever it arrives.
* Windows (7, 30, 90 and 365 days, quarter and year to date) are sums over day buckets, for any
  as-of date, in one grouped query.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.evidence import queries
from meritline.evidence.schemas import AggregateRefresh, WindowRow, WindowsReport
from meritline.people import queries as people_queries

ROLLING_DAYS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
WINDOW_NAMES = (*ROLLING_DAYS, "qtd", "ytd")


def windows_as_of(as_of: date) -> dict[str, tuple[date, date]]:
    """The inclusive day range of each window ending on ``as_of``.

    >>> windows_as_of(date(2026, 5, 10))["qtd"]
    (datetime.date(2026, 4, 1), datetime.date(2026, 5, 10))
    """
    ranges = {name: (as_of - timedelta(days=n - 1), as_of) for name, n in ROLLING_DAYS.items()}
    quarter_start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    ranges["qtd"] = (quarter_start, as_of)
    ranges["ytd"] = (date(as_of.year, 1, 1), as_of)
    return ranges


def refresh(session: Session, subject: Subject, *, full: bool = False) -> AggregateRefresh:
    """Bring the daily rollup up to date: the queued months only, or (``full``) everything."""
    require_role(subject, "admin")
    if full:
        months, buckets, signals = queries.rebuild_daily(session)
        result = AggregateRefresh(
            mode="full", months=months, buckets=buckets, signals=signals, backlog_left=0
        )
    else:
        months, buckets, signals = queries.refresh_backlog(session)
        result = AggregateRefresh(
            mode="incremental",
            months=months,
            buckets=buckets,
            signals=signals,
            backlog_left=queries.backlog_size(session),
        )
    audit.record(
        session,
        subject,
        AuditRecord("aggregates.refreshed", "signal_daily", None, result.model_dump()),
    )
    return result


def windows(
    session: Session,
    subject: Subject,
    *,
    as_of: date,
    employee_number: str | None = None,
) -> WindowsReport:
    """Every employee's (or one employee's) totals per signal type over the standard windows."""
    require_role(subject, "admin", "people_analyst")
    ranges = windows_as_of(as_of)
    employee_ids = None
    if employee_number is not None:
        found = queries.employees_by_number(session, [employee_number])
        employee_ids = list(found.values())
    rows = queries.window_totals(session, ranges, employee_ids=employee_ids)
    numbers = {e.id: e.employee_number for e in people_queries.all_employees(session).values()}
    return WindowsReport(
        as_of=as_of,
        windows=ranges,
        rows=[
            WindowRow(
                employee_id=numbers.get(row["employee_id"], str(row["employee_id"])),
                type=row["type"],
                windows={
                    name: {
                        "count": float(row[f"{name}_count"] or 0),
                        "total": float(row[f"{name}_total"] or 0),
                    }
                    for name in WINDOW_NAMES
                },
            )
            for row in rows
        ],
    )
