"""The review commands as a newcomer uses them: cycles and their templates, the lifecycle, reviews
and their versions, peer feedback; exit 2 and a clear message for every mistake, JSON for tools.

Each test runs on the session's database for each backend (PostgreSQL with row-level security
too), in a tenant of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from sqlalchemy import select

from meritline.models import Signal
from tests.cli.test_cli import write
from tests.fixtures.database import MigratedDatabase

#: E1 runs the company; M1 runs Eng (I1, I2, and I3 under I1), M2 runs Sales (S1, S2).
ORG = (
    "employee_id,name,email,manager_id,department\n"
    "E1,Ada Lovelace,e1@example.com,,Exec\n"
    "M1,Mo One,m1@example.com,E1,Eng\n"
    "M2,Mia Two,m2@example.com,E1,Sales\n"
    "I1,Ivy One,i1@example.com,M1,Eng/Platform\n"
    "I2,Ian Two,i2@example.com,M1,Eng/Data\n"
    "I3,Isa Three,i3@example.com,I1,Eng/Platform\n"
    "S1,Sam One,s1@example.com,M2,Sales\n"
    "S2,Sue Two,s2@example.com,M2,Sales\n"
)
CYCLE = "FY2026"
PERIOD = ("--start", "2026-01-01", "--end", "2026-12-31")
REASON = "Calibrated against the whole team's delivery this year."
#: A four-point scale with its own words and guideline.
FOUR_POINT = {
    "scale": [
        {"value": 1, "label": "Below"},
        {"value": 2, "label": "Solid"},
        {"value": 3, "label": "Strong"},
        {"value": 4, "label": "Outstanding"},
    ],
    "guideline": {1: 0.1, 2: 0.5, 3: 0.3, 4: 0.1},
    "questions": ["What went well?", "What next?"],
    "min_peer_responses": 3,
}


def said(result: Any) -> str:
    """Everything a command wrote on stderr, on one line (rich wraps long messages)."""
    return " ".join(result.stderr.split())


def out(result: Any) -> str:
    return " ".join(result.stdout.split())


def cells(result: Any) -> str:
    """A Rich table's text without its box lines, on one line."""
    text = result.stdout.translate({ord(c): " " for c in "│┃┏┓┗┛┡┩└┘┌┐━─┳┻╇┴┬"})
    return " ".join(text.split())


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output, result.output


