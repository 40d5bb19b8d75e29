"""Calibration sessions: their population and committee, votes, adjustments, analyses and the
approval queue.

* ``calibration_session`` covers a population (``calibration_population``) and has a committee
  (``calibration_member``); the calibrator role sees the population only while the session is
  open (see the visibility rule).
* ``calibration_vote``: a member's agree or question on a proposed rating, before the meeting.
* ``calibration_adjustment`` is append-only: every change of a rating or potential in a session,
  its old and new value and its reason.
* ``calibration_analysis`` is append-only: the statistics before and after the adjustments.
* ``approval_item``: a case routed to an approver role, with why; decided once, with a reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped, same_tenant_fk
from meritline.models.reviews import one_of

SESSION_STATUSES = ("open", "locked")
MEMBER_ROLES = ("facilitator", "member")
VOTES = ("agree", "question")
ADJUSTED_FIELDS = ("rating", "potential")
ANALYSIS_PHASES = ("pre", "post")
APPROVER_ROLES = ("hrbp", "legal", "compensation")
APPROVAL_STATUSES = ("pending", "approved", "rejected", "withdrawn")
#: Shortest reason an adjustment or a decision may give.
MIN_REASON = 20


class CalibrationSession(TenantScoped, Base):
    """A committee meeting over one population's proposed ratings in a cycle."""

    __tablename__ = "calibration_session"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "cycle_id", "name"),
        same_tenant_fk("cycle_id", "review_cycle", ondelete="CASCADE"),
        same_tenant_fk("facilitator_id", "employee", ondelete="RESTRICT"),
        one_of("status", SESSION_STATUSES),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(BigId)
    name: Mapped[str] = mapped_column(String(200))
    facilitator_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: How the population was chosen: ``{"org_units": [...], "employees": [...]}``.
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_at: Mapped[datetime | None]


class CalibrationMember(TenantScoped, Base):
    """One committee member of a session (the facilitator too)."""

    __tablename__ = "calibration_member"
    __table_args__ = (
        same_tenant_fk("session_id", "calibration_session", ondelete="CASCADE"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        one_of("role", MEMBER_ROLES),
        Index("ix_calibration_member_employee", "tenant_id", "employee_id"),
        {"info": {"classification": "internal"}},
    )

    tenant_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="member")


class CalibrationPopulation(TenantScoped, Base):
    """One employee whose ratings a session calibrates."""

    __tablename__ = "calibration_population"
    __table_args__ = (
        same_tenant_fk("session_id", "calibration_session", ondelete="CASCADE"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        {"info": {"classification": "internal"}},
    )

    tenant_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class CalibrationVote(TenantScoped, Base):
    """A member's view of one proposed rating: agree, or question it (changeable until lock)."""

    __tablename__ = "calibration_vote"
    __table_args__ = (
        same_tenant_fk("session_id", "calibration_session", ondelete="CASCADE"),
        same_tenant_fk("member_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        one_of("vote", VOTES),
        {"info": {"classification": "personal"}},
    )

    tenant_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    vote: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CalibrationAdjustment(TenantScoped, Base):
    """One change of a rating or potential in a session, with its reason (append-only)."""

    __tablename__ = "calibration_adjustment"
    __table_args__ = (
        same_tenant_fk("session_id", "calibration_session", ondelete="CASCADE"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("actor_employee_id", "employee", ondelete="RESTRICT"),
        one_of("field", ADJUSTED_FIELDS),
        CheckConstraint(f"length(reason) >= {MIN_REASON}", name="reason_given"),
        Index("ix_calibration_adjustment_session", "tenant_id", "session_id", "employee_id"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigId)
    employee_id: Mapped[int] = mapped_column(BigId)
    field: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[str | None] = mapped_column(String(32))
    new_value: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    actor_employee_id: Mapped[int | None] = mapped_column(BigId)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CalibrationAnalysis(TenantScoped, Base):
    """The statistics of a session's ratings at one moment (append-only)."""

    __tablename__ = "calibration_analysis"
    __table_args__ = (
        same_tenant_fk("session_id", "calibration_session", ondelete="CASCADE"),
        one_of("phase", ANALYSIS_PHASES),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigId)
    phase: Mapped[str] = mapped_column(String(8))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalItem(TenantScoped, Base):
    """A case routed to an approver role, why, and its decision."""

    __tablename__ = "approval_item"
    __table_args__ = (
        UniqueConstraint("tenant_id", "session_id", "employee_id", "rule"),
        same_tenant_fk("session_id", "calibration_session", ondelete="CASCADE"),
        same_tenant_fk("employee_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("raised_by_id", "employee", ondelete="RESTRICT"),
        same_tenant_fk("decided_by_id", "employee", ondelete="RESTRICT"),
        one_of("approver_role", APPROVER_ROLES),
        one_of("status", APPROVAL_STATUSES),
        Index("ix_approval_item_queue", "tenant_id", "approver_role", "status"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigId)
    employee_id: Mapped[int] = mapped_column(BigId)
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    approver_role: Mapped[str] = mapped_column(String(32))
    #: Whoever made the change or proposal under decision: they may not approve it.
    raised_by_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_by_id: Mapped[int | None] = mapped_column(BigId)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
