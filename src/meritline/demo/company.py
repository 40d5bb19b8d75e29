"""A realistic synthetic company, one function per kind of data; same seed, same company.

Everything is generated relative to a fixed calendar date (:data:`DEMO_TODAY`), never the clock,
so a seed always yields the same people. The output is the common HRIS export shape, which the
demo feeds through the same import code a user's file takes.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

DEMO_TODAY = date(2026, 10, 1)
FOUNDED = date(2014, 3, 1)
EMAIL_DOMAIN = "acme.example"
MIN_SPAN, MAX_SPAN = 3, 10

#: (division, share of headcount, sub-units, job family, share of women)
DIVISIONS: tuple[tuple[str, float, tuple[str, ...], str, float], ...] = (
    (
        "Engineering",
        0.38,
        ("Platform", "Product Engineering", "Data", "Infrastructure", "Quality"),
        "Software Engineering",
        0.27,
    ),
    ("Product", 0.07, ("Product Management", "Design", "Research"), "Product Management", 0.48),
    ("Sales", 0.16, ("Enterprise", "Mid-Market", "Sales Operations"), "Sales", 0.38),
    (
        "Customer Success",
        0.11,
        ("Support", "Onboarding", "Account Management"),
        "Customer Success",
        0.55,
    ),
    ("Marketing", 0.08, ("Growth", "Brand", "Product Marketing"), "Marketing", 0.58),
    ("Finance", 0.06, ("Accounting", "FP&A", "Procurement"), "Finance", 0.50),
    ("People", 0.05, ("Talent Acquisition", "People Operations", "Learning"), "People", 0.70),
    ("Legal", 0.03, ("Commercial", "Privacy"), "Legal", 0.52),
    ("Operations", 0.06, ("IT", "Workplace", "Security"), "Operations", 0.35),
)
JOB_FAMILY_OF_UNIT = {
    "Data": "Data Science",
    "Quality": "Quality Engineering",
    "Design": "Design",
    "Research": "User Research",
    "IT": "IT",
    "Security": "Security",
}
LOCATIONS = ("Berlin", "London", "New York", "Toronto", "Bangalore", "Remote")
LOCATION_WEIGHTS = (0.24, 0.22, 0.2, 0.12, 0.14, 0.08)
IC_LEVELS = ("IC1", "IC2", "IC3", "IC4", "IC5")
IC_LEVEL_WEIGHTS = (0.14, 0.3, 0.3, 0.18, 0.08)
TYPICAL_AGE = {
    "IC1": 25,
    "IC2": 29,
    "IC3": 33,
    "IC4": 37,
    "IC5": 41,
    "M1": 36,
    "M2": 40,
    "M3": 44,
    "VP": 47,
    "CEO": 51,
}
ETHNICITIES = (
    "Asian",
    "Black",
    "Hispanic or Latino",
    "White",
    "Two or more races",
    "Prefer not to say",
)
ETHNICITY_WEIGHTS = (0.24, 0.1, 0.1, 0.46, 0.05, 0.05)
FIRST_NAMES = {
    "Female": (
        "Amara",
        "Ana",
        "Chloe",
        "Fatima",
        "Grace",
        "Hana",
        "Ines",
        "Isabel",
        "Jing",
        "Leila",
        "Maya",
        "Mei",
        "Nadia",
        "Priya",
        "Rosa",
        "Sofia",
        "Yara",
        "Zoe",
        "Aisha",
        "Elena",
        "Freya",
        "Keiko",
        "Lucia",
        "Olga",
    ),
    "Male": (
        "Ahmed",
        "Arjun",
        "Ben",
        "Carlos",
        "Daniel",
        "David",
        "Emeka",
        "Felix",
        "Hiro",
        "Ivan",
        "Jonas",
        "Kwame",
        "Liam",
        "Luca",
        "Marco",
        "Omar",
        "Pedro",
        "Raj",
        "Sam",
        "Tom",
        "Wei",
        "Yusuf",
        "Noah",
        "Mateo",
    ),
    "Non-binary": ("Alex", "Avery", "Charlie", "Jordan", "Quinn", "Riley", "Robin", "Sasha"),
}
LAST_NAMES = (
    "Adeyemi",
    "Andersen",
    "Baker",
    "Chen",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Garcia",
    "Gupta",
    "Haddad",
    "Ivanova",
    "Jansen",
    "Kim",
    "Kowalski",
    "Lee",
    "Martin",
    "Mensah",
    "Mueller",
    "Nakamura",
    "Novak",
    "Okafor",
    "Olsen",
    "Patel",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Tanaka",
    "Torres",
    "Wang",
    "Williams",
    "Yilmaz",
    "Zhang",
    "Kaur",
    "Moreau",
    "Nguyen",
    "Hernandez",
)
CSV_COLUMNS = (
    "employee_id",
    "name",
    "email",
    "manager_id",
    "department",
    "job_family",
    "level",
    "location",
    "hire_date",
    "termination_date",
    "gender",
    "ethnicity",
    "birth_year",
    "disability",
)


@dataclass
class Person:
    """One generated employee."""

    employee_id: str
    division: int
    manager: Person | None = None
    reports: list[Person] = field(default_factory=list)
    department: str = ""
    job_family: str = ""
    level: str = ""
    location: str = ""
    name: str = ""
    email: str = ""
    hire_date: date = FOUNDED
    termination_date: date | None = None
    gender: str = ""
    ethnicity: str = ""
    birth_year: int = 0
    disability: str = ""

    def subtree_size(self) -> int:
        """This person and everyone below them."""
        return 1 + sum(report.subtree_size() for report in self.reports)


def headcounts(rng: random.Random, n: int) -> list[int]:
    """People per division (each at least 4), by largest remainder; the CEO is extra."""
    staff = n - 1
    shares = [weight * rng.uniform(0.85, 1.15) for _, weight, *_ in DIVISIONS]
    total = sum(shares)
    raw = [staff * s / total for s in shares]
    counts = [max(4, int(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(counts) != staff:
        j = order[i % len(order)]
        if sum(counts) < staff:
            counts[j] += 1
        elif counts[j] > 4:
            counts[j] -= 1
        i += 1
    return counts


def reporting_tree(rng: random.Random, leader: Person, members: list[Person]) -> None:
    """Place ``members`` under ``leader`` breadth first, every manager with 3-10 reports."""
    queue, i = deque([leader]), 0
    while i < len(members):
        manager = queue.popleft()
        remaining = len(members) - i
        take = min(rng.randint(MIN_SPAN, MAX_SPAN), remaining)
        leftover = remaining - take
        if 0 < leftover < MIN_SPAN:  # never leave a manager with one or two reports
            take = take + leftover if take + leftover <= MAX_SPAN else take - (MIN_SPAN - leftover)
        for report in members[i : i + take]:
            report.manager = manager
            manager.reports.append(report)
            queue.append(report)
        i += take


def org_structure(rng: random.Random, n: int) -> list[Person]:
    """The CEO, a VP per division, and each division's reporting tree with its departments.

    Each VP's direct reports who lead a team head a sub-unit (``Division/Unit``); individual
    contributors reporting straight to a VP sit in the division itself.
    """
    width = max(4, len(str(n)))
    people = [Person(employee_id=f"E{1:0{width}d}", division=-1)]
    ceo = people[0]
    ceo.department, ceo.level, ceo.job_family = "Executive", "CEO", "General Management"
    for d, count in enumerate(headcounts(rng, n)):
        name, _, units, family, _ = DIVISIONS[d]
        start = len(people) + 1
        members = [Person(employee_id=f"E{start + k:0{width}d}", division=d) for k in range(count)]
        vp = members[0]
        vp.manager = ceo
        ceo.reports.append(vp)
        vp.department, vp.level, vp.job_family = name, "VP", family
        reporting_tree(rng, vp, members[1:])
        team_leads = [r for r in vp.reports if r.reports]
        for k, lead in enumerate(team_leads):
            unit = units[k % len(units)]
            for person in _subtree(lead):
                person.department = f"{name}/{unit}"
                person.job_family = JOB_FAMILY_OF_UNIT.get(unit, family)
        for report in vp.reports:
            if not report.reports:
                report.department, report.job_family = name, family
        people.extend(members)
    return people


def _subtree(person: Person) -> list[Person]:
    found, stack = [], [person]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.reports)
    return found


def levels(rng: random.Random, people: list[Person]) -> None:
    """Managers by the size of their organisation; individual contributors IC1-IC5."""
    for person in people:
        if person.level:
            continue
        if person.reports:
            size = person.subtree_size()
            person.level = "M3" if size >= 30 else "M2" if size >= 10 else "M1"
        else:
            person.level = rng.choices(IC_LEVELS, IC_LEVEL_WEIGHTS)[0]


def locations(rng: random.Random, people: list[Person]) -> None:
    """Offices; most teams sit with their manager."""
    for person in people:  # parents come before their reports
        near_manager = person.manager is not None and rng.random() < 0.7
        if near_manager and person.manager is not None and person.manager.location:
            person.location = person.manager.location
        else:
            person.location = rng.choices(LOCATIONS, LOCATION_WEIGHTS)[0]


def demographics(rng: random.Random, people: list[Person]) -> None:
    """Gender (by division), ethnicity, birth year (by level), disability; some undisclosed."""
    for person in people:
        women = DIVISIONS[person.division][4] if person.division >= 0 else 0.4
        roll = rng.random()
        person.gender = (
            ""
            if roll < 0.02
            else "Non-binary"
            if roll < 0.04
            else "Female"
            if roll < 0.04 + women * 0.96
            else "Male"
        )
        person.ethnicity = rng.choices(ETHNICITIES, ETHNICITY_WEIGHTS)[0]
        age = max(21, round(rng.gauss(TYPICAL_AGE[person.level], 4.5)))
        person.birth_year = DEMO_TODAY.year - age
        person.disability = "" if rng.random() < 0.05 else ("Yes" if rng.random() < 0.07 else "No")


def names(rng: random.Random, people: list[Person]) -> None:
    """Names matching the recorded gender, and unique e-mail addresses."""
    taken: Counter[str] = Counter()
    for person in people:
        pool = FIRST_NAMES.get(person.gender) or rng.choice(list(FIRST_NAMES.values()))
        first, last = rng.choice(pool), rng.choice(LAST_NAMES)
        person.name = f"{first} {last}"
        local = f"{first}.{last}".lower()
        taken[local] += 1
        suffix = str(taken[local]) if taken[local] > 1 else ""
        person.email = f"{local}{suffix}@{EMAIL_DOMAIN}"


def hire_dates(rng: random.Random, people: list[Person]) -> None:
    """Tenure skewed short (a growing company); leaders joined earlier; some people left."""
    span = (DEMO_TODAY - FOUNDED).days
    for person in people:
        if person.level == "CEO":
            person.hire_date = FOUNDED
            continue
        mean_years = {"VP": 5.5, "M3": 4.5, "M2": 3.8, "M1": 3.2}.get(person.level, 2.4)
        days = min(span, int(rng.expovariate(1 / (mean_years * 365))) + 14)
        person.hire_date = DEMO_TODAY - timedelta(days=days)
        if not person.reports and rng.random() < 0.06:
            tenure = (DEMO_TODAY - person.hire_date).days
            left_ago = rng.randint(1, min(330, max(1, tenure - 1)))
            person.termination_date = DEMO_TODAY - timedelta(days=left_ago)


def generate_people(n: int, seed: int) -> list[Person]:
    """The whole demo company: ``n`` people, deterministic in ``seed``."""
    if n < 40:
        raise ValueError("the demo company needs at least 40 employees")
    rng = random.Random(seed)
    people = org_structure(rng, n)
    levels(rng, people)
    locations(rng, people)
    demographics(rng, people)
    names(rng, people)
    hire_dates(rng, people)
    return people


def to_csv(people: list[Person]) -> str:
    """The people as an HRIS export (CSV text)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in people:
        writer.writerow(
            (
                p.employee_id,
                p.name,
                p.email,
                p.manager.employee_id if p.manager else "",
                p.department,
                p.job_family,
                p.level,
                p.location,
                p.hire_date.isoformat(),
                p.termination_date.isoformat() if p.termination_date else "",
                p.gender,
                p.ethnicity,
                p.birth_year,
                p.disability,
            )
        )
    return out.getvalue()


def describe(people: list[Person]) -> dict[str, object]:
    """Headline figures of a generated company, for the demo's summary."""
    spans = [len(p.reports) for p in people if p.reports]
    depth = 0
    for person in people:
        d, node = 0, person
        while node.manager is not None:
            d, node = d + 1, node.manager
        depth = max(depth, d)
    return {
        "employees": len(people),
        "active": sum(1 for p in people if p.termination_date is None),
        "left_in_last_year": sum(1 for p in people if p.termination_date is not None),
        "managers": len(spans),
        "span_min": min(spans),
        "span_median": median(spans),
        "span_max": max(spans),
        "levels_deep": depth + 1,
        "departments": len({p.department for p in people}),
        "locations": len({p.location for p in people}),
    }
