"""The demo's review cycle end to end: the calibration analysis finds what was planted, the
committee's adjustments shrink the rater effects, and the outcomes reach the export and packet.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from meritline.cli.main import app


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
