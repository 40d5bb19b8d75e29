"""Twelve months of work-tool evidence for the demo company, one function per kind of data.

The signals are what the connectors would have produced from a year of the company's GitHub, Jira,
calendars, learning platform, HRMS and recognition app: :class:`SignalDraft` objects, ready for
the same identity resolution and ingestion a user's data goes through. Everything is relative to
:data:`~meritline.demo.company.DEMO_TODAY` and deterministic in ``seed`` (never the clock): each
person's data of each kind comes from its own random stream, so the same seed gives the same
signals with the same ``external_id`` values and ingesting them twice stores nothing new.

Realism, in brief: work happens on a person's working days (Monday to Friday, not a public
holiday of their office, while employed and not on leave) at local office hours converted to
UTC; August and the last weeks of December are quieter; new joiners ramp up; people differ in
pace, and level and job family set the mix (senior engineers open the most pull requests,
managers review and meet more, vice-presidents write no code). A half day of leave halves that
day's work; a full day of leave or absence has none. Day-valued signals follow their
connectors: calendar loads at the local day's midnight, leave and absence at 00:00 UTC of the day.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from itertools import accumulate
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from meritline.demo.company import DEMO_TODAY, Person
from meritline.evidence.connectors.hrms import PROTECTED_LEAVE, leave_signal_type
from meritline.evidence.signals import ExternalAccount, SignalDraft

TIME_ZONES = {
    "Berlin": "Europe/Berlin",
    "London": "Europe/London",
    "New York": "America/New_York",
    "Toronto": "America/Toronto",
    "Bangalore": "Asia/Kolkata",
    "Remote": "UTC",
}

#: Office holidays (weekdays the office is closed) per location, 2025-2026.
PUBLIC_HOLIDAYS: dict[str, frozenset[date]] = {
    location: frozenset(date.fromisoformat(day) for day in days.split())
    for location, days in {
        "Berlin": "2025-01-01 2025-04-18 2025-04-21 2025-05-01 2025-05-08 2025-05-29 2025-06-09"
        " 2025-10-03 2025-12-25 2025-12-26 2026-01-01 2026-04-03 2026-04-06 2026-05-01"
        " 2026-05-14 2026-05-25 2026-12-25",
        "London": "2025-01-01 2025-04-18 2025-04-21 2025-05-05 2025-05-26 2025-08-25 2025-12-25"
        " 2025-12-26 2026-01-01 2026-04-03 2026-04-06 2026-05-04 2026-05-25 2026-08-31"
        " 2026-12-25 2026-12-28",
        "New York": "2025-01-01 2025-01-20 2025-02-17 2025-05-26 2025-06-19 2025-07-04"
        " 2025-09-01 2025-11-27 2025-11-28 2025-12-25 2026-01-01 2026-01-19 2026-02-16"
        " 2026-05-25 2026-06-19 2026-07-03 2026-09-07 2026-11-26 2026-11-27 2026-12-25",
        "Toronto": "2025-01-01 2025-02-17 2025-04-18 2025-05-19 2025-07-01 2025-08-04 2025-09-01"
        " 2025-10-13 2025-12-25 2025-12-26 2026-01-01 2026-02-16 2026-04-03 2026-05-18"
        " 2026-07-01 2026-08-03 2026-09-07 2026-10-12 2026-12-25 2026-12-28",
        "Bangalore": "2025-01-14 2025-03-31 2025-05-01 2025-08-15 2025-08-27 2025-10-01"
        " 2025-10-02 2025-10-20 2025-10-22 2025-12-25 2026-01-15 2026-01-26 2026-03-19"
        " 2026-03-20 2026-05-01 2026-09-14 2026-10-02 2026-10-20 2026-11-09 2026-12-25",
        "Remote": "2025-01-01 2025-12-25 2026-01-01 2026-12-25",
    }.items()
}

#: (month, first day, last day, activity relative to a normal day)
SEASONS = ((7, 1, 31, 0.9), (8, 1, 31, 0.7), (12, 18, 31, 0.45), (1, 1, 2, 0.5))


class LevelRates(NamedTuple):
    """How a level works, relative to a mid-level individual contributor (IC3)."""

    delivery: float  # pull requests, pushes, issues resolved
    review: float  # weight when reviewers are picked
    planning: float  # issues created
    meeting_hours: float  # on a typical working day
    kudos_per_month: float  # kudos given


LEVELS = {
    "IC1": LevelRates(0.5, 0.4, 0.6, 1.0, 0.35),
    "IC2": LevelRates(0.8, 0.9, 0.8, 1.3, 0.4),
    "IC3": LevelRates(1.0, 1.2, 1.0, 1.6, 0.45),
    "IC4": LevelRates(1.05, 1.6, 1.2, 2.0, 0.5),
    "IC5": LevelRates(0.85, 1.8, 1.4, 2.6, 0.55),
    "M1": LevelRates(0.3, 2.2, 1.6, 3.6, 0.9),
    "M2": LevelRates(0.1, 1.0, 1.4, 4.4, 1.0),
    "M3": LevelRates(0.04, 0.4, 1.0, 5.0, 1.0),
    "VP": LevelRates(0.0, 0.0, 0.4, 5.6, 0.9),
    "CEO": LevelRates(0.0, 0.0, 0.2, 6.0, 0.7),
}

#: job family -> (share of the family with a GitHub login, coding activity)
GITHUB_FAMILIES = {
    "Software Engineering": (1.0, 1.0),
    "Data Science": (1.0, 0.65),
    "Quality Engineering": (1.0, 0.75),
    "Security": (1.0, 0.5),
    "Design": (0.3, 0.15),
    "Product Management": (0.15, 0.05),
}
PRS_PER_DAY = 0.55  # opened by a mid-level software engineer on a normal working day
PUSHES_PER_DAY = 1.1
UNMERGED_SHARE = 0.1
MERGE_DELAY_WEIGHTS = (0.3, 0.3, 0.15, 0.11, 0.08, 0.06)  # working days: 0, 1, ... 5
REVIEWS_PER_PR_WEIGHTS = (0.0, 0.6, 0.3, 0.1)  # 0, 1, 2, 3 reviews
REVIEW_STATES = ("approved", "changes_requested", "commented")
REVIEW_STATE_WEIGHTS = (0.62, 0.16, 0.22)
REPOSITORIES = {
    "Platform": ("acme/platform-core", "acme/auth-service", "acme/event-bus"),
    "Product Engineering": ("acme/web-app", "acme/mobile-app", "acme/public-api"),
    "Data": ("acme/data-pipelines", "acme/ml-models", "acme/analytics"),
    "Infrastructure": ("acme/infra", "acme/deploy-tools", "acme/observability"),
    "Quality": ("acme/e2e-tests", "acme/test-harness", "acme/web-app"),
    "Security": ("acme/security-tooling", "acme/infra"),
    "Design": ("acme/design-system", "acme/web-app"),
}
DEFAULT_REPOSITORIES = ("acme/web-app", "acme/platform-core", "acme/public-api")

#: job family -> (issues created a day, issues resolved a day, estimated in story points)
JIRA_FAMILIES = {
    "Software Engineering": (0.12, 0.4, True),
    "Data Science": (0.1, 0.28, True),
    "Quality Engineering": (0.35, 0.4, True),
    "Security": (0.12, 0.25, True),
    "Product Management": (0.45, 0.08, True),
    "Design": (0.08, 0.2, True),
    "User Research": (0.06, 0.1, True),
    "IT": (0.1, 0.9, False),
}
STORY_POINTS = (1, 2, 3, 5, 8)
STORY_POINT_WEIGHTS = (0.15, 0.27, 0.3, 0.19, 0.09)
ISSUE_TYPES = ("Story", "Bug", "Task")
ISSUE_TYPE_WEIGHTS = (0.5, 0.3, 0.2)
JIRA_PROJECTS = {
    "Platform": "PLAT",
    "Product Engineering": "APP",
    "Data": "DATA",
    "Infrastructure": "INFRA",
    "Quality": "QA",
    "Security": "SEC",
    "Design": "DES",
    "Research": "UXR",
    "Product Management": "PROD",
    "IT": "IT",
}

#: meeting load of a job family relative to the level's typical day
MEETING_FAMILIES = {
    "Sales": 1.4,
    "Customer Success": 1.35,
    "Product Management": 1.45,
    "People": 1.15,
    "Marketing": 1.1,
    "Software Engineering": 0.85,
    "Data Science": 0.85,
    "Quality Engineering": 0.85,
}
WEEKDAY_MEETINGS = (1.15, 1.05, 1.0, 1.0, 0.8)  # Monday ... Friday
#: chance that someone at this office meets across time zones outside their working hours
AFTER_HOURS_SHARE = {"Bangalore": 0.22, "Toronto": 0.14, "New York": 0.06, "Remote": 0.1}
AFTER_HOURS_DEFAULT_SHARE = 0.05
WEEKEND_MEETING_CHANCE = 0.012  # per weekend day; managers and sales three times as often

#: annual leave days a year, by office
ANNUAL_LEAVE = {
    "Berlin": 28,
    "London": 25,
    "New York": 18,
    "Toronto": 18,
    "Bangalore": 21,
    "Remote": 22,
}
#: (leave type, chance a person takes such a block, working days in it: fewest, most)
LONG_LEAVE = (("parental", 0.035, 40, 120), ("medical", 0.015, 5, 20))
SUMMER_BLOCK, WINTER_BLOCK = (5, 10), (3, 6)  # annual leave, working days
HALF_DAY_SHARE = 0.2  # of single days of annual leave
SICK_DAYS_A_YEAR = 4.5
SICK_SPELLS = (1, 1, 1, 2, 3)  # working days, equally likely
ABSENCE_SHARE = 0.05  # people with an unplanned absence or two


class Course(NamedTuple):
    """A course in the learning platform's catalogue."""

    course_id: str
    name: str
    hours: float
    families: tuple[str, ...] = ()  # who it is for; empty: everyone


