"""Benchmark the foundation's heavy paths: import, re-import, visibility reads, audit verify.

Usage: .venv/bin/python benchmarks/bench_people.py [--sizes 400,2000,10000] [--postgres URL]
       [--repeat 3]

Each size runs --repeat times, each on a fresh SQLite file (and a fresh PostgreSQL schema when
--postgres is given); the table shows the median wall-clock seconds of each step.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fresh_databases import fresh_database
from rich.console import Console
from rich.table import Table

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.db.session import Database
from meritline.demo import service as demo
from meritline.people import importing
from meritline.people import service as people
from meritline.people.hris_file import parse_people_csv
from meritline.tenants import service as tenants


@contextmanager
def database(backend: str, pg_url: str | None) -> Iterator[Database]:
    with fresh_database(backend, pg_url) as fresh:
        db = fresh.runtime()
        yield db
        db.dispose()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(backend: str, n: int, pg_url: str | None) -> list[tuple[str, float]]:
    csv_text, _ = demo.generate_csv(employees=n, seed=1)
    parsed = parse_people_csv(csv_text)
    rows: list[tuple[str, float]] = []
    with database(backend, pg_url) as db:
        with db.unit_of_work() as session:
            tenant = tenants.create_tenant(session, slug="bench")
        op = Subject.operator(tenant.id)

        def do_import() -> None:
            with db.unit_of_work(tenant.id) as session:
                importing.import_people(session, op, parsed)

        rows.append(("first import", timed(do_import)))
        rows.append(("re-import (no changes)", timed(do_import)))
        with db.unit_of_work(tenant.id) as session:
            vp = access.act_as(
                session, op, employee_number=parsed.rows[1].employee_id, role="manager"
            )
            hrbp = access.act_as(
                session, op, employee_number=parsed.rows[1].employee_id, role="hrbp"
            )
        for label, subject in (
            ("list page, VP as manager", vp),
            ("list page, hrbp", hrbp),
            ("list page, admin", op),
        ):

            def page(subject: Subject = subject) -> None:
                with db.unit_of_work(tenant.id) as session:
                    people.list_employees(session, subject, limit=50)

            rows.append((label, timed(page)))

        division = parsed.rows[1].department or ""
        deepest = [r for r in parsed.rows if (r.department or "").startswith(division)][-1]

        def single() -> None:
            with db.unit_of_work(tenant.id) as session:
                people.get_employee(session, vp, employee_id=deepest.employee_id)

        rows.append(("single read, manager", timed(single)))

        def verify() -> None:
            with db.unit_of_work(tenant.id) as session:
                assert audit.verify(session, op).ok

        rows.append(("audit verify (whole chain)", timed(verify)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="400,2000,10000")
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL (optional)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median shown)")
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgres"] if args.postgres else [])
    table = Table(
        "backend", "employees", "step", "median s", "min s", title="meritline people benchmark"
    )
    for backend in backends:
        for n in (int(s) for s in args.sizes.split(",")):
            runs = [run(backend, n, args.postgres) for _ in range(args.repeat)]
            for i, (step, _) in enumerate(runs[0]):
                times = [r[i][1] for r in runs]
                table.add_row(
                    backend, f"{n:,}", step, f"{statistics.median(times):.3f}", f"{min(times):.3f}"
                )
    Console().print(table)


if __name__ == "__main__":
    main()
