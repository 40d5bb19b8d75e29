"""Every SQL statement of the evidence domain except the bulk signal writes (``store.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from meritline.clock import utcnow
from meritline.db.tenancy import session_tenant
from meritline.models import (
    AggregateBacklog,
    Connector,
    Employee,
    ExternalIdentity,
    IngestBatch,
    QuarantinedEvent,
    Signal,
    SignalDaily,
)

CHUNK = 900  # values per IN list (SQLite's default limit on variables is far above)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _upsert(session: Session) -> Any:
    """The backend's INSERT with ``on_conflict_do_nothing``/``do_update``."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# connectors


def insert_connector(session: Session, **values: Any) -> Connector:
    connector = Connector(**values)
    session.add(connector)
    session.flush()
    return connector


def connector_by_public_id(session: Session, public_id: str) -> Connector | None:
    return session.scalars(
        select(Connector).where(Connector.public_id == public_id, Connector.disabled_at.is_(None))
    ).one_or_none()


def list_connectors(session: Session) -> list[Connector]:
    return list(session.scalars(select(Connector).order_by(Connector.id)))


# identities


def employees_by_number(session: Session, numbers: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(numbers):
        rows = session.execute(
            select(Employee.employee_number, Employee.id).where(Employee.employee_number.in_(chunk))
        )
        found.update({number: id_ for number, id_ in rows})
    return found


def employees_by_email(session: Session, emails: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(emails):
        rows = session.execute(
            select(Employee.email, func.min(Employee.id))
            .where(Employee.email.in_(chunk))
            .group_by(Employee.email)
        )
        found.update({email: id_ for email, id_ in rows})
    return found


def identities(session: Session, kind: str, values: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(values):
        rows = session.execute(
            select(ExternalIdentity.value, ExternalIdentity.employee_id).where(
                ExternalIdentity.kind == kind, ExternalIdentity.value.in_(chunk)
            )
        )
        found.update({value: id_ for value, id_ in rows})
    return found


def upsert_identities(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert mappings, or point existing ones at the employee given."""
    if not rows:
        return
    statement = _upsert(session)(ExternalIdentity)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "kind", "value"],
        set_={"employee_id": statement.excluded.employee_id, "origin": statement.excluded.origin},
    )
    session.execute(statement, list(rows))


def all_identities(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(ExternalIdentity.kind, ExternalIdentity.value, ExternalIdentity.employee_id)
    )
    return {(kind, value): employee for kind, value, employee in rows}


def list_identities(session: Session, *, kind: str | None, limit: int) -> list[Any]:
    query = (
        select(ExternalIdentity, Employee.employee_number)
        .join(Employee, Employee.id == ExternalIdentity.employee_id)
        .order_by(ExternalIdentity.kind, ExternalIdentity.value)
        .limit(limit)
    )
    if kind:
        query = query.where(ExternalIdentity.kind == kind)
    return list(session.execute(query))


# batches


def insert_batch(session: Session, **values: Any) -> IngestBatch:
    batch = IngestBatch(**values)
    session.add(batch)
    session.flush()
    return batch


def claim_delivery(session: Session, **values: Any) -> int | None:
    """Insert the batch of a webhook delivery; ``None`` when the delivery was seen before.

    Concurrent deliveries with the same id wait on the unique key; all but one get ``None``.
    """
    tenant_id = session_tenant(session)
    statement = (
        _upsert(session)(IngestBatch)
        .on_conflict_do_nothing(index_elements=["tenant_id", "connector_id", "delivery_id"])
        .returning(IngestBatch.id)
    )
    row = {"tenant_id": tenant_id, "received_at": utcnow(), **values}
    for counter in ("events", "signals", "quarantined", "ignored", "duplicates"):
        row.setdefault(counter, 0)
    return session.execute(statement, row).scalar_one_or_none()


def count_duplicate_delivery(session: Session, *, connector_id: int, delivery_id: str) -> None:
    session.execute(
        update(IngestBatch)
        .where(IngestBatch.connector_id == connector_id, IngestBatch.delivery_id == delivery_id)
        .values(duplicates=IngestBatch.duplicates + 1)
    )


def update_batch(session: Session, batch_id: int, **values: Any) -> None:
    session.execute(update(IngestBatch).where(IngestBatch.id == batch_id).values(**values))


def batch_totals(session: Session) -> dict[str, int]:
    row = session.execute(
        select(
            func.coalesce(func.sum(IngestBatch.ignored), 0),
            func.coalesce(func.sum(IngestBatch.duplicates), 0),
        )
    ).one()
    return {"ignored": int(row[0]), "duplicates": int(row[1])}


# signals


def count_signals(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Signal)) or 0)


def signal_counts_by_source(session: Session) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(Signal.source, Signal.type, func.count())
        .group_by(Signal.source, Signal.type)
        .order_by(Signal.source, Signal.type)
    )
    return [(source, type_, int(n)) for source, type_, n in rows]


# quarantine


def quarantined_fingerprints(session: Session, fingerprints: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(fingerprints):
        found.update(
            session.scalars(
                select(QuarantinedEvent.fingerprint).where(QuarantinedEvent.fingerprint.in_(chunk))
            )
        )
    return found


def insert_quarantine(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        statement = _upsert(session)(QuarantinedEvent).on_conflict_do_nothing(
            index_elements=["tenant_id", "fingerprint"]
        )
        session.execute(statement, list(rows))


def quarantine_page(
    session: Session, *, status: str, reason_code: str | None, limit: int, offset: int
) -> tuple[int, list[QuarantinedEvent]]:
    where = [QuarantinedEvent.status == status]
    if reason_code:
        where.append(QuarantinedEvent.reason_code == reason_code)
    total = session.scalar(select(func.count()).select_from(QuarantinedEvent).where(*where))
    rows = session.scalars(
        select(QuarantinedEvent)
        .where(*where)
        .order_by(QuarantinedEvent.id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(rows)


def count_quarantine(session: Session, *, status: str = "open") -> int:
    query = select(func.count()).select_from(QuarantinedEvent)
    return int(session.scalar(query.where(QuarantinedEvent.status == status)) or 0)


def retryable(session: Session, *, after_id: int, limit: int) -> list[QuarantinedEvent]:
    """Open quarantined events that parsed (an unknown person), in id order, a page at a time."""
    return list(
        session.scalars(
            select(QuarantinedEvent)
            .where(
                QuarantinedEvent.status == "open",
                QuarantinedEvent.reason_code == "unknown_person",
                QuarantinedEvent.id > after_id,
            )
            .order_by(QuarantinedEvent.id)
            .limit(limit)
        )
    )


def mark_quarantine(session: Session, ids: Sequence[int], *, status: str) -> None:
    for chunk in _chunks(ids):
        session.execute(
            update(QuarantinedEvent)
            .where(QuarantinedEvent.id.in_(chunk))
            .values(status=status, resolved_at=utcnow())
        )


def discard_quarantine(session: Session, ids: Sequence[int]) -> int:
    result = session.execute(
        update(QuarantinedEvent)
        .where(QuarantinedEvent.id.in_(ids), QuarantinedEvent.status == "open")
        .values(status="discarded", resolved_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# aggregates


def queue_months(session: Session, months: Sequence[tuple[int, str, date]]) -> None:
    """Queue (employee id, signal type, first of month) for the rollup; queued ones stay."""
    tenant_id, now = session_tenant(session), utcnow()
    session.execute(
        _upsert(session)(AggregateBacklog).on_conflict_do_nothing(),
        [
            {"tenant_id": tenant_id, "employee_id": e, "type": t, "month": m, "queued_at": now}
            for e, t, m in months
        ],
    )


def backlog_size(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AggregateBacklog)) or 0)


#: PostgreSQL groups with a hash table, whose rows come out in no order; inserting them so into
#: the rollup's primary key touches a random leaf page per row once the index outgrows shared
#: buffers. Sorted first, each leaf page is filled in one visit: a year of 5M signals (4.2M
#: buckets) refreshes in 16 s instead of 36 s. SQLite's grouping already emits this order.
IN_KEY_ORDER = " ORDER BY 2, 3, 4"


def refresh_backlog(session: Session) -> tuple[int, int, int]:
    """Recompute the day buckets of the months queued in the backlog, and empty it.

    Returns (months refreshed, day buckets they hold, signals in them). The backlog rows are
    deleted first, in this transaction: an import that queues one of them meanwhile waits for
    this commit and then queues it again, so no change is ever lost between two refreshes.
    """
    tenant_id = session_tenant(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS refresh_keys (employee_id bigint, "
            "type varchar(64), month date, PRIMARY KEY (employee_id, type, month))"
            + (" ON COMMIT DROP" if postgres else "")
        )
    )
    session.execute(text("DELETE FROM refresh_keys"))
    if postgres:
        session.execute(
            text(
                "WITH claimed AS (DELETE FROM aggregate_backlog WHERE tenant_id = :t "
                "RETURNING employee_id, type, month) "
                "INSERT INTO refresh_keys SELECT employee_id, type, month FROM claimed"
            ),
            {"t": tenant_id},
        )
    else:
        session.execute(
            text(
                "INSERT INTO refresh_keys SELECT employee_id, type, month FROM aggregate_backlog "
                "WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        )
        session.execute(delete(AggregateBacklog))
    months = int(session.scalar(text("SELECT count(*) FROM refresh_keys")) or 0)
    if not months:
        return 0, 0, 0
    if postgres:
        # statistics for the planner, and room to sort a large backlog in memory
        session.execute(text("ANALYZE refresh_keys"))
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        day = "(s.occurred_at AT TIME ZONE 'UTC')::date"
        start = "k.month::timestamp AT TIME ZONE 'UTC'"
        end = "(k.month + interval '1 month') AT TIME ZONE 'UTC'"
        next_month = "(k.month + interval '1 month')::date"
        # the month as a join key too, so a hash join matches (employee, type, month) at once
        same_month = f"AND k.month = date_trunc('month', {day})::date "
    else:
        day, start = "date(s.occurred_at)", "k.month"
        end = next_month = "date(k.month, '+1 month')"
        same_month = ""
    session.execute(
        text(
            "DELETE FROM signal_daily WHERE tenant_id = :t AND EXISTS (SELECT 1 FROM refresh_keys "  # noqa: S608
            "k WHERE k.employee_id = signal_daily.employee_id AND k.type = signal_daily.type "
            f"AND signal_daily.day >= k.month AND signal_daily.day < {next_month})"
        ),
        {"t": tenant_id},
    )
    insert = (
        "INSERT INTO signal_daily (tenant_id, employee_id, type, day, count, total) "  # noqa: S608
        f"SELECT :t, s.employee_id, s.type, {day}, count(*), sum(s.value) "
        # CROSS JOIN: SQLite keeps this order (each key, then the signal index range)
        "FROM refresh_keys k CROSS JOIN signal s WHERE s.tenant_id = :t "
        "AND s.employee_id = k.employee_id AND s.type = k.type "
        f"AND s.occurred_at >= {start} AND s.occurred_at < {end} {same_month}"
        f"GROUP BY s.employee_id, s.type, {day}"
    )
    if postgres:  # count what was written as it is written
        insert += IN_KEY_ORDER
        counted = (
            f"WITH written AS ({insert} RETURNING count) SELECT count(*), sum(count) FROM written"  # noqa: S608
        )
        buckets, signals = session.execute(text(counted), {"t": tenant_id}).one()
        return months, int(buckets), int(signals or 0)
    # SQLite gives an inserted row the rowid after the table's largest (this transaction holds
    # the one write lock), so the rows just written are those above it: counted in one range
    # read rather than by joining the keys to the rollup again (12 s for a year of 5M signals)
    before = session.scalar(text("SELECT coalesce(max(rowid), 0) FROM signal_daily"))
    session.execute(text(insert), {"t": tenant_id})
    buckets, signals = session.execute(
        text(
            "SELECT count(*), coalesce(sum(count), 0) FROM signal_daily "
            "WHERE rowid > :before AND tenant_id = :t"
        ),
        {"t": tenant_id, "before": before},
    ).one()
    return months, int(buckets), int(signals)


def rebuild_daily(session: Session) -> tuple[int, int, int]:
    """Recompute every day bucket of the tenant from scratch; returns (employee-type months,
    day buckets, signals).
    """
    tenant_id = session_tenant(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    session.execute(delete(SignalDaily))
    session.execute(delete(AggregateBacklog))
    day = "(occurred_at AT TIME ZONE 'UTC')::date" if postgres else "date(occurred_at)"
    session.execute(
        text(
            "INSERT INTO signal_daily (tenant_id, employee_id, type, day, count, total) "  # noqa: S608
            f"SELECT tenant_id, employee_id, type, {day}, count(*), sum(value) FROM signal "
            f"WHERE tenant_id = :t GROUP BY tenant_id, employee_id, type, {day}"
            + (IN_KEY_ORDER if postgres else "")
        ),
        {"t": tenant_id},
    )
    month = "date_trunc('month', day)" if postgres else "strftime('%Y-%m', day)"
    months, buckets, signals = session.execute(
        text(
            "SELECT count(*), coalesce(sum(buckets), 0), coalesce(sum(signals), 0) FROM "  # noqa: S608
            "(SELECT count(*) AS buckets, sum(count) AS signals FROM signal_daily "
            f"WHERE tenant_id = :t GROUP BY employee_id, type, {month}) m"
        ),
        {"t": tenant_id},
    ).one()
    return int(months), int(buckets), int(signals)


def window_totals(
    session: Session,
    windows: dict[str, tuple[date, date]],
    *,
    employee_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Per employee and type, the count and sum of each named ``[start, end]`` day window."""
    earliest = min(start for start, _ in windows.values())
    latest = max(end for _, end in windows.values())
    columns: list[Any] = [SignalDaily.employee_id, SignalDaily.type]
    for name, (start, end) in windows.items():
        inside = and_(SignalDaily.day >= start, SignalDaily.day <= end)
        columns.append(func.sum(_when(inside, SignalDaily.count)).label(f"{name}_count"))
        columns.append(func.sum(_when(inside, SignalDaily.total)).label(f"{name}_total"))
    query: Select[Any] = (
        select(*columns)
        .where(SignalDaily.day >= earliest, SignalDaily.day <= latest)
        .group_by(SignalDaily.employee_id, SignalDaily.type)
        .order_by(SignalDaily.employee_id, SignalDaily.type)
    )
    if employee_ids is not None:
        query = query.where(or_(*(SignalDaily.employee_id.in_(c) for c in _chunks(employee_ids))))
    return [dict(row._mapping) for row in session.execute(query)]


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=0)
