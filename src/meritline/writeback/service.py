"""Writeback use cases: destinations, and outcomes into the outbox in the caller's transaction.

``enqueue`` is called by the decision that produced the outcomes (finalising a cycle), inside
its transaction: the outcome and the decision commit together or not at all, and a delivery
row per matching destination waits for ``meritline outbox deliver``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from meritline import crypto
from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.config import Settings
from meritline.errors import Conflict
from meritline.models import OutboxDelivery, OutboxEvent, WritebackDestination
from meritline.writeback import queries
from meritline.writeback.destinations.base import destination_class
from meritline.writeback.schemas import Destination, DestinationCreate, OutboxStatus, Outcome


def add_destination(
    session: Session, subject: Subject, data: DestinationCreate, *, settings: Settings
) -> Destination:
    """Add a destination; its secret is stored encrypted, never shown again."""
    require_role(subject, "admin")
    destination_class(data.type).check(data.target, data.secret)
    if queries.destination_by_name(session, data.name) is not None:
        raise Conflict(f"A destination named {data.name!r} exists already.")
    row = WritebackDestination(
        tenant_id=subject.tenant_id,
        name=data.name,
        type=data.type,
        target=data.target,
        secret_ciphertext=None if data.secret is None else crypto.encrypt(settings, data.secret),
        topics=list(data.topics),
        active=True,
    )
    queries.add_all(session, [row])
    audit.record(
        session,
        subject,
        AuditRecord(
            "writeback.destination.add",
            "writeback_destination",
            row.id,
            {"name": data.name, "type": data.type, "topics": list(data.topics)},
        ),
    )
    return _read(row)


def list_destinations(session: Session, subject: Subject) -> list[Destination]:
    """Every destination (never a secret)."""
    require_role(subject, "admin")
    return [_read(d) for d in queries.destinations(session)]


def enqueue(session: Session, subject: Subject, outcomes: Sequence[Outcome]) -> int:
    """Put outcomes in the outbox, with a delivery to each active destination that takes their
    topic; an outcome whose key is there already is not added again. Returns how many were new.
    """
    known = queries.existing_keys(session, [o.idempotency_key for o in outcomes])
    # one outcome per key, the last given winning, and none the outbox holds already
    unique = {o.idempotency_key: o for o in outcomes}
    fresh = [o for key, o in unique.items() if key not in known]
    events = [
        OutboxEvent(
            tenant_id=subject.tenant_id,
            topic=o.topic,
            idempotency_key=o.idempotency_key,
            payload=o.payload,
        )
        for o in fresh
    ]
    queries.add_all(session, events)
    targets = queries.destinations(session, active_only=True)
    queries.add_all(
        session,
        [
            OutboxDelivery(
                tenant_id=subject.tenant_id, event_id=e.id, destination_id=d.id, status="pending"
            )
            for e in events
            for d in targets
            if not d.topics or e.topic in d.topics
        ],
    )
    return len(events)


def status(session: Session, subject: Subject) -> OutboxStatus:
    """Events and deliveries by state, and what was given up on."""
    require_role(subject, "admin")
    events, by_status, upcoming = queries.counts(session)
    return OutboxStatus(
        events=events,
        deliveries={s: by_status.get(s, 0) for s in ("pending", "delivered", "dead")},
        next_attempt_at=upcoming,
        dead=[f"{e.idempotency_key}: {d.last_error}" for d, e in queries.dead(session)],
    )


def _read(row: WritebackDestination) -> Destination:
    return Destination(
        id=row.id,
        name=row.name,
        type=row.type,
        target=row.target,
        topics=list(row.topics),
        active=row.active,
        created_at=row.created_at,
    )