@pytest.fixture
def org(cli, migrated: MigratedDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    """``meritline`` on the session's database in a fresh tenant holding :data:`ORG`."""
    env = {
        "MERITLINE_DATABASE_URL": migrated.url,
        "MERITLINE_TENANT": f"reviews-cli-{uuid4().hex[:8]}",
    }
    cli("import", "people", write(tmp_path, "people.csv", ORG), **env)

    def run(*args: str, code: int = 0):  # type: ignore[no-untyped-def]
        return cli(*args, code=code, **env)

    return run


def open_cycle(org, name: str = CYCLE) -> None:  # type: ignore[no-untyped-def]
    org("cycle", "create", name, *PERIOD)
    org("cycle", "advance", name, "--to", "open")


def history(org, employee: str, *acting: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    result: list[dict[str, Any]] = as_json(
        org("review", "history", CYCLE, employee, *acting, "--json")
    )
    return result


# --- cycles --------------------------------------------------------------------------------


def test_cycle_create_with_a_four_point_template_file(org, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "four.yaml", yaml.safe_dump(FOUR_POINT, sort_keys=False))
    created = as_json(org("cycle", "create", CYCLE, *PERIOD, "--template", path, "--json"))
    assert (created["name"], created["status"]) == (CYCLE, "draft")
    assert (created["period_start"], created["period_end"]) == ("2026-01-01", "2026-12-31")
    template = created["template"]
    assert template["scale"] == FOUR_POINT["scale"]
    assert {int(k): v for k, v in template["guideline"].items()} == FOUR_POINT["guideline"]
    assert template["questions"] == ["What went well?", "What next?"]
    assert (template["self_review"], template["peer_feedback"]) == (True, True)

    shown = as_json(org("cycle", "show", CYCLE, "--json"))
    assert shown == {"cycle": created, "transitions": []}
    text = out(org("cycle", "show", CYCLE))
    assert f"{CYCLE} (2026-01-01 to 2026-12-31): draft" in text
    assert "Scale: 1 Below, 2 Solid, 3 Strong, 4 Outstanding" in text
    assert "Guideline: 1: 10%, 2: 50%, 3: 30%, 4: 10%" in text
    assert [c["name"] for c in as_json(org("cycle", "list", "--json"))] == [CYCLE]

    # the template rules the ratings: 5 is not on this scale, 4 is "Outstanding"
    org("cycle", "advance", CYCLE, "--to", "open")
    off = org("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "5", code=2)
    assert "Rating 5 is not on the cycle's scale (1, 2, 3, 4)." in said(off)
    no_traceback(off)
    top = as_json(org("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "4", "--json"))
    assert (top["rating"], top["rating_label"]) == (4, "Outstanding")

    # the same template as JSON works too, and the default template is the 1-5 scale
    org(
        "cycle",
        "create",
        "as-json",
        *PERIOD,
        "--template",
        write(tmp_path, "t.json", json.dumps(FOUR_POINT)),
    )
    assert as_json(org("cycle", "show", "as-json", "--json"))["cycle"]["template"] == template
    default = as_json(org("cycle", "create", "default", *PERIOD, "--json"))["template"]
    assert [lv["value"] for lv in default["scale"]] == [1, 2, 3, 4, 5]


def with_guideline(guideline: dict[int, float]) -> dict[str, Any]:
    return {**FOUR_POINT, "guideline": guideline}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            yaml.safe_dump(with_guideline({1: 0.1, 2: 0.5, 3: 0.3, 4: 0.2})),
            "Bad template: template: Value error, guideline shares must sum to 1, not 1.1.",
        ),
        (
            yaml.safe_dump(with_guideline({1: 0.1, 2: 0.2, 3: 0.3, 4: 0.2, 5: 0.2})),
            "the guideline names values not on the scale: [5]",
        ),
        (
            yaml.safe_dump({**FOUR_POINT, "min_peer_responses": 2}),
            "min_peer_responses: Input should be greater than or equal to 3",
        ),
        (
            yaml.safe_dump({**FOUR_POINT, "colour": "blue"}),
            "colour: Extra inputs are not permitted",
        ),
        ("- a\n- list\n", "t.yaml must hold a mapping (scale, guideline, questions, ...)."),
        ("scale: [\n  - {value: 1\n", "t.yaml is not YAML or JSON"),
    ],
)
def test_a_bad_template_exits_2_with_the_reason_and_creates_nothing(  # type: ignore[no-untyped-def]
    org, tmp_path: Path, text: str, message: str
) -> None:
    result = org(
        "cycle", "create", CYCLE, *PERIOD, "--template", write(tmp_path, "t.yaml", text), code=2
    )
    assert message in said(result), said(result)
    assert result.stdout == ""
    no_traceback(result)
    assert as_json(org("cycle", "list", "--json")) == []


def test_bad_periods_and_missing_files_exit_2(org, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = org(
        "cycle", "create", CYCLE, *PERIOD, "--template", str(tmp_path / "nope.yaml"), code=2
    )
    assert f"No file {str(tmp_path / 'nope.yaml')!r}." in said(missing)
    backwards = org(
        "cycle", "create", CYCLE, "--start", "2026-12-31", "--end", "2026-01-01", code=2
    )
    assert (
        "Bad review cycle: review cycle: Value error, period_end is before period_start."
        in said(backwards)
    )
    not_a_date = org(
        "cycle", "create", CYCLE, "--start", "2026-13-01", "--end", "2026-12-31", code=2
    )
    assert "Bad review cycle: period_start:" in said(not_a_date)
    for result in (missing, backwards, not_a_date):
        no_traceback(result)
    assert as_json(org("cycle", "list", "--json")) == []
    org("cycle", "create", CYCLE, *PERIOD)
    again = org("cycle", "create", CYCLE, *PERIOD, code=2)
    assert f"A review cycle named {CYCLE!r} already exists." in said(again)


def test_cycle_advance_names_the_next_allowed_status(org) -> None:  # type: ignore[no-untyped-def]
    org("cycle", "create", CYCLE, *PERIOD)
    wrong = org("cycle", "advance", CYCLE, "--to", "calibration", code=2)
    assert f"Cycle {CYCLE!r} is 'draft': it can move to 'open' next, not to 'calibration'." in said(
        wrong
    )
    no_traceback(wrong)
    assert as_json(org("cycle", "show", CYCLE, "--json"))["cycle"]["status"] == "draft"

    assert f"Cycle {CYCLE!r} is now open." in out(org("cycle", "advance", CYCLE, "--to", "open"))
    bogus = org("cycle", "advance", CYCLE, "--to", "bogus", code=2)
    assert "it can move to 'calibration' next, not to 'bogus'." in said(bogus)
    back = org("cycle", "advance", CYCLE, "--to", "draft", code=2)
    assert "it can move to 'calibration' next, not to 'draft'." in said(back)
    for status in ("calibration", "finalized", "shared", "closed"):
        moved = as_json(org("cycle", "advance", CYCLE, "--to", status, "--json"))
        assert moved["status"] == status
    closed = org("cycle", "advance", CYCLE, "--to", "open", code=2)
    assert f"Cycle {CYCLE!r} is 'closed': it is closed, not to 'open'." in said(closed)
    unknown = org("cycle", "advance", "nope", "--to", "open", code=2)
    assert "No review cycle named 'nope'; `meritline cycle list` shows them." in said(unknown)

    text = out(org("cycle", "show", CYCLE))
    assert f"{CYCLE} (2026-01-01 to 2026-12-31): closed" in text
    for step in (
        "draft -> open by cli:operator",
        "open -> calibration by cli:operator",
        "calibration -> finalized by cli:operator",
        "finalized -> shared by cli:operator",
        "shared -> closed by cli:operator",
    ):
        assert step in text, step
    assert as_json(org("cycle", "show", CYCLE, "--json"))["cycle"]["status"] == "closed"


def test_cycle_show_json_lists_the_transitions_as_objects(org) -> None:  # type: ignore[no-untyped-def]
    open_cycle(org)
    [step] = as_json(org("cycle", "show", CYCLE, "--json"))["transitions"]
    assert (step["from_status"], step["to_status"], step["actor"]) == (
        "draft",
        "open",
        "cli:operator",
    )


# --- reviews -------------------------------------------------------------------------------


def test_submit_amend_and_read_the_history(org) -> None:  # type: ignore[no-untyped-def]
    open_cycle(org)
    first = as_json(
        org(
            "review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "4",
            "--potential", "high", "--promotion", "--assessment", "Led the migration.", "--json",
        )
    )  # fmt: skip
    assert (first["employee_id"], first["kind"], first["version"]) == ("I1", "manager", 1)
    assert (first["author_id"], first["rating"], first["rating_label"]) == (
        "M1",
        4,
        "Exceeds expectations",
    )
    assert (first["potential"], first["promotion_proposed"]) == ("high", True)
    assert first["reason"] is None

    again = org("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3", code=2)
    assert f"I1 already has a manager review in {CYCLE!r}; amend it with a reason." in said(again)
    short = org(
        "review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3", "--reason", "fix", code=2
    )
    assert "Bad amendment: reason: String should have at least 20 characters." in said(short)

    amended = org(
        "review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3", "--reason", REASON
    )
    assert f"Manager review of I1 in {CYCLE!r}, version 2: 3 (Meets expectations)." in out(amended)
    versions = history(org, "I1", "--as", "M1")
    assert [(v["version"], v["rating"], v["reason"]) for v in versions] == [
        (1, 4, None),
        (2, 3, REASON),
    ]
    assert versions[0] == first  # version 1 is kept exactly as it was
    # what the amendment did not set carries over
    for field in ("potential", "promotion_proposed", "assessment", "author_id"):
        assert versions[1][field] == first[field], field
    text = out(org("review", "history", CYCLE, "I1", "--as", "M1"))
    assert "manager v1" in text and "by M1: 4 (Exceeds expectations)" in text
    assert "manager v2" in text and f"3 (Meets expectations) ({REASON})" in text
    assert "Led the migration." in text

    withdrawn = as_json(
        org(
            "review", "submit", CYCLE, "I1", "--as", "E1", "--no-promotion",
            "--reason", "Promotion waits for the next cycle, as agreed.", "--json",
        )
    )  # fmt: skip
    assert (withdrawn["version"], withdrawn["author_id"]) == (3, "E1")
    assert (withdrawn["rating"], withdrawn["promotion_proposed"]) == (3, False)

    # the self review; I1 sees it, and the manager review only once the cycle is shared
    own = as_json(
        org("review", "submit", CYCLE, "I1", "--self", "--as", "I1", "--rating", "5", "--json")
    )
    assert (own["kind"], own["author_id"], own["rating"]) == ("self", "I1", 5)
    mine = history(org, "I1", "--as", "I1", "--role", "employee")
    assert [(v["kind"], v["version"]) for v in mine] == [("self", 1)]
    for status in ("calibration", "finalized", "shared"):
        org("cycle", "advance", CYCLE, "--to", status)
    mine = history(org, "I1", "--as", "I1", "--role", "employee")
    assert [(v["kind"], v["version"]) for v in mine] == [
        ("manager", 1),
        ("manager", 2),
        ("manager", 3),
        ("self", 1),
    ]
    late = org("review", "submit", CYCLE, "I2", "--as", "M1", "--rating", "3", code=2)
    assert f"Cycle {CYCLE!r} is 'shared', not open for reviews." in said(late)


def test_review_mistakes_exit_2_with_a_clear_message(  # type: ignore[no-untyped-def]
    org, migrated: MigratedDatabase, tmp_path: Path
) -> None:
    org("cycle", "create", CYCLE, *PERIOD)
    draft = org("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3", code=2)
    assert f"Cycle {CYCLE!r} is 'draft', not open for reviews." in said(draft)
    org("cycle", "advance", CYCLE, "--to", "open")

    external = f"cli-{uuid4().hex[:8]}"
    rows = [
        {
            "source": "zendesk",
            "type": "ticket_solved",
            "employee_id": number,
            "occurred_at": "2026-03-02T10:15:00Z",
            "external_id": f"{external}-{number}",
        }
        for number in ("I1", "I2")
    ]
    org("import", "signals", write(tmp_path, "s.jsonl", "\n".join(map(json.dumps, rows)) + "\n"))
    engine = migrated.owner_engine()
    with engine.connect() as conn:
        ids = dict(
            conn.execute(
                select(Signal.external_id, Signal.id).where(
                    Signal.external_id.like(f"{external}-%")
                )
            ).all()
        )
    engine.dispose()
    own, foreign = ids[f"{external}-I1"], ids[f"{external}-I2"]

    cases = [
        (("review", "submit", CYCLE, "S1", "--as", "M1", "--rating", "3"), "No employee 'S1'."),
        (("review", "history", CYCLE, "S1", "--as", "M1"), "No employee 'S1'."),
        (("review", "submit", CYCLE, "I2", "--as", "I1", "--rating", "3"), "No employee 'I2'."),
        (
            ("review", "submit", CYCLE, "M1", "--as", "M1", "--rating", "3"),
            "Nobody writes their own manager review; submit a self review.",
        ),
        (
            ("review", "submit", CYCLE, "I3", "--self", "--as", "I1", "--rating", "3"),
            "No employee 'I3'.",  # an employee sees only themself
        ),
        (("review", "submit", CYCLE, "I1", "--as", "M1"), "A manager review needs a rating."),
        (
            ("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3", "--potential", "huge"),
            "Bad review: potential: Input should be 'low', 'medium' or 'high'.",
        ),
        (
            ("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3.5"),
            "Rating 3.5 is not on the cycle's scale (1, 2, 3, 4, 5).",
        ),
        (
            ("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3", "--cite", "bogus"),
            "--cite 'bogus' is not KIND:ID (signal:123, snapshot:4).",
        ),
        (
            (
                "review",
                "submit",
                CYCLE,
                "I1",
                "--as",
                "M1",
                "--rating",
                "3",
                "--cite",
                f"signal:{foreign}",
            ),
            f"Cited signal {foreign} is not evidence about this employee.",
        ),
        (
            ("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "3", "--reason", REASON),
            f"I1 has no manager review in {CYCLE!r} to amend.",
        ),
        (
            ("review", "submit", "nope", "I1", "--as", "M1", "--rating", "3"),
            "No review cycle named 'nope'",
        ),
        (("review", "submit", CYCLE, "I1", "--as", "Z9", "--rating", "3"), "Z9"),
        (
            ("review", "submit", CYCLE, "I1", "--as", "M1", "--role", "wizard", "--rating", "3"),
            "Unknown role 'wizard'.",
        ),
    ]
    for args, message in cases:
        result = org(*args, code=2)
        assert message in said(result), (args, said(result))
        assert result.stdout == "", args
        no_traceback(result)
    assert history(org, "I1") == []  # nothing was written

    cited = as_json(
        org(
            "review",
            "submit",
            CYCLE,
            "I1",
            "--as",
            "M1",
            "--rating",
            "3",
            "--cite",
            f"signal:{own}",
            "--json",
        )
    )
    [citation] = cited["citations"]
    assert (citation["kind"], citation["id"]) == ("signal", own)
    assert citation["occurred_at"].startswith("2026-03-02T10:15:00")


def test_review_list_shows_only_the_managers_reports(org) -> None:  # type: ignore[no-untyped-def]
    open_cycle(org)
    org("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "4")
    org("review", "submit", CYCLE, "I2", "--as", "M1", "--rating", "2", "--potential", "low")
    org("review", "submit", CYCLE, "I2", "--as", "M1", "--rating", "3", "--reason", REASON)
    org("review", "submit", CYCLE, "I3", "--as", "I1", "--rating", "3", "--promotion")
    org("review", "submit", CYCLE, "S1", "--as", "M2", "--rating", "5")
    org("review", "submit", CYCLE, "S2", "--rating", "1")  # by the operator
    org("review", "submit", CYCLE, "I2", "--self", "--as", "I2", "--rating", "4")

    def listed(*acting: str) -> list[tuple[str, int, float]]:
        rows = as_json(org("review", "list", CYCLE, *acting, "--json"))
        return [(r["employee_id"], r["version"], r["rating"]) for r in rows]

    assert sorted(listed("--as", "M1")) == [("I1", 1, 4), ("I2", 2, 3), ("I3", 1, 3)]
    assert sorted(listed("--as", "M2")) == [("S1", 1, 5), ("S2", 1, 1)]
    assert listed("--as", "I3", "--role", "employee") == []
    assert len(listed()) == 5  # the operator sees everyone
    assert listed("--self", "--as", "M1") == [("I2", 1, 4)]
    assert listed("--self", "--as", "M2") == []

    table = cells(org("review", "list", CYCLE, "--as", "M1"))
    assert "I3 1 3 (Meets expectations) yes I1" in table
    assert "I2 2 3 (Meets expectations) low M1" in table
    assert "S1" not in table and "S2" not in table
    [s2] = [r for r in as_json(org("review", "list", CYCLE, "--json")) if r["employee_id"] == "S2"]
    assert (s2["employee_id"], s2["author_id"], s2["origin"]) == ("S2", None, "author")


def test_review_list_as_a_manager_leaves_out_their_own_review(org) -> None:  # type: ignore[no-untyped-def]
    open_cycle(org)
    org("review", "submit", CYCLE, "I1", "--as", "M1", "--rating", "4")
    org("review", "submit", CYCLE, "I3", "--as", "I1", "--rating", "3")
    rows = as_json(org("review", "list", CYCLE, "--as", "I1", "--json"))
    assert [r["employee_id"] for r in rows] == ["I3"]


# --- peer feedback -------------------------------------------------------------------------


def test_feedback_request_inbox_answer_and_show(org) -> None:  # type: ignore[no-untyped-def]
    open_cycle(org)
    asked = as_json(
        org(
            "feedback", "request", CYCLE, "I2", "--from", "I1, I3,S1",
            "--anonymous", "--as", "M1", "--json",
        )
    )  # fmt: skip
    assert [(i["responder_id"], i["anonymous"], i["status"]) for i in asked] == [
        ("I1", True, "asked"),
        ("I3", True, "asked"),
        ("S1", True, "asked"),
    ]
    assert all(i["response"] is None and i["employee_id"] == "I2" for i in asked)
    more = org(
        "feedback", "request", CYCLE, "I2", "--from", "S2", "--relation", "other", "--as", "M1"
    )
    assert "4 colleague(s) asked for feedback on I2." in out(more)
    ids = {i["responder_id"]: i["id"] for i in as_json(
        org("feedback", "request", CYCLE, "I2", "--from", "S2", "--as", "M1", "--json")
    )}  # fmt: skip
    assert set(ids) == {"I1", "I3", "S1", "S2"}  # asking S2 again asked nobody new

    inbox = as_json(org("feedback", "inbox", "--as", "I1", "--json"))
    assert [(i["id"], i["employee_id"], i["status"]) for i in inbox] == [
        (ids["I1"], "I2", "requested")
    ]
    assert f"request {ids['S2']}: feedback on I2 (other)" in out(
        org("feedback", "inbox", "--as", "S2")
    )
    assert as_json(org("feedback", "inbox", "--as", "M2", "--json")) == []

    not_yours = org("feedback", "answer", str(ids["I1"]), "--as", "I3", "--text", "Hm.", code=2)
    assert f"No feedback request {ids['I1']} for you." in said(not_yours)
    no_traceback(not_yours)
    empty = org("feedback", "answer", str(ids["I1"]), "--as", "I1", "--text", "", code=2)
    assert "Bad answer: response: String should have at least 1 character." in said(empty)

    given = as_json(
        org("feedback", "answer", str(ids["I1"]), "--as", "I1", "--text", "Unblocks us.", "--json")
    )
    assert (given["id"], given["status"], given["response"]) == (
        ids["I1"],
        "submitted",
        "Unblocks us.",
    )
    twice = org("feedback", "answer", str(ids["I1"]), "--as", "I1", "--text", "Again.", code=2)
    assert f"Feedback request {ids['I1']} is already submitted." in said(twice)
    no_traceback(twice)
    assert as_json(org("feedback", "inbox", "--as", "I1", "--json")) == []
    answered = org("feedback", "answer", str(ids["S2"]), "--as", "S2", "--text", "Clear writer.")
    assert f"Answered feedback request {ids['S2']}." in out(answered)

    two = as_json(org("feedback", "show", CYCLE, "I2", "--as", "M1", "--json"))
    assert (two["requested"], two["submitted"], two["threshold"], two["shown"]) == (4, 2, 3, False)
    assert two["items"] == []
    text = out(org("feedback", "show", CYCLE, "I2", "--as", "M1"))
    assert "2 of the 3 answers needed before any is shown" in text
    assert "Unblocks us." not in text and "Clear writer." not in text

    org("feedback", "answer", str(ids["S1"]), "--as", "S1", "--text", "Knows the customers.")
    three = as_json(org("feedback", "show", CYCLE, "I2", "--as", "M1", "--json"))
    held = (
        "3 answer(s): shown but for 2 anonymous one(s), held back until 3 anonymous answers exist."
    )
    assert (three["submitted"], three["shown"], three["note"]) == (3, True, held)
    by_text = {i["response"]: i for i in three["items"]}
    assert set(by_text) == {"Clear writer."}  # the anonymous two wait for a third
    assert by_text["Clear writer."]["responder_id"] == "S2"
    text = out(org("feedback", "show", CYCLE, "I2", "--as", "M1"))
    assert "Unblocks us." not in text and "Knows the customers." not in text
    assert "(S2) Clear writer." in text
    assert "I1" not in text and "S1" not in text

    themself = org("feedback", "show", CYCLE, "I2", "--as", "I2", "--role", "employee", code=2)
    assert "Feedback about yourself is shared with you by your manager." in said(themself)
    other_team = org("feedback", "show", CYCLE, "I2", "--as", "M2", code=2)
    assert "No employee 'I2'." in said(other_team)
    by_employee = org(
        "feedback",
        "request",
        CYCLE,
        "I3",
        "--from",
        "I2",
        "--as",
        "I1",
        "--role",
        "employee",
        code=2,
    )
    assert "No such operation for this role." in said(by_employee)
    of_themself = org("feedback", "request", CYCLE, "I3", "--from", "I3", "--as", "M1", code=2)
    assert "Feedback on someone is not asked of themself." in said(of_themself)
    for result in (themself, other_team, by_employee, of_themself):
        no_traceback(result)

    org("cycle", "advance", CYCLE, "--to", "calibration")
    late = org("feedback", "answer", str(ids["I3"]), "--as", "I3", "--text", "Late.", code=2)
    assert "The cycle is no longer open for feedback." in said(late)


def test_the_commands_have_help_with_examples(cli) -> None:  # type: ignore[no-untyped-def]
    top = out(cli("--help"))
    for group in ("cycle", "review", "feedback"):
        assert group in top
    assert all(c in out(cli("review", "--help")) for c in ("submit", "history", "list"))
    assert all(c in out(cli("feedback", "--help")) for c in ("request", "inbox", "answer", "show"))
    assert "meritline review submit FY2026" in out(cli("review", "submit", "--help"))
    assert "meritline cycle advance FY2026 --to open" in out(cli("cycle", "advance", "--help"))


def test_answers_assessments_and_reasons_are_printed_verbatim(org) -> None:  # type: ignore[no-untyped-def]
    """Text people typed is never read as Rich markup: "[anonymous]" or "[/]" would be swallowed
    or raise a MarkupError (a traceback).
    """
    open_cycle(org)
    anonymously = ("--from", "I1,I3,S1", "--anonymous", "--as", "M1", "--json")
    asked = as_json(org("feedback", "request", CYCLE, "I2", *anonymously))
    org("feedback", "request", CYCLE, "I2", "--from", "S2", "--as", "M1")
    for item in asked:
        org("feedback", "answer", str(item["id"]), "--as", item["responder_id"], "--text", "Solid.")
    [s2] = as_json(org("feedback", "inbox", "--as", "S2", "--json"))
    org("feedback", "answer", str(s2["id"]), "--as", "S2", "--text", "Writes [/] a [bold]lot[/].")
    text = out(org("feedback", "show", CYCLE, "I2", "--as", "M1"))
    assert text.count("(anonymous) Solid.") == 3
    assert "(S2) Writes [/] a [bold]lot[/]." in text

    org(
        "review",
        "submit",
        CYCLE,
        "I2",
        "--as",
        "M1",
        "--rating",
        "3",
        "--assessment",
        "Uses [/] [red]",
    )
    reason = "Moved after [b]calibration[/b], see [/]."
    org("review", "submit", CYCLE, "I2", "--as", "M1", "--rating", "4", "--reason", reason)
    text = out(org("review", "history", CYCLE, "I2", "--as", "M1"))
    assert "Uses [/] [red]" in text and f"({reason})" in text
