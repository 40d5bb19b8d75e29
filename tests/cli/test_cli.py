"""The command line as a newcomer uses it: clear messages, exit 2 for mistakes, JSON for tools."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

GOOD = (
    "employee_id,name,email,manager_id,department,gender\n"
    "E1,Ada Lovelace,ada@example.com,,Eng,Female\n"
    "E2,Bob Byte,bob@example.com,E1,Eng/Platform,Male\n"
    "E3,Cy Coder,cy@example.com,E2,Eng/Platform,\n"
)
BAD = (
    "employee_id,name,email,manager_id,hire_date\n"
    "E1,Ada,ada@example.com,,2020-01-01\n"
    "E2,Bob,bob@example.com,E9,2020-02-30\n"
    "E3,,cy@example.com,E1,\n"
    "E1,Again,again@example.com,,\n"
)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_help_lists_the_commands(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("--help").output
    for command in ("demo", "import", "people", "token", "audit", "db", "serve", "cycle"):
        assert command in out


def test_a_bad_file_lists_every_problem_exits_2_and_writes_nothing(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = cli("import", "people", write(tmp_path, "bad.csv", BAD), code=2)
    assert "3 problem(s) in the file; nothing was imported." in result.output
    assert "line 3 (E2): bad hire_date '2020-02-30' (expected YYYY-MM-DD)" in result.output
    assert "line 4 (E3): missing name" in result.output
    assert "line 5 (E1): duplicate employee_id (first on line 2)" in result.output
    assert "Traceback" not in result.output
    tenants = json.loads(cli("tenant", "list", "--json").stdout)
    assert tenants == []  # not even the tenant was created


def test_unknown_manager_is_reported(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = "employee_id,name,email,manager_id\nE1,Ada,ada@example.com,E404\n"
    result = cli("import", "people", write(tmp_path, "f.csv", text), code=2)
    assert "line 2 (E1): unknown manager E404" in result.output


def test_import_then_reimport_changes_nothing(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "good.csv", GOOD)
    first = json.loads(cli("import", "people", path, "--json").stdout)
    assert (first["employees_created"], first["org_units_created"]) == (3, 2)
    again = json.loads(cli("import", "people", path, "--json").stdout)
    assert (again["employees_created"], again["employees_updated"]) == (0, 0)
    assert again["employees_unchanged"] == 3
    assert "0 created, 0 updated, 3 unchanged" in cli("import", "people", path).output


def test_dry_run_writes_nothing(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "good.csv", GOOD)
    assert "Would import 3 rows: 3 created" in cli("import", "people", path, "--dry-run").output
    assert json.loads(cli("tenant", "list", "--json").stdout) == []


def test_unknown_columns_are_reported_and_ignored(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = "employee_id,name,email,shoe_size\nE1,Ada,ada@example.com,38\n"
    result = cli("import", "people", write(tmp_path, "f.csv", text))
    assert "Ignored unknown column(s): shoe_size" in result.output


def test_people_list_and_show_through_the_visibility_rule(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "people", write(tmp_path, "good.csv", GOOD))
    everyone = json.loads(cli("people", "list", "--json").stdout)
    assert [e["employee_id"] for e in everyone["items"]] == ["E1", "E2", "E3"]
    as_bob = json.loads(cli("people", "list", "--as", "E2", "--role", "manager", "--json").stdout)
    assert [e["employee_id"] for e in as_bob["items"]] == ["E2", "E3"]
    shown = json.loads(cli("people", "show", "E3", "--json").stdout)
    assert (shown["manager_id"], shown["department"]) == ("E2", "Eng/Platform")
    assert "No employee 'E9'" in cli("people", "show", "E9", code=2).output


def test_token_create_prints_the_token_once(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "people", write(tmp_path, "good.csv", GOOD))
    created = json.loads(
        cli("token", "create", "--employee", "E1", "--role", "admin", "--json").output
    )
    assert created["token"].startswith("ml_")
    listed = cli("token", "list", "--json").output
    assert created["token"] not in listed
    assert (
        "Unknown role 'boss'"
        in cli("token", "create", "--employee", "E1", "--role", "boss", code=2).output
    )
    assert "revoked" in cli("token", "revoke", str(created["id"])).output


def test_audit_verify_passes_then_names_the_first_broken_sequence(  # type: ignore[no-untyped-def]
    cli, tmp_path, sqlite_url
) -> None:
    cli("import", "people", write(tmp_path, "good.csv", GOOD))
    assert "Audit chain intact" in cli("audit", "verify").output
    db_file = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as conn:
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("UPDATE audit_event SET actor = 'someone-else' WHERE seq = 3")
    result = cli("audit", "verify", code=1)
    assert "audit chain broken at sequence 3" in result.output
    broken = json.loads(cli("audit", "verify", "--json", code=1).stdout)
    assert (broken["ok"], broken["broken_seq"]) == (False, 3)


def test_an_unknown_tenant_says_how_to_create_it(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("--tenant", "nope", "people", "list", code=2)
    assert "No tenant 'nope'" in result.output and "meritline tenant create nope" in result.output


def test_a_stale_schema_without_auto_migrate_says_what_to_run(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("people", "list", code=2, MERITLINE_AUTO_MIGRATE="false")
    assert "Run `meritline db upgrade`" in result.output
    assert "upgraded from empty" in cli("db", "upgrade").output
    assert json.loads(cli("db", "status", "--json").stdout)["up_to_date"] is True


def test_an_unreachable_database_is_a_clear_error(cli) -> None:  # type: ignore[no-untyped-def]
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    result = cli("people", "list", code=2, MERITLINE_DATABASE_URL=url)
    assert "cannot use the database at postgresql+psycopg://nobody@127.0.0.1:1/nothing" in (
        result.output
    )


def test_bad_dates_are_user_errors(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "good.csv", GOOD)
    bad = cli("import", "people", path, "--effective-date", "soon", code=2).output
    assert "--effective-date must be a date like 2026-09-30, not 'soon'." in " ".join(bad.split())
    cli("import", "people", path)
    out = cli(
        "cycle", "create", "FY", "--start", "2026-12-31", "--end", "2026-01-01", code=2
    ).output
    assert "period_end is before period_start" in out
    cli("cycle", "create", "FY", "--start", "2026-01-01", "--end", "2026-12-31")
    assert (
        "already exists"
        in cli(
            "cycle", "create", "FY", "--start", "2026-01-01", "--end", "2026-12-31", code=2
        ).output
    )


def test_file_and_number_mistakes_are_clear(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "No such file" in cli("import", "people", str(tmp_path / "nope.csv"), code=2).output
    assert "is a folder" in cli("import", "people", str(tmp_path), code=2).output
    assert "Invalid value" in cli("people", "list", "--offset", str(2**70), code=2).output
    assert "Cannot write" in cli("demo", "-n", "40", "--save-csv", str(tmp_path), code=2).output
    assert json.loads(cli("tenant", "list", "--json").stdout) == []  # nothing was imported


def test_a_second_demo_of_another_shape_says_to_use_a_fresh_tenant(cli) -> None:  # type: ignore[no-untyped-def]
    cli("demo", "-n", "40", "--seed", "1")
    out = cli("demo", "-n", "60", "--seed", "2", code=2).output
    assert "run the demo in a fresh tenant" in out
    assert (
        "Demo company ready" in cli("--tenant", "demo2", "demo", "-n", "60", "--seed", "2").output
    )
    assert "0 created, 0 updated, 40 unchanged" in cli("demo", "-n", "40", "--seed", "1").output
