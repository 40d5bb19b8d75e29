"""Shared by the CSV and JSONL formats: streaming rows with line numbers, people, times, values."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from meritline.evidence.signals import ExternalAccount, RejectedRow, SignalDraft

#: Columns that can name the person a row is about, in the order they are tried.
PERSON_COLUMNS = ("employee_id", "email", "external_account")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class RowProblem(ValueError):
    """Why one row cannot become a signal (the message is shown to the user)."""


def csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str], str]]:
    """Each data row of a CSV file as (line number, {column: value}, raw line), streamed.

    Column names are lower-cased with spaces as ``_``; the delimiter is read from the header.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header_line = handle.readline()
        delimiter = max((",", ";", "\t"), key=header_line.count)
        header = next(csv.reader([header_line], delimiter=delimiter))
        columns = [re.sub(r"\s+", "_", c.strip().lower()) for c in header]
        reader = csv.reader(handle, delimiter=delimiter)
        line = 1
        for record in reader:
            line += 1
            if not any(field.strip() for field in record):
                continue
            raw = delimiter.join(record)
            if len(record) != len(columns):
                yield (
                    line,
                    {"__error__": f"has {len(record)} fields, the header has {len(columns)}"},
                    raw,
                )
                continue
            yield line, {c: v.strip() for c, v in zip(columns, record, strict=True)}, raw


def jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Each line of a JSON Lines file as (line number, object, raw line), streamed."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, {"__error__": f"not JSON: {exc.msg} at column {exc.colno}"}, text
                continue
            if not isinstance(value, dict):
                yield number, {"__error__": "a line must be a JSON object"}, text
                continue
            yield number, value, text


def person(row: Mapping[str, Any]) -> ExternalAccount:
    """The person a row names: ``employee_id``, ``email`` or ``external_account`` (kind:value)."""
    for column in PERSON_COLUMNS:
        value = str(row.get(column) or "").strip()
        if not value:
            continue
        if column == "email":
            return ExternalAccount("email", value.lower())
        if column == "employee_id":
            return ExternalAccount("employee_id", value)
        kind, sep, account = value.partition(":")
        if not sep or not kind or not account:
            raise RowProblem(f"external_account {value!r} must be kind:value, e.g. github:octocat")
        return ExternalAccount(kind.strip().lower(), account.strip())
    raise RowProblem("names no person (employee_id, email or external_account)")


def timestamp(value: Any, column: str) -> datetime:
    """An ISO-8601 time with a time zone, or a date (taken as 00:00 UTC), as aware UTC."""
    text = str(value or "").strip()
    if not text:
        raise RowProblem(f"missing {column}")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        example = "2026-03-01T09:30:00Z"
        raise RowProblem(f"bad {column} {text!r} (expected ISO 8601, e.g. {example})") from None
    if parsed.tzinfo is None:
        raise RowProblem(f"{column} {text!r} has no time zone (add Z or +01:00)")
    return parsed.astimezone(UTC)


def number(value: Any, column: str, *, default: float | None = None) -> float:
    """A finite number; blank gives ``default`` (or is an error when there is none)."""
    if value is None or str(value).strip() == "":
        if default is None:
            raise RowProblem(f"missing {column}")
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise RowProblem(f"bad {column} {value!r} (expected a number)") from None
    if not math.isfinite(result):
        raise RowProblem(f"bad {column} {value!r} (expected a finite number)")
    return result


def name(value: Any, column: str) -> str:
    """A lower-case identifier such as a source or signal type."""
    text = str(value or "").strip().lower()
    if not NAME_PATTERN.match(text):
        raise RowProblem(f"bad {column} {value!r} (lower-case letters, digits and _)")
    return text


def required(row: Mapping[str, Any], column: str) -> str:
    """A non-blank text value."""
    text = str(row.get(column) or "").strip()
    if not text:
        raise RowProblem(f"missing {column}")
    return text


def header_columns(first_line: str) -> set[str]:
    """The normalised column names of a CSV header line (for format inference)."""
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return {re.sub(r"\s+", "_", c.strip().lower()) for c in first_line.split(delimiter)}


def records(
    rows: Iterable[tuple[int, dict[str, Any], str]],
    convert: Callable[[dict[str, Any]], Iterable[SignalDraft]],
) -> Iterator[SignalDraft | RejectedRow]:
    """Turn rows into signals with ``convert``; a row it refuses becomes a ``RejectedRow``.

    A row yields all its signals or none (a ``RowProblem`` part-way rejects the whole row).
    """
    for line, row, raw in rows:
        if "__error__" in row:
            yield RejectedRow(line, str(row["__error__"]), raw)
            continue
        try:
            drafts = list(convert(row))
        except RowProblem as problem:
            yield RejectedRow(line, str(problem), raw)
            continue
        yield from drafts
