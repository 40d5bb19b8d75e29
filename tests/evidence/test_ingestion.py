"""Ingestion on each backend: files with good and bad lines, idempotent re-imports, quarantine and
retry, e-mail matching, tenant isolation, and the rollup (incremental equals full recompute).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.db.session import Database
from meritline.errors import InvalidInput
from meritline.evidence import aggregates, identities, ingestion, queries
from meritline.evidence.frames import from_drafts
from meritline.evidence.signals import ExternalAccount, SignalDraft
from meritline.models import AggregateBacklog, SignalDaily
from tests.fixtures.factories import import_lines, new_tenant, person_line


@pytest.fixture
def acme(db: Database) -> Subject:
    operator = new_tenant(db)
    import_lines(
        db, operator, [person_line("E1"), person_line("E2", "E1"), person_line("E3", "E1")]
    )
    return operator


def write_jsonl(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(external_id: str, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "source": "zendesk",
        "type": "ticket_solved",
        "employee_id": "E1",
        "occurred_at": "2026-03-02T10:15:00Z",
        "value": 1,
        "external_id": external_id,
    }
    return {**base, **overrides}


def test_good_lines_land_and_bad_lines_are_quarantined_with_line_and_reason(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "zendesk.jsonl",
        [
            row("z1", attributes={"tier": 2}),
            row("z2", email="E2@Example.com", employee_id=None),
            row("z3", occurred_at="yesterday"),
            "{not json",
            row("z4", value="NaN"),
            row("z5", external_account="github:ghost", employee_id=None),
            row("z6", occurred_at="2999-01-01T00:00:00Z"),
        ],
    )
    with db.unit_of_work(acme.tenant_id) as session:
        summary = ingestion.import_file(session, acme, path)
        page = ingestion.quarantine(session, acme)
        status = ingestion.status(session, acme)

    assert (summary.events, summary.signals, summary.quarantined) == (7, 2, 5)
    reasons = {q.line: q.reason for q in page.items}
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "occurred_at" in reasons[3]
    assert reasons[4].startswith("not JSON")
    assert "finite" in reasons[5]
    assert "github account 'ghost'" in reasons[6]
    assert "future" in reasons[7]
    assert (status.signals, status.quarantined) == (2, 5)


def test_reimporting_a_file_stores_nothing_twice(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "s.jsonl", [row("a"), row("b"), row("b"), "oops", row("c", employee_id="E9")]
    )
    with db.unit_of_work(acme.tenant_id) as session:
        first = ingestion.import_file(session, acme, path)
        second = ingestion.import_file(session, acme, path)
        status = ingestion.status(session, acme)

    assert (first.signals, first.duplicates, first.quarantined) == (2, 1, 2)
    assert (second.signals, second.duplicates, second.quarantined) == (0, 5, 0)
    assert (status.signals, status.quarantined, status.duplicates) == (2, 2, 6)


def test_csv_and_jsonl_give_the_same_signals(db: Database, acme: Subject, tmp_path: Path) -> None:
    csv_path = tmp_path / "s.csv"
    csv_path.write_text(
        "source,type,email,occurred_at,value,external_id,attributes\n"
        'zendesk,ticket_solved,e1@example.com,2026-03-02T10:15:00+01:00,2,x1,"{""tier"": 1}"\n',
        encoding="utf-8",
    )
    with db.unit_of_work(acme.tenant_id) as session:
        summary = ingestion.import_file(session, acme, csv_path)
        totals = queries.signal_counts_by_source(session)
    assert summary.signals == 1
    assert totals == [("zendesk", "ticket_solved", 1)]


def test_unknown_format_and_missing_file_are_clear_errors(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    with db.unit_of_work(acme.tenant_id) as session:
        with pytest.raises(InvalidInput, match="pass --format"):
            ingestion.import_file(session, acme, odd)
        with pytest.raises(InvalidInput, match="no such file"):
            ingestion.import_file(session, acme, tmp_path / "missing.jsonl")


def test_retry_stores_quarantined_signals_once_their_person_is_mapped(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "s.jsonl",
        [
            row("g1", external_account="github:NewHire", employee_id=None),
            row("g2", external_account="github:newhire", employee_id=None),
            row("j1", external_account="jira:557058:abc", employee_id=None),
        ],
    )
    with db.unit_of_work(acme.tenant_id) as session:
        assert ingestion.import_file(session, acme, path).quarantined == 3
        identities.add_mapping(session, acme, kind="github", value="NEWHIRE", employee_number="E3")
        first = ingestion.retry(session, acme)
        again = ingestion.retry(session, acme)
        status = ingestion.status(session, acme)

    assert (first.retried, first.signals, first.still_unknown) == (3, 2, 1)
    assert (again.retried, again.signals, again.still_unknown) == (1, 0, 1)
    assert (status.signals, status.quarantined) == (2, 1)


def test_a_mapping_file_with_bad_lines_writes_nothing(db: Database, acme: Subject) -> None:
    text = "employee_id,kind,value\nE1,github,ana\nE404,github,bob\n,jira,x\nE2,github,ANA\n"
    with db.unit_of_work(acme.tenant_id) as session:
        with pytest.raises(InvalidInput) as caught:
            identities.import_mappings(
                session, acme, identities.parse_mapping_csv(text), origin="import"
            )
        assert queries.all_identities(session) == {}
    lines = {e.line for e in caught.value.details["errors"]}
    assert lines == {4, 5}  # a missing id, and github 'ana' mapped twice (case-insensitive)


def test_an_account_with_a_known_email_is_matched_and_remembered(
    db: Database, acme: Subject
) -> None:
    when = datetime(2026, 3, 2, 9, tzinfo=UTC)
    hinted = ExternalAccount("github", "E2-Hub", email="e2@example.com")
    drafts = [SignalDraft("github", "pr_opened", hinted, when, "pr-1")]
    plain = [SignalDraft("github", "pr_merged", ExternalAccount("github", "e2-hub"), when, "pr-2")]
    with db.unit_of_work(acme.tenant_id) as session:
        first = ingestion.ingest(
            session, from_drafts(drafts), source="t", origin="t", batch_id=None
        )
        second = ingestion.ingest(
            session, from_drafts(plain), source="t", origin="t", batch_id=None
        )
        mapping = queries.all_identities(session)

    assert (first.signals, first.identities_matched_by_email) == (1, 1)
    assert second.signals == 1
    assert ("github", "e2-hub") in mapping


def test_tenants_never_see_each_others_evidence(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    other = new_tenant(db)
    import_lines(db, other, [person_line("E1", email="e1@other.example")])
    path = write_jsonl(tmp_path / "s.jsonl", [row("a"), row("b")])
    with db.unit_of_work(acme.tenant_id) as session:
        ingestion.import_file(session, acme, path)
    with db.unit_of_work(other.tenant_id) as session:
        status = ingestion.status(session, other)
        same_ids = ingestion.import_file(session, other, path)  # same external ids, other tenant
    assert status.signals == 0
    assert same_ids.signals == 2


def _random_drafts(rng: random.Random, n: int, start: int) -> list[SignalDraft]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        SignalDraft(
            "gen",
            rng.choice(["a", "b"]),
            ExternalAccount("employee_id", rng.choice(["E1", "E2", "E3"])),
            base + timedelta(hours=rng.randrange(24 * 200)),
            f"r{start + i}",
            float(rng.randrange(1, 5)),
        )
        for i in range(n)
    ]


def _daily(db: Database, tenant_id: int) -> set[tuple[int, str, date, int, float]]:
    with db.unit_of_work(tenant_id, read_only=True) as session:
        return _daily_rows(session)


def _daily_rows(session: Session) -> set[tuple[int, str, date, int, float]]:
    rows = session.scalars(select(SignalDaily)).all()
    return {(r.employee_id, r.type, r.day, r.count, r.total) for r in rows}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_refresh_equals_a_full_recompute_with_late_signals(
    db: Database, acme: Subject, seed: int
) -> None:
    rng = random.Random(seed)
    for round_ in range(4):
        # each round adds signals anywhere in the 200 days: late arrivals land in old buckets,
        # and some are re-deliveries of earlier external ids
        drafts = _random_drafts(rng, 150, start=round_ * 100)
        with db.unit_of_work(acme.tenant_id) as session:
            ingestion.ingest(session, from_drafts(drafts), source="g", origin="g", batch_id=None)
            if rng.random() < 0.75:
                queued = {
                    (b.employee_id, b.type, b.month)
                    for b in session.scalars(select(AggregateBacklog))
                }
                done = aggregates.refresh(session, acme)
                # what the refresh reports is what it wrote: the day buckets of those months
                written = [
                    n
                    for e, t, day, n, _ in _daily_rows(session)
                    if (e, t, day.replace(day=1)) in queued
                ]
                assert (done.months, done.buckets) == (len(queued), len(written))
                assert done.signals == sum(written)
    with db.unit_of_work(acme.tenant_id) as session:
        last = aggregates.refresh(session, acme)
        assert last.backlog_left == 0
    incremental = _daily(db, acme.tenant_id)
    with db.unit_of_work(acme.tenant_id) as session:
        aggregates.refresh(session, acme, full=True)
    assert incremental == _daily(db, acme.tenant_id)
    assert sum(count for *_, count, _ in incremental) > 0


def test_windows_sum_the_right_days(db: Database, acme: Subject) -> None:
    days = [
        date(2026, 5, 10),
        date(2026, 5, 4),
        date(2026, 4, 1),
        date(2026, 3, 31),
        date(2025, 12, 31),
    ]
    drafts = [
        SignalDraft(
            "gen",
            "a",
            ExternalAccount("employee_id", "E1"),
            datetime.combine(d, datetime.min.time(), UTC) + timedelta(hours=12),
            f"w{i}",
        )
        for i, d in enumerate(days)
    ]
    with db.unit_of_work(acme.tenant_id) as session:
        ingestion.ingest(session, from_drafts(drafts), source="g", origin="g", batch_id=None)
        aggregates.refresh(session, acme)
        report = aggregates.windows(session, acme, as_of=date(2026, 5, 10), employee_number="E1")
    (only,) = report.rows
    counts = {name: w["count"] for name, w in only.windows.items()}
    assert counts == {"7d": 2, "30d": 2, "90d": 4, "365d": 5, "qtd": 3, "ytd": 4}
