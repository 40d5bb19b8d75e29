"""Benchmark bulk signal import: ``meritline import signals FILE.jsonl`` against the raw floor.

Usage: .venv/bin/python benchmarks/bench_evidence.py [--rows 1000000] [--postgres URL]
       [--repeat 1]

For each backend (SQLite always; PostgreSQL with --postgres or MERITLINE_TEST_POSTGRES_URL):

* *meritline*: the real command in a child process, on a fresh database holding the 400 people
  of the demo company: read and validate the JSONL file, resolve people, store with
  de-duplication, queue the rollup, audit. Wall time and the child's peak memory (``VmHWM``).
* *floor*: the same rows, already resolved and in memory, written without any validation into
  an identical fresh database: one ``executemany`` transaction on SQLite, one ``COPY`` by the
  table owner on PostgreSQL (the same table, indexes and month partitions; the runtime role
  cannot COPY into a table under row-level security).
* *re-import*: the same file again (every row a duplicate).

The table shows rows/s, the ratio meritline/floor and the peak memory of the import.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fresh_databases import FreshDatabase, fresh_database
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from meritline.demo import service as demo

MERITLINE = str(Path(sys.executable).with_name("meritline"))
TENANT = "bench"
TYPES = ("ticket_solved", "ticket_reopened", "csat_response", "call_handled")


def generate(path: Path, rows: int, numbers: list[str], seed: int = 1) -> list[tuple]:
    """Write ``rows`` generic signals as JSON Lines; return them as (number, type, ...) too."""
    rng = random.Random(seed)
    start = datetime(2025, 10, 1, tzinfo=UTC)
    out: list[tuple] = []
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            number = numbers[rng.randrange(len(numbers))]
            kind = TYPES[rng.randrange(len(TYPES))]
            when = start + timedelta(seconds=rng.randrange(365 * 86400))
            value = rng.randrange(1, 6)
            attributes = {"queue": rng.randrange(8), "priority": "high" if i % 7 == 0 else "normal"}
            stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            handle.write(
                json.dumps(
                    {
                        "source": "zendesk",
                        "type": kind,
                        "employee_id": number,
                        "occurred_at": stamp,
                        "value": value,
                        "external_id": f"zd-{i}",
                        "attributes": attributes,
                    }
                )
                + "\n"
            )
            out.append((number, kind, when, float(value), json.dumps(attributes), f"zd-{i}"))
    return out


@contextmanager
def fresh(backend: str, pg_url: str | None, people_csv: Path) -> Iterator[FreshDatabase]:
    """A database at head with the demo company's people imported by the CLI."""
    with fresh_database(backend, pg_url) as target:
        run_cli(target, "import", "people", str(people_csv))
        yield target


