"""The one clock: timezone-aware UTC, and the UTC calendar date for "as of today" rules."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def utctoday() -> date:
    """Return today's date in UTC: the one calendar every "as of today" rule uses."""
    return utcnow().date()
