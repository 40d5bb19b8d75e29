"""The demo's review cycle end to end: the calibration analysis finds what was planted, the
committee's adjustments shrink the rater effects, and the outcomes reach the export and packet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from typer.testing import CliRunner

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.cli.main import app
from meritline.config import Settings
from meritline.db.session import Database
from meritline.demo import company, cycle, service
from meritline.scoring import jobs
from tests.fixtures.factories import new_tenant


def test_the_demo_cycle_finds_the_planted_problems_and_writes_back(
    sqlite_url: str, tmp_path: Path
) -> None:
    export, packet = tmp_path / "export" / "ratings.csv", tmp_path / "packet.html"
    env = {"MERITLINE_DATABASE_URL": sqlite_url, "COLUMNS": "200"}
    result = CliRunner().invoke(
        app, ["demo", "--json", "--export", str(export), "--packet", str(packet)], env=env
    )
    assert result.exit_code == 0, result.output
    cycle = json.loads(result.stdout)["cycle"]
    planted, found = cycle["planted"], cycle["found"]
    assert found["lenient_raters"] == [planted["lenient_manager"]]
    assert found["severe_raters"] == [planted["severe_manager"]]
    assert f"gender within {planted['gap_department']}=Female" in found["group_gaps"]
    # most recency-biased reviews are found, and nothing else is
    assert set(found["recency"]) <= set(planted["recency_biased"])
    assert len(found["recency"]) >= 4
    assert cycle["adjustments"] >= 4 and cycle["routed"] > 0
    assert "raters flagged: 2 -> 0" in cycle["changes"]
    rows = list(csv.DictReader(export.read_text(encoding="utf-8").splitlines()))
    ratings = [r for r in rows if r["topic"] == "rating.finalized"]
    assert len(ratings) == cycle["reviews"] and cycle["delivered"] == len(rows)
    assert {r["topic"] for r in rows} >= {"rating.finalized", "nine_box.positioned"}
    page = packet.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert planted["lenient_manager"] in page


def test_the_whole_cycle_runs_on_every_backend(db: Database, tmp_path: Path) -> None:
    """The same cycle through the services on SQLite and PostgreSQL (the demo command itself
    runs on SQLite above): the planted rater effects are found, the export and packet written.
    """
    operator = new_tenant(db)
    people = service.generate_people(employees=400, seed=7)

    @contextmanager
    def unit_of_work(**options: Any) -> Iterator[tuple[Any, Subject]]:
        with db.unit_of_work(operator.tenant_id, **options) as session:
            yield session, operator

    with unit_of_work() as (session, who):
        loaded = service.load_demo(
            session,
            who,
            csv_text=company.to_csv(people),
            figures=company.describe(people),
            seed=7,
        )
    with unit_of_work() as (session, who):
        evidence = service.load_evidence(session, who, people=people, seed=7)
    jobs.run_scoring(unit_of_work, as_of=evidence.windows.as_of)
    run = cycle.run_cycle(
        unit_of_work,
        settings=Settings(secret_key=Fernet.generate_key().decode()),
        people=people,
        cycle=loaded.review_cycle.name,
        seed=7,
        export=tmp_path / "export" / "ratings.csv",
        packet=tmp_path / "packet.html",
    )
    assert run is not None
    raters = run.pre.ratings.raters
    assert raters is not None
    flags = {r.rater: r.flag for r in raters.items if r.flag}
    assert flags == {run.planted.lenient_manager: "lenient", run.planted.severe_manager: "severe"}
    assert run.delivered.delivered > run.reviews and run.packet.exists()
    with unit_of_work(read_only=True) as (session, who):
        assert audit.verify(session, who).ok
