"""SQL for calibration sessions: population, committee, votes, adjustments, analyses, approvals,
and the evidence a session's analysis reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from meritline.access.queries import org_subtree, visibility_filter
from meritline.access.subject import Subject
from meritline.models import (
    ApprovalItem,
    CalibrationAdjustment,
    CalibrationAnalysis,
    CalibrationMember,
    CalibrationPopulation,
    CalibrationSession,
    CalibrationVote,
    Employee,
    OrgUnit,
    ScoreSnapshot,
    SensitiveAttribute,
    Signal,
)


def add(session: Session, row: object) -> None:
    """Insert one row."""
    session.add(row)
    session.flush()


def add_all(session: Session, rows: Sequence[object]) -> None:
    """Insert rows."""
    session.add_all(rows)
    session.flush()


def session_by_name(session: Session, cycle_id: int, name: str) -> CalibrationSession | None:
    """A cycle's session by name."""
    return session.scalars(
        select(CalibrationSession).where(
            CalibrationSession.cycle_id == cycle_id, CalibrationSession.name == name
        )
    ).first()


def sessions_of(session: Session, cycle_id: int) -> Sequence[CalibrationSession]:
    """A cycle's sessions, oldest first."""
    return session.scalars(
        select(CalibrationSession)
        .where(CalibrationSession.cycle_id == cycle_id)
        .order_by(CalibrationSession.id)
    ).all()


def session_by_id(session: Session, session_id: int) -> CalibrationSession | None:
    """A session by id."""
    return session.scalars(
        select(CalibrationSession).where(CalibrationSession.id == session_id)
    ).first()


def candidates(
    session: Session,
    subject: Subject,
    *,
    org_unit_ids: Sequence[int],
    employee_ids: Sequence[int],
    as_of: date,
) -> list[int]:
    """Employees in the org units' subtrees or listed, still employed on ``as_of`` and visible
    to ``subject``.
    """
    chosen: ColumnElement[bool] = Employee.id.in_(list(employee_ids))
    if org_unit_ids:
        chosen = chosen | Employee.org_unit_id.in_(
            org_subtree(subject.tenant_id, org_unit_ids, name="population_units")
        )
    employed = (Employee.termination_date.is_(None)) | (Employee.termination_date >= as_of)
    query = select(Employee.id).where(chosen, employed, visibility_filter(subject, as_of))
    return list(session.scalars(query.order_by(Employee.id)))


def members(session: Session, session_id: int) -> Sequence[CalibrationMember]:
    """A session's committee."""
    return session.scalars(
        select(CalibrationMember)
        .where(CalibrationMember.session_id == session_id)
        .order_by(CalibrationMember.employee_id)
    ).all()


def population(session: Session, session_id: int) -> list[int]:
    """The employees a session calibrates."""
    return list(
        session.scalars(
            select(CalibrationPopulation.employee_id)
            .where(CalibrationPopulation.session_id == session_id)
            .order_by(CalibrationPopulation.employee_id)
        )
    )


def vote_of(
    session: Session, session_id: int, member_id: int, employee_id: int
) -> CalibrationVote | None:
    """A member's vote on one employee."""
    return session.scalars(
        select(CalibrationVote).where(
            CalibrationVote.session_id == session_id,
            CalibrationVote.member_id == member_id,
            CalibrationVote.employee_id == employee_id,
        )
    ).first()


def votes(session: Session, session_id: int) -> Sequence[CalibrationVote]:
    """Every vote of a session."""
    return session.scalars(
        select(CalibrationVote).where(CalibrationVote.session_id == session_id)
    ).all()


def adjustments(session: Session, session_id: int) -> Sequence[CalibrationAdjustment]:
    """A session's adjustments, oldest first."""
    return session.scalars(
        select(CalibrationAdjustment)
        .where(CalibrationAdjustment.session_id == session_id)
        .order_by(CalibrationAdjustment.id)
    ).all()


def analyses(session: Session, session_id: int) -> Sequence[CalibrationAnalysis]:
    """A session's stored analyses, oldest first."""
    return session.scalars(
        select(CalibrationAnalysis)
        .where(CalibrationAnalysis.session_id == session_id)
        .order_by(CalibrationAnalysis.id)
    ).all()


def approval_items(
    session: Session,
    *,
    session_id: int | None = None,
    approver_role: str | None = None,
    status: str | None = None,
) -> Sequence[ApprovalItem]:
    """Routed cases, filtered."""
    query = select(ApprovalItem)
    if session_id is not None:
        query = query.where(ApprovalItem.session_id == session_id)
    if approver_role is not None:
        query = query.where(ApprovalItem.approver_role == approver_role)
    if status is not None:
        query = query.where(ApprovalItem.status == status)
    return session.scalars(query.order_by(ApprovalItem.id)).all()


