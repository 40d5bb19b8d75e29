"""The visibility rule: the list filter, the single-item check and an independent oracle agree.

An employee sees themself; a manager sees direct and indirect reports as of a date; an hrbp sees
the subtrees of their org units; admin, people_analyst, legal and compensation see the whole
tenant; a calibrator sees themself and the populations of the open calibration sessions they sit
on (none here: ``tests/calibration/test_sessions.py`` covers sessions).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.db.session import Database
from meritline.errors import InvalidInput, NotFound
from meritline.models import ROLES
from meritline.people import service as people
from meritline.people.schemas import EmployeeFilters, EmployeeRead
from tests.fixtures.factories import HEADER, import_lines, new_tenant, person_line

D1 = date(2025, 1, 1)  # first import
D2 = date(2025, 6, 1)  # the reorg
AS_OF = (D1 - timedelta(days=1), D1, date(2025, 3, 15), D2, D2 + timedelta(days=30))
#: A small fixed org tree; "A/E" is a sibling of "A/B", "D" a second root.
TREE = ("A", "A/B", "A/B/C", "A/E", "D")
TENANT_WIDE = {"admin", "people_analyst", "legal", "compensation"}
ALL = EmployeeFilters(include_terminated=True)


def number(index: int) -> str:
    """HRIS id of generated employee ``index`` (zero-padded, so ids sort like indices)."""
    return f"E{index:02d}"


def ancestors(path: str) -> list[str]:
    """``"A/B/C"`` -> ``["A", "A/B", "A/B/C"]``."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def in_subtree(department: str | None, root: str) -> bool:
    """Whether a department path lies in the subtree rooted at ``root``."""
    return department is not None and (department == root or department.startswith(root + "/"))


# --- reading through the service ------------------------------------------------------------


def listed(db: Database, subject: Subject, as_of: date | None = None) -> list[EmployeeRead]:
    """What the list shows ``subject`` (terminated included), checking the page is whole."""
    with db.unit_of_work(subject.tenant_id) as session:
        page = people.list_employees(session, subject, filters=ALL, limit=1000, as_of=as_of)
    assert page.total == len(page.items)
    assert page.next_offset is None
    numbers = [item.employee_id for item in page.items]
    assert len(numbers) == len(set(numbers)), f"listed twice: {numbers}"
    return page.items


def fetched(
    db: Database, subject: Subject, numbers: list[str], as_of: date | None = None
) -> dict[str, EmployeeRead]:
    """What single reads show ``subject``: every id in ``numbers`` not answered ``NotFound``."""
    found: dict[str, EmployeeRead] = {}
    with db.unit_of_work(subject.tenant_id) as session:
        for employee_number in numbers:
            with contextlib.suppress(NotFound):
                found[employee_number] = people.get_employee(
                    session, subject, employee_id=employee_number, as_of=as_of
                )
    return found


def visible(
    db: Database, subject: Subject, numbers: list[str], as_of: date | None = None
) -> set[str]:
    """The ids ``subject`` sees on ``as_of``, after checking list and single reads agree."""
    items = listed(db, subject, as_of)
    singles = fetched(db, subject, numbers, as_of)
    assert {item.employee_id: item for item in items} == singles
    return set(singles)


def act_as(
    db: Database,
    operator: Subject,
    employee_number: str,
    role: str,
    org_unit_paths: list[str] | None = None,
) -> Subject:
    with db.unit_of_work(operator.tenant_id) as session:
        return access.act_as(
            session,
            operator,
            employee_number=employee_number,
            role=role,
            org_unit_paths=org_unit_paths,
        )


# --- the property: list == single reads == oracle, over random org trees and reorgs -----------


@dataclass(frozen=True)
class Org:
    """A generated org: managers before and after a reorg, departments, and who is looking."""

    managers_before: tuple[int | None, ...]
    managers_after: tuple[int | None, ...]
    departments: tuple[str | None, ...]
    viewer: int
    role: str
    org_unit_paths: tuple[str, ...]  # empty: the hrbp's own department (the default)

    @property
    def size(self) -> int:
        return len(self.managers_before)

    def managers_on(self, as_of: date) -> tuple[int | None, ...]:
        """Each employee's manager on ``as_of`` (no lines before the first import)."""
        if as_of < D1:
            return (None,) * self.size
        return self.managers_before if as_of < D2 else self.managers_after

    def hrbp_roots(self) -> list[str]:
        own = self.departments[self.viewer]
        return list(self.org_unit_paths) or ([own] if own else [])

    def oracle(self, as_of: date) -> set[int]:
        """Who the viewer may see on ``as_of``, computed from the generated data alone."""
        everyone = set(range(self.size))
        if self.role in TENANT_WIDE:
            return everyone
        seen = {self.viewer}
        if self.role == "manager":
            managers = self.managers_on(as_of)
            frontier = [self.viewer]
            while frontier:
                boss = frontier.pop()
                for report in everyone - seen:
                    if managers[report] == boss:
                        seen.add(report)
                        frontier.append(report)
        elif self.role == "hrbp":
            roots = self.hrbp_roots()
            seen |= {i for i in everyone if any(in_subtree(self.departments[i], r) for r in roots)}
        return seen


