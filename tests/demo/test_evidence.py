"""The demo company's year of work-tool evidence: deterministic, plausible, and ingestible."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from meritline.demo import evidence
from meritline.demo.company import DEMO_TODAY, Person, generate_people
from meritline.evidence.signals import SignalDraft

WORK_SOURCES = {"github", "jira", "calendar", "lms", "recognition"}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(400, seed=7)


@pytest.fixture(scope="module")
def signals(people: list[Person]) -> list[SignalDraft]:
    return list(evidence.generate_signals(people, seed=7))


@pytest.fixture(scope="module")
def owner(people: list[Person]) -> dict[tuple[str, str], Person]:
    """The person behind each account, as identity resolution would find them."""
    found = {("email", p.email): p for p in people}
    found |= {("employee_id", p.employee_id): p for p in people}
    by_id = {p.employee_id: p for p in people}
    found |= {("github", login): by_id[e] for e, login in evidence.github_logins(people).items()}
    return found


def person_of(signal: SignalDraft, owner: dict[tuple[str, str], Person]) -> Person:
    return owner[(signal.account.kind, signal.account.value)]


def local_day(signal: SignalDraft, person: Person) -> date:
    """The day a signal belongs to: HRMS days are dated in UTC, the rest in the person's zone."""
    if signal.source == "hrms":
        return signal.occurred_at.date()
    return signal.occurred_at.astimezone(ZoneInfo(evidence.TIME_ZONES[person.location])).date()


def full_year(people: list[Person]) -> list[Person]:
    start, _ = evidence.window()
    return [p for p in people if p.hire_date <= start and p.termination_date is None]


def test_same_seed_same_signals_other_seed_other_signals() -> None:
    staff = generate_people(60, seed=3)
    first = list(evidence.generate_signals(staff, seed=3))
    assert first and list(evidence.generate_signals(staff, seed=3)) == first
    other = list(evidence.generate_signals(staff, seed=4))
    assert {s.external_id for s in other}.isdisjoint({s.external_id for s in first})

    def content(drafts: list[SignalDraft]) -> list[tuple[object, ...]]:
        return [(s.type, s.account, s.occurred_at, s.value) for s in drafts]

    assert content(other) != content(first)  # not only the ids: the evidence itself differs


def test_external_ids_are_unique_per_source(signals: list[SignalDraft]) -> None:
    keys = Counter((s.source, s.external_id) for s in signals)
    assert keys.most_common(1)[0][1] == 1


def test_volume_is_a_realistic_year(signals: list[SignalDraft]) -> None:
    assert 120_000 <= len(signals) <= 250_000
    kinds = Counter((s.source, s.type) for s in signals)
    expected = {
        ("github", "pr_opened"),
        ("github", "pr_merged"),
        ("github", "pr_closed_unmerged"),
        ("github", "pr_review_submitted"),
        ("github", "commits_pushed"),
        ("jira", "issue_created"),
        ("jira", "issue_resolved"),
        ("calendar", "meeting_hours"),
        ("calendar", "after_hours_meeting_hours"),
        ("calendar", "weekend_meeting_hours"),
        ("lms", "course_completed"),
        ("hrms", "leave_day"),
        ("hrms", "absence_day"),
        ("hrms", "protected_leave_day"),
        ("recognition", "kudos_given"),
        ("recognition", "kudos_received"),
    }
    assert set(kinds) == expected
    assert kinds["github", "pr_merged"] > 5 * kinds["github", "pr_closed_unmerged"]
    assert kinds["github", "pr_opened"] >= kinds["github", "pr_merged"]
    assert kinds["recognition", "kudos_given"] == kinds["recognition", "kudos_received"]


