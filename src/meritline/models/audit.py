"""The tamper-evident audit log: an append-only hash chain per tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meritline.db.base import Base, BigId, TenantScoped


class AuditEvent(TenantScoped, Base):
    """One recorded action. The chained fields hold no personal data.

    ``hash = sha256(canonical(tenant_id, seq, occurred_at, actor, action, entity, payload_hash,
    prev_hash))``; the payload itself may hold personal data and may later be erased, which
    leaves ``payload_hash`` (and so the chain) intact.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        {"info": {"classification": "audit"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payload_hash: Mapped[str] = mapped_column(String(64))
    #: Set when a data-subject erasure removed the payload; the chain stays verifiable.
    payload_erased_at: Mapped[datetime | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(TenantScoped, Base):
    """The last link of a tenant's chain; writers lock this row, so the chain never forks."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (UniqueConstraint("tenant_id"), {"info": {"classification": "audit"}})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigId, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
