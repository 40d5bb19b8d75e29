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
from pathlib import Path
from typing import Any

from meritline.evidence.connectors.files import FileConnector, FileRecord
from meritline.evidence.connectors.tabular import (
    RowProblem,
    csv_rows,
    header_columns,
    jsonl_rows,
    name,
    number,
    person,
    records,
    required,
    timestamp,
)
from meritline.evidence.signals import SignalDraft

COLUMNS = {"source", "type", "occurred_at", "external_id"}


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


class GenericCsvConnector(FileConnector):
    """Generic signals as CSV."""

    type = "signals_csv"
    description = "generic signals, CSV: source,type,employee_id|email|external_account,..."
    suffixes = (".csv",)

    @classmethod
    def recognises(cls, path: Path, first_line: str) -> bool:
        """A CSV header with the generic columns."""
        return path.suffix.lower() in cls.suffixes and header_columns(first_line) >= COLUMNS

    def read(self, path: Path) -> Iterator[FileRecord]:
        """Stream the file's signals and rejected rows."""
        return records(csv_rows(path), lambda row: [to_signal(row)])


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
        return records(jsonl_rows(path), lambda row: [to_signal(row)])
