"""The one small interface every file-import source implements, and format inference."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from meritline.evidence.connectors.tabular import csv_rows, header_columns, records
from meritline.evidence.frames import from_drafts
from meritline.evidence.signals import RejectedRow, SignalDraft

#: What reading an import file yields, line by line (streamed: files may be large).
FileRecord = SignalDraft | RejectedRow
#: Records per batch handed to storage: bounds memory whatever the file size.
BATCH_SIZE = 20_000


@dataclass
class FileBatch:
    """A slice of an import file: its signals as a frame, and the lines it rejected."""

    signals: pl.DataFrame
    rejected: list[RejectedRow] = field(default_factory=list)


class FileConnector(ABC):
    """A source without webhooks: a documented file format turned into signals.

    ``recognises`` lets ``meritline import signals FILE`` infer the format from the file name
    and its first line; ``read`` streams records and never loads the whole file.
    """

    type: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    @classmethod
    @abstractmethod
    def recognises(cls, path: Path, first_line: str) -> bool:
        """Whether this file looks like this connector's format."""

    @abstractmethod
    def read(self, path: Path) -> Iterator[FileRecord]:
        """Signals, and rejected lines with their number and reason, in file order."""

    def batches(self, path: Path, *, size: int = BATCH_SIZE) -> Iterator[FileBatch]:
        """The file in batches of about ``size`` records (formats with a columnar reader
        override this; the result is the same).
        """
        records = self.read(path)
        while chunk := list(islice(records, size)):
            drafts = [r for r in chunk if isinstance(r, SignalDraft)]
            rejected = [r for r in chunk if isinstance(r, RejectedRow)]
            yield FileBatch(from_drafts(drafts), rejected)


class CsvFileConnector(FileConnector):
    """A CSV export, recognised by the columns its header must have; ``convert`` turns one row
    (columns lower-cased, spaces as ``_``) into its signals, or raises ``RowProblem``.
    """

    suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    required_columns: ClassVar[frozenset[str]]

    @staticmethod
    @abstractmethod
    def convert(row: dict[str, Any]) -> list[SignalDraft]:
        """The signals of one row."""

    @classmethod
    def recognises(cls, path: Path, first_line: str) -> bool:
        """A CSV file whose header has the required columns."""
        columns = header_columns(first_line)
        return path.suffix.lower() in cls.suffixes and cls.required_columns <= columns

    def read(self, path: Path) -> Iterator[FileRecord]:
        """Stream the rows' signals, and rejected rows with their line and reason."""
        return records(csv_rows(path), self.convert)


def first_line(path: Path) -> str:
    """The first line of a text file (for format inference), without its newline."""
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return handle.readline().rstrip("\r\n")