ENGINEERS = ("Software Engineering", "Data Science", "Quality Engineering", "Security")
MANDATORY_COURSES = (
    Course("COMP-100", "Code of conduct refresher", 0.5),
    Course("PRIV-110", "Data protection essentials", 1.0),
)
ELECTIVE_COURSES = (
    Course("SEC-120", "Phishing awareness", 0.5),
    Course("COMM-130", "Writing for clarity", 2.0),
    Course("SEC-101", "Secure coding", 3.5, ENGINEERS),
    Course("CLOUD-220", "Cloud architecture fundamentals", 12.0, ENGINEERS),
    Course("K8S-240", "Kubernetes in production", 10.0, ENGINEERS),
    Course("ML-300", "Applied machine learning", 16.0, ("Data Science",)),
    Course("TEST-210", "Test automation patterns", 8.0, ENGINEERS),
    Course(
        "SQL-150",
        "SQL for analysts",
        6.0,
        ("Data Science", "Finance", "Marketing", "Product Management"),
    ),
    Course("NEG-210", "Negotiation skills", 4.0, ("Sales", "Customer Success", "Legal")),
    Course("CS-130", "De-escalating difficult conversations", 2.0, ("Customer Success", "IT")),
    Course("FIN-180", "Revenue recognition basics", 5.0, ("Finance", "Sales")),
    Course("MKT-160", "Marketing analytics", 6.0, ("Marketing", "Product Management")),
    Course("UX-140", "Accessibility in design", 4.0, ("Design", "User Research")),
    Course("PM-200", "Outcome-based roadmaps", 5.0, ("Product Management", "Design")),
    Course("HR-170", "Employment law updates", 3.0, ("People", "Legal")),
)
MANAGER_COURSES = (
    Course("LEAD-201", "Coaching conversations", 6.0),
    Course("LEAD-230", "Fair and consistent reviews", 3.0),
    Course("LEAD-250", "Structured interviewing", 2.0),
)
ELECTIVES_A_YEAR = 2.2

