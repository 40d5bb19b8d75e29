"""``meritline outbox deliver``: send what waits in the outbox, safely.

Each round:

1. claims the due deliveries in one short transaction: each gets one more attempt and a lease
   (its next attempt moves ``LEASE`` ahead), so a second deliverer running at the same time
   skips them (and on PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps two claims apart);
2. sends them, outside any transaction, per destination;
3. records the outcome in another transaction: delivered; or, for a failure that may pass, the
   next attempt after an exponential back-off (``base * 2 ** (attempts - 1)``, at most ``cap``,
   with jitter); after ``max_attempts``, or for a permanent failure, dead with the error.

A crash after sending and before recording leaves the delivery pending with its lease: it is
sent again once the lease runs out, with the same idempotency key, so nothing is lost and a
receiver that honours the key applies it once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from meritline import crypto
from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utcnow
from meritline.config import Settings
from meritline.models import OutboxEvent, WritebackDestination
from meritline.writeback import queries
from meritline.writeback.destinations.base import (
    Destination,
    Envelope,
    NotTried,
    PermanentFailure,
    destination_class,
)
from meritline.writeback.schemas import DeliveryReport

UnitOfWork = Callable[..., AbstractContextManager[tuple[Session, Subject]]]

LEASE = timedelta(minutes=5)
BASE_DELAY = timedelta(seconds=30)
CAP = timedelta(hours=6)
MAX_ATTEMPTS = 10
BATCH = 500


def backoff(attempts: int, *, base: timedelta = BASE_DELAY, cap: timedelta = CAP) -> timedelta:
    """The wait before attempt ``attempts + 1``: doubling from ``base``, capped, with +-20%
    jitter so receivers coming back are not hit by every sender at once.

    >>> backoff(1, base=timedelta(seconds=10)) <= timedelta(seconds=12)
    True
    """
    delay = min(base * (1 << max(attempts - 1, 0)), cap)
    return delay * random.uniform(0.8, 1.2)


def deliver(
    unit_of_work: UnitOfWork,
    *,
    settings: Settings,
    now: Callable[[], datetime] = utcnow,
    max_attempts: int = MAX_ATTEMPTS,
    batch: int = BATCH,
    after_send: Callable[[list[str]], None] = lambda keys: None,
) -> DeliveryReport:
    """Deliver everything due; ``after_send(keys)`` runs between sending and recording (tests
    inject a crash there).
    """
    report = DeliveryReport(delivered=0, retrying=0, dead=0, waiting=0, errors=[])
    while True:
        with unit_of_work() as (session, _):
            claimed = _claim(session, now(), batch)
        if not claimed:
            break
        for destination_id, items in _by_destination(claimed).items():
            with unit_of_work(read_only=True) as (session, _):
                target = _destination(session, destination_id, settings)
            delivered, failures = target.deliver([_envelope(event) for _, event, _ in items])
            after_send(delivered)
            with unit_of_work() as (session, subject):
                _record(session, items, delivered, failures, now(), max_attempts, report)
                audit.record(
                    session,
                    subject,
                    AuditRecord(
                        "writeback.deliver",
                        "writeback_destination",
                        destination_id,
                        {"delivered": len(delivered), "failed": len(failures)},
                    ),
                )
        if len(claimed) < batch:
            break
    with unit_of_work(read_only=True) as (session, _):
        _, by_status, _ = queries.counts(session)
    report.waiting = by_status.get("pending", 0)
    return report


#: A claimed delivery: its id, its event, and its attempt count when claimed (the claim's
#: token: a deliverer whose lease ran out and was re-claimed records nothing).
Claimed = tuple[int, OutboxEvent, int]


def _claim(session: Session, now: datetime, limit: int) -> list[tuple[int, Claimed]]:
    claimed = []
    for delivery, event in queries.due(session, now, limit=limit):
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        claimed.append((delivery.destination_id, (delivery.id, event, delivery.attempts)))
    session.flush()
    return claimed


def _by_destination(claimed: list[tuple[int, Claimed]]) -> dict[int, list[Claimed]]:
    grouped: dict[int, list[Claimed]] = {}
    for destination_id, item in claimed:
        grouped.setdefault(destination_id, []).append(item)
    return grouped


def _destination(session: Session, destination_id: int, settings: Settings) -> Destination:
    """The destination's plugin, with its secret and what was delivered to it before."""
    row = session.get(WritebackDestination, destination_id)
    assert row is not None  # a delivery's destination cannot go (foreign key, cascade)
    secret = (
        None if row.secret_ciphertext is None else crypto.decrypt(settings, row.secret_ciphertext)
    )
    history = [_envelope(e) for e in queries.delivered_events(session, destination_id)]
    return destination_class(row.type)(row.target, secret, history=history)


def _envelope(event: OutboxEvent) -> Envelope:
    return Envelope(
        key=event.idempotency_key,
        topic=event.topic,
        created_at=event.created_at.isoformat().replace("+00:00", "Z"),
        data=dict(event.payload),
    )


def _record(
    session: Session,
    items: list[Claimed],
    delivered: list[str],
    failures: dict[str, Exception],
    now: datetime,
    max_attempts: int,
    report: DeliveryReport,
) -> None:
    rows = {d.id: d for d in queries.deliveries_by_id(session, [i for i, _, _ in items])}
    done = set(delivered)
    for delivery_id, event, attempts in items:
        row = rows[delivery_id]
        if row.status != "pending" or row.attempts != attempts:
            continue  # our lease ran out and another deliverer took it over: theirs stands
        if event.idempotency_key in done:
            row.status, row.delivered_at, row.last_error = "delivered", now, None
            report.delivered += 1
            continue
        error = failures.get(event.idempotency_key) or PermanentFailure("not delivered")
        if isinstance(error, NotTried):  # held back behind a failure: no attempt spent
            row.attempts -= 1
            row.next_attempt_at = now + backoff(max(row.attempts, 1))
            report.retrying += 1
            continue
        row.last_error = str(error)[:1000]
        if isinstance(error, PermanentFailure) or row.attempts >= max_attempts:
            row.status = "dead"
            report.dead += 1
            report.errors.append(f"{event.idempotency_key}: {error}")
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            report.retrying += 1
    session.flush()