def test_times_are_utc_within_the_window_and_employment(
    signals: list[SignalDraft], owner: dict[tuple[str, str], Person]
) -> None:
    start, end = evidence.window()
    assert (start, end) == (date(2025, 10, 1), DEMO_TODAY)
    lower, upper = datetime(2025, 10, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    for signal in signals:
        assert signal.occurred_at.utcoffset() is not None
        assert signal.occurred_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert lower <= signal.occurred_at < upper
        person = person_of(signal, owner)
        day = local_day(signal, person)
        assert person.hire_date <= day
        assert person.termination_date is None or day <= person.termination_date


def test_work_happens_on_working_days_at_office_hours(
    signals: list[SignalDraft], owner: dict[tuple[str, str], Person]
) -> None:
    for signal in signals:
        if signal.source not in {"github", "jira", "lms", "recognition"}:
            continue
        person = person_of(signal, owner)
        local = signal.occurred_at.astimezone(ZoneInfo(evidence.TIME_ZONES[person.location]))
        assert local.weekday() < 5, signal
        assert local.date() not in evidence.PUBLIC_HOLIDAYS[person.location], signal
        if signal.type != "kudos_received":  # sent in the giver's hours, maybe another zone
            assert 7 <= local.hour <= 20, signal
    weekend = [s for s in signals if s.type == "weekend_meeting_hours"]
    assert weekend and all(date.fromisoformat(s.attributes["date"]).weekday() >= 5 for s in weekend)


def test_no_work_on_a_full_day_of_leave_or_absence(
    signals: list[SignalDraft], owner: dict[tuple[str, str], Person]
) -> None:
    off = {
        (s.account.value, s.occurred_at.date())
        for s in signals
        if s.source == "hrms" and s.value == 1
    }
    assert len(off) > 5000
    for signal in signals:
        if signal.source in WORK_SOURCES:
            person = person_of(signal, owner)
            assert (person.employee_id, local_day(signal, person)) not in off, signal


def test_leave_is_marked_protected_exactly_when_it_is(
    signals: list[SignalDraft], people: list[Person]
) -> None:
    hrms = [s for s in signals if s.source == "hrms"]
    protected = {"parental", "maternity", "paternity", "adoption", "medical", "sick"}
    for s in hrms:
        assert s.account.kind == "employee_id"
        assert s.attributes["protected"] is (s.attributes["leave_type"] in protected)
        assert s.value in (0.5, 1.0)
        assert s.occurred_at.weekday() < 5
    types = Counter(s.attributes["leave_type"] for s in hrms)
    assert types["annual"] > types["sick"] > 0 and types["parental"] > 0
    parental = Counter(s.account.value for s in hrms if s.attributes["leave_type"] == "parental")
    assert max(parental.values()) >= 40  # a long parental leave block
    days = Counter[str]()
    for s in hrms:
        if s.type == "leave_day" and s.attributes["leave_type"] == "annual":
            days[s.account.value] += s.value  # type: ignore[assignment]
    typical = mean(days[p.employee_id] for p in full_year(people))
    assert 16 <= typical <= 28


def test_seniority_and_role_shape_the_activity(
    signals: list[SignalDraft], people: list[Person], owner: dict[tuple[str, str], Person]
) -> None:
    opened: Counter[str] = Counter()
    reviews: Counter[str] = Counter()
    for s in signals:
        if s.type in {"pr_opened", "pr_review_submitted"}:
            counter = opened if s.type == "pr_opened" else reviews
            counter[person_of(s, owner).employee_id] += 1
    engineers = [p for p in full_year(people) if p.job_family == "Software Engineering"]

    def average(counter: Counter[str], *levels: str) -> float:
        return mean(counter[p.employee_id] for p in engineers if p.level in levels)

    assert average(opened, "IC3", "IC4") > 1.4 * average(opened, "IC1")
    assert average(reviews, "M1") > average(opened, "M1")
    assert average(reviews, "M1") > average(reviews, "IC1")
    leaders = {p.employee_id for p in people if p.level in ("VP", "CEO")}
    github = {person_of(s, owner).employee_id for s in signals if s.source == "github"}
    assert not github & leaders
    hours: defaultdict[str, list[float]] = defaultdict(list)
    for s in signals:
        if s.type == "meeting_hours":
            hours[person_of(s, owner).level].append(s.value)
    assert mean(hours["M1"]) > 1.5 * mean(hours["IC2"])


def test_engineers_are_on_github_and_finance_is_not(
    signals: list[SignalDraft], people: list[Person], owner: dict[tuple[str, str], Person]
) -> None:
    github = Counter(person_of(s, owner).employee_id for s in signals if s.source == "github")
    coders = [p for p in full_year(people) if p.job_family == "Software Engineering"]
    assert coders and all(github[p.employee_id] > 0 for p in coders if p.level != "VP")
    assert all(github[p.employee_id] > 20 for p in coders if p.level.startswith("IC"))
    finance = [p for p in people if p.job_family == "Finance"]
    assert finance and not any(github[p.employee_id] for p in finance)
    assert all(p.employee_id not in evidence.github_logins(people) for p in finance)
    jira = Counter(person_of(s, owner).job_family for s in signals if s.source == "jira")
    assert jira["Software Engineering"] > 0 and jira["Finance"] == 0 and jira["Sales"] == 0


def test_identities_csv_covers_every_github_login(
    signals: list[SignalDraft], people: list[Person]
) -> None:
    rows = list(csv.DictReader(io.StringIO(evidence.identities_csv(people))))
    assert rows and set(rows[0]) == {"employee_id", "kind", "value"}
    assert {r["kind"] for r in rows} == {"github"}
    logins = {r["value"] for r in rows}
    assert len(logins) == len(rows) == len({r["employee_id"] for r in rows})
    used = {s.account.value for s in signals if s.source == "github"}
    assert used and used <= logins
    assert all(s.account.kind == "github" for s in signals if s.source == "github")


def test_logins_are_readable_and_unique_on_a_name_clash() -> None:
    twins = [
        Person("E1", 0, name="Ana Garcia", job_family="Software Engineering", level="IC3"),
        Person("E2", 0, name="Ana Garcia", job_family="Software Engineering", level="IC2"),
        Person("E3", 0, name="Ben Okafor", job_family="Finance", level="IC2"),
        Person("E4", 0, name="Ben Okafor", job_family="Software Engineering", level="VP"),
    ]
    assert evidence.github_logins(twins) == {"E1": "ana-garcia", "E2": "ana-garcia2"}


def test_values_have_the_shape_their_connectors_give(signals: list[SignalDraft]) -> None:
    meetings: dict[str, float] = {}
    after: dict[str, float] = {}
    for s in signals:
        if s.type == "issue_resolved":
            assert s.value in (1, 2, 3, 5, 8)
        elif s.type == "pr_review_submitted":
            assert s.attributes["state"] in ("approved", "changes_requested", "commented")
        elif s.type == "commits_pushed":
            assert s.value >= 1 and s.value == int(s.value)
        elif s.type == "course_completed":
            assert s.value > 0 and s.attributes["course"]
        elif s.type in ("kudos_given", "kudos_received"):
            other = s.attributes["to" if s.type == "kudos_given" else "from"]
            assert other.startswith("E") and s.attributes["message_len"] > 0
        elif s.type == "meeting_hours":
            meetings[s.external_id.removesuffix("-meeting_hours")] = s.value
        elif s.type == "after_hours_meeting_hours":
            after[s.external_id.removesuffix("-after_hours_meeting_hours")] = s.value
    assert after and all(0 < hours <= meetings[key] for key, hours in after.items())


def test_august_and_late_december_are_quieter(
    signals: list[SignalDraft], owner: dict[tuple[str, str], Person]
) -> None:
    per_month: Counter[tuple[int, int]] = Counter()
    for s in signals:
        if s.source in ("github", "jira"):
            day = local_day(s, person_of(s, owner))
            per_month[day.month, 1 if day.day <= 15 else 2] += 1
    june = per_month[6, 1] + per_month[6, 2]
    assert per_month[8, 1] + per_month[8, 2] < 0.85 * june
    assert per_month[12, 2] < 0.7 * per_month[12, 1]


def test_a_shorter_window_holds_only_its_months() -> None:
    staff = generate_people(60, seed=3)
    recent = list(evidence.generate_signals(staff, seed=3, months=3))
    assert recent and min(s.occurred_at for s in recent) >= datetime(2026, 7, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="months"):
        evidence.generate_signals(staff, seed=3, months=0)
