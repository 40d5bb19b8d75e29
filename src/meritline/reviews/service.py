"""Review-cycle use cases."""

from __future__ import annotations

from sqlalchemy.orm import Session

from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.errors import Conflict
from meritline.models import ReviewCycle as ReviewCycleRow
from meritline.reviews import queries
from meritline.reviews.schemas import ReviewCycle, ReviewCycleCreate

CYCLE_MANAGERS = frozenset({"admin", "hrbp"})


def create_cycle(session: Session, subject: Subject, data: ReviewCycleCreate) -> ReviewCycle:
    """Create a review cycle in ``draft``."""
    require_role(subject, *CYCLE_MANAGERS)
    if queries.by_name(session, data.name) is not None:
        raise Conflict(f"A review cycle named {data.name!r} already exists.")
    cycle = queries.add(
        session,
        ReviewCycleRow(
            tenant_id=subject.tenant_id,
            name=data.name,
            period_start=data.period_start,
            period_end=data.period_end,
            status="draft",
        ),
    )
    audit.record(
        session,
        subject,
        AuditRecord("review_cycle.create", "review_cycle", cycle.id, data.model_dump()),
    )
    return ReviewCycle.model_validate(cycle)


def list_cycles(session: Session, subject: Subject) -> list[ReviewCycle]:
    """Every review cycle of the tenant (cycles are not personal data)."""
    return [ReviewCycle.model_validate(c) for c in queries.all_cycles(session)]
