"""Migration 0006 (reviews): existing cycles get the default template; ``shared`` exists.

On a fresh database per backend (see ``test_migration_0003``), migrated step by step.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from meritline.reviews.schemas import CycleTemplate
from tests.db.test_migration_0003 import FreshDatabase, fresh, tenant  # noqa: F401

cycle = sa.table(
    "review_cycle",
    sa.column("id", sa.BigInteger),
    sa.column("tenant_id", sa.BigInteger),
    sa.column("name", sa.String),
    sa.column("period_start", sa.Date),
    sa.column("period_end", sa.Date),
    sa.column("status", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def test_cycles_made_before_templates_get_the_default_one(fresh: FreshDatabase) -> None:  # noqa: F811
    fresh.migrate("0005")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with fresh.engine.begin() as conn:
        tenant_id = conn.execute(
            sa.insert(tenant).values(slug="t", name="T", created_at=now).returning(tenant.c.id)
        ).scalar_one()
        conn.execute(
            sa.insert(cycle).values(
                tenant_id=tenant_id,
                name="FY2025",
                period_start=date(2025, 1, 1),
                period_end=date(2025, 12, 31),
                status="finalized",
                created_at=now,
            )
        )
    fresh.migrate("0006")
    with fresh.engine.begin() as conn:
        stored = conn.execute(text("SELECT template, status FROM review_cycle")).one()
        # a raw query hands JSON back as text on SQLite, parsed on PostgreSQL
        raw = stored.template
        template = json.loads(raw) if isinstance(raw, str) else raw
        assert CycleTemplate.model_validate(template) == CycleTemplate()
        conn.execute(text("UPDATE review_cycle SET status = 'shared'"))
    fresh.migrate("0005", down=True)
    with fresh.engine.begin() as conn:
        # a shared cycle goes back to the last status 0005 knows; nothing is deleted
        assert conn.execute(text("SELECT status FROM review_cycle")).scalar_one() == "finalized"
        with pytest.raises(DBAPIError):
            conn.execute(text("UPDATE review_cycle SET status = 'shared'"))