KUDOS_TEAM_SHARE = 0.7  # kudos to the giver's manager, peers or reports; the rest anywhere


@dataclass(frozen=True)
class _Schedule:
    """When one person works in the window, and how fast."""

    person: Person
    zone: ZoneInfo
    pace: float  # this person's productivity, about 1
    workdays: tuple[date, ...]  # Mon-Fri, not a holiday, employed, not a full day off
    load: tuple[float, ...]  # each working day's share of a normal day's work
    workday_set: frozenset[date]
    half_days: frozenset[date]
    weekend_days: tuple[date, ...]  # employed Saturdays and Sundays


@dataclass
class _PullRequest:
    """A pull request, kept until its reviewers are picked."""

    key: str
    author: _Schedule
    repo: str
    number: int
    opened: datetime
    closed: datetime | None
    merged: bool


def github_logins(people: list[Person]) -> dict[str, str]:
    """GitHub login (``ana-garcia``, ``ana-garcia2`` on a clash) by employee id, for coders.

    Everyone below VP in an engineering job family has one; a share of designers and product
    managers do too, chosen from the employee id (the same people whatever the seed).
    """
    logins: dict[str, str] = {}
    taken: Counter[str] = Counter()
    for person in people:
        share, _ = GITHUB_FAMILIES.get(person.job_family, (0.0, 0.0))
        if LEVELS[person.level].delivery <= 0 or share <= 0:
            continue
        if share < 1 and random.Random(f"github:{person.employee_id}").random() >= share:
            continue
        base = re.sub(r"[^a-z0-9]+", "-", person.name.lower()).strip("-") or "user"
        taken[base] += 1
        logins[person.employee_id] = base if taken[base] == 1 else f"{base}{taken[base]}"
    return logins


