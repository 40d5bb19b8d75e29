"""The scoring run as a job: several short transactions, so a run that dies can resume.

1. start (or resume) the run in the log;
2. read the inputs and score everyone, set-based, in a read-only transaction;
3. write snapshots and profiles in chunks, each committed on its own;
4. mark the run succeeded; or, on any error, failed with the error (``--resume`` continues it,
   writing only the employees it has not written: the unique key on (run, employee) makes a
   chunk that was half-committed impossible and a chunk written twice harmless).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.scoring import service
from meritline.scoring.schemas import RunSummary

UnitOfWork = Callable[..., AbstractContextManager[tuple[Session, Subject]]]

#: Employees written per transaction.
WRITE_CHUNK = 2_000


def run_scoring(
    unit_of_work: UnitOfWork,
    *,
    as_of: date | None = None,
    model: str | None = None,
    employees: list[str] | None = None,
    resume: bool = False,
    progress: Callable[[str, int, int], None] = lambda *_: None,
    chunk_size: int = WRITE_CHUNK,
) -> RunSummary:
    """Run (or resume) a scoring run; ``unit_of_work(read_only=...)`` opens one transaction.

    ``progress(stage, done, total)`` reports ``"scoring"`` once and ``"writing"`` per chunk.
    """
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    with unit_of_work() as (session, subject):
        plan = service.start_run(
            session, subject, as_of=as_of, model=model, employees=employees, resume=resume
        )
    try:
        progress("scoring", 0, 1)
        with unit_of_work(read_only=True) as (session, subject):
            computed = service.compute(session, subject, plan)
        pending = computed.pending
        progress("writing", 0, len(pending))
        for start in range(0, len(pending), chunk_size):
            chunk = pending[start : start + chunk_size]
            with unit_of_work() as (session, subject):
                service.write_scores(session, subject, plan, chunk)
            progress("writing", start + len(chunk), len(pending))
        with unit_of_work() as (session, subject):
            return service.finish_run(session, subject, plan, computed, elapsed_ms=elapsed())
    except BaseException as exc:
        _record_failure(unit_of_work, plan.run_id, exc, elapsed())
        raise


def _record_failure(unit_of_work: UnitOfWork, run_id: int, exc: BaseException, ms: int) -> None:
    message: Any = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    with unit_of_work() as (session, subject):
        service.fail_run(
            session, subject, run_id=run_id, error=f"{type(exc).__name__}: {message}", elapsed_ms=ms
        )
