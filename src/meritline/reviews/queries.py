"""SQL for review cycles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from meritline.models import ReviewCycle


def by_name(session: Session, name: str) -> ReviewCycle | None:
    """The cycle with this name."""
    return session.scalars(select(ReviewCycle).where(ReviewCycle.name == name)).first()


def all_cycles(session: Session) -> Sequence[ReviewCycle]:
    """Every cycle of the tenant, newest period first."""
    return session.scalars(select(ReviewCycle).order_by(ReviewCycle.period_start.desc())).all()


def add(session: Session, cycle: ReviewCycle) -> ReviewCycle:
    """Insert a cycle."""
    session.add(cycle)
    session.flush()
    return cycle
