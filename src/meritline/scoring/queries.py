"""Every SQL statement of the scoring domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Select, and_, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from meritline.clock import utcnow
from meritline.db.tenancy import session_tenant
from meritline.models import (
    AccessLog,
    Employee,
    EmployeeProfile,
    OrgUnit,
    ScoreSnapshot,
    ScoringModel,
    ScoringRun,
    Signal,
)

CHUNK = 900


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# --- model versions --------------------------------------------------------------------------


def model_by_hash(session: Session, content_hash: str) -> ScoringModel | None:
    return session.scalars(
        select(ScoringModel).where(ScoringModel.content_hash == content_hash)
    ).one_or_none()


def model_by_version(session: Session, name: str, version: int) -> ScoringModel | None:
    return session.scalars(
        select(ScoringModel).where(ScoringModel.name == name, ScoringModel.version == version)
    ).one_or_none()


def model_by_id(session: Session, model_id: int) -> ScoringModel | None:
    return session.scalars(select(ScoringModel).where(ScoringModel.id == model_id)).one_or_none()


def active_model(session: Session) -> ScoringModel | None:
    return session.scalars(
        select(ScoringModel).where(ScoringModel.status == "active")
    ).one_or_none()


def latest_version(session: Session, name: str) -> ScoringModel | None:
    return session.scalars(
        select(ScoringModel)
        .where(ScoringModel.name == name)
        .order_by(ScoringModel.version.desc())
        .limit(1)
    ).one_or_none()


def list_models(session: Session) -> list[ScoringModel]:
    return list(
        session.scalars(select(ScoringModel).order_by(ScoringModel.name, ScoringModel.version))
    )


def add_model(session: Session, model: ScoringModel) -> ScoringModel:
    session.add(model)
    session.flush()
    return model


# --- runs ------------------------------------------------------------------------------------


def add_run(session: Session, run: ScoringRun) -> ScoringRun:
    session.add(run)
    session.flush()
    return run


def run_by_id(session: Session, run_id: int) -> ScoringRun | None:
    return session.scalars(select(ScoringRun).where(ScoringRun.id == run_id)).one_or_none()


def unfinished_run(session: Session) -> ScoringRun | None:
    """The latest run, if it is still marked running or failed (a failed run that a later run
    superseded is history, not work to resume).
    """
    latest = session.scalars(select(ScoringRun).order_by(ScoringRun.id.desc()).limit(1)).first()
    return latest if latest is not None and latest.status in ("running", "failed") else None


def list_runs(
    session: Session, *, limit: int, run_id: int | None = None
) -> list[tuple[ScoringRun, str]]:
    query = (
        select(ScoringRun, ScoringModel.name, ScoringModel.version)
        .join(ScoringModel, ScoringModel.id == ScoringRun.model_id)
        .order_by(ScoringRun.id.desc())
        .limit(limit)
    )
    if run_id is not None:
        query = query.where(ScoringRun.id == run_id)
    return [(run, f"{name}@{version}") for run, name, version in session.execute(query)]


def update_run(session: Session, run_id: int, **values: Any) -> None:
    session.execute(update(ScoringRun).where(ScoringRun.id == run_id).values(**values))


# --- inputs ----------------------------------------------------------------------------------


def active_people(session: Session, as_of: date, *, cohort: Sequence[str]) -> pl.DataFrame:
    """Every employee employed on ``as_of``, with hire date and cohort attributes."""
    columns: dict[str, Any] = {
        "job_family": Employee.job_family,
        "level": Employee.level,
        "location": Employee.location,
        "org_unit": OrgUnit.path,
    }
    query = (
        select(
            Employee.id.label("employee_id"),
            Employee.employee_number,
            Employee.hire_date,
            *(columns[name].label(name) for name in cohort),
        )
        .outerjoin(OrgUnit, OrgUnit.id == Employee.org_unit_id)
        .where(
            or_(Employee.hire_date.is_(None), Employee.hire_date <= as_of),
            or_(Employee.termination_date.is_(None), Employee.termination_date >= as_of),
        )
        .order_by(Employee.id)
    )
    schema: dict[str, Any] = {
        "employee_id": pl.Int64,
        "employee_number": pl.String,
        "hire_date": pl.Date,
        **{name: pl.String for name in cohort},
    }
    return pl.DataFrame(session.execute(query).all(), schema=schema, orient="row")


def window_evidence(
    session: Session, windows: dict[str, tuple[date, date]], types: dict[str, set[str]]
) -> pl.DataFrame:
    """Per employee, signal type and window: the count and total of the signals in it.

    One grouped read of the signals over the widest range, with a conditional sum per window.
    It reads the covering index ``(tenant, employee, type, occurred_at, value)`` alone, and the
    signals themselves rather than the daily rollup, so a score never depends on a refresh
    having run. ``types`` names the types each window needs (others are dropped).
    """
    every_type = sorted(set().union(*types.values()))
    names = sorted(windows)
    bounds = {
        name: (_midnight(start), _midnight(end + timedelta(days=1)))
        for name, (start, end) in windows.items()
    }
    widest = (min(b[0] for b in bounds.values()), max(b[1] for b in bounds.values()))
    columns: list[Any] = [Signal.employee_id, Signal.type]
    for name in names:
        if bounds[name] == widest:  # every row read is inside: no test per row
            columns += [func.count(), func.sum(Signal.value)]
            continue
        start, stop = bounds[name]
        inside = and_(Signal.occurred_at >= start, Signal.occurred_at < stop)
        columns.append(func.sum(case((inside, 1), else_=0)))
        columns.append(func.sum(case((inside, Signal.value), else_=0.0)))
    query: Select[Any] = (
        select(*columns)
        .where(
            Signal.occurred_at >= widest[0],
            Signal.occurred_at < widest[1],
            Signal.type.in_(every_type),
        )
        .group_by(Signal.employee_id, Signal.type)
    )
    schema: dict[str, Any] = {"employee_id": pl.Int64, "type": pl.String}
    for name in names:
        schema[f"{name}|count"] = pl.Int64
        schema[f"{name}|total"] = pl.Float64
    wide = pl.DataFrame(session.execute(query).all(), schema=schema, orient="row")
    parts = [
        wide.select(
            "employee_id",
            "type",
            pl.lit(name).alias("window"),
            pl.col(f"{name}|count").alias("count"),
            pl.col(f"{name}|total").alias("total"),
        ).filter(pl.col("type").is_in(sorted(types[name])) & (pl.col("count") > 0))
        for name in names
    ]
    return pl.concat(parts).sort("employee_id", "type", "window")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def previous_scores(session: Session, as_of: date) -> pl.DataFrame:
    """Each employee's latest snapshot with an as-of date before ``as_of`` (the trend's base)."""
    ranked = (
        select(
            ScoreSnapshot.employee_id,
            ScoreSnapshot.score,
            ScoreSnapshot.as_of,
            func.row_number()
            .over(
                partition_by=ScoreSnapshot.employee_id,
                order_by=(ScoreSnapshot.as_of.desc(), ScoreSnapshot.id.desc()),
            )
            .label("rank"),
        )
        .where(ScoreSnapshot.as_of < as_of)
        .subquery()
    )
    query = select(ranked.c.employee_id, ranked.c.score, ranked.c.as_of).where(ranked.c.rank == 1)
    return pl.DataFrame(
        session.execute(query).all(),
        schema={"employee_id": pl.Int64, "score": pl.Float64, "as_of": pl.Date},
        orient="row",
    )


# --- snapshots and profiles ------------------------------------------------------------------


def written_employees(session: Session, run_id: int) -> set[int]:
    return set(
        session.scalars(select(ScoreSnapshot.employee_id).where(ScoreSnapshot.run_id == run_id))
    )


def insert_snapshots(session: Session, rows: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Insert snapshots (none twice per run and employee); their ids by employee id."""
    if not rows:
        return {}
    tenant_id = session_tenant(session)
    values = [{**row, "tenant_id": tenant_id} for row in rows]
    statement = _insert(session)(ScoreSnapshot).on_conflict_do_nothing(
        index_elements=["tenant_id", "run_id", "employee_id"]
    )
    session.execute(statement, values)
    run_id = rows[0]["run_id"]
    ids: dict[int, int] = {}
    employee_ids = [row["employee_id"] for row in rows]
    for chunk in _chunks(employee_ids):
        query = select(ScoreSnapshot.employee_id, ScoreSnapshot.id).where(
            ScoreSnapshot.run_id == run_id, ScoreSnapshot.employee_id.in_(chunk)
        )
        ids.update(
            {employee_id: snapshot_id for employee_id, snapshot_id in session.execute(query)}
        )
    return ids


