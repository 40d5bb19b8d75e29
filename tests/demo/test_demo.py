"""The demo company: realistic, deterministic, and loaded through the user's import path."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from meritline.audit import service as audit
from meritline.cli.main import app
from meritline.db.session import Database
from meritline.demo import company, service
from meritline.people import service as people
from tests.fixtures.factories import new_tenant


@pytest.mark.parametrize("n,seed", [(40, 1), (400, 7), (1200, 3)])
def test_the_company_has_a_realistic_shape(n: int, seed: int) -> None:
    staff = company.generate_people(n, seed)
    figures = company.describe(staff)
    assert figures["employees"] == n
    assert figures["span_min"] >= 3 and figures["span_max"] <= 10  # type: ignore[operator]
    assert [p for p in staff if p.manager is None] == [staff[0]]  # one CEO
    assert len({p.email for p in staff}) == n and len({p.employee_id for p in staff}) == n
    for person in staff:
        assert person.department and person.level and person.location and person.job_family
        if person.termination_date:
            assert person.hire_date < person.termination_date <= company.DEMO_TODAY
            assert not person.reports  # leavers are individual contributors
    if n >= 400:
        genders = Counter(p.gender for p in staff)
        assert 0.25 < genders["Female"] / n < 0.6 and genders["Non-binary"] > 0
        assert figures["levels_deep"] >= 4  # type: ignore[operator]


def test_same_seed_same_company_other_seed_other_company() -> None:
    one, _ = service.generate_csv(employees=200, seed=11)
    assert service.generate_csv(employees=200, seed=11)[0] == one
    assert service.generate_csv(employees=200, seed=12)[0] != one


def test_the_demo_loads_through_the_import_and_is_idempotent(db: Database) -> None:
    operator = new_tenant(db)
    csv_text, figures = service.generate_csv(employees=120, seed=5)
    with db.unit_of_work(operator.tenant_id) as session:
        first = service.load_demo(session, operator, csv_text=csv_text, figures=figures, seed=5)
    assert first.imported.employees_created == 120 and first.review_cycle_created
    with db.unit_of_work(operator.tenant_id) as session:
        again = service.load_demo(session, operator, csv_text=csv_text, figures=figures, seed=5)
        page = people.list_employees(session, operator, limit=1)
        assert audit.verify(session, operator).ok
    assert again.imported.employees_created == 0 and again.imported.employees_updated == 0
    assert not again.review_cycle_created
    assert page.total == figures["active"]


def test_the_demo_command_prints_a_summary_and_next_steps(sqlite_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"MERITLINE_DATABASE_URL": sqlite_url, "COLUMNS": "200"}
    saved = tmp_path / "export.csv"
    files = [
        "--export",
        str(tmp_path / "out" / "ratings.csv"),
        "--packet",
        str(tmp_path / "p.html"),
    ]
    result = runner.invoke(app, ["demo", "-n", "60", "--save-csv", str(saved), *files], env=env)
    assert result.exit_code == 0, result.output
    assert "Demo company ready" in result.output and "meritline serve" in result.output
    assert saved.read_text().startswith("employee_id,name,email,manager_id")
    again = runner.invoke(app, ["demo", "-n", "60", "--json", *files], env=env)
    summary = json.loads(again.stdout)
    assert summary["imported"]["employees_created"] == 0
    assert summary["imported"]["employees_unchanged"] == 60
    assert summary["cycle"] is None  # the cycle ran the first time; a rerun leaves it be
    too_small = runner.invoke(app, ["demo", "-n", "5"], env=env)
    assert too_small.exit_code == 2