def identities_csv(people: list[Person]) -> str:
    """The GitHub logins as an identity file: ``employee_id,kind,value`` with a header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("employee_id", "kind", "value"))
    for employee_id, login in github_logins(people).items():
        writer.writerow((employee_id, "github", login))
    return out.getvalue()


def window(months: int = 12) -> tuple[date, date]:
    """The first day and the day after the last of the ``months`` that end at DEMO_TODAY."""
    if months < 1:
        raise ValueError("months must be at least 1")
    year, month = divmod(DEMO_TODAY.year * 12 + DEMO_TODAY.month - 1 - months, 12)
    return date(year, month + 1, min(DEMO_TODAY.day, 28)), DEMO_TODAY


def generate_signals(people: list[Person], *, seed: int, months: int = 12) -> Iterator[SignalDraft]:
    """Every signal of the window for ``people``, each person's in chronological order."""
    start, end = window(months)  # checks ``months`` now, not at the first ``next()``
    return _signals(people, seed, start, end)


def _signals(people: list[Person], seed: int, start: date, end: date) -> Iterator[SignalDraft]:
    drafts: dict[str, list[SignalDraft]] = {p.employee_id: [] for p in people}
    schedules: list[_Schedule] = []
    for person in people:
        employed = _employed_days(person, start, end)
        leave, days_off = _leave(person, employed, _rng(seed, "leave", person), seed)
        drafts[person.employee_id].extend(leave)
        schedules.append(_schedule(person, employed, _rng(seed, "pace", person), days_off))
    shared = (_github(schedules, github_logins(people), seed), _kudos(schedules, seed))
    for by_person in shared:
        for employee_id, items in by_person.items():
            drafts[employee_id].extend(items)
    issue_numbers: Counter[str] = Counter()
    for s in schedules:
        own = drafts[s.person.employee_id]
        own.extend(_jira(s, _rng(seed, "jira", s.person), seed, issue_numbers))
        own.extend(_calendar(s, _rng(seed, "calendar", s.person), seed))
        own.extend(_learning(s, _rng(seed, "lms", s.person), seed))
    lower, upper = _midnight(start, UTC), _midnight(end, UTC)
    for person in people:
        for draft in sorted(drafts[person.employee_id], key=lambda d: d.occurred_at):
            if lower <= draft.occurred_at < upper:
                yield draft


