"""Scoring runs on SQLite and PostgreSQL: snapshots, profiles, identical reruns, immutable
versions and snapshots, resume after a crash, subsets and trends."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.db.session import Database
from meritline.db.tenancy import bind_tenant
from meritline.errors import InvalidInput, NotFound
from meritline.evidence import aggregates, ingestion
from meritline.evidence.frames import from_drafts
from meritline.evidence.signals import ExternalAccount, SignalDraft
from meritline.models import EmployeeProfile, ScoreSnapshot, ScoringModel
from meritline.scoring import engine, jobs, queries, service
from meritline.scoring.definition import DEFAULT_MODEL_PATH
from tests.fixtures.factories import import_lines, new_tenant

AS_OF = date(2026, 9, 30)
HEADER = "employee_id,name,email,manager_id,department,job_family,level,location"
PEOPLE = 24


def _uow(db: Database, operator: Subject):
    @contextmanager
    def unit_of_work(read_only: bool = False) -> Iterator[tuple[Session, Subject]]:
        with db.unit_of_work(operator.tenant_id, read_only=read_only) as session:
            bind_tenant(session, operator.tenant_id)
            yield session, operator

    return unit_of_work


@pytest.fixture
def company(db: Database) -> Subject:
    """24 engineers in two levels with a year of PRs, issues and reviews of varied pace."""
    operator = new_tenant(db)
    lines = [
        f"P{i:02d},Person {i},p{i}@example.com,{'' if i == 0 else 'P00'},Eng,Engineering,"
        f"{'L2' if i % 2 else 'L3'},Berlin"
        for i in range(PEOPLE)
    ]
    import_lines(db, operator, lines, header=HEADER, effective_date=date(2020, 1, 1))
    rng = random.Random(4)
    drafts = []
    start = datetime(2025, 10, 1, 12, tzinfo=UTC)
    for i in range(PEOPLE):
        account = ExternalAccount("employee_id", f"P{i:02d}")
        for kind, base in (("pr_merged", 40), ("issue_resolved", 60), ("pr_review_submitted", 50)):
            for n in range(int(base * (0.5 + i / PEOPLE)) + rng.randint(0, 5)):
                at = start + timedelta(days=rng.randrange(364))
                drafts.append(SignalDraft("test", kind, account, at, f"{i}-{kind}-{n}"))
    with db.unit_of_work(operator.tenant_id) as session:
        bind_tenant(session, operator.tenant_id)
        ingestion.ingest_drafts_batch(
            session, operator, from_drafts(drafts), kind="demo", source="test"
        )
        aggregates.refresh(session, operator)
    return operator


def _snapshots(db: Database, operator: Subject, run_id: int) -> list[ScoreSnapshot]:
    with db.unit_of_work(operator.tenant_id, read_only=True) as session:
        return list(
            session.scalars(
                select(ScoreSnapshot)
                .where(ScoreSnapshot.run_id == run_id)
                .order_by(ScoreSnapshot.employee_id)
            )
        )


def _content(snapshots: list[ScoreSnapshot]) -> list[tuple]:
    return [
        (s.employee_id, s.score, s.confidence, s.pillars, s.explanation, s.fingerprint, s.cohort)
        for s in snapshots
    ]


def test_a_run_writes_a_snapshot_and_a_profile_per_employee(db: Database, company: Subject) -> None:
    summary = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    assert summary.status == "succeeded"
    assert (summary.employees, summary.written, summary.unscored) == (PEOPLE, PEOPLE, 0)
    assert summary.model_version == "default@1" and summary.inputs_digest
    snapshots = _snapshots(db, company, summary.run_id)
    assert len(snapshots) == PEOPLE
    assert all(s.as_of == AS_OF and s.model_version == "default@1" for s in snapshots)
    with db.unit_of_work(company.tenant_id, read_only=True) as session:
        profiles = session.scalars(select(EmployeeProfile)).all()
        assert len(profiles) == PEOPLE
        explanation = service.get_explanation(session, company, employee_id="P23")
    # the pace grows with the employee number, and so does the score
    assert explanation.score is not None and explanation.score > 60
    assert explanation.top_positive and explanation.benchmark.cohort == "Engineering · L2"


def test_running_twice_gives_identical_snapshots_and_fingerprints(
    db: Database, company: Subject
) -> None:
    first = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    second = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    assert first.run_id != second.run_id
    assert first.inputs_digest == second.inputs_digest
    assert _content(_snapshots(db, company, first.run_id)) == _content(
        _snapshots(db, company, second.run_id)
    )


def test_a_model_change_never_alters_an_old_snapshot(
    db: Database, company: Subject, tmp_path
) -> None:
    first = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    before = _content(_snapshots(db, company, first.run_id))
    changed = tmp_path / "model.yaml"
    changed.write_text(
        DEFAULT_MODEL_PATH.read_text().replace("weight: 0.15", "weight: 0.40"), encoding="utf-8"
    )
    with _uow(db, company)() as (session, subject):
        activation = service.activate(session, subject, reference=str(changed))
    assert (activation.version, activation.previous) == ("default@2", "default@1")
    second = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    assert second.model_version == "default@2"
    assert _content(_snapshots(db, company, first.run_id)) == before
    new = _snapshots(db, company, second.run_id)
    assert {s.fingerprint for s in new}.isdisjoint({row[5] for row in before})
    with _uow(db, company)() as (session, subject):
        # activating the same content again stores nothing new
        again = service.activate(session, subject, reference=str(changed))
        assert again.created is False and again.version == "default@2"
        diff = service.diff(session, subject, old="default@1", new="default@2")
    assert {c.path for c in diff.changes} == {"pillars.Productivity.weight"}


def test_snapshots_are_append_only_and_stored_versions_frozen(
    db: Database, company: Subject
) -> None:
    run = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    snapshot_id = _snapshots(db, company, run.run_id)[0].id
    for statement in (
        f"UPDATE score_snapshot SET score = 100 WHERE id = {snapshot_id}",
        f"DELETE FROM score_snapshot WHERE id = {snapshot_id}",
        "UPDATE scoring_model SET definition = '{}'",
        "UPDATE scoring_model SET version = 7",
    ):
        with pytest.raises(DBAPIError), db.unit_of_work(company.tenant_id) as session:
            session.execute(text(statement))
    with db.unit_of_work(company.tenant_id) as session:  # status may still move
        session.execute(text("UPDATE scoring_model SET status = 'retired'"))
        assert session.scalar(select(ScoringModel.status)) == "retired"


def test_a_run_that_dies_midway_resumes_without_duplicates_or_gaps(
    db: Database, company: Subject, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    real_write = service.write_scores
    calls = {"n": 0}

    def dying_write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(service, "write_scores", dying_write)
    with pytest.raises(RuntimeError):
        jobs.run_scoring(_uow(db, company), as_of=AS_OF, chunk_size=5)
    with db.unit_of_work(company.tenant_id, read_only=True) as session:
        failed = service.list_runs(session, company)[0]
    assert failed.status == "failed" and "killed" in (failed.error or "")
    assert len(_snapshots(db, company, failed.run_id)) == 10
    monkeypatch.setattr(service, "write_scores", real_write)
    resumed = jobs.run_scoring(_uow(db, company), resume=True, chunk_size=5)
    assert resumed.run_id == failed.run_id
    assert (resumed.status, resumed.resumed, resumed.written) == ("succeeded", 1, PEOPLE)
    assert _content(_snapshots(db, company, resumed.run_id)) == _content(
        _snapshots(db, company, clean.run_id)
    )
    with pytest.raises(NotFound):
        jobs.run_scoring(_uow(db, company), resume=True)


def test_a_subset_is_scored_against_the_whole_cohort(db: Database, company: Subject) -> None:
    full = {
        s.employee_id: s
        for s in _snapshots(db, company, jobs.run_scoring(_uow(db, company), as_of=AS_OF).run_id)
    }
    subset = jobs.run_scoring(_uow(db, company), as_of=AS_OF, employees=["P03", "P10"])
    written = _snapshots(db, company, subset.run_id)
    assert subset.employees == 2 and len(written) == 2
    for s in written:
        assert (s.score, s.fingerprint) == (
            full[s.employee_id].score,
            full[s.employee_id].fingerprint,
        )
    with pytest.raises(InvalidInput):
        jobs.run_scoring(_uow(db, company), as_of=AS_OF, employees=["NOPE"])


def test_trend_against_the_previous_as_of_and_profiles_never_go_back(
    db: Database, company: Subject
) -> None:
    earlier = jobs.run_scoring(_uow(db, company), as_of=date(2026, 6, 30))
    later = jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    old = {s.employee_id: s for s in _snapshots(db, company, earlier.run_id)}
    for s in _snapshots(db, company, later.run_id):
        assert s.trend == pytest.approx(s.score - old[s.employee_id].score, abs=0.011)
    jobs.run_scoring(_uow(db, company), as_of=date(2026, 3, 31))  # a backfill
    with db.unit_of_work(company.tenant_id, read_only=True) as session:
        as_ofs = set(session.scalars(select(EmployeeProfile.as_of)))
    assert as_ofs == {AS_OF}


def test_reads_are_logged_with_their_purpose(db: Database, company: Subject) -> None:
    jobs.run_scoring(_uow(db, company), as_of=AS_OF)
    with _uow(db, company)() as (session, subject):
        service.get_profile(session, subject, employee_id="P05", purpose="pay review")
        service.get_explanation(session, subject, employee_id="P05")
        rows = service.export(session, subject)
        with pytest.raises(NotFound):
            service.get_profile(session, subject, employee_id="NOPE")
        log = service.access_log(session, subject, employee_id="P05")
    assert len(rows) == PEOPLE
    assert [(e.resource, e.purpose) for e in log] == [
        ("export", "administration"),
        ("explanation", "administration"),
        ("profile", "pay review"),
    ]


def test_windows_come_from_the_signals_without_a_refresh_to_the_second(
    db: Database, company: Subject
) -> None:
    """Signals stored after the last refresh count at once; a window is whole UTC days, its
    first and last second included and the seconds either side left out.
    """
    account = ExternalAccount("employee_id", "P01")
    edges = {
        "before": datetime(2025, 9, 30, 23, 59, 59, tzinfo=UTC),
        "first": datetime(2025, 10, 1, 0, 0, 0, tzinfo=UTC),
        "last": datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC),
        "after": datetime(2026, 10, 1, 0, 0, 0, tzinfo=UTC),
    }
    window = {"365d": engine.window_bounds("365d", AS_OF)}
    types = {"365d": {"kudos_received"}}
    with db.unit_of_work(company.tenant_id) as session:
        bind_tenant(session, company.tenant_id)
        assert queries.window_evidence(session, window, types).is_empty()
        drafts = [
            SignalDraft("test", "kudos_received", account, at, f"edge-{name}")
            for name, at in edges.items()
        ]
        ingestion.ingest_drafts_batch(
            session, company, from_drafts(drafts), kind="demo", source="test"
        )  # no refresh after this
        evidence = queries.window_evidence(session, window, types)
    assert evidence.select("type", "window", "count", "total").rows() == [
        ("kudos_received", "365d", 2, 2.0)
    ]
