"""The generic signals format, for any tool: CSV or JSON Lines with one signal per row.

Columns (CSV header, or JSON keys): ``source``, ``type``, the person as one of ``employee_id``,
``email`` or ``external_account`` (``kind:value``, e.g. ``github:octocat``), ``occurred_at``
(ISO 8601 with a time zone, or a date taken as 00:00 UTC), ``value`` (a number, default 1),
``external_id`` (unique per source: re-importing a row stores nothing new) and ``attributes``
(a JSON object; optional)::

    source,type,email,occurred_at,value,external_id,attributes
    zendesk,ticket_solved,ana@acme.example,2026-03-02T10:15:00Z,1,zd-9981,"{""tier"": 2}"
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl

from meritline.evidence.connectors.files import (
    BATCH_SIZE,
    CsvFileConnector,
    FileBatch,
    FileConnector,
    FileRecord,
)
from meritline.evidence.connectors.tabular import (
    PERSON_COLUMNS,
    RowProblem,
    jsonl_rows,
    name,
    number,
    person,
    records,
    required,
    timestamp,
)
from meritline.evidence.frames import (
    MAX_ATTRIBUTES_CHARS,
    SIGNAL_SCHEMA,
    attributes_json,
    empty_frame,
    from_drafts,
    normalise_accounts,
)
from meritline.evidence.signals import RejectedRow, SignalDraft

COLUMNS = {"source", "type", "occurred_at", "external_id"}
KEYS = ("source", "type", *PERSON_COLUMNS, "occurred_at", "value", "external_id", "attributes")


def to_signal(row: Mapping[str, Any]) -> SignalDraft:
    """One generic row as a signal draft; ``RowProblem`` says what is wrong."""
    attributes = row.get("attributes") or {}
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except json.JSONDecodeError:
            raise RowProblem("attributes is not valid JSON") from None
    if not isinstance(attributes, dict):
        raise RowProblem("attributes must be a JSON object")
    return SignalDraft(
        source=name(row.get("source"), "source"),
        type=name(row.get("type"), "type"),
        account=person(row),
        occurred_at=timestamp(row.get("occurred_at"), "occurred_at"),
        external_id=required(row, "external_id"),
        value=number(row.get("value"), "value", default=1.0),
        attributes=attributes,
    )


def _checked(row: Mapping[str, Any]) -> SignalDraft:
    """``to_signal`` with the limits storage has (attribute size, external id length)."""
    draft = to_signal(row)
    if len(draft.external_id) > 200:
        raise RowProblem("external_id is longer than 200 characters")
    if len(attributes_json(draft.attributes) or "") > MAX_ATTRIBUTES_CHARS:
        raise RowProblem(f"attributes are larger than {MAX_ATTRIBUTES_CHARS} characters of JSON")
    return draft


class GenericCsvConnector(CsvFileConnector):
    """Generic signals as CSV."""

    type = "signals_csv"
    description = "generic signals, CSV: source,type,employee_id|email|external_account,..."
    required_columns = frozenset(COLUMNS)

    @staticmethod
    def convert(row: dict[str, Any]) -> list[SignalDraft]:
        """One row as its signal, within the sizes storage accepts."""
        return [_checked(row)]


class GenericJsonlConnector(FileConnector):
    """Generic signals as JSON Lines."""

    type = "signals_jsonl"
    description = "generic signals, JSON Lines: one object per line with the same keys"
    suffixes = (".jsonl", ".ndjson")

    @classmethod
    def recognises(cls, path: Path, first_line: str) -> bool:
        """A ``.jsonl`` file, or a first line that is a JSON object with the generic keys."""
        if path.suffix.lower() in cls.suffixes:
            return True
        try:
            first = json.loads(first_line)
        except json.JSONDecodeError:
            return False
        return isinstance(first, dict) and set(first) >= COLUMNS

    def read(self, path: Path) -> Iterator[FileRecord]:
        """Stream the file's signals and rejected lines."""
        return records(jsonl_rows(path), lambda row: [_checked(row)])

    def batches(self, path: Path, *, size: int = BATCH_SIZE) -> Iterator[FileBatch]:
        """Columnar reading: each slice of lines is parsed and validated as columns; only the
        lines the fast checks cannot accept go through the row-by-row rules (same result).
        """
        with path.open("rb") as handle:
            first = 1
            while lines := list(islice(handle, size)):
                yield _columnar_batch(lines, first)
                first += len(lines)


_NAME = r"^[a-z][a-z0-9_]{0,63}$"
_TIME = "%Y-%m-%dT%H:%M:%S%.f%:z"


