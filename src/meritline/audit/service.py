"""Audit use cases: record events in the caller's transaction, and verify the chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.audit import chain, queries
from meritline.audit.schemas import AuditEventRead, AuditRecord, VerifyResult
from meritline.clock import utcnow


def start_chain(session: Session, *, tenant_id: int) -> None:
    """Create the empty chain of a new tenant."""
    queries.create_head(session, tenant_id=tenant_id, genesis_hash=chain.GENESIS_HASH)


def record(session: Session, subject: Subject, event: AuditRecord) -> None:
    """Append one event to the subject's tenant chain, in the current transaction."""
    record_many(session, subject, [event])


def record_many(session: Session, subject: Subject, events: Sequence[AuditRecord]) -> None:
    """Append events, in order, to the tenant chain in the current transaction.

    The chain head stays locked until the transaction ends, so concurrent writers of a tenant
    queue instead of forking the chain.
    """
    if not events:
        return
    head = queries.lock_head(session, tenant_id=subject.tenant_id)
    seq, prev_hash, now = head.last_seq, head.last_hash, utcnow()
    rows: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        payload = chain.jsonable(event.payload)
        link = chain.Link(
            tenant_id=subject.tenant_id,
            seq=seq,
            occurred_at=now,
            actor=subject.actor,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=None if event.entity_id is None else str(event.entity_id),
            payload_hash=chain.payload_hash(payload),
            prev_hash=prev_hash,
        )
        prev_hash = link.hash()
        rows.append(
            {
                "tenant_id": link.tenant_id,
                "seq": link.seq,
                "occurred_at": link.occurred_at,
                "actor": link.actor,
                "action": link.action,
                "entity_type": link.entity_type,
                "entity_id": link.entity_id,
                "payload": payload,
                "payload_hash": link.payload_hash,
                "prev_hash": link.prev_hash,
                "hash": prev_hash,
            }
        )
    queries.insert_events(session, rows)
    head.last_seq, head.last_hash = seq, prev_hash
    session.flush()


def verify(session: Session, subject: Subject) -> VerifyResult:
    """Recompute the tenant's chain and report the first broken sequence number, if any."""
    head_seq, head_hash = queries.read_head(session, tenant_id=subject.tenant_id)
    checked, broken = chain.first_break(
        queries.stream_events(session, tenant_id=subject.tenant_id),
        head_seq=head_seq,
        head_hash=head_hash,
    )
    return VerifyResult(
        ok=broken is None,
        events_checked=checked,
        head_seq=head_seq,
        head_hash=head_hash,
        broken_seq=broken.seq if broken else None,
        reason=broken.reason if broken else None,
    )


def recent(session: Session, subject: Subject, *, limit: int = 20) -> list[AuditEventRead]:
    """The latest events of the tenant, newest first."""
    return [
        AuditEventRead.model_validate(event)
        for event in queries.recent_events(session, tenant_id=subject.tenant_id, limit=limit)
    ]
