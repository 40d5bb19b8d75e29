"""The scoring commands as a newcomer uses them: model versions, runs, explanations, exports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml

from meritline.scoring.definition import DEFAULT_MODEL_PATH, PILLARS, default_definition
from tests.cli.test_cli import GOOD, write
from tests.fixtures.scoring import EXPLANATION_KEYS, EXPORT_KEYS, PERCENTILES

AS_OF = "2026-09-30"
#: E1 alone receives kudos (in 2026, inside every twelve-month window used below).
KUDOS = "".join(
    json.dumps(
        {
            "source": "kudos",
            "type": "kudos_received",
            "employee_id": "E1",
            "occurred_at": f"2026-0{month}-02T10:00:00Z",
            "external_id": f"k{month}",
        }
    )
    + "\n"
    for month in range(3, 9)
)


def said(result: Any) -> str:
    """Everything a command wrote on stderr, on one line (rich wraps long messages)."""
    return " ".join(result.stderr.split())


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def model_data() -> dict[str, Any]:
    """The packaged model as plain data, to edit."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    return data


def pillar(data: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [p for p in data["pillars"] if p["name"] == name]
    return found


def quality_weight_doubled(tmp_path: Path) -> str:
    data = model_data()
    assert pillar(data, "Quality")["weight"] == 0.10
    pillar(data, "Quality")["weight"] = 0.20
    return write(tmp_path, "quality.yaml", yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def people(cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    """E1..E3 imported (no hire dates: the column is optional), E1 with six kudos."""
    cli("import", "people", write(tmp_path, "people.csv", GOOD))
    cli("import", "signals", write(tmp_path, "kudos.jsonl", KUDOS))
    cli("aggregates", "refresh")
    return cli


# --- model -----------------------------------------------------------------------------------


def test_validate_the_packaged_model(people) -> None:  # type: ignore[no-untyped-def]
    result = as_json(people("model", "validate", "default", "--json"))
    assert result["name"] == "default"
    assert list(result["pillars"]) == list(PILLARS)
    assert result["metrics"] == len(default_definition().metrics())
    assert "kudos_received" in result["signal_types"]
    assert "protected_leave_day" not in result["signal_types"]
    assert result["stored_as"] is None  # validating stores nothing
    assert as_json(people("model", "list", "--json")) == []
    assert "valid" in people("model", "validate", str(DEFAULT_MODEL_PATH)).stdout


MISSING_GOAL = {
    **model_data(),
    "pillars": [p for p in model_data()["pillars"] if p["name"] != "Goal"],
}


def with_window(window: str) -> dict[str, Any]:
    data = model_data()
    pillar(data, "Recognition")["metrics"][0]["window"] = window
    return data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (yaml.safe_dump(MISSING_GOAL), "every pillar must be declared; missing: Goal"),
        (
            yaml.safe_dump(with_window("7d")),
            "m.yaml is not a valid scoring model: pillars.12.metrics.0.window: Input should be",
        ),
        ("name: default\npillars: [\n  - {name: Goal\n", "m.yaml is not valid YAML or JSON"),
        ("- just\n- a list\n", "m.yaml must be a mapping"),
        ("", "m.yaml must be a mapping"),
        ('{"name": "default", "pillars": []}', "every pillar must be declared; missing: Goal"),
    ],
)
def test_an_invalid_model_exits_2_with_the_reason(  # type: ignore[no-untyped-def]
    people, tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "m.yaml", text)
    for command in ("validate", "activate"):
        result = people("model", command, path, code=2)
        assert message in said(result), said(result)
        assert "Traceback" not in result.output and result.stdout == ""
    assert as_json(people("model", "list", "--json")) == []  # nothing was stored


def test_a_model_file_that_cannot_be_read_exits_2(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = people("model", "validate", str(tmp_path / "nope.yaml"), code=2)
    assert f"Cannot read {tmp_path / 'nope.yaml'}: No such file or directory." in said(missing)
    folder = people("model", "validate", str(tmp_path), code=2)
    assert f"Cannot read {tmp_path}: Is a directory." in said(folder)
    unknown = people("model", "show", "default@9", code=2)
    assert "No model version default@9" in said(unknown)
    for result in (missing, folder, unknown):
        assert "Traceback" not in result.output


def test_a_model_file_that_is_not_utf8_exits_2(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: défaut\n".encode("latin-1"))
    result = people("model", "validate", str(path), code=2)
    assert "latin1.yaml" in said(result) and "Traceback" not in result.output


def test_model_show_without_an_active_model_says_how_to_activate_one(people) -> None:  # type: ignore[no-untyped-def]
    result = people("model", "show", code=2)
    assert "No scoring model is active yet" in said(result)
    assert "meritline model activate default" in said(result)
    assert "Traceback" not in result.output
    assert "No scoring model is active yet" in " ".join(people("model", "list").stdout.split())


def test_activating_a_changed_copy_stores_a_new_version_and_retires_the_old(  # type: ignore[no-untyped-def]
    people, tmp_path: Path
) -> None:
    first = as_json(people("model", "activate", "default", "--json"))
    assert first == {
        "version": "default@1",
        "created": True,
        "previous": None,
        "already_active": False,
    }
    changed = quality_weight_doubled(tmp_path)

    second = as_json(people("model", "activate", changed, "--json"))
    assert (second["version"], second["created"], second["previous"]) == (
        "default@2",
        True,
        "default@1",
    )
    versions = as_json(people("model", "list", "--json"))
    assert [(v["version"], v["status"]) for v in versions] == [
        ("default@1", "retired"),
        ("default@2", "active"),
    ]
    assert versions[0]["retired_at"] is not None and versions[1]["retired_at"] is None

    again = as_json(people("model", "activate", changed, "--json"))
    assert again == {
        "version": "default@2",
        "created": False,
        "previous": None,
        "already_active": True,
    }
    assert "already the active model" in " ".join(
        people("model", "activate", changed).stdout.split()
    )
    assert as_json(people("model", "list", "--json")) == versions  # nothing new, nothing moved
    assert as_json(people("model", "validate", changed, "--json"))["stored_as"] == "default@2"

    shown = as_json(people("model", "show", "--json"))
    assert (shown["version"], shown["status"]) == ("default@2", "active")
    assert pillar(shown["definition"], "Quality")["weight"] == 0.2
    old = as_json(people("model", "show", "default@1", "--json"))
    assert (old["status"], pillar(old["definition"], "Quality")["weight"]) == ("retired", 0.1)

    # the packaged model is the stored default@1: activating it again stores nothing
    back = as_json(people("model", "activate", "default", "--json"))
    assert (back["version"], back["created"], back["previous"]) == (
        "default@1",
        False,
        "default@2",
    )
    assert len(as_json(people("model", "list", "--json"))) == 2


def test_model_diff_names_the_changed_weight(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    people("model", "activate", "default")
    changed = quality_weight_doubled(tmp_path)
    people("model", "activate", changed)
    diff = as_json(people("model", "diff", "default@1", "default@2", "--json"))
    assert (diff["old"], diff["new"]) == ("default@1", "default@2")
    assert diff["changes"] == [
        {"path": "pillars.Quality.weight", "change": "changed", "old": 0.1, "new": 0.2}
    ]
    reverse = as_json(people("model", "diff", "default@2", "default", "--json"))
    assert [(c["path"], c["old"], c["new"]) for c in reverse["changes"]] == [
        ("pillars.Quality.weight", 0.2, 0.1)
    ]
    assert as_json(people("model", "diff", "default@1", "default", "--json"))["changes"] == []
    assert "pillars.Quality.weight" in people("model", "diff", "default@1", changed).stdout


# --- score -----------------------------------------------------------------------------------


def test_score_run_scores_everyone_and_activates_the_packaged_model(people) -> None:  # type: ignore[no-untyped-def]
    summary = as_json(people("score", "run", "--as-of", AS_OF, "--json"))
    assert (summary["status"], summary["as_of"]) == ("succeeded", AS_OF)
    assert (summary["employees"], summary["written"], summary["unscored"]) == (3, 3, 0)
    assert (summary["model_version"], summary["selection"], summary["resumed"]) == (
        "default@1",
        None,
        0,
    )
    assert summary["distribution"]["scored"] == 3
    assert sum(summary["distribution"]["bins"].values()) == 3
    runs = as_json(people("score", "runs", "--json"))
    assert [(r["run_id"], r["status"]) for r in runs] == [(summary["run_id"], "succeeded")]
    assert as_json(people("model", "show", "--json"))["version"] == "default@1"
    text = " ".join(people("score", "run", "--as-of", AS_OF).stdout.split())
    assert "3 of 3 employees scored as of 2026-09-30 with default@1" in text


def test_score_explain_has_every_part_of_the_explanation(people) -> None:  # type: ignore[no-untyped-def]
    people("score", "run", "--as-of", AS_OF)
    body = as_json(people("score", "explain", "E1", "--json"))
    assert set(body) == EXPLANATION_KEYS
    assert (body["employee_id"], body["as_of"], body["model_version"]) == ("E1", AS_OF, "default@1")
    assert len(body["fingerprint"]) == 64
    assert list(body["pillars"]) == list(PILLARS)
    assert 0 <= body["score"] <= 100 and 0 < body["confidence"] < 1
    [kudos] = [c for c in body["top_positive"] if c["metric"] == "kudos_received"]
    assert (kudos["pillar"], kudos["value"]) == ("Recognition", 6)
    assert kudos["contribution"] > 0
    missing = {(m["pillar"], m["metric"]) for m in body["missing_evidence"]}
    assert ("Goal", None) in missing and ("Quality", "pr_merge_rate") in missing

    band = body["benchmark"]
    assert (band["cohort"], band["n"]) == (body["cohort"], 3)
    assert set(band["percentiles"]) == PERCENTILES
    assert set(band["suppressed"]) == PERCENTILES  # three people: no band may be shown
    assert all(v is None for v in band["percentiles"].values())
    for sentence in body["narrative"]:
        assert set(sentence) == {"text", "evidence"} and sentence["evidence"]
    assert any(
        e.get("metric") == "kudos_received" for s in body["narrative"] for e in s["evidence"]
    )

    text = people("score", "explain", "E1").stdout
    assert "E1" in text and "In words" in text and "kudos_received" in text
    by_date = as_json(people("score", "explain", "E1", "--as-of", AS_OF, "--json"))
    assert by_date["fingerprint"] == body["fingerprint"]


def test_score_explain_mistakes_exit_2(people) -> None:  # type: ignore[no-untyped-def]
    no_score = people("score", "explain", "E1", code=2)
    assert "No score for 'E1'; scores come from `meritline score run`." in said(no_score)
    people("score", "run", "--as-of", AS_OF)
    assert "No employee 'ZZ9'" in said(people("score", "explain", "ZZ9", code=2))
    other_day = people("score", "explain", "E1", "--as-of", "2026-10-01", code=2)
    assert "No score for 'E1' as of 2026-10-01" in said(other_day)
    assert "--as-of must be a date" in said(
        people("score", "explain", "E1", "--as-of", "x", code=2)
    )


def test_score_export_as_csv_and_json(people, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    people("score", "run", "--as-of", AS_OF)
    text = people("score", "export", "--csv").stdout
    assert text.splitlines()[0] == ",".join(
        ["employee_id", "as_of", "model_version", "score", "confidence", *PILLARS]
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["employee_id"] for r in rows] == ["E1", "E2", "E3"]
    assert {r["as_of"] for r in rows} == {AS_OF} and {r["model_version"] for r in rows} == {
        "default@1"
    }
    assert {r["Goal"] for r in rows} == {""}  # no evidence source: an empty cell, not 0
    scores = {r["employee_id"]: float(r["score"]) for r in rows}
    assert scores["E1"] > scores["E2"] == scores["E3"]  # E1's kudos
    assert people("score", "export").stdout == text  # CSV is the default

    listed = as_json(people("score", "export", "--json"))
    assert [r["employee_id"] for r in listed] == ["E1", "E2", "E3"]
    for row in listed:
        assert set(row) == EXPORT_KEYS and list(row["pillars"]) == list(PILLARS)
        assert row["score"] == scores[row["employee_id"]]

    out = tmp_path / "scores.csv"
    written = people("score", "export", "--csv", "-o", str(out))
    assert out.read_text(encoding="utf-8") == text
    assert written.stdout == "" and "Wrote 3 profiles" in said(written)
    assert "Choose one of --json and --csv" in said(
        people("score", "export", "--json", "--csv", code=2)
    )


def test_every_read_of_scores_is_in_the_access_log(people) -> None:  # type: ignore[no-untyped-def]
    people("score", "run", "--as-of", AS_OF)
    assert as_json(people("score", "access-log", "--json")) == []  # scoring is not reading
    people("score", "explain", "E2", "--json")
    people("score", "explain", "E3", "--purpose", "appeal by E3", "--json")
    people("score", "export", "--json")
    log = as_json(people("score", "access-log", "--json"))
    assert [(e["employee_id"], e["resource"], e["purpose"]) for e in log] == [
        *[(n, "export", "CLI export") for n in ("E3", "E2", "E1")],
        ("E3", "explanation", "appeal by E3"),
        ("E2", "explanation", "CLI explanation"),
    ]
    assert {(e["actor"], e["role"]) for e in log} == {("cli:operator", "admin")}
    only_e2 = as_json(people("score", "access-log", "--employee", "E2", "--json"))
    assert [e["resource"] for e in only_e2] == ["export", "explanation"]
    people("score", "explain", "ZZ9", code=2)
    assert len(as_json(people("score", "access-log", "--json"))) == len(log)


def test_a_subset_run_writes_only_its_employees_and_the_trend(people) -> None:  # type: ignore[no-untyped-def]
    people("score", "run", "--as-of", AS_OF)
    later = "2026-10-31"
    subset = as_json(people("score", "run", "--as-of", later, "--employees", "E1", "--json"))
    assert (subset["status"], subset["selection"]) == ("succeeded", ["E1"])
    assert (subset["employees"], subset["written"]) == (1, 1)
    exported = {r["employee_id"]: r["as_of"] for r in as_json(people("score", "export", "--json"))}
    assert exported == {"E1": later, "E2": AS_OF, "E3": AS_OF}
    body = as_json(people("score", "explain", "E1", "--json"))
    assert body["as_of"] == later and body["trend"] == 0.0  # the same evidence a month later


def test_score_run_mistakes_exit_2_and_start_no_run(people) -> None:  # type: ignore[no-untyped-def]
    for args, message in [
        (["--employees", "E1,ZZ9"], "No employee ZZ9; check --employees."),
        (["--employees", " , "], "--employees needs at least one employee id."),
        (["--resume"], "No unfinished scoring run to resume"),
        (["--resume", "--as-of", AS_OF], "--resume takes the run's own date"),
        (["--as-of", "soon"], "--as-of must be a date like 2026-09-30, not 'soon'."),
        (["--as-of", "2026-02-30"], "not '2026-02-30'"),
        (["--model", "default@7"], "No model version default@7"),
    ]:
        result = people("score", "run", *args, code=2)
        assert message in said(result), (args, said(result))
        assert "Traceback" not in result.output
    assert as_json(people("score", "runs", "--json")) == []


def test_a_failed_run_is_logged_and_resume_picks_it_up(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hired = "employee_id,name,email,hire_date\nE1,Ada,ada@example.com,2020-01-15\n"
    cli("import", "people", write(tmp_path, "hired.csv", hired))
    failed = cli("score", "run", "--as-of", "2019-12-31", code=2)
    assert "No one is employed on 2019-12-31" in said(failed)
    [run] = as_json(cli("score", "runs", "--json"))
    assert (run["status"], run["as_of"], run["resumed"]) == ("failed", "2019-12-31", 0)
    assert "No one is employed on 2019-12-31" in run["error"]

    cli("score", "run", "--resume", code=2)  # the same date, so the same failure
    [again] = as_json(cli("score", "runs", "--json"))
    assert (again["run_id"], again["status"], again["resumed"]) == (run["run_id"], "failed", 1)

    fresh = as_json(cli("score", "run", "--as-of", AS_OF, "--json"))
    assert (fresh["status"], fresh["written"]) == ("succeeded", 1)
    assert fresh["run_id"] != run["run_id"]
    # the failed run is history now: a later run superseded it
    assert "No unfinished scoring run to resume" in said(cli("score", "run", "--resume", code=2))


def test_a_model_file_validates_before_any_tenant_exists(cli) -> None:  # type: ignore[no-untyped-def]
    checked = as_json(cli("model", "validate", "default", "--json"))
    assert (checked["name"], checked["stored_as"]) == ("default", None)
    assert len(checked["pillars"]) == 13
    assert "not stored yet" in " ".join(cli("model", "validate", "default").stdout.split())
    assert "No tenant 'default'" in said(cli("model", "list", code=2))


def test_the_whole_flow_on_each_backend(cli, migrated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Run, explain, export and the access log on the session's database (PostgreSQL too, with
    row-level security), in a tenant of this test's own.
    """
    env = {
        "MERITLINE_DATABASE_URL": migrated.url,
        "MERITLINE_TENANT": f"scoring-cli-{uuid4().hex[:8]}",
    }
    cli("import", "people", write(tmp_path, "people.csv", GOOD), **env)
    cli("import", "signals", write(tmp_path, "kudos.jsonl", KUDOS), **env)
    cli("aggregates", "refresh", **env)
    summary = as_json(cli("score", "run", "--as-of", AS_OF, "--json", **env))
    assert (summary["status"], summary["employees"], summary["written"]) == ("succeeded", 3, 3)
    assert summary["model_version"] == "default@1"  # the tenant's own first version
    body = as_json(cli("score", "explain", "E1", "--json", **env))
    assert set(body) == EXPLANATION_KEYS and body["benchmark"]["n"] == 3
    assert list(body["pillars"]) == list(PILLARS)  # key order survives the JSON column
    rows = as_json(cli("score", "export", "--json", **env))
    assert [r["employee_id"] for r in rows] == ["E1", "E2", "E3"]
    log = as_json(cli("score", "access-log", "--json", **env))
    assert [e["resource"] for e in log] == ["export"] * 3 + ["explanation"]