def _manager_below(index: int) -> st.SearchStrategy[int | None]:
    """A manager among lower indices (which keeps the chain acyclic), or none."""
    return st.one_of(st.integers(0, index - 1), st.none())


@st.composite
def orgs(draw: st.DrawFn) -> Org:
    size = draw(st.integers(2, 14))
    before: list[int | None] = [None] + [draw(_manager_below(i)) for i in range(1, size)]
    departments = [draw(st.sampled_from((*TREE, None))) for _ in range(size)]
    after = list(before)
    for i in draw(st.sets(st.integers(1, size - 1))):
        after[i] = draw(_manager_below(i))
    units = sorted({a for d in departments if d for a in ancestors(d)})
    viewer = draw(st.integers(0, size - 1))
    role = draw(st.sampled_from([r for r in ROLES if r != "hrbp" or units]))
    paths: list[str] = []
    if role == "hrbp":
        must_name_units = departments[viewer] is None  # no default to fall back on
        paths = draw(
            st.lists(st.sampled_from(units), unique=True, min_size=int(must_name_units), max_size=3)
        )
    return Org(tuple(before), tuple(after), tuple(departments), viewer, role, tuple(paths))


def _export(org: Org, managers: tuple[int | None, ...]) -> list[str]:
    """The full HRIS export, every row, with the given managers."""
    return [
        person_line(
            number(i),
            "" if managers[i] is None else number(managers[i]),
            org.departments[i] or "",
        )
        for i in range(org.size)
    ]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(org=orgs())
def test_list_single_check_and_oracle_agree_over_random_orgs_and_reorgs(
    db: Database, org: Org
) -> None:
    operator = new_tenant(db)  # each example its own tenant: examples share the transaction
    import_lines(db, operator, _export(org, org.managers_before), effective_date=D1)
    import_lines(db, operator, _export(org, org.managers_after), effective_date=D2)
    numbers = [number(i) for i in range(org.size)]
    with db.unit_of_work(operator.tenant_id) as session:
        subject = access.act_as(
            session,
            operator,
            employee_number=number(org.viewer),
            role=org.role,
            org_unit_paths=list(org.org_unit_paths) or None,
        )
        for as_of in AS_OF:
            page = people.list_employees(session, subject, filters=ALL, limit=1000, as_of=as_of)
            singles: dict[str, EmployeeRead] = {}
            for employee_number in numbers:
                with contextlib.suppress(NotFound):
                    singles[employee_number] = people.get_employee(
                        session, subject, employee_id=employee_number, as_of=as_of
                    )
            expected = sorted(number(i) for i in org.oracle(as_of))
            context = f"as_of={as_of} role={org.role} viewer={number(org.viewer)}"

            listed_numbers = [item.employee_id for item in page.items]
            assert listed_numbers == expected, context  # (a) == (c), no duplicates, in order
            assert page.total == len(expected), context
            assert sorted(singles) == expected, context  # (b) == (c)
            assert {item.employee_id: item for item in page.items} == singles, context

            managers = org.managers_on(as_of)
            for item in page.items:  # the row shows the manager in force on as_of
                index = int(item.employee_id[1:])
                boss = managers[index]
                assert item.manager_id == (None if boss is None else number(boss)), context
                assert item.department == org.departments[index], context


# --- examples ---------------------------------------------------------------------------------


