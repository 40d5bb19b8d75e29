"""Writeback: outcomes leave through an outbox written in the decision's own transaction.

* ``outbox_event`` is append-only: one outcome (a final rating, a 9-box position, a promotion
  decision) with the idempotency key receivers use to apply it once.
* ``writeback_destination``: where outcomes go (a signed webhook, or a CSV file for HRIS and
  compensation systems); a webhook's signing secret is encrypted with the key outside the
  database.
* ``outbox_delivery``: one event's delivery to one destination: attempts, the next try (which
  doubles as the lease of a delivery in flight), and the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped, same_tenant_fk
from meritline.models.reviews import one_of

DESTINATION_TYPES = ("webhook", "csv")
DELIVERY_STATUSES = ("pending", "delivered", "dead")
TOPICS = ("rating.finalized", "nine_box.positioned", "promotion.decided")


class OutboxEvent(TenantScoped, Base):
    """One outcome for other systems (append-only)."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        one_of("topic", TOPICS),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    #: ``<topic>:<cycle id>:<employee HRIS id>``: the same outcome always has the same key.
    idempotency_key: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WritebackDestination(TenantScoped, Base):
    """Where outcomes are delivered."""

    __tablename__ = "writeback_destination"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "name"),
        one_of("type", DESTINATION_TYPES),
        {"info": {"classification": "secret"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    #: The webhook's URL, or the CSV file's path.
    target: Mapped[str] = mapped_column(String(1000))
    secret_ciphertext: Mapped[str | None] = mapped_column(String(1000))
    #: Topics delivered here (all when empty).
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxDelivery(TenantScoped, Base):
    """One event's delivery to one destination."""

    __tablename__ = "outbox_delivery"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id", "destination_id"),
        same_tenant_fk("event_id", "outbox_event", ondelete="CASCADE"),
        same_tenant_fk("destination_id", "writeback_destination", ondelete="CASCADE"),
        one_of("status", DELIVERY_STATUSES),
        Index("ix_outbox_delivery_due", "tenant_id", "status", "next_attempt_at"),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId)
    destination_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
