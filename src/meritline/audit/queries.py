"""SQL for the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meritline.audit.chain import Link, StoredEvent
from meritline.db.bulk import bulk_insert
from meritline.models import AuditChainHead, AuditEvent


def create_head(session: Session, *, tenant_id: int, genesis_hash: str) -> None:
    """Create a tenant's chain head (once, with the tenant)."""
    session.add(AuditChainHead(tenant_id=tenant_id, last_seq=0, last_hash=genesis_hash))
    session.flush()


def lock_head(session: Session, *, tenant_id: int) -> AuditChainHead:
    """Return the tenant's chain head, locked until the transaction ends.

    On PostgreSQL ``SELECT ... FOR UPDATE`` makes concurrent writers queue here; on SQLite the
    transaction already holds the database's write lock (``BEGIN IMMEDIATE``).
    """
    head = session.scalars(
        select(AuditChainHead).where(AuditChainHead.tenant_id == tenant_id).with_for_update()
    ).one_or_none()
    if head is None:
        raise LookupError(f"tenant {tenant_id} has no audit chain head")
    return head


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert audit events in one statement."""
    if rows:
        session.execute(bulk_insert(AuditEvent), list(rows))


def read_head(session: Session, *, tenant_id: int) -> tuple[int, str]:
    """The head's last sequence number and hash."""
    row = session.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
            AuditChainHead.tenant_id == tenant_id
        )
    ).one()
    return int(row.last_seq), str(row.last_hash)


def stream_events(session: Session, *, tenant_id: int) -> Iterator[StoredEvent]:
    """Every event of a tenant in sequence order, read in batches."""
    result = session.execute(
        select(AuditEvent).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq),
        execution_options={"yield_per": 2000},
    ).scalars()
    for event in result:
        yield StoredEvent(
            link=Link(
                tenant_id=event.tenant_id,
                seq=event.seq,
                occurred_at=event.occurred_at,
                actor=event.actor,
                action=event.action,
                entity_type=event.entity_type,
                entity_id=event.entity_id,
                payload_hash=event.payload_hash,
                prev_hash=event.prev_hash,
            ),
            hash=event.hash,
            payload=event.payload,
            payload_erased=event.payload_erased_at is not None,
        )


def recent_events(session: Session, *, tenant_id: int, limit: int) -> Sequence[AuditEvent]:
    """The latest ``limit`` events, newest first."""
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    ).all()