def upsert_profiles(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace profiles, never with an older as-of date than the one they show."""
    if not rows:
        return
    tenant_id = session_tenant(session)
    values = [{**row, "tenant_id": tenant_id, "updated_at": utcnow()} for row in rows]
    statement = _insert(session)(EmployeeProfile)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "employee_id"],
        set_={
            name: getattr(excluded, name)
            for name in (
                "snapshot_id",
                "model_version",
                "as_of",
                "score",
                "confidence",
                "trend",
                "pillars",
                "flags",
                "updated_at",
            )
        },
        where=excluded.as_of >= EmployeeProfile.as_of,
    )
    session.execute(statement, values)


def profile_of(session: Session, employee_id: int) -> EmployeeProfile | None:
    return session.scalars(
        select(EmployeeProfile).where(EmployeeProfile.employee_id == employee_id)
    ).one_or_none()


def snapshot_by_id(session: Session, snapshot_id: int) -> ScoreSnapshot | None:
    return session.scalars(
        select(ScoreSnapshot).where(ScoreSnapshot.id == snapshot_id)
    ).one_or_none()


def snapshot_for(session: Session, employee_id: int, as_of: date) -> ScoreSnapshot | None:
    """The latest snapshot of one employee for one as-of date."""
    return session.scalars(
        select(ScoreSnapshot)
        .where(ScoreSnapshot.employee_id == employee_id, ScoreSnapshot.as_of == as_of)
        .order_by(ScoreSnapshot.id.desc())
        .limit(1)
    ).one_or_none()


def run_snapshots(session: Session, run_id: int) -> list[ScoreSnapshot]:
    return list(
        session.scalars(
            select(ScoreSnapshot)
            .where(ScoreSnapshot.run_id == run_id)
            .order_by(ScoreSnapshot.employee_id)
        )
    )


def all_profiles(session: Session) -> list[tuple[EmployeeProfile, str]]:
    query = (
        select(EmployeeProfile, Employee.employee_number)
        .join(Employee, Employee.id == EmployeeProfile.employee_id)
        .order_by(Employee.employee_number)
    )
    return [(profile, number) for profile, number in session.execute(query)]


def run_scores_by_employee(session: Session, run_id: int) -> list[tuple[str, float, float, str]]:
    """(HRIS id, score, confidence, cohort) of every scored snapshot of a run."""
    query = (
        select(
            Employee.employee_number,
            ScoreSnapshot.score,
            ScoreSnapshot.confidence,
            ScoreSnapshot.cohort,
        )
        .join(Employee, Employee.id == ScoreSnapshot.employee_id)
        .where(ScoreSnapshot.run_id == run_id, ScoreSnapshot.score.is_not(None))
        .order_by(Employee.employee_number)
    )
    return [(n, float(s or 0), float(c), h) for n, s, c, h in session.execute(query)]


def run_distribution(session: Session, run_id: int) -> list[float | None]:
    return list(session.scalars(select(ScoreSnapshot.score).where(ScoreSnapshot.run_id == run_id)))


# --- access log ------------------------------------------------------------------------------


def log_access(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    tenant_id = session_tenant(session)
    at = utcnow()
    session.execute(insert(AccessLog), [{"tenant_id": tenant_id, "at": at, **row} for row in rows])


def access_log(session: Session, *, employee_id: int | None, limit: int) -> list[AccessLog]:
    query = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)
    if employee_id is not None:
        query = query.where(AccessLog.employee_id == employee_id)
    return list(session.scalars(query))
