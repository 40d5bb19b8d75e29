"""Access schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TokenCreated(BaseModel):
    """A new token; the secret is shown once and never stored."""

    id: int
    token: str
    employee_id: str
    role: str
    org_units: list[str]
    expires_at: datetime | None


class TokenRead(BaseModel):
    """A token as listed (never the secret)."""

    id: int
    employee_id: str
    role: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
