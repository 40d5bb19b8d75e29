"""Review cycles (reviews, calibration sessions and the rest arrive with their issues)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped

CYCLE_STATUSES = ("draft", "open", "calibration", "finalized", "closed")


class ReviewCycle(TenantScoped, Base):
    """A period in which reviews are written, calibrated, finalised and shared."""

    __tablename__ = "review_cycle"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in CYCLE_STATUSES) + ")", name="status"
        ),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
