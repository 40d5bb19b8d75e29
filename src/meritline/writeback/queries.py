"""SQL for the outbox: events, destinations and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meritline.models import OutboxDelivery, OutboxEvent, WritebackDestination


def add_all(session: Session, rows: Sequence[object]) -> None:
    """Insert rows."""
    session.add_all(rows)
    session.flush()


def destinations(session: Session, *, active_only: bool = False) -> Sequence[WritebackDestination]:
    """The tenant's destinations."""
    query = select(WritebackDestination).order_by(WritebackDestination.id)
    if active_only:
        query = query.where(WritebackDestination.active.is_(True))
    return session.scalars(query).all()


def destination_by_name(session: Session, name: str) -> WritebackDestination | None:
    """One destination."""
    return session.scalars(
        select(WritebackDestination).where(WritebackDestination.name == name)
    ).first()


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys are in the outbox already."""
    if not keys:
        return set()
    return set(
        session.scalars(
            select(OutboxEvent.idempotency_key).where(OutboxEvent.idempotency_key.in_(list(keys)))
        )
    )


def due(
    session: Session, now: datetime, *, limit: int
) -> Sequence[tuple[OutboxDelivery, OutboxEvent]]:
    """Pending deliveries whose next attempt is due, oldest event first, locked for this
    transaction on PostgreSQL (a concurrent deliverer skips them).
    """
    query = (
        select(OutboxDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .where(OutboxDelivery.status == "pending", OutboxDelivery.next_attempt_at <= now)
        .order_by(OutboxDelivery.destination_id, OutboxEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=OutboxDelivery, skip_locked=True)
    return [(d, e) for d, e in session.execute(query)]


def delivered_events(session: Session, destination_id: int) -> Sequence[OutboxEvent]:
    """Every event already delivered to a destination, oldest first."""
    return session.scalars(
        select(OutboxEvent)
        .join(OutboxDelivery, OutboxDelivery.event_id == OutboxEvent.id)
        .where(
            OutboxDelivery.destination_id == destination_id, OutboxDelivery.status == "delivered"
        )
        .order_by(OutboxEvent.id)
    ).all()


def deliveries_by_id(session: Session, ids: Sequence[int]) -> Sequence[OutboxDelivery]:
    """Deliveries by id, locked for this transaction on PostgreSQL (recording them)."""
    query = select(OutboxDelivery).where(OutboxDelivery.id.in_(list(ids)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).all()


def counts(session: Session) -> tuple[int, dict[str, int], datetime | None]:
    """(events, deliveries by status, the next pending attempt)."""
    events = int(session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)
    rows = session.execute(
        select(OutboxDelivery.status, func.count()).group_by(OutboxDelivery.status)
    )
    by_status = {status: count for status, count in rows}
    upcoming = session.scalar(
        select(func.min(OutboxDelivery.next_attempt_at)).where(OutboxDelivery.status == "pending")
    )
    return events, {k: int(v) for k, v in by_status.items()}, upcoming


def dead(session: Session) -> Sequence[tuple[OutboxDelivery, OutboxEvent]]:
    """Deliveries given up on, with their events."""
    return session.execute(
        select(OutboxDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .where(OutboxDelivery.status == "dead")
        .order_by(OutboxDelivery.id)
    ).all()
