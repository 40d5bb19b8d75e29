"""Writeback destinations, outbox events and deliveries as the CLI and API speak them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Topic = Literal["rating.finalized", "nine_box.positioned", "promotion.decided"]


class DestinationCreate(BaseModel):
    """A new destination: a signed webhook, or a CSV file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["webhook", "csv"]
    #: The webhook's http(s) URL, or the CSV file's path.
    target: str = Field(min_length=1, max_length=1000)
    secret: str | None = Field(default=None, min_length=16, max_length=500)
    topics: list[Topic] = Field(default_factory=list)


class Destination(BaseModel):
    """A destination as read (never its secret)."""

    id: int
    name: str
    type: str
    target: str
    topics: list[str]
    active: bool
    created_at: datetime


class Outcome(BaseModel):
    """One outcome to enqueue."""

    topic: Topic
    idempotency_key: str
    payload: dict[str, Any]


class DeliveryReport(BaseModel):
    """What one ``outbox deliver`` did."""

    delivered: int
    retrying: int
    dead: int
    waiting: int
    errors: list[str]


class OutboxStatus(BaseModel):
    """Events and deliveries by state."""

    events: int
    deliveries: dict[str, int]
    next_attempt_at: datetime | None
    dead: list[str]