def _columnar_batch(lines: list[bytes], first_line: int) -> FileBatch:
    """Validate a slice of JSON Lines in columns; hand doubtful lines to :func:`_slow_rows`."""
    numbered = [(first_line + i, raw) for i, raw in enumerate(lines) if raw.strip()]
    if first_line == 1 and numbered:
        numbered[0] = (numbered[0][0], numbered[0][1].removeprefix(b"\xef\xbb\xbf"))
    if not numbered:
        return FileBatch(empty_frame())
    try:
        raw = pl.read_ndjson(
            b"".join(r if r.endswith(b"\n") else r + b"\n" for _, r in numbered),
            schema=dict.fromkeys(KEYS, pl.String),
        )
    except (pl.exceptions.PolarsError, ValueError):  # a line it cannot read: go line by line
        return _slow_rows(numbered)
    if raw.height != len(numbered):
        return _slow_rows(numbered)
    # attributes given as a JSON string (not an object) must be parsed: leave them to the rules
    text_attributes = pl.Series([r for _, r in numbered], dtype=pl.Binary).cast(pl.String)
    raw = raw.with_columns(
        pl.Series("line", [n for n, _ in numbered]),
        text_attributes.str.contains(r'"attributes"\s*:\s*"').alias("attributes_is_text"),
    )
    frame = _fast_columns(raw)
    good = frame.filter(pl.col("ok"))
    doubtful = frame.filter(~pl.col("ok"))["line"].to_list()
    batch = FileBatch(normalise_accounts(good.select(SIGNAL_SCHEMA.keys())))
    if doubtful:
        by_line = dict(numbered)
        slow = _slow_rows([(n, by_line[n]) for n in doubtful])
        batch.signals = pl.concat([batch.signals, slow.signals])
        batch.rejected = slow.rejected
    return batch


def _fast_columns(raw: pl.DataFrame) -> pl.DataFrame:
    """The signal columns, and ``ok``: whether every fast check passed for the row."""
    text = {c: pl.col(c).str.strip_chars() for c in KEYS}
    blank = {c: text[c].is_null() | (text[c] == "") for c in KEYS}
    external = text["external_account"].str.split_exact(":", 1)
    kind = (
        pl.when(~blank["employee_id"])
        .then(pl.lit("employee_id"))
        .when(~blank["email"])
        .then(pl.lit("email"))
        .otherwise(external.struct.field("field_0").str.strip_chars().str.to_lowercase())
    )
    account = (
        pl.when(~blank["employee_id"])
        .then(text["employee_id"])
        .when(~blank["email"])
        .then(text["email"])
        .otherwise(external.struct.field("field_1").str.strip_chars())
    )
    occurred = text["occurred_at"].str.replace(r"Z$", "+00:00")
    value = (
        pl.when(blank["value"])
        .then(pl.lit(1.0))
        .otherwise(text["value"].cast(pl.Float64, strict=False))
    )
    attributes = pl.when(blank["attributes"]).then(None).otherwise(text["attributes"])
    frame = raw.select(
        text["source"].str.to_lowercase().alias("source"),
        text["type"].str.to_lowercase().alias("type"),
        kind.alias("account_kind"),
        account.alias("account_value"),
        pl.lit(None, pl.String).alias("account_email"),
        occurred.str.to_datetime(_TIME, time_zone="UTC", strict=False).alias("occurred_at"),
        value.alias("value"),
        text["external_id"].alias("external_id"),
        attributes.alias("attributes"),
        pl.col("line").cast(pl.Int64),
    )
    ok = (
        frame["source"].str.contains(_NAME).fill_null(False)
        & frame["type"].str.contains(_NAME).fill_null(False)
        & (frame["account_kind"].str.len_chars() > 0).fill_null(False)
        & (frame["account_value"].str.len_chars().is_between(1, 320)).fill_null(False)
        & frame["occurred_at"].is_not_null()
        & frame["value"].is_finite().fill_null(False)
        & frame["external_id"].str.len_chars().is_between(1, 200).fill_null(False)
        & _attributes_ok(frame["attributes"])
        & ~raw["attributes_is_text"]
    )
    return frame.with_columns(ok.alias("ok"))


def _attributes_ok(column: pl.Series) -> pl.Series:
    """Absent, or an object polars re-serialised from the line (so valid JSON) that is small."""
    return column.is_null() | (
        column.str.starts_with("{") & (column.str.len_chars() <= MAX_ATTRIBUTES_CHARS)
    )


def _slow_rows(numbered: list[tuple[int, bytes]]) -> FileBatch:
    """The row-by-row rules, for lines the columnar path could not decide."""
    drafts: list[SignalDraft] = []
    lines: list[int] = []
    rejected: list[RejectedRow] = []
    for line, raw in numbered:
        text = raw.decode("utf-8", errors="replace").strip()
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            rejected.append(RejectedRow(line, f"not JSON: {exc.msg} at column {exc.colno}", text))
            continue
        if not isinstance(row, dict):
            rejected.append(RejectedRow(line, "a line must be a JSON object", text))
            continue
        try:
            drafts.append(_checked(row))
            lines.append(line)
        except RowProblem as problem:
            rejected.append(RejectedRow(line, str(problem), text))
    return FileBatch(from_drafts(drafts, lines), rejected)
