"""Audit schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class AuditRecord:
    """One event to record: what happened to which entity, with an optional payload."""

    action: str
    entity_type: str
    entity_id: str | int | None = None
    payload: dict[str, Any] | None = field(default=None)


class AuditEventRead(BaseModel):
    """An audit event as shown to users."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    hash: str


class VerifyResult(BaseModel):
    """The outcome of ``meritline audit verify``."""

    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str | None = None
