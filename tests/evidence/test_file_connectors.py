"""The file formats: generic CSV and JSONL, LMS, HRMS and kudos exports, and format inference."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from meritline.evidence.connectors import file_connectors, infer_file_connector
from meritline.evidence.connectors.generic import GenericCsvConnector, GenericJsonlConnector
from meritline.evidence.connectors.hrms import HrmsCsvConnector
from meritline.evidence.connectors.kudos import KudosCsvConnector
from meritline.evidence.connectors.lms import LmsCsvConnector
from meritline.evidence.signals import ExternalAccount, RejectedRow, SignalDraft


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def split(records: list[SignalDraft | RejectedRow]) -> tuple[list[SignalDraft], list[RejectedRow]]:
    return (
        [r for r in records if isinstance(r, SignalDraft)],
        [r for r in records if isinstance(r, RejectedRow)],
    )


GENERIC = (
    "source,type,employee_id,email,external_account,occurred_at,value,external_id,attributes\n"
    'zendesk,ticket_solved,E1,,,2026-03-02T10:15:00Z,2,zd-1,"{""tier"": 2}"\n'
    "zendesk,ticket_solved,,Ana@Acme.Example,,2026-03-02T11:00:00+01:00,,zd-2,\n"
    "github,pr_merged,,,github:octocat,2026-03-03,1,gh-1,\n"
    "zendesk,ticket_solved,,,,2026-03-02T10:15:00Z,1,zd-3,\n"
    "zendesk,ticket_solved,E1,,,2026-03-02T10:15:00,1,zd-4,\n"
    "zendesk,Ticket Solved!,E1,,,2026-03-02T10:15:00Z,1,zd-5,\n"
    "zendesk,ticket_solved,E1,,,2026-03-02T10:15:00Z,lots,zd-6,\n"
    "zendesk,ticket_solved,E1,,,2026-03-02T10:15:00Z,1,,\n"
    'zendesk,ticket_solved,E1,,,2026-03-02T10:15:00Z,1,zd-8,"[1, 2]"\n'
    "zendesk,ticket_solved,,,octocat,2026-03-02T10:15:00Z,1,zd-9,\n"
    "zendesk,ticket_solved,E1\n"
)


def test_generic_csv_rows_become_signals_or_rejections_with_reasons(tmp_path: Path) -> None:
    signals, rejected = split(list(GenericCsvConnector().read(write(tmp_path, "s.csv", GENERIC))))
    assert [(s.account, s.value, s.external_id) for s in signals] == [
        (ExternalAccount("employee_id", "E1"), 2.0, "zd-1"),
        (ExternalAccount("email", "ana@acme.example"), 1.0, "zd-2"),
        (ExternalAccount("github", "octocat"), 1.0, "gh-1"),
    ]
    assert signals[0].attributes == {"tier": 2}
    assert signals[1].occurred_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert signals[2].occurred_at == datetime(2026, 3, 3, tzinfo=UTC)
    assert [(r.line, r.reason) for r in rejected] == [
        (5, "names no person (employee_id, email or external_account)"),
        (6, "occurred_at '2026-03-02T10:15:00' has no time zone (add Z or +01:00)"),
        (7, "bad type 'Ticket Solved!' (lower-case letters, digits and _)"),
        (8, "bad value 'lots' (expected a number)"),
        (9, "missing external_id"),
        (10, "attributes must be a JSON object"),
        (11, "external_account 'octocat' must be kind:value, e.g. github:octocat"),
        (12, "has 3 fields, the header has 9"),
    ]
    assert rejected[0].raw.startswith("zendesk,ticket_solved")


def test_generic_jsonl(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "source": "jira",
                "type": "issue_resolved",
                "email": "a@x.example",
                "occurred_at": "2026-01-05T09:00:00Z",
                "value": 3,
                "external_id": "J-1",
                "attributes": {"project": "PLAT"},
            }
        ),
        "{not json",
        json.dumps([1, 2]),
        json.dumps(
            {
                "source": "jira",
                "type": "issue_resolved",
                "email": "a@x.example",
                "occurred_at": "2026-01-05T09:00:00Z",
                "value": float("inf"),
                "external_id": "J-2",
            }
        ),
    ]
    path = write(tmp_path, "s.jsonl", "\n".join(lines) + "\n")
    signals, rejected = split(list(GenericJsonlConnector().read(path)))
    assert [(s.value, s.attributes) for s in signals] == [(3.0, {"project": "PLAT"})]
    assert [(r.line, r.reason.split(":")[0]) for r in rejected] == [
        (2, "not JSON"),
        (3, "a line must be a JSON object"),
        (4, "bad value inf (expected a finite number)"),
    ]


def test_lms_completions(tmp_path: Path) -> None:
    text = (
        "email,course_id,course,completed_at,hours,score\n"
        "ana@acme.example,SEC-101,Secure coding,2026-02-11,3.5,92\n"
        "ana@acme.example,,Secure coding,2026-02-11,3.5,92\n"
        "ana@acme.example,SEC-102,,2026-02-12,-1,\n"
    )
    signals, rejected = split(list(LmsCsvConnector().read(write(tmp_path, "lms.csv", text))))
    (signal,) = signals
    assert (signal.type, signal.value, signal.attributes) == (
        "course_completed",
        3.5,
        {"course_id": "SEC-101", "course": "Secure coding", "score": 92.0},
    )
    assert [r.reason for r in rejected] == ["missing course_id", "hours cannot be negative"]


def test_hrms_leave_marks_protected_leave(tmp_path: Path) -> None:
    text = (
        "employee_id,date,kind,leave_type,days\n"
        "E1,2026-04-06,leave,parental,1\n"
        "E1,2026-04-07,leave,annual,0.5\n"
        "E1,2026-04-08,absence,,\n"
        "E1,2026-04-09,holiday,,\n"
        "E1,2026-04-10,leave,annual,2\n"
    )
    signals, rejected = split(list(HrmsCsvConnector().read(write(tmp_path, "hr.csv", text))))
    assert [(s.type, s.value, s.attributes["protected"]) for s in signals] == [
        ("protected_leave_day", 1.0, True),
        ("leave_day", 0.5, False),
        ("absence_day", 1.0, False),
    ]
    assert [r.line for r in rejected] == [5, 6]


def test_kudos_credit_both_sides_and_drop_the_message(tmp_path: Path) -> None:
    text = (
        "sent_at,giver,receiver,badge,message\n"
        "2026-03-04T16:02:11Z,ana@acme.example,ben@acme.example;cy@acme.example,Star,Thanks!\n"
        "2026-03-04T16:05:00Z,ana@acme.example,ana@acme.example,,Self five\n"
    )
    signals, rejected = split(list(KudosCsvConnector().read(write(tmp_path, "k.csv", text))))
    assert sorted((s.type, s.account.value) for s in signals) == [
        ("kudos_given", "ana@acme.example"),
        ("kudos_given", "ana@acme.example"),
        ("kudos_received", "ben@acme.example"),
        ("kudos_received", "cy@acme.example"),
    ]
    assert len({s.external_id for s in signals}) == 4
    assert all("Thanks" not in json.dumps(s.attributes) for s in signals)
    assert [r.reason for r in rejected] == ["giver and receiver are the same person"]


def test_the_format_is_inferred_from_the_file(tmp_path: Path) -> None:
    cases = {
        "s.csv": ("source,type,email,occurred_at,value,external_id\n", "signals_csv"),
        "s.jsonl": ('{"source": "x"}\n', "signals_jsonl"),
        "lms.csv": ("email,course_id,completed_at\n", "lms_csv"),
        "hr.csv": ("employee_id,date,kind\n", "hrms_csv"),
        "k.csv": ("sent_at,giver,receiver\n", "kudos_csv"),
    }
    for name, (text, expected) in cases.items():
        assert infer_file_connector(write(tmp_path, name, text)).type == expected
    with pytest.raises(ValueError, match="unknown format; pass --format"):
        infer_file_connector(write(tmp_path, "x.csv", "a,b,c\n"))
    assert {"signals_csv", "signals_jsonl", "lms_csv", "hrms_csv", "kudos_csv"} <= set(
        file_connectors()
    )
