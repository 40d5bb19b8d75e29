"""The audit chain: pure hashing, and detection of every kind of tampering in the database."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text

from meritline.access.subject import Subject
from meritline.audit import chain
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.db.session import Database
from tests.fixtures.database import MigratedDatabase
from tests.fixtures.factories import new_tenant

# --- pure -------------------------------------------------------------------------------------


def _stored(n: int) -> list[chain.StoredEvent]:
    events, prev = [], chain.GENESIS_HASH
    for seq in range(1, n + 1):
        payload = {"n": seq}
        link = chain.Link(
            1,
            seq,
            datetime(2026, 1, 1, tzinfo=UTC),
            "cli:operator",
            "x.do",
            "x",
            str(seq),
            chain.payload_hash(payload),
            prev,
        )
        prev = link.hash()
        events.append(chain.StoredEvent(link=link, hash=prev, payload=payload))
    return events


def test_intact_chain_verifies() -> None:
    events = _stored(5)
    assert chain.first_break(events, head_seq=5, head_hash=events[-1].hash) == (5, None)


def test_canonical_encoding_is_stable_and_key_order_free() -> None:
    assert chain.canonical({"b": 1, "a": "é"}) == chain.canonical({"a": "é", "b": 1})
    assert chain.canonical({"t": datetime(2026, 1, 1, 12, tzinfo=UTC)}) == (
        b'{"t":"2026-01-01T12:00:00.000000Z"}'
    )


def test_erased_payload_keeps_the_chain_valid() -> None:
    events = _stored(3)
    erased = chain.StoredEvent(
        link=events[1].link, hash=events[1].hash, payload=None, payload_erased=True
    )
    events[1] = erased
    assert chain.first_break(events, head_seq=3, head_hash=events[-1].hash)[1] is None


def test_an_erased_event_must_not_keep_a_payload() -> None:
    events = _stored(3)
    events[1] = chain.StoredEvent(
        link=events[1].link, hash=events[1].hash, payload={"forged": 1}, payload_erased=True
    )
    assert chain.first_break(events, head_seq=3, head_hash=events[-1].hash)[1] == chain.Break(
        2, "payload marked erased but still present"
    )


def test_payloads_that_json_cannot_round_trip_are_refused() -> None:
    with pytest.raises(ValueError):
        chain.canonical({"x": float("nan")})


# --- tampering in the database -----------------------------------------------------------------


@pytest.fixture
def chained(db: Database) -> Subject:
    """A tenant with ten recorded events (plus the tenant's own creation event)."""
    operator = new_tenant(db)
    with db.unit_of_work(operator.tenant_id) as session:
        audit.record_many(
            session,
            operator,
            [AuditRecord("thing.create", "thing", i, {"name": f"thing {i}"}) for i in range(10)],
        )
    return operator


def _as_owner(connection: Connection, backend: str, *statements: str) -> None:
    """Run SQL the way an attacker with database access would: around the append-only guard."""
    if backend == "postgres":
        connection.execute(text("RESET ROLE"))
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    else:
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))
    for sql in statements:
        connection.execute(text(sql))
    if backend == "postgres":
        connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
        connection.execute(text("SET ROLE meritline_app"))


def _verify(db: Database, operator: Subject) -> tuple[bool, int | None]:
    with db.unit_of_work(operator.tenant_id) as session:
        result = audit.verify(session, operator)
    return result.ok, result.broken_seq


TAMPERING: dict[str, tuple[str, int]] = {
    "edited action": ("UPDATE audit_event SET action = 'thing.delete' WHERE {t} AND seq = 4", 4),
    "edited payload": (
        'UPDATE audit_event SET payload = \'{{"name": "other"}}\' WHERE {t} AND seq = 6',
        6,
    ),
    "edited time": (
        "UPDATE audit_event SET occurred_at = occurred_at - interval '1 day' WHERE {t} AND seq = 3",
        3,
    ),
    "deleted row": ("DELETE FROM audit_event WHERE {t} AND seq = 5", 5),
    "deleted tail": ("DELETE FROM audit_event WHERE {t} AND seq = 11", 11),
    "inserted row": (
        "INSERT INTO audit_event (tenant_id, seq, occurred_at, actor, action, entity_type, "
        "entity_id, payload_hash, prev_hash, hash) SELECT tenant_id, 12, occurred_at, actor, "
        "action, entity_type, entity_id, payload_hash, hash, hash FROM audit_event "
        "WHERE {t} AND seq = 11",
        12,
    ),
    "reordered rows": ("(two statements, see the test)", 7),
}


def test_untouched_chain_verifies(db: Database, chained: Subject) -> None:
    assert _verify(db, chained) == (True, None)


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_is_detected_at_the_first_broken_sequence(
    db: Database, connection: Connection, backend: str, chained: Subject, kind: str
) -> None:
    sql, broken_at = TAMPERING[kind]
    if backend == "sqlite":
        sql = sql.replace("occurred_at - interval '1 day'", "datetime(occurred_at, '-1 day')")
    statements = [sql]
    if kind == "reordered rows":  # (tenant_id, seq) is unique: swap through free numbers
        statements = [
            "UPDATE audit_event SET seq = seq + 1000 WHERE {t} AND seq IN (7, 8)",
            "UPDATE audit_event SET seq = CASE seq WHEN 1007 THEN 8 ELSE 7 END "
            "WHERE {t} AND seq IN (1007, 1008)",
        ]
    where = f"tenant_id = {chained.tenant_id}"
    _as_owner(connection, backend, *(s.format(t=where) for s in statements))
    assert _verify(db, chained) == (False, broken_at)


def test_the_database_refuses_updates_and_deletes(db: Database, chained: Subject) -> None:
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with (
            pytest.raises(Exception, match=r"append-only|permission denied"),
            db.unit_of_work(chained.tenant_id) as session,
        ):
            session.execute(text(statement))


def test_personal_data_stays_out_of_the_chained_fields(db: Database, chained: Subject) -> None:
    with db.unit_of_work(chained.tenant_id) as session:
        events = audit.recent(session, chained, limit=5)
    for event in events:
        assert "thing " not in f"{event.actor}{event.action}{event.entity_type}{event.entity_id}"


# --- concurrency -------------------------------------------------------------------------------


def _parallel_writers(database: Database, operator: Subject, writers: int, each: int) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                with database.unit_of_work(operator.tenant_id) as session:
                    audit.record(session, operator, AuditRecord("w.write", "w", f"{worker}-{i}"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_writers_never_fork_the_chain(migrated: MigratedDatabase) -> None:
    database = Database(migrated.engine)  # real commits from several connections
    operator = new_tenant(database, slug=f"conc-{uuid.uuid4().hex[:8]}")
    _parallel_writers(database, operator, writers=6, each=15)
    with database.unit_of_work(operator.tenant_id) as session:
        result = audit.verify(session, operator)
        seqs = (
            session.execute(
                text("SELECT seq FROM audit_event WHERE tenant_id = :t ORDER BY seq"),
                {"t": operator.tenant_id},
            )
            .scalars()
            .all()
        )
    assert result.ok, result
    assert list(seqs) == list(range(1, 6 * 15 + 2))  # +1: the tenant's creation event
