"""Signals in columns: the one shape every ingestion path hands to identity resolution and storage.

A *signal frame* holds one row per signal draft (see :data:`SIGNAL_SCHEMA`); ``line`` is the line
of the import file it came from (null for webhooks). Account values are normalised here, once:
kinds whose tools compare case-insensitively are lower-cased.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import polars as pl

from meritline.evidence.signals import SignalDraft

SIGNAL_SCHEMA: dict[str, Any] = {
    "source": pl.String,
    "type": pl.String,
    "account_kind": pl.String,
    "account_value": pl.String,
    "account_email": pl.String,
    "occurred_at": pl.Datetime("us", "UTC"),
    "value": pl.Float64,
    "external_id": pl.String,
    "attributes": pl.String,
    "line": pl.Int64,
}
#: Account kinds whose values are matched case-insensitively.
CASE_INSENSITIVE_KINDS = ("email", "github", "calendar", "slack", "teams")
#: Largest ``attributes`` object kept with a signal, as JSON text.
MAX_ATTRIBUTES_CHARS = 4000


def normalise_accounts(frame: pl.DataFrame) -> pl.DataFrame:
    """Trim account values, lower-case the case-insensitive kinds, and e-mail hints."""
    value = pl.col("account_value").str.strip_chars()
    return frame.with_columns(
        pl.col("account_kind").str.strip_chars().str.to_lowercase(),
        pl.when(pl.col("account_kind").is_in(CASE_INSENSITIVE_KINDS))
        .then(value.str.to_lowercase())
        .otherwise(value)
        .alias("account_value"),
        pl.col("account_email").str.strip_chars().str.to_lowercase(),
    )


def empty_frame() -> pl.DataFrame:
    """A signal frame with no rows."""
    return pl.DataFrame(schema=SIGNAL_SCHEMA)


def from_drafts(drafts: Iterable[SignalDraft], lines: Iterable[int | None] = ()) -> pl.DataFrame:
    """A signal frame from drafts (connectors' output), with their file lines when known."""
    rows = list(drafts)
    line_list = list(lines) or [None] * len(rows)
    columns: dict[str, list[Any]] = {
        "source": [d.source for d in rows],
        "type": [d.type for d in rows],
        "account_kind": [d.account.kind for d in rows],
        "account_value": [d.account.value for d in rows],
        "account_email": [d.account.email for d in rows],
        "occurred_at": [d.occurred_at.astimezone(UTC) for d in rows],
        "value": [float(d.value) for d in rows],
        "external_id": [d.external_id for d in rows],
        "attributes": [attributes_json(d.attributes) for d in rows],
        "line": line_list,
    }
    return normalise_accounts(pl.DataFrame(columns, schema=SIGNAL_SCHEMA))


def attributes_json(attributes: dict[str, Any] | None) -> str | None:
    """Attributes as compact JSON text (null when empty)."""
    if not attributes:
        return None
    return json.dumps(attributes, separators=(",", ":"), sort_keys=True, default=str)


def utc(value: datetime) -> datetime:
    """An aware datetime in UTC (polars hands back aware values for UTC columns)."""
    return value.astimezone(UTC)