def _leave(
    person: Person, employed: list[date], rng: random.Random, seed: int
) -> tuple[list[SignalDraft], dict[date, float]]:
    """Leave and absence days (HRMS): holiday blocks, single and half days, sickness, parental.

    Returns the signals and the days off (1 for a full day, 0.5 for a half day).
    """
    days = [d for d in employed if _is_workday(d, person.location)]
    off: dict[date, tuple[float, str]] = {}
    share_of_year = len(days) / 252
    position = {d: i for i, d in enumerate(days)}

    def block(candidates: list[date], length: int, kind: str, value: float = 1.0) -> None:
        """``length`` working days off from a free day among ``candidates`` (a few tries)."""
        for _ in range(12 if candidates else 0):
            first = rng.choice(candidates)
            if first not in off:
                for d in days[position[first] : position[first] + length]:
                    off.setdefault(d, (value, kind))
                return

    young = person.birth_year >= DEMO_TODAY.year - 40
    for kind, chance, fewest, most in LONG_LEAVE:
        if rng.random() < chance * (1 if kind != "parental" else 2 if young else 0.3):
            block(days, rng.randint(fewest, most), kind)
    annual: float = round(ANNUAL_LEAVE[person.location] * share_of_year * rng.uniform(0.75, 1.0))
    summer = [d for d in days if d.month in (7, 8) or (d.month == 6 and d.day > 15)]
    winter = [d for d in days if (d.month == 12 and d.day >= 18) or (d.month == 1 and d.day <= 2)]
    for candidates, length in (
        (summer, rng.randint(*SUMMER_BLOCK)),
        (winter, rng.randint(*WINTER_BLOCK)),
    ):
        if annual >= length and rng.random() < 0.85:
            block(candidates, length, "annual")
            annual -= length
    while annual > 0:
        half = rng.random() < HALF_DAY_SHARE
        block(days, 1, "annual", 0.5 if half else 1.0)
        annual -= 0.5 if half else 1
    spells = SICK_DAYS_A_YEAR * share_of_year * len(SICK_SPELLS) / sum(SICK_SPELLS)
    for _ in range(_poisson(rng, spells)):
        block(days, rng.choice(SICK_SPELLS), "sick")
    if rng.random() < ABSENCE_SHARE:
        for _ in range(rng.randint(1, 2)):
            block(days, 1, "unplanned")

    signals = []
    for d, (value, kind) in sorted(off.items()):
        signal_type = leave_signal_type("absence" if kind == "unplanned" else "leave", kind)
        signals.append(
            SignalDraft(
                "hrms",
                signal_type,
                ExternalAccount("employee_id", person.employee_id),
                _midnight(d, UTC),
                f"demo-{seed}-{signal_type}-{person.employee_id}-{d.isoformat()}",
                value,
                {"leave_type": kind, "protected": kind in PROTECTED_LEAVE},
            )
        )
    return signals, {d: value for d, (value, _) in off.items()}


def _schedule(
    person: Person, employed: list[date], rng: random.Random, days_off: dict[date, float]
) -> _Schedule:
    """A person's working days once their leave is known, and their pace."""
    workdays = tuple(
        d for d in employed if _is_workday(d, person.location) and days_off.get(d) != 1.0
    )
    half_days = frozenset(d for d, value in days_off.items() if value < 1)
    return _Schedule(
        person=person,
        zone=ZoneInfo(TIME_ZONES[person.location]),
        pace=min(2.5, rng.lognormvariate(0.0, 0.3)),
        workdays=workdays,
        load=tuple(_load(person, d, d in half_days) for d in workdays),
        workday_set=frozenset(workdays),
        half_days=half_days,
        weekend_days=tuple(d for d in employed if d.weekday() >= 5),
    )


def _github(
    schedules: list[_Schedule], logins: dict[str, str], seed: int
) -> dict[str, list[SignalDraft]]:
    """Pull requests opened and merged or closed, pushes, and reviews of teammates' PRs."""
    out: dict[str, list[SignalDraft]] = defaultdict(list)
    numbers: Counter[str] = Counter()
    pull_requests: list[_PullRequest] = []
    coders = [s for s in schedules if s.person.employee_id in logins]
    for s in coders:
        person, rng, pushes = s.person, _rng(seed, "github", s.person), 0
        account = ExternalAccount("github", logins[person.employee_id])
        repos = REPOSITORIES.get(_unit(person), DEFAULT_REPOSITORIES)
        rate = GITHUB_FAMILIES[person.job_family][1] * LEVELS[person.level].delivery * s.pace
        for i, (day, load) in enumerate(zip(s.workdays, s.load, strict=True)):
            intensity = rate * load
            for _ in range(_poisson(rng, PUSHES_PER_DAY * intensity)):
                commits = 1 + min(11, int(rng.expovariate(1 / 1.6)))
                pushes += 1
                key = f"demo-{seed}-push-{person.employee_id}-{pushes}"
                at = _clock(rng, day, s.zone, 8.5, 14.0, 19.5)
                repo = rng.choice(repos)
                push = {"repo": repo, "ref": "refs/heads/main"}
                draft = SignalDraft("github", "commits_pushed", account, at, key, commits, push)
                out[person.employee_id].append(draft)
            for _ in range(_poisson(rng, PRS_PER_DAY * intensity)):
                repo = rng.choice(repos)
                numbers[repo] += 1
                pr = _pull_request(rng, s, i, repo, numbers[repo], seed)
                pull_requests.append(pr)
                attrs: dict[str, Any] = {
                    "repo": repo,
                    "number": pr.number,
                    "additions": int(rng.lognormvariate(4.2, 1.1)),
                    "deletions": int(rng.lognormvariate(3.0, 1.2)),
                }
                events = [("pr_opened", pr.opened)]
                if pr.closed is not None:
                    events.append(("pr_merged" if pr.merged else "pr_closed_unmerged", pr.closed))
                for kind, at in events:
                    key = f"{pr.key}-{kind.removeprefix('pr_')}"
                    draft = SignalDraft("github", kind, account, at, key, 1.0, dict(attrs))
                    out[person.employee_id].append(draft)
    _reviews(pull_requests, coders, logins, _rng(seed, "reviews"), out)
    return out


