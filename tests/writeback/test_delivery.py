"""Writeback on every backend: outcomes enter the outbox with the decision, reach a real signed
webhook on loopback and a CSV file, survive a crash between sending and recording without loss
or double application, back off on failures and give up on permanent ones.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.config import Settings
from meritline.db.session import Database
from meritline.errors import Conflict
from meritline.reviews import flows
from meritline.reviews import service as reviews
from meritline.reviews.schemas import ReviewCycleCreate, ReviewSubmit
from meritline.writeback import delivery, service
from meritline.writeback.destinations.csv_file import COLUMNS
from meritline.writeback.schemas import DestinationCreate, Outcome
from tests.fixtures.factories import import_lines, new_tenant, person_line

CYCLE = "FY2026"
SECRET = "a-shared-secret-of-some-length"
SETTINGS = Settings(secret_key=Fernet.generate_key().decode())
RATINGS = {"E2": (4, "high"), "E3": (3, "medium"), "E4": (2, "low")}


class Receiver:
    """A webhook receiver that verifies signatures and applies each idempotency key once."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.applied: dict[str, dict[str, Any]] = {}
        self.bad_signatures = 0
        self.answer = 200

    @contextmanager
    def running(self) -> Iterator[str]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers["X-Meritline-Signature"]):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                key = self.headers["Idempotency-Key"]
                receiver.received.append(key)
                if receiver.answer == 200:
                    receiver.applied.setdefault(key, json.loads(body))
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture
def acme(db: Database) -> Subject:
    operator = new_tenant(db)
    import_lines(db, operator, [person_line("E1"), *(person_line(n, "E1") for n in RATINGS)])
    with db.unit_of_work(operator.tenant_id) as session:
        reviews.create_cycle(
            session,
            operator,
            ReviewCycleCreate(
                name=CYCLE, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31)
            ),
        )
        reviews.transition_cycle(session, operator, name=CYCLE, to_status="open")
        manager = access.act_as(session, operator, employee_number="E1", role="manager")
        for number, (rating, potential) in RATINGS.items():
            reviews.submit_review(
                session,
                manager,
                cycle=CYCLE,
                employee_id=number,
                data=ReviewSubmit(rating=rating, potential=potential),
            )
        reviews.transition_cycle(session, operator, name=CYCLE, to_status="calibration")
    return operator


def add(db: Database, who: Subject, **values: Any) -> None:
    with db.unit_of_work(who.tenant_id) as session:
        service.add_destination(session, who, DestinationCreate(**values), settings=SETTINGS)


def finalize(db: Database, who: Subject) -> None:
    with db.unit_of_work(who.tenant_id) as session:
        flows.advance_cycle(session, who, name=CYCLE, to_status="finalized")


def run(
    db: Database, who: Subject, *, at: datetime | None = None, **options: Any
) -> delivery.DeliveryReport:
    @contextmanager
    def unit_of_work(**kwargs: Any) -> Iterator[tuple[Any, Subject]]:
        with db.unit_of_work(who.tenant_id, **kwargs) as session:
            yield session, who

    clock: Callable[[], datetime] = (lambda: at) if at else (lambda: datetime.now(UTC))
    return delivery.deliver(unit_of_work, settings=SETTINGS, now=clock, **options)


def status(db: Database, who: Subject) -> dict[str, int]:
    with db.unit_of_work(who.tenant_id, read_only=True) as session:
        return service.status(session, who).deliveries


