"""Work that spans domains at a cycle's turning points.

Finalising a cycle (``advance_cycle(..., to_status="finalized")``), in one transaction:

1. refuses while a calibration session of the cycle is still open;
2. places every employee with a final manager review on the 9-box (calibrated rating x
   potential), kept beside their earlier cycles' positions;
3. puts the outcomes in the outbox: each final rating, each 9-box position, and each promotion
   proposal's decision from the approval queue, with idempotency keys
   (``<topic>:<cycle id>:<employee id>``). The outcomes commit with the decision or not at all;
   ``meritline outbox deliver`` sends them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.calibration import queries as calibration_queries
from meritline.clock import utcnow
from meritline.errors import Conflict
from meritline.models import NineBoxPosition
from meritline.models import ReviewCycle as ReviewCycleRow
from meritline.people import queries as people_queries
from meritline.reviews import nine_box, queries, service
from meritline.reviews.schemas import NineBoxItem, ReviewCycle
from meritline.writeback import service as writeback
from meritline.writeback.schemas import Outcome


def advance_cycle(session: Session, subject: Subject, *, name: str, to_status: str) -> ReviewCycle:
    """Move a cycle on; finalising it also places the 9-box and queues the outcomes."""
    if to_status == "finalized":
        # the cycle's row lock first: no session can be created while it is checked and moved
        locked = service.locked_cycle(session, name)
        open_sessions = [
            s.name
            for s in calibration_queries.sessions_of(session, locked.id)
            if s.status == "open"
        ]
        if open_sessions:
            raise Conflict(
                f"Calibration session(s) {', '.join(map(repr, open_sessions))} are still "
                "open; lock them before finalising."
            )
    cycle = service.transition_cycle(session, subject, name=name, to_status=to_status)
    if to_status == "finalized":
        _finalize(session, subject, service.cycle_row(session, name))
    return cycle


def _finalize(session: Session, subject: Subject, cycle: ReviewCycleRow) -> None:
    template = service.template_of(cycle)
    finals = queries.latest_reviews(session, cycle.id, kind="manager")
    numbers = people_queries.employee_numbers(session, {r.employee_id for r in finals})
    now = utcnow()
    stamp = now.isoformat().replace("+00:00", "Z")
    outcomes: list[Outcome] = []
    positions = []
    for review in finals:
        if review.rating is None:
            continue
        number = numbers[review.employee_id]
        outcomes.append(
            Outcome(
                topic="rating.finalized",
                idempotency_key=f"rating.finalized:{cycle.id}:{number}",
                payload={
                    "cycle": cycle.name,
                    "employee_id": number,
                    "rating": review.rating,
                    "rating_label": template.label(review.rating),
                    "potential": review.potential,
                    "review_version": review.version,
                    "calibrated": review.origin == "calibration",
                    "decided_at": stamp,
                },
            )
        )
        if review.potential is None:
            continue
        band, box, label = nine_box.place(review.rating, review.potential, template.values)
        positions.append(
            NineBoxPosition(
                tenant_id=subject.tenant_id,
                cycle_id=cycle.id,
                employee_id=review.employee_id,
                rating=review.rating,
                performance=band,
                potential=review.potential,
                box=box,
                label=label,
                placed_at=now,
            )
        )
        outcomes.append(
            Outcome(
                topic="nine_box.positioned",
                idempotency_key=f"nine_box.positioned:{cycle.id}:{number}",
                payload={
                    "cycle": cycle.name,
                    "employee_id": number,
                    "performance": band,
                    "potential": review.potential,
                    "box": box,
                    "label": label,
                    "decided_at": stamp,
                },
            )
        )
    session.add_all(positions)
    session.flush()
    for s in calibration_queries.sessions_of(session, cycle.id):
        for item in calibration_queries.approval_items(session, session_id=s.id):
            if item.rule != "promotion_proposed" or item.status not in ("approved", "rejected"):
                continue
            number = people_queries.employee_numbers(session, [item.employee_id])[item.employee_id]
            outcomes.append(
                Outcome(
                    topic="promotion.decided",
                    idempotency_key=f"promotion.decided:{cycle.id}:{number}",
                    payload={
                        "cycle": cycle.name,
                        "employee_id": number,
                        "decision": item.status,
                        "approver_role": item.approver_role,
                        "decided_at": (item.decided_at or now).isoformat().replace("+00:00", "Z"),
                    },
                )
            )
    writeback.enqueue(session, subject, outcomes)


def nine_box_grid(session: Session, subject: Subject, *, cycle: str) -> list[NineBoxItem]:
    """The cycle's 9-box positions of the employees the subject sees."""
    row = service.cycle_row(session, cycle)
    visible = people_queries.visible_ids(session, subject, as_of=utcnow().date())
    if row.status not in service.SHARED_STATUSES:  # one's own place only once it is shared
        visible.discard(subject.employee_id or -1)
    found = [p for p in queries.nine_box_positions(session, row.id) if p.employee_id in visible]
    numbers = people_queries.employee_numbers(session, {p.employee_id for p in found})
    return [
        NineBoxItem(
            employee_id=numbers[p.employee_id],
            cycle=row.name,
            rating=p.rating,
            performance=p.performance,
            potential=p.potential,
            box=p.box,
            label=p.label,
            placed_at=p.placed_at,
        )
        for p in found
    ]