def _pull_request(
    rng: random.Random, author: _Schedule, index: int, repo: str, number: int, seed: int
) -> _PullRequest:
    """When a PR opens and (if within the author's working days) merges or is closed."""
    day = author.workdays[index]
    opened = _clock(rng, day, author.zone, 9.0, 14.0, 18.5)
    merged = rng.random() >= UNMERGED_SHARE
    delay = (
        rng.choices(range(len(MERGE_DELAY_WEIGHTS)), MERGE_DELAY_WEIGHTS)[0]
        if merged
        else rng.randint(1, 10)
    )
    closed: datetime | None = None
    if delay == 0:  # merged or closed the same day, before the evening
        local = opened.astimezone(author.zone)
        until_evening = (20 - local.hour) * 60 - local.minute
        closed = opened + timedelta(minutes=rng.randint(15, max(16, min(240, until_evening))))
    elif index + delay < len(author.workdays):
        closed = _clock(rng, author.workdays[index + delay], author.zone, 9.0, 13.0, 18.5)
    key = f"demo-{seed}-pr-{repo.split('/')[-1]}-{number}"
    return _PullRequest(key, author, repo, number, opened, closed, merged)


def _reviews(
    pull_requests: list[_PullRequest],
    coders: list[_Schedule],
    logins: dict[str, str],
    rng: random.Random,
    out: dict[str, list[SignalDraft]],
) -> None:
    """Reviews by teammates (same department; their manager and peers above all)."""
    by_department: dict[str, list[_Schedule]] = defaultdict(list)
    for s in coders:
        if LEVELS[s.person.level].review > 0:
            by_department[s.person.department].append(s)
    pools: dict[str, tuple[list[_Schedule], list[float]]] = {}
    for pr in pull_requests:
        author = pr.author.person
        if author.employee_id not in pools:
            candidates = [s for s in by_department[author.department] if s.person is not author]
            weights = [
                LEVELS[s.person.level].review * (3.0 if _close_colleagues(author, s.person) else 1)
                for s in candidates
            ]
            pools[author.employee_id] = candidates, list(accumulate(weights))
        candidates, cumulative = pools[author.employee_id]
        if not candidates:
            continue
        count = rng.choices(range(len(REVIEWS_PER_PR_WEIGHTS)), REVIEWS_PER_PR_WEIGHTS)[0]
        picked = rng.choices(candidates, cum_weights=cumulative, k=count)
        reviewers = {id(s): s for s in picked}
        last = pr.closed or pr.opened + timedelta(days=3)
        for n, reviewer in enumerate(reviewers.values()):
            at = _review_time(rng, reviewer, pr.opened, last)
            if at is None:
                continue
            state = rng.choices(REVIEW_STATES, REVIEW_STATE_WEIGHTS)[0]
            account = ExternalAccount("github", logins[reviewer.person.employee_id])
            attrs = {"repo": pr.repo, "number": pr.number, "state": state}
            key = f"{pr.key}-review-{n}"
            draft = SignalDraft("github", "pr_review_submitted", account, at, key, 1.0, attrs)
            out[reviewer.person.employee_id].append(draft)


def _review_time(
    rng: random.Random, reviewer: _Schedule, opened: datetime, last: datetime
) -> datetime | None:
    """A time between ``opened`` and ``last`` on one of the reviewer's working days, if any."""
    first_day = opened.astimezone(reviewer.zone).date()
    span = (last.astimezone(reviewer.zone).date() - first_day).days + 1
    days = [
        d for d in (first_day + timedelta(days=k) for k in range(span)) if d in reviewer.workday_set
    ]
    if not days:
        return None
    at = _clock(rng, rng.choice(days), reviewer.zone, 9.0, 13.0, 18.5)
    if not opened < at < last:
        at = opened + (last - opened) * rng.uniform(0.2, 0.9)
    local = at.astimezone(reviewer.zone)
    return at if 7 <= local.hour < 21 and local.date() in reviewer.workday_set else None


