"""The evidence commands as a newcomer uses them: JSON for tools, exit 2 for mistakes."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.fernet import Fernet

from tests.cli.test_cli import GOOD, write

SIGNALS = (
    '{"source":"zendesk","type":"ticket_solved","employee_id":"E1",'
    '"occurred_at":"2026-03-02T10:15:00Z","value":1,"external_id":"z1"}\n'
    '{"source":"zendesk","type":"ticket_solved","external_account":"github:octo",'
    '"occurred_at":"2026-03-02T10:15:00Z","external_id":"z2"}\n'
    "this line is not JSON\n"
)


def test_connectors_add_prints_the_id_and_webhook_path(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = Fernet.generate_key().decode()
    result = cli(
        "connectors",
        "add",
        "github",
        "--secret",
        "a-long-webhook-secret",
        "--json",
        MERITLINE_SECRET_KEY=key,
    )
    created = json.loads(result.stdout)
    assert set(created) == {"id", "webhook_path"}
    assert created["webhook_path"] == f"/webhooks/github/{created['id']}"
    listed = json.loads(cli("connectors", "list", "--json", MERITLINE_SECRET_KEY=key).stdout)
    assert [c["id"] for c in listed] == [created["id"]]
    assert "a-long-webhook-secret" not in json.dumps(listed)

    short = cli(
        "connectors", "add", "github", "--secret", "short", code=2, MERITLINE_SECRET_KEY=key
    )
    assert "too short" in short.output
    unknown = cli(
        "connectors", "add", "gitlab", "--secret", "x" * 20, code=2, MERITLINE_SECRET_KEY=key
    )
    assert "Unknown connector type" in unknown.output


def test_import_signals_then_status_quarantine_mapping_and_retry(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "people", write(tmp_path, "people.csv", GOOD))
    path = write(tmp_path, "zendesk.jsonl", SIGNALS)

    summary = json.loads(cli("import", "signals", path, "--json").stdout)
    assert (summary["events"], summary["signals"], summary["quarantined"]) == (3, 1, 2)
    status = json.loads(cli("ingest", "status", "--json").stdout)
    assert status == {"signals": 1, "quarantined": 2, "ignored": 0, "duplicates": 0}
    held = json.loads(cli("ingest", "quarantine", "--json").stdout)
    assert sorted(item["line"] for item in held["items"]) == [2, 3]

    cli("identities", "add", "github", "octo", "E2")
    retried = json.loads(cli("ingest", "retry", "--json").stdout)
    assert (retried["signals"], retried["still_unknown"]) == (1, 0)
    again = json.loads(cli("import", "signals", path, "--json").stdout)
    assert (again["signals"], again["duplicates"]) == (0, 3)
    assert json.loads(cli("ingest", "status", "--json").stdout)["signals"] == 2

    refreshed = json.loads(cli("aggregates", "refresh", "--json").stdout)
    assert refreshed["buckets"] >= 1
    shown = json.loads(
        cli("aggregates", "show", "--as-of", "2026-03-31", "--employee", "E1", "--json").stdout
    )
    assert shown["rows"][0]["windows"]["30d"]["count"] == 1


def test_import_signals_mistakes_exit_2_with_a_message(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = cli("import", "signals", str(tmp_path / "nope.jsonl"), code=2)
    assert "no such file" in missing.output
    odd = cli("import", "signals", write(tmp_path, "notes.txt", "hello\n"), code=2)
    assert "--format" in odd.output
    bad_format = cli(
        "import", "signals", write(tmp_path, "s.csv", "a\n"), "--format", "xml", code=2
    )
    assert "Unknown format" in bad_format.output