def test_a_manager_sees_direct_and_indirect_reports_only(db: Database) -> None:
    operator = new_tenant(db)
    import_lines(
        db,
        operator,
        [
            person_line("M1"),
            person_line("M2", "M1"),
            person_line("M3", "M1"),
            person_line("E1", "M2"),
            person_line("E2", "E1"),
            person_line("E3", "M3"),
        ],
        effective_date=D1,
    )
    numbers = ["E1", "E2", "E3", "M1", "M2", "M3"]

    def sees(who: str) -> set[str]:
        return visible(db, act_as(db, operator, who, "manager"), numbers)

    assert sees("M1") == set(numbers)
    assert sees("M2") == {"M2", "E1", "E2"}  # E2 is an indirect report
    assert sees("E1") == {"E1", "E2"}
    assert sees("E2") == {"E2"}  # a manager of nobody sees only themself
    assert visible(db, act_as(db, operator, "M2", "employee"), numbers) == {"M2"}
    assert visible(db, act_as(db, operator, "M1", "calibrator"), numbers) == {"M1"}
    # before the lines began, nobody reported to anyone
    top = act_as(db, operator, "M1", "manager")
    assert visible(db, top, numbers, D1 - timedelta(days=1)) == {"M1"}


def test_after_a_reorg_the_old_manager_no_longer_sees_the_moved_person(db: Database) -> None:
    operator = new_tenant(db)
    before = [
        person_line("M1"),
        person_line("M2"),
        person_line("E1", "M1"),
        person_line("E2", "E1"),
    ]
    import_lines(db, operator, before, effective_date=D1)
    after = [*before[:2], person_line("E1", "M2"), before[3]]
    import_lines(db, operator, after)  # the reorg takes effect today (the default)
    numbers = ["E1", "E2", "M1", "M2"]
    today, yesterday = date.today(), date.today() - timedelta(days=1)
    old, new = act_as(db, operator, "M1", "manager"), act_as(db, operator, "M2", "manager")

    assert visible(db, old, numbers) == {"M1"}  # as of today (the default)
    assert visible(db, old, numbers, today) == {"M1"}
    assert visible(db, old, numbers, yesterday) == {"M1", "E1", "E2"}  # E1 moved with E2
    assert visible(db, new, numbers) == {"M2", "E1", "E2"}
    assert visible(db, new, numbers, yesterday) == {"M2"}
    with db.unit_of_work(operator.tenant_id) as session:
        with pytest.raises(NotFound):
            people.get_employee(session, old, employee_id="E2")
        past = people.get_employee(session, old, employee_id="E1", as_of=yesterday)
        assert past.manager_id == "M1"
        assert people.get_employee(session, new, employee_id="E1").manager_id == "M2"


def test_a_backdated_reorg_leaves_one_manager_on_each_date(db: Database) -> None:
    """A back-dated correction applies until the next recorded change, which stands."""
    operator = new_tenant(db)
    bosses = [person_line("M1"), person_line("M2"), person_line("M3")]
    import_lines(db, operator, [*bosses, person_line("E1", "M1")], effective_date=D1)
    import_lines(db, operator, [*bosses, person_line("E1", "M2")], effective_date=D2)
    correction = date(2025, 3, 1)  # the HRIS corrects: E1 moved to M3 already in March
    import_lines(db, operator, [*bosses, person_line("E1", "M3")], effective_date=correction)
    numbers = ["E1", "M1", "M2", "M3"]
    m1, m2, m3 = (act_as(db, operator, m, "manager") for m in ("M1", "M2", "M3"))
    february, april, july = date(2025, 2, 1), date(2025, 4, 1), date(2025, 7, 1)

    assert visible(db, m1, numbers, february) == {"M1", "E1"}
    assert visible(db, m3, numbers, february) == {"M3"}
    assert visible(db, m3, numbers, april) == {"M3", "E1"}
    assert visible(db, m1, numbers, april) == {"M1"}  # M1's line must end at the correction
    assert visible(db, m2, numbers, july) == {"M2", "E1"}  # the June move still stands
    assert visible(db, m3, numbers, july) == {"M3"}
    admin = act_as(db, operator, "M1", "admin")
    managers = {item.employee_id: item.manager_id for item in listed(db, admin, april)}
    assert managers == {"E1": "M3", "M1": None, "M2": None, "M3": None}


