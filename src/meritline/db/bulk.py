"""Set-based writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, insert


def bulk_insert(model: type[Any]) -> Insert:
    """An INSERT for many rows at once.

    ``render_nulls`` keeps ``None`` values in the statement, so rows that differ only in which
    columns are empty still share one multi-row INSERT instead of splitting into many.
    """
    return insert(model).execution_options(render_nulls=True)