def run_cli(target: FreshDatabase, *args: str) -> tuple[float, int]:
    """Run ``meritline ARGS`` on the target; return (seconds, peak RSS in MiB).

    The peak is the child's ``VmHWM`` after ``exec``, sampled every 20 ms: ``wait4``'s
    ``ru_maxrss`` would also count the moment between fork and exec, when the child is a copy
    of this process and its million generated rows.
    """
    env = {**os.environ, "MERITLINE_DATABASE_URL": target.cli_url, "MERITLINE_TENANT": TENANT}
    started = time.perf_counter()
    child = subprocess.Popen(
        [MERITLINE, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_kib, status = 0, None
    while status is None:
        peak_kib = max(peak_kib, _high_water_kib(child.pid))
        pid, wait_status = os.waitpid(child.pid, os.WNOHANG)
        if pid:
            status = wait_status
        else:
            time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if status != 0:
        error = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"meritline {' '.join(args)} failed:\n{error}")
    return elapsed, peak_kib // 1024


def _high_water_kib(pid: int) -> int:
    """The process's peak resident memory so far (``VmHWM``, KiB), 0 once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def floor(target: FreshDatabase, rows: list[tuple]) -> float:
    """Seconds to write the rows, resolved, with no validation: executemany or COPY."""
    engine = target.owner_engine()
    with engine.connect() as conn:
        tenant_id = conn.execute(
            text("SELECT id FROM tenant WHERE slug = :s"), {"s": TENANT}
        ).scalar()
        ids = dict(conn.execute(text("SELECT employee_number, id FROM employee")).all())
    now = datetime.now(UTC)
    if target.backend == "sqlite":
        resolved = [
            (tenant_id, ids[n], "zendesk", k, w.strftime("%Y-%m-%d %H:%M:%S.%f"), v, a, x, now)
            for n, k, w, v, a, x in rows
        ]
        raw = engine.raw_connection()
        try:
            db = raw.driver_connection
            started = time.perf_counter()
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO signal (tenant_id, employee_id, source, type, occurred_at, value, "
                "attributes, external_id, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                resolved,
            )
            db.execute("COMMIT")
            return time.perf_counter() - started
        finally:
            raw.close()
            engine.dispose()
    buffer = io.StringIO()
    for n, k, w, v, a, x in rows:
        buffer.write(
            f"{tenant_id}\t{ids[n]}\tzendesk\t{k}\t{w.isoformat()}\t{v}\t{a}\t{x}\t{now}\n"
        )
    payload = buffer.getvalue().encode()
    months = sorted({w.date().replace(day=1) for _, _, w, *_ in rows})
    with engine.begin() as conn:
        conn.execute(text("SELECT ensure_signal_partitions(:m)"), {"m": months})
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        with db.cursor() as cursor:
            # as the table owner: PostgreSQL refuses COPY FROM under row-level security, which
            # is also why meritline copies into a temporary table and inserts from there
            started = time.perf_counter()
            with cursor.copy(
                "COPY signal (tenant_id, employee_id, source, type, occurred_at, value, "
                "attributes, external_id, ingested_at) FROM STDIN"
            ) as copy:
                copy.write(payload)
        db.commit()
        return time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=os.environ.get("MERITLINE_TEST_POSTGRES_URL"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgres"] if args.postgres else [])
    console = Console()
    table = Table(
        "backend",
        "rows",
        "meritline s",
        "rows/s",
        "floor s",
        "floor rows/s",
        "ratio",
        "peak MiB",
        "re-import s",
        title=f"Bulk import of {args.rows:,} generic signals (JSON Lines), median of {args.repeat}",
    )
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        csv_text, _ = demo.generate_csv(employees=400, seed=7)
        (tmp / "people.csv").write_text(csv_text, encoding="utf-8")
        numbers = [line.split(",", 1)[0] for line in csv_text.splitlines()[1:]]
        source = tmp / "signals.jsonl"
        console.print(f"generating {args.rows:,} rows ...")
        rows = generate(source, args.rows, numbers)
        console.print(f"{source.stat().st_size / 2**20:,.0f} MiB of JSON Lines")
        for backend in backends:
            runs, floors, peaks, again = [], [], [], []
            for _ in range(args.repeat):
                with fresh(backend, args.postgres, tmp / "people.csv") as target:
                    seconds, peak = run_cli(target, "import", "signals", str(source))
                    runs.append(seconds)
                    peaks.append(peak)
                    again.append(run_cli(target, "import", "signals", str(source))[0])
                with fresh(backend, args.postgres, tmp / "people.csv") as target:
                    floors.append(floor(target, rows))
            ours, base = statistics.median(runs), statistics.median(floors)
            table.add_row(
                backend,
                f"{args.rows:,}",
                f"{ours:.1f}",
                f"{args.rows / ours:,.0f}",
                f"{base:.1f}",
                f"{args.rows / base:,.0f}",
                f"{base / ours:.2f}",
                f"{max(peaks)}",
                f"{statistics.median(again):.1f}",
            )
            console.print(f"{backend} done")
    console.print(table)


if __name__ == "__main__":
    main()