def _jira(s: _Schedule, rng: random.Random, seed: int, numbers: Counter[str]) -> list[SignalDraft]:
    """Issues created and resolved (valued in story points where the team estimates)."""
    person = s.person
    if person.job_family not in JIRA_FAMILIES:
        return []
    created_rate, resolved_rate, estimates = JIRA_FAMILIES[person.job_family]
    level = LEVELS[person.level]
    project = JIRA_PROJECTS.get(_unit(person), "ENG")
    account = ExternalAccount("email", person.email)
    signals = []
    for day, intensity in zip(s.workdays, s.load, strict=True):
        for kind, rate in (
            ("issue_created", created_rate * level.planning),
            ("issue_resolved", resolved_rate * level.delivery * s.pace),
        ):
            for _ in range(_poisson(rng, rate * intensity)):
                numbers[project] += 1
                issue = f"{project}-{numbers[project]}"
                points = rng.choices(STORY_POINTS, STORY_POINT_WEIGHTS)[0] if estimates else None
                attrs: dict[str, Any] = {
                    "issue": issue,
                    "project": project,
                    "issuetype": rng.choices(ISSUE_TYPES, ISSUE_TYPE_WEIGHTS)[0],
                    "story_points": points,
                }
                value = float(points or 1) if kind == "issue_resolved" else 1.0
                at = _clock(rng, day, s.zone, 9.0, 14.0, 18.5)
                key = f"demo-{seed}-jira-{issue}-{kind.removeprefix('issue_')}"
                signals.append(SignalDraft("jira", kind, account, at, key, value, attrs))
    return signals


def _calendar(s: _Schedule, rng: random.Random, seed: int) -> list[SignalDraft]:
    """Meeting hours per day; after-hours meetings for those who span time zones; weekends."""
    person = s.person
    typical = LEVELS[person.level].meeting_hours * MEETING_FAMILIES.get(person.job_family, 1.0)
    typical *= rng.uniform(0.75, 1.25)
    share = AFTER_HOURS_SHARE.get(person.location, AFTER_HOURS_DEFAULT_SHARE)
    after_hours_days = rng.uniform(0.25, 0.6) if rng.random() < share else 0.0
    busy = person.level.startswith("M") or person.level in ("VP", "CEO")
    weekend_chance = WEEKEND_MEETING_CHANCE * (3 if busy or person.job_family == "Sales" else 1)
    account = ExternalAccount("email", person.email)
    signals = []

    def day_load(day: date, hours: float, after_hours: float, weekend: bool) -> None:
        hours = _quarters(hours)
        if hours <= 0:
            return
        attrs = {
            "date": day.isoformat(),
            "meetings": max(1, round(hours / 0.7)),
            "time_zone": s.zone.key,
        }
        loads = [("meeting_hours", hours)]
        if weekend:
            loads.append(("weekend_meeting_hours", hours))
        elif after_hours > 0:
            loads.append(("after_hours_meeting_hours", min(hours, after_hours)))
        for kind, value in loads:
            key = f"demo-{seed}-calendar-{person.employee_id}-{day.isoformat()}-{kind}"
            at = _midnight(day, s.zone)
            signals.append(SignalDraft("calendar", kind, account, at, key, value, dict(attrs)))

    for day, load in zip(s.workdays, s.load, strict=True):
        mean = typical * WEEKDAY_MEETINGS[day.weekday()] * load
        hours = max(0.0, rng.gauss(mean, 0.35 * mean + 0.25))
        after = _quarters(rng.uniform(0.5, 1.5)) if rng.random() < after_hours_days else 0.0
        day_load(day, hours + after, after, weekend=False)
    for day in s.weekend_days:
        friday = day - timedelta(days=day.weekday() - 4)
        if rng.random() < weekend_chance and friday in s.workday_set:  # not while on leave
            day_load(day, rng.uniform(0.5, 2.0), 0.0, weekend=True)
    return signals


