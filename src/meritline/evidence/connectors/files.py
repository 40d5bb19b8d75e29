"""The one small interface every file-import source implements, and format inference."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import ClassVar

import polars as pl

from meritline.evidence.frames import from_drafts
from meritline.evidence.signals import RejectedRow, SignalDraft

#: What reading an import file yields, line by line (streamed: files may be large).
FileRecord = SignalDraft | RejectedRow
#: Records per batch handed to storage: bounds memory whatever the file size.
BATCH_SIZE = 50_000


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


def first_line(path: Path) -> str:
    """The first line of a text file (for format inference), without its newline."""
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return handle.readline().rstrip("\r\n")
