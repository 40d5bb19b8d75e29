"""A CSV file for HRIS and compensation systems that import files.

The file holds every outcome ever delivered to this destination, one row each, oldest first,
and is rewritten whole (written beside it, then renamed over it) on each delivery, so a reader
never sees half a file and a delivery repeated after a crash writes the same file again. The
shape (UTF-8, comma-separated, a header line):

``idempotency_key,topic,cycle,employee_id,rating,rating_label,potential,nine_box,nine_box_label,
promotion,decided_at``

A row fills the columns its topic has (``rating.finalized``: rating, label and potential;
``nine_box.positioned``: box and label; ``promotion.decided``: ``approved`` or ``rejected``)
and leaves the others empty. ``idempotency_key`` is unique: an importer can upsert on it.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from meritline.errors import InvalidInput
from meritline.writeback.destinations.base import Destination, Envelope, PermanentFailure

COLUMNS = (
    "idempotency_key",
    "topic",
    "cycle",
    "employee_id",
    "rating",
    "rating_label",
    "potential",
    "nine_box",
    "nine_box_label",
    "promotion",
    "decided_at",
)


def _cell(value: object) -> object:
    """A value as an importer expects it: 3, not 3.0; nothing for a missing value."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def rows_of(envelopes: Sequence[Envelope]) -> str:
    """The file's text for these envelopes."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    seen: set[str] = set()
    for e in envelopes:
        if e.key in seen:
            continue
        seen.add(e.key)
        d = e.data
        row = {
            "idempotency_key": e.key,
            "topic": e.topic,
            "cycle": d.get("cycle", ""),
            "employee_id": d.get("employee_id", ""),
            "rating": d.get("rating", ""),
            "rating_label": d.get("rating_label", ""),
            "potential": d.get("potential", ""),
            "nine_box": d.get("box", ""),
            "nine_box_label": d.get("label", ""),
            "promotion": d.get("decision", ""),
            "decided_at": d.get("decided_at", e.created_at),
        }
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _rows_in(path: Path) -> list[Envelope]:
    """The outcomes the file already holds, as envelopes (so a rewrite keeps them)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    renamed = {"nine_box": "box", "nine_box_label": "label", "promotion": "decision"}
    return [
        Envelope(
            key=r["idempotency_key"],
            topic=r["topic"],
            created_at=r["decided_at"],
            data={renamed.get(k, k): v for k, v in r.items() if v not in ("", None)},
        )
        for r in rows
        if r.get("idempotency_key")
    ]


class CsvFileDestination(Destination):
    """Rewrite the destination's CSV file with every outcome delivered to it."""

    type = "csv"

    @classmethod
    def check(cls, target: str, secret: str | None) -> None:
        folder = Path(target).expanduser().resolve().parent
        if not folder.is_dir():
            raise InvalidInput(f"No folder {str(folder)!r} for the CSV file; create it first.")

    def deliver(self, envelopes: Sequence[Envelope]) -> tuple[list[str], dict[str, Exception]]:
        path = Path(self.target).expanduser()
        try:
            # one writer at a time, and what another deliverer wrote (perhaps not yet recorded
            # as delivered) is kept: the rows already in the file, then ours by key
            with open(path.with_name(f".{path.name}.lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                text = rows_of([*_rows_in(path), *self.history, *envelopes])
                handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
                with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                    out.write(text)
                os.replace(temporary, path)
        except OSError as exc:
            error = PermanentFailure(f"cannot write {path}: {exc.strerror or exc}")
            return [], {e.key: error for e in envelopes}
        return [e.key for e in envelopes], {}
