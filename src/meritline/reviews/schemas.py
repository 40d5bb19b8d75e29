"""Review-cycle schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReviewCycleCreate(BaseModel):
    """A new review cycle."""

    name: str = Field(min_length=1, max_length=200)
    period_start: date
    period_end: date

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class ReviewCycle(BaseModel):
    """A review cycle."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    period_start: date
    period_end: date
    status: str
    created_at: datetime