def test_finalising_places_the_9_box_and_queues_outcomes_with_the_decision(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    add(db, acme, name="hris", type="csv", target=str(tmp_path / "ratings.csv"))
    # a decision that fails takes its outcomes with it
    with pytest.raises(RuntimeError), db.unit_of_work(acme.tenant_id) as session:
        flows.advance_cycle(session, acme, name=CYCLE, to_status="finalized")
        raise RuntimeError("the finalising transaction dies")
    assert status(db, acme) == {"pending": 0, "delivered": 0, "dead": 0}
    finalize(db, acme)
    with db.unit_of_work(acme.tenant_id, read_only=True) as session:
        grid = {
            i.employee_id: (i.box, i.label) for i in flows.nine_box_grid(session, acme, cycle=CYCLE)
        }
        events = service.status(session, acme).events
    assert grid == {"E2": (9, "Star"), "E3": (5, "Core player"), "E4": (1, "Underperformer")}
    assert events == 6  # three final ratings, three 9-box positions
    assert status(db, acme)["pending"] == 6


def test_a_webhook_receives_signed_outcomes_and_a_crash_loses_nothing_and_applies_nothing_twice(
    db: Database, acme: Subject
) -> None:
    receiver = Receiver()
    with receiver.running() as url:
        add(db, acme, name="comp", type="webhook", target=url, secret=SECRET)
        finalize(db, acme)

        def crash(keys: list[str]) -> None:
            raise SystemExit("the deliverer dies after sending, before recording")

        with pytest.raises(SystemExit):
            run(db, acme, after_send=crash)
        assert len(receiver.applied) == 6 and status(db, acme)["delivered"] == 0
        # still leased: a deliverer running now sends nothing twice
        assert run(db, acme).delivered == 0 and len(receiver.received) == 6
        later = datetime.now(UTC) + delivery.LEASE + timedelta(seconds=1)
        report = run(db, acme, at=later)
    assert report.delivered == 6 and status(db, acme) == {"pending": 0, "delivered": 6, "dead": 0}
    assert len(receiver.received) == 12  # every outcome sent twice ...
    assert len(receiver.applied) == 6  # ... and applied once, by its key
    assert receiver.bad_signatures == 0
    rating = receiver.applied[f"rating.finalized:{_cycle_id(db, acme)}:E2"]
    assert rating["topic"] == "rating.finalized"
    assert (rating["data"]["rating"], rating["data"]["rating_label"]) == (4, "Exceeds expectations")


def test_failures_back_off_then_give_up_and_permanent_ones_stop_at_once(
    db: Database, acme: Subject
) -> None:
    receiver = Receiver()
    with receiver.running() as url:
        add(db, acme, name="comp", type="webhook", target=url, secret=SECRET)
        finalize(db, acme)
        receiver.answer = 503
        now = datetime.now(UTC)
        first = run(db, acme, at=now, max_attempts=3)
        # a failing receiver is not hammered: the first failure holds back the rest
        assert (first.delivered, first.retrying) == (0, 6) and len(receiver.received) == 1
        assert run(db, acme, at=now + timedelta(seconds=5)).retrying == 0  # backing off
        for step in (1, 2):
            run(db, acme, at=now + timedelta(hours=7 * step), max_attempts=3)
        assert status(db, acme)["dead"] >= 1  # three attempts, then dead, with the error
        receiver.answer = 200
        run(db, acme, at=now + timedelta(hours=30), max_attempts=3)
    with db.unit_of_work(acme.tenant_id, read_only=True) as session:
        dead = service.status(session, acme).dead
    assert dead and all("HTTP 503" in line for line in dead)


def test_a_misconfigured_receiver_is_a_permanent_failure(db: Database, acme: Subject) -> None:
    receiver = Receiver()
    with receiver.running() as url:
        add(db, acme, name="comp", type="webhook", target=url, secret=SECRET)
        finalize(db, acme)
        receiver.answer = 404
        report = run(db, acme)
    assert report.dead == 6 and len(receiver.received) == 6
    assert status(db, acme) == {"pending": 0, "delivered": 0, "dead": 6}


def test_the_csv_export_has_the_documented_shape_and_survives_a_crash(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    path = tmp_path / "ratings.csv"
    add(db, acme, name="hris", type="csv", target=str(path), topics=["rating.finalized"])
    finalize(db, acme)

    def crash(keys: list[str]) -> None:
        raise SystemExit("dies after writing the file")

    with pytest.raises(SystemExit):
        run(db, acme, after_send=crash)
    written = path.read_text(encoding="utf-8")
    run(db, acme, at=datetime.now(UTC) + delivery.LEASE + timedelta(seconds=1))
    assert path.read_text(encoding="utf-8") == written  # the same file, no row twice
    rows = list(csv.DictReader(written.splitlines()))
    assert tuple(rows[0]) == COLUMNS
    assert {(r["employee_id"], r["rating"], r["potential"]) for r in rows} == {
        ("E2", "4", "high"),
        ("E3", "3", "medium"),
        ("E4", "2", "low"),
    }
    assert len({r["idempotency_key"] for r in rows}) == 3


def test_finalising_waits_for_open_sessions_and_destinations_are_checked(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    from meritline.calibration import sessions
    from meritline.calibration.schemas import SessionCreate

    with db.unit_of_work(acme.tenant_id) as session:
        sessions.create_session(
            session,
            acme,
            cycle=CYCLE,
            data=SessionCreate(name="All", facilitator="E1", employees=["E2"]),
        )
    with pytest.raises(Conflict, match="still open"):
        finalize(db, acme)
    from meritline.errors import InvalidInput

    with pytest.raises(InvalidInput, match="http"):
        add(db, acme, name="bad", type="webhook", target="ftp://x", secret=SECRET)
    with pytest.raises(InvalidInput, match="No folder"):
        add(db, acme, name="bad", type="csv", target=str(tmp_path / "missing" / "r.csv"))


def _cycle_id(db: Database, who: Subject) -> int:
    with db.unit_of_work(who.tenant_id, read_only=True) as session:
        return reviews.get_cycle(session, who, name=CYCLE).id


def test_rows_another_deliverer_wrote_are_kept_and_keys_are_queued_once(
    db: Database, acme: Subject, tmp_path: Path
) -> None:
    path = tmp_path / "ratings.csv"
    # a row written by a deliverer that has not recorded its delivery yet
    path.write_text(
        ",".join(COLUMNS)
        + "\nrating.finalized:9:X9,rating.finalized,FY2025,X9,4,,,,,,2025-12-31\n",
        encoding="utf-8",
    )
    add(db, acme, name="hris", type="csv", target=str(path), topics=["rating.finalized"])
    finalize(db, acme)
    run(db, acme)
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert {r["employee_id"] for r in rows} == {"X9", *RATINGS}
    outcome = Outcome(topic="rating.finalized", idempotency_key="k:1", payload={"rating": 3})
    with db.unit_of_work(acme.tenant_id) as session:
        assert service.enqueue(session, acme, [outcome, outcome]) == 1
        assert service.enqueue(session, acme, [outcome]) == 0
