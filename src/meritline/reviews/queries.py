"""SQL for review cycles, their transitions, reviews and peer feedback."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meritline.models import (
    CycleTransition,
    NineBoxPosition,
    PeerFeedback,
    Review,
    ReviewCycle,
    ScoreSnapshot,
    Signal,
)


def by_name(session: Session, name: str) -> ReviewCycle | None:
    """The cycle with this name."""
    return session.scalars(select(ReviewCycle).where(ReviewCycle.name == name)).first()


def lock_cycle_row(session: Session, cycle_id: int) -> ReviewCycle | None:
    """The cycle re-read under a row lock to the end of the transaction (PostgreSQL), so its
    status changes one at a time and nothing joins it while it moves.
    """
    return session.scalars(
        select(ReviewCycle)
        .where(ReviewCycle.id == cycle_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def by_id(session: Session, cycle_id: int) -> ReviewCycle | None:
    """The cycle with this id."""
    return session.scalars(select(ReviewCycle).where(ReviewCycle.id == cycle_id)).first()


def all_cycles(session: Session) -> Sequence[ReviewCycle]:
    """Every cycle of the tenant, newest period first."""
    return session.scalars(select(ReviewCycle).order_by(ReviewCycle.period_start.desc())).all()


def add(session: Session, row: object) -> None:
    """Insert a row (cycle, transition, review version or feedback request)."""
    session.add(row)
    session.flush()


def transitions(session: Session, cycle_id: int) -> Sequence[CycleTransition]:
    """A cycle's status changes, oldest first."""
    return session.scalars(
        select(CycleTransition)
        .where(CycleTransition.cycle_id == cycle_id)
        .order_by(CycleTransition.id)
    ).all()


def review_versions(
    session: Session, cycle_id: int, employee_id: int, kind: str | None = None
) -> Sequence[Review]:
    """Every version of one employee's reviews in a cycle, oldest first."""
    query = select(Review).where(Review.cycle_id == cycle_id, Review.employee_id == employee_id)
    if kind is not None:
        query = query.where(Review.kind == kind)
    return session.scalars(query.order_by(Review.kind, Review.version)).all()


def latest_reviews(
    session: Session, cycle_id: int, *, kind: str, employee_ids: Iterable[int] | None = None
) -> Sequence[Review]:
    """The latest version of each employee's review of ``kind`` in a cycle."""
    newest = (
        select(Review.employee_id, func.max(Review.version).label("version"))
        .where(Review.cycle_id == cycle_id, Review.kind == kind)
        .group_by(Review.employee_id)
        .subquery()
    )
    query = select(Review).join(
        newest,
        (Review.employee_id == newest.c.employee_id) & (Review.version == newest.c.version),
    )
    query = query.where(Review.cycle_id == cycle_id, Review.kind == kind)
    if employee_ids is not None:
        query = query.where(Review.employee_id.in_(list(employee_ids)))
    return session.scalars(query.order_by(Review.employee_id)).all()


def signal_times(session: Session, employee_id: int, ids: Sequence[int]) -> dict[int, datetime]:
    """When each of the employee's signals among ``ids`` happened (others are not theirs)."""
    if not ids:
        return {}
    rows = session.execute(
        select(Signal.id, Signal.occurred_at).where(
            Signal.employee_id == employee_id, Signal.id.in_(list(ids))
        )
    )
    return {row.id: row.occurred_at for row in rows}


def snapshot_times(session: Session, employee_id: int, ids: Sequence[int]) -> dict[int, datetime]:
    """The as-of time of each of the employee's score snapshots among ``ids``."""
    if not ids:
        return {}
    rows = session.execute(
        select(ScoreSnapshot.id, ScoreSnapshot.as_of).where(
            ScoreSnapshot.employee_id == employee_id, ScoreSnapshot.id.in_(list(ids))
        )
    )
    return {row.id: datetime.combine(row.as_of, time.min, tzinfo=UTC) for row in rows}


def feedback_on(session: Session, cycle_id: int, employee_id: int) -> Sequence[PeerFeedback]:
    """Every feedback request about one employee in a cycle."""
    return session.scalars(
        select(PeerFeedback)
        .where(PeerFeedback.cycle_id == cycle_id, PeerFeedback.employee_id == employee_id)
        .order_by(PeerFeedback.id)
    ).all()


def feedback_by_id(session: Session, feedback_id: int) -> PeerFeedback | None:
    """One feedback request."""
    return session.scalars(select(PeerFeedback).where(PeerFeedback.id == feedback_id)).first()


def feedback_asked_of(session: Session, responder_id: int) -> Sequence[PeerFeedback]:
    """The requests waiting for one colleague's answer, in cycles still open for it."""
    return session.scalars(
        select(PeerFeedback)
        .join(ReviewCycle, ReviewCycle.id == PeerFeedback.cycle_id)
        .where(
            PeerFeedback.responder_id == responder_id,
            PeerFeedback.status == "requested",
            ReviewCycle.status == "open",
        )
        .order_by(PeerFeedback.id)
    ).all()


def nine_box_positions(session: Session, cycle_id: int) -> Sequence[NineBoxPosition]:
    """A cycle's 9-box positions."""
    return session.scalars(
        select(NineBoxPosition)
        .where(NineBoxPosition.cycle_id == cycle_id)
        .order_by(NineBoxPosition.employee_id)
    ).all()


def nine_box_history(session: Session, employee_id: int) -> Sequence[NineBoxPosition]:
    """One employee's positions over every cycle, oldest first."""
    return session.scalars(
        select(NineBoxPosition)
        .where(NineBoxPosition.employee_id == employee_id)
        .order_by(NineBoxPosition.placed_at)
    ).all()


#: Signal types that are not evidence of performance (leave), never offered for citation.
NOT_EVIDENCE = ("protected_leave_day", "leave_day", "absence_day")


def citable_signals(
    session: Session, employee_ids: Sequence[int], start: datetime, end: datetime
) -> list[tuple[int, int, datetime]]:
    """(employee, signal id, when) of the employees' evidence in ``[start, end)``."""
    if not employee_ids:
        return []
    rows = session.execute(
        select(Signal.employee_id, Signal.id, Signal.occurred_at)
        .where(
            Signal.employee_id.in_(list(employee_ids)),
            Signal.occurred_at >= start,
            Signal.occurred_at < end,
            Signal.type.not_in(NOT_EVIDENCE),
        )
        .order_by(Signal.employee_id, Signal.occurred_at)
    )
    return [(r[0], r[1], r[2]) for r in rows]