def test_a_terminated_employee_drops_out_of_their_managers_view(db: Database) -> None:
    operator = new_tenant(db)
    header = HEADER + ",termination_date"
    soon = date.today() + timedelta(days=30)
    lines = [
        person_line("M1") + ",",
        person_line("E1", "M1") + ",",
        person_line("E2", "M1") + ",",
        person_line("E3", "M1") + ",",
    ]
    import_lines(db, operator, lines, header=header, effective_date=D1)
    left = date(2025, 3, 31)
    lines[1] = person_line("E1", "M1") + f",{left}"  # left in the past
    lines[2] = person_line("E2", "M1") + f",{soon}"  # leaves next month
    import_lines(db, operator, lines, header=header)
    numbers = ["E1", "E2", "E3", "M1"]
    manager = act_as(db, operator, "M1", "manager")

    assert visible(db, manager, numbers, left) == {"M1", "E1", "E2", "E3"}  # last day
    assert visible(db, manager, numbers, left + timedelta(days=1)) == {"M1", "E2", "E3"}
    assert visible(db, manager, numbers) == {"M1", "E2", "E3"}  # today
    assert visible(db, manager, numbers, soon) == {"M1", "E2", "E3"}
    assert visible(db, manager, numbers, soon + timedelta(days=1)) == {"M1", "E3"}

    admin = act_as(db, operator, "M1", "admin")  # the admin still sees the record
    items = {item.employee_id: item for item in listed(db, admin)}
    assert items["E1"].status == "terminated"
    assert items["E2"].status == "active"
    with db.unit_of_work(operator.tenant_id) as session:
        current = people.list_employees(session, admin)  # terminated hidden by default
    assert [item.employee_id for item in current.items] == ["E2", "E3", "M1"]


def _hrbp_org(db: Database) -> Subject:
    operator = new_tenant(db)
    import_lines(
        db,
        operator,
        [
            person_line("P1", department="People"),
            person_line("E1", department="Eng"),
            person_line("E2", department="Eng/Platform"),
            person_line("E3", department="Eng/Platform/Infra"),
            person_line("E4", department="Eng/Apps"),
            person_line("E5", department="Eng/Platform2"),  # a sibling sharing a prefix
            person_line("S1", department="Sales"),
            person_line("N1"),  # no department
        ],
        effective_date=D1,
    )
    return operator


HRBP_NUMBERS = ["E1", "E2", "E3", "E4", "E5", "N1", "P1", "S1"]


def test_an_hrbp_sees_sub_units_but_not_sibling_or_parent_units(db: Database) -> None:
    operator = _hrbp_org(db)

    def sees(who: str, paths: list[str] | None) -> set[str]:
        return visible(db, act_as(db, operator, who, "hrbp", paths), HRBP_NUMBERS)

    assert sees("P1", ["Eng/Platform"]) == {"P1", "E2", "E3"}
    assert sees("P1", ["Eng"]) == {"P1", "E1", "E2", "E3", "E4", "E5"}
    assert sees("P1", ["Eng/Apps", "Sales"]) == {"P1", "E4", "S1"}
    assert sees("P1", None) == {"P1"}  # by default, their own unit
    assert sees("E2", None) == {"E2", "E3"}
    assert sees("N1", ["Eng/Platform/Infra"]) == {"N1", "E3"}


def test_an_hrbp_needs_a_unit_and_only_an_hrbp_takes_one(db: Database) -> None:
    operator = _hrbp_org(db)
    with pytest.raises(InvalidInput, match="org-unit"):
        act_as(db, operator, "N1", "hrbp")
    with pytest.raises(InvalidInput, match="Unknown org unit"):
        act_as(db, operator, "P1", "hrbp", ["Eng/Nowhere"])
    with pytest.raises(InvalidInput, match="Only the hrbp"):
        act_as(db, operator, "P1", "manager", ["Eng"])


@pytest.mark.parametrize("role", sorted(TENANT_WIDE))
def test_tenant_wide_roles_see_their_tenant_and_nothing_of_another(db: Database, role: str) -> None:
    mine, theirs = new_tenant(db), new_tenant(db)
    import_lines(db, mine, [person_line("E1"), person_line("E2", "E1")], effective_date=D1)
    import_lines(
        db,
        theirs,
        [person_line("E1"), person_line("E2", "E1"), person_line("E3", "E1")],
        effective_date=D1,
    )
    subject = act_as(db, mine, "E2", role)
    items = listed(db, subject)
    assert [item.employee_id for item in items] == ["E1", "E2"]
    assert {item.email for item in items} == {"e1@example.com", "e2@example.com"}
    assert set(fetched(db, subject, ["E1", "E2", "E3"])) == {"E1", "E2"}
    # the same subject inside the other tenant's session still sees nothing of it
    with db.unit_of_work(theirs.tenant_id) as session:
        page = people.list_employees(session, subject, filters=ALL, limit=1000)
        assert page.items == []
        with pytest.raises(NotFound):
            people.get_employee(session, subject, employee_id="E3")