def approval_item(
    session: Session, item_id: int, *, for_update: bool = False
) -> ApprovalItem | None:
    """One routed case (``for_update``: locked for this transaction on PostgreSQL)."""
    query = select(ApprovalItem).where(ApprovalItem.id == item_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def lock_session_row(session: Session, session_id: int) -> CalibrationSession | None:
    """The session re-read under a row lock held to the end of the transaction, so adjusting,
    voting, analysing, deciding and locking it happen one after another (PostgreSQL; SQLite's
    writers already queue on its one write lock).
    """
    query = (
        select(CalibrationSession)
        .where(CalibrationSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def in_other_sessions(session: Session, cycle_id: int, employee_ids: Sequence[int]) -> list[int]:
    """Which of these employees some session of the cycle already calibrates."""
    if not employee_ids:
        return []
    return list(
        session.scalars(
            select(CalibrationPopulation.employee_id)
            .join(
                CalibrationSession,
                and_(
                    CalibrationSession.tenant_id == CalibrationPopulation.tenant_id,
                    CalibrationSession.id == CalibrationPopulation.session_id,
                ),
            )
            .where(
                CalibrationSession.cycle_id == cycle_id,
                CalibrationPopulation.employee_id.in_(list(employee_ids)),
            )
            .distinct()
        )
    )


def evidence_scores(session: Session, employee_ids: Iterable[int], as_of: date) -> dict[int, float]:
    """Each employee's latest score on or before ``as_of`` (the scoring engine's snapshots)."""
    ids = list(employee_ids)
    if not ids:
        return {}
    latest = (
        select(
            ScoreSnapshot.employee_id,
            func.max(ScoreSnapshot.as_of).label("as_of"),
        )
        .where(ScoreSnapshot.employee_id.in_(ids), ScoreSnapshot.as_of <= as_of)
        .group_by(ScoreSnapshot.employee_id)
        .subquery()
    )
    rows = session.execute(
        select(ScoreSnapshot.employee_id, func.max(ScoreSnapshot.score))
        .join(
            latest,
            and_(
                ScoreSnapshot.employee_id == latest.c.employee_id,
                ScoreSnapshot.as_of == latest.c.as_of,
            ),
        )
        .where(ScoreSnapshot.score.is_not(None))
        .group_by(ScoreSnapshot.employee_id)
    )
    return {row[0]: float(row[1]) for row in rows if row[1] is not None}


def attributes(
    session: Session, employee_ids: Iterable[int], names: Sequence[str]
) -> dict[int, dict[str, str]]:
    """Special-category attributes of employees (callers check the reader may see them)."""
    ids = list(employee_ids)
    found: dict[int, dict[str, str]] = {}
    if not ids:
        return found
    rows = session.execute(
        select(
            SensitiveAttribute.employee_id, SensitiveAttribute.attribute, SensitiveAttribute.value
        ).where(SensitiveAttribute.employee_id.in_(ids), SensitiveAttribute.attribute.in_(names))
    )
    for employee_id, attribute, value in rows:
        found.setdefault(employee_id, {})[attribute] = value
    return found


def signal_counts(
    session: Session,
    employee_ids: Iterable[int],
    *,
    start: datetime,
    window_start: datetime,
    end: datetime,
    types: Sequence[str] | None = None,
) -> dict[int, tuple[int, int]]:
    """Per employee, (signals in ``[start, end)``, of which in ``[window_start, end)``)."""
    ids = list(employee_ids)
    if not ids:
        return {}
    recent = func.sum(case((Signal.occurred_at >= window_start, 1), else_=0))
    query = (
        select(Signal.employee_id, func.count(), recent)
        .where(Signal.employee_id.in_(ids), Signal.occurred_at >= start, Signal.occurred_at < end)
        .group_by(Signal.employee_id)
    )
    if types is not None:
        query = query.where(Signal.type.in_(list(types)))
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in session.execute(query)}


def latest_signal_at(
    session: Session, employee_ids: Iterable[int], *, start: datetime, end: datetime
) -> datetime | None:
    """When the employees' latest signal in ``[start, end)`` happened."""
    ids = list(employee_ids)
    if not ids:
        return None
    return session.scalar(
        select(func.max(Signal.occurred_at)).where(
            Signal.employee_id.in_(ids), Signal.occurred_at >= start, Signal.occurred_at < end
        )
    )


def departments(session: Session, employee_ids: Iterable[int]) -> dict[int, str]:
    """Each employee's org unit path."""
    ids = list(employee_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Employee.id, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == Employee.org_unit_id)
        .where(Employee.id.in_(ids))
    )
    return {row[0]: row[1] for row in rows}