def _learning(s: _Schedule, rng: random.Random, seed: int) -> list[SignalDraft]:
    """Course completions: the mandatory ones, and a few electives suited to the job."""
    person = s.person
    if not s.workdays:
        return []
    manager = person.level.startswith("M") or person.level == "VP"
    electives = [c for c in ELECTIVE_COURSES if not c.families or person.job_family in c.families]
    electives += MANAGER_COURSES if manager else ()
    juniors = 1.4 if person.level in ("IC1", "IC2") else 1.0
    share_of_year = len(s.workdays) / 230
    count = min(len(electives), _poisson(rng, ELECTIVES_A_YEAR * juniors * share_of_year))
    courses = [c for c in MANDATORY_COURSES if rng.random() < 0.9] + rng.sample(electives, count)
    account = ExternalAccount("email", person.email)
    signals = []
    for n, course in enumerate(courses):
        at = _clock(rng, rng.choice(s.workdays), s.zone, 9.5, 15.0, 18.0)
        attrs = {"course": course.name, "course_id": course.course_id}
        key = f"demo-{seed}-lms-{person.employee_id}-{n}"
        draft = SignalDraft("lms", "course_completed", account, at, key, course.hours, attrs)
        signals.append(draft)
    return signals


def _kudos(schedules: list[_Schedule], seed: int) -> dict[str, list[SignalDraft]]:
    """Kudos given and received, mostly within teams, more often to people who deliver."""
    rng = _rng(seed, "kudos")
    by_id = {s.person.employee_id: s for s in schedules}
    everyone = [s for s in schedules if s.workdays]
    out: dict[str, list[SignalDraft]] = defaultdict(list)
    n = 0
    for giver in everyone:
        person = giver.person
        team = [
            by_id[p.employee_id]
            for p in (
                *person.reports,
                *([person.manager] if person.manager else []),
                *(person.manager.reports if person.manager else []),
            )
            if p is not person
        ]
        months = len(giver.workdays) / 19
        for _ in range(_poisson(rng, LEVELS[person.level].kudos_per_month * months)):
            day = rng.choice(giver.workdays)
            at = _clock(rng, day, giver.zone, 9.5, 14.0, 18.0)
            pool = team if team and rng.random() < KUDOS_TEAM_SHARE else everyone
            receiver = rng.choices(pool, [s.pace for s in pool])[0]
            received_on = at.astimezone(receiver.zone).date()
            if receiver is giver or received_on not in receiver.workday_set:
                continue
            n += 1
            length = min(600, int(rng.lognormvariate(4.3, 0.6)))
            for kind, who, other, direction in (
                ("kudos_given", giver, receiver, "to"),
                ("kudos_received", receiver, giver, "from"),
            ):
                attrs = {direction: other.person.employee_id, "message_len": length}
                account = ExternalAccount("email", who.person.email)
                key = f"demo-{seed}-kudos-{n}-{kind.removeprefix('kudos_')}"
                draft = SignalDraft("recognition", kind, account, at, key, 1.0, attrs)
                out[who.person.employee_id].append(draft)
    return out


def _rng(seed: int, kind: str, person: Person | None = None) -> random.Random:
    """The random stream of one kind of data (for one person): independent of the others."""
    return random.Random(f"{seed}:{kind}:{person.employee_id if person else ''}")


def _employed_days(person: Person, start: date, end: date) -> list[date]:
    """Calendar days in ``[start, end)`` from the hire date to the termination date."""
    first = max(start, person.hire_date)
    last = min(end - timedelta(days=1), person.termination_date or end)
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def _is_workday(day: date, location: str) -> bool:
    return day.weekday() < 5 and day not in PUBLIC_HOLIDAYS[location]


def _load(person: Person, day: date, half_day: bool) -> float:
    """How much of a normal day's work a working day holds: season, ramp-up, notice, half days."""
    factor = next((f for m, a, b, f in SEASONS if day.month == m and a <= day.day <= b), 1.0)
    factor *= min(1.0, 0.25 + 0.75 * (day - person.hire_date).days / 90)
    leaving = person.termination_date
    if leaving is not None and (leaving - day).days < 20:
        factor *= 0.6
    return factor * (0.5 if half_day else 1.0)


def _clock(
    rng: random.Random, day: date, zone: ZoneInfo, low: float, mode: float, high: float
) -> datetime:
    """A local time of ``day`` (hours drawn from a triangle), as an aware UTC datetime."""
    seconds = int(rng.triangular(low, high, mode) * 3600)
    local = datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60), zone)
    return local.astimezone(UTC)


@cache
def _midnight(day: date, zone: tzinfo) -> datetime:
    """The start of ``day`` where ``zone`` keeps time, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _quarters(hours: float) -> float:
    return round(hours * 4) / 4


def _unit(person: Person) -> str:
    return person.department.split("/")[-1]


def _close_colleagues(a: Person, b: Person) -> bool:
    """Same manager, or one manages the other."""
    return a.manager is b.manager or a.manager is b or b.manager is a
