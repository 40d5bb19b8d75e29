"""Parsing and validating an HRIS export, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from meritline.errors import InvalidInput
from meritline.people.hris_file import parse_people_csv, read_people_file

GOOD = """employee_id,name,email,manager_id,Department,Hire Date,gender,favourite_colour
E1,Ada,ADA@example.com,,Eng / Platform,2020-01-02,Female,blue
E2,Bo,bo@example.com,E1,Eng,2021-03-04,,green
"""


def reasons(text: str) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in parse_people_csv(text).errors]


def test_a_good_file_parses_with_normalised_columns_and_values() -> None:
    parsed = parse_people_csv(GOOD)
    assert parsed.errors == []
    assert parsed.unknown_columns == ["favourite_colour"]
    assert parsed.sensitive_columns == ["gender"]
    ada, bo = parsed.rows
    assert (ada.email, ada.department, ada.hire_date.isoformat()) == (
        "ada@example.com",
        "Eng/Platform",
        "2020-01-02",
    )
    assert ada.sensitive == {"gender": "Female"} and bo.sensitive == {"gender": None}
    assert bo.manager_id == "E1"


def test_only_the_first_three_columns_are_required() -> None:
    parsed = parse_people_csv("employee_id,name,email\nE1,Ada,ada@example.com\n")
    assert parsed.errors == [] and len(parsed.rows) == 1
    assert reasons("employee_id,name\nE1,Ada\n") == [(1, "missing required column(s): email")]


def test_every_bad_row_is_reported_with_its_line_number() -> None:
    text = (
        "employee_id,name,email,manager_id,hire_date,termination_date,birth_year\n"
        "E1,Ada,ada@example.com,,2020-01-01,,1980\n"  # line 2: fine
        ",NoId,noid@example.com,,,,\n"  # 3
        "E3,,e3@example.com,,,,\n"  # 4
        "E4,Dee,not-an-email,,,,\n"  # 5
        "E5,Eve,eve@example.com,,2020-13-01,,\n"  # 6
        "E6,Fay,fay@example.com,,2021-01-01,2020-01-01,\n"  # 7
        "E1,Dup,dup@example.com,,,,\n"  # 8
        "E8,Gus,ada@example.com,,,,\n"  # 9
        "E9,Hal,hal@example.com,E9,,,\n"  # 10
        "E10,Ivy,ivy@example.com,,,,18\n"  # 11
        "E11,Jo,jo@example.com,,\n"  # 12
    )
    assert reasons(text) == [
        (3, "missing employee_id"),
        (4, "missing name"),
        (5, "bad e-mail 'not-an-email'"),
        (6, "bad hire_date '2020-13-01' (expected YYYY-MM-DD)"),
        (7, "termination_date is before hire_date"),
        (8, "duplicate employee_id (first on line 2)"),
        (9, "e-mail ada@example.com is also E1's (line 2)"),
        (10, "is their own manager (a cycle in the manager chain)"),
        (11, "bad birth_year '18' (expected a year such as 1985)"),
        (12, "has 5 fields, the header has 7"),
    ]


def test_empty_files_and_missing_files_are_errors(tmp_path: Path) -> None:
    assert reasons("") == [(1, "the file is empty; expected a header line")]
    assert reasons("employee_id,name,email\n") == [(1, "the file has no data rows")]
    with pytest.raises(InvalidInput, match="No such file"):
        read_people_file(tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="is a folder"):
        read_people_file(tmp_path)


def test_non_utf8_files_are_rejected_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("employee_id,name,email\nE1,Jos\xe9,j@example.com\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="export it as UTF-8"):
        read_people_file(path)


def test_a_utf8_bom_and_quoted_fields_are_fine() -> None:
    text = '\ufeffemployee_id,name,email,department\nE1,"Doe, Jane",j@example.com,"R&D/Lab"\n'
    parsed = parse_people_csv(text)
    assert parsed.errors == []
    assert parsed.rows[0].name == "Doe, Jane"


def test_semicolon_and_tab_separated_exports_are_read() -> None:
    for sep in (";", "\t"):
        text = (
            sep.join(["employee_id", "name", "email"])
            + "\n"
            + sep.join(["E1", "Ada, Countess", "ada@example.com"])
            + "\n"
        )
        parsed = parse_people_csv(text)
        assert parsed.errors == [] and parsed.rows[0].name == "Ada, Countess"


def test_header_problems_are_named() -> None:
    assert reasons("employee_id,name,email,gender,sensitive_gender\n") == [
        (1, "repeated column(s): gender (as gender and sensitive_gender)")
    ]
    parsed = parse_people_csv("employee_id,name,email,,sensitive_\nE1,A,a@example.com,x,y\n")
    assert parsed.unknown_columns == ["(column 4)", "sensitive_"] and parsed.errors == []


def test_values_too_long_for_storage_or_with_nul_are_refused() -> None:
    text = (
        "employee_id,name,email,job_family,ethnicity,hire_date,birth_year\n"
        f"E1,A,a@example.com,{'x' * 101},,,\n"
        f"E2,B,b@example.com,,{'y' * 201},,\n"
        "E3,C\x00,c@example.com,,,,\n"
        "E4,D,d@example.com,,,20240101,\n"
        "E5,E,e@example.com,,,,\u0661\u0669\u0668\u0665\n"
    )
    assert [r for _, r in reasons(text)] == [
        "job_family longer than 100 characters",
        "ethnicity longer than 200 characters",
        "contains a NUL character",
        "bad hire_date '20240101' (expected YYYY-MM-DD)",
        "bad birth_year '\u0661\u0669\u0668\u0665' (expected a year such as 1985)",
    ]
