"""Review cycles, their lifecycle, reviews and peer feedback.

* ``review_cycle`` carries its template (rating scale, guideline, questions, whether self and
  peer reviews are part of it) as validated data, and its status.
* ``cycle_transition`` is append-only: every status change, with its actor.
* ``review`` is append-only: a submitted review is never edited in place; an amendment (or the
  calibrated rating a locked session pushes) is a new version of it, and the history stays.
* ``peer_feedback`` is one request for feedback and its answer; the answer is shown to the
  manager only once enough answers exist, and an anonymous one never names who gave it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped, same_tenant_fk

CYCLE_STATUSES = ("draft", "open", "calibration", "finalized", "shared", "closed")
REVIEW_KINDS = ("manager", "self")
#: Where a review version came from: its author, or a locked calibration session.
REVIEW_ORIGINS = ("author", "calibration")
POTENTIALS = ("low", "medium", "high")
FEEDBACK_RELATIONS = ("peer", "upward", "other")
FEEDBACK_STATUSES = ("requested", "submitted", "declined")


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A CHECK that ``column`` holds one of ``values``."""
    return CheckConstraint(f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")", column)


class ReviewCycle(TenantScoped, Base):
    """A period in which reviews are written, calibrated, finalised and shared."""

    __tablename__ = "review_cycle"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        one_of("status", CYCLE_STATUSES),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: The validated ``CycleTemplate`` (scale, guideline, questions, self and peer reviews).
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CycleTransition(TenantScoped, Base):
    """One status change of a cycle, and who made it (append-only)."""

    __tablename__ = "cycle_transition"
    __table_args__ = (
        same_tenant_fk("cycle_id", "review_cycle", ondelete="CASCADE"),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(BigId)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(TenantScoped, Base):
    """One version of a manager's or a self review (append-only)."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "cycle_id", "employee_id", "kind", "version"),
        same_tenant_fk("cycle_id", "review_cycle", ondelete="CASCADE"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("author_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("amends_id", "review", ondelete="RESTRICT"),
        one_of("kind", REVIEW_KINDS),
        one_of("origin", REVIEW_ORIGINS),
        one_of("potential", POTENTIALS),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(
            "(version = 1) = (amends_id IS NULL)", name="amendment_names_what_it_amends"
        ),
        Index("ix_review_cycle_employee", "tenant_id", "cycle_id", "employee_id"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(BigId)
    employee_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    #: Who wrote it (None: the CLI operator, or a calibration session's lock).
    author_id: Mapped[int | None] = mapped_column(BigId)
    origin: Mapped[str] = mapped_column(String(16), default="author")
    rating: Mapped[float | None] = mapped_column(Float)
    potential: Mapped[str | None] = mapped_column(String(16))
    promotion_proposed: Mapped[bool] = mapped_column(default=False)
    assessment: Mapped[str] = mapped_column(Text, default="")
    #: The template's questions answered: question -> answer.
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: Evidence cited: ``[{"kind": "signal" | "snapshot" | "feedback", "id": n, "occurred_at"}]``.
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    amends_id: Mapped[int | None] = mapped_column(BigId)
    #: Why the version was made: the amendment's reason or the calibration session.
    reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeerFeedback(TenantScoped, Base):
    """A request for feedback on one employee from one colleague, and the answer."""

    __tablename__ = "peer_feedback"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "cycle_id", "employee_id", "responder_id"),
        same_tenant_fk("cycle_id", "review_cycle", ondelete="CASCADE"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("responder_id", "employee", ondelete="RESTRICT"),
        one_of("relation", FEEDBACK_RELATIONS),
        one_of("status", FEEDBACK_STATUSES),
        CheckConstraint("employee_id <> responder_id", name="not_about_oneself"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(BigId)
    employee_id: Mapped[int] = mapped_column(BigId)
    responder_id: Mapped[int] = mapped_column(BigId)
    relation: Mapped[str] = mapped_column(String(16), default="peer")
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    response: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]


PERFORMANCE_BANDS = ("low", "medium", "high")


class NineBoxPosition(TenantScoped, Base):
    """An employee's place on the 9-box (calibrated performance x potential) in one cycle,
    kept with every earlier cycle's (append-only).
    """

    __tablename__ = "nine_box_position"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cycle_id", "employee_id"),
        same_tenant_fk("cycle_id", "review_cycle", ondelete="CASCADE"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        one_of("performance", PERFORMANCE_BANDS),
        one_of("potential", POTENTIALS),
        CheckConstraint("box BETWEEN 1 AND 9", name="box"),
        Index("ix_nine_box_position_employee", "tenant_id", "employee_id"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(BigId)
    employee_id: Mapped[int] = mapped_column(BigId)
    rating: Mapped[float] = mapped_column(Float)
    performance: Mapped[str] = mapped_column(String(8))
    potential: Mapped[str] = mapped_column(String(8))
    #: 1 (low performance, low potential) to 9 (high, high), row by row from the bottom.
    box: Mapped[int]
    label: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
