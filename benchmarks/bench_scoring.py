"""Scoring at Tier M: the score run (windows from the signals, normalisation, explanations),
the rollup refresh, and the profile API.

Usage::

    python benchmarks/bench_scoring.py                       # 10,000 people, 5,000,000 signals
    python benchmarks/bench_scoring.py --employees 2000 --signals 1000000 --backends sqlite

Per backend, in a fresh database:

1. Load: the company's people (demo generator, ``meritline import people``) and a year of
   signals of the model's types (``meritline import signals``, JSON Lines), then on PostgreSQL
   ``VACUUM ANALYZE`` as autovacuum would (it is off on this machine). Not timed here:
   ``bench_evidence.py`` measures imports.
2. Timed, each as its own ``meritline`` process (wall time and the process's peak memory,
   ``VmHWM``): ``score run`` (per-employee window sums straight from the signals' covering
   index, normalisation, pillars, explanations, snapshots, profiles), then ``aggregates
   refresh`` (the daily rollup behind ``aggregates windows``, which scoring does not read: after
   a bulk load of a whole year every month of it is queued).
3. Floor: the same per-employee, per-type, per-window sums done by one Polars group-by over
   the signals exported to Parquet (what any engine must at least do).
4. The profile API: ``GET /api/v1/employees/{id}/profile`` from 50 concurrent clients on
   loopback for random employees, ``--workers`` uvicorn processes. First a saturation run (each
   client sends its next read when the last returns), then open-loop runs at each ``--rates``
   (reads due at fixed times, latency counted from when each was due).

Targets (issue 4): signals to explained scores under 60 s and 2 GB; profile p95 under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from bench_evidence import run_cli
from bench_webhooks import percentile, server
from fresh_databases import FreshDatabase, fresh_database
from rich.console import Console
from rich.table import Table

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.demo import service as demo
from meritline.scoring import engine
from meritline.scoring.definition import default_definition
from meritline.tenants import service as tenants

AS_OF = date(2026, 9, 30)
TARGET_SECONDS, TARGET_MIB, TARGET_P95_MS = 60.0, 2048, 20.0
#: Relative frequency of each signal type (roughly the demo company's mix).
MIX = {
    "pr_merged": 10,
    "pr_closed_unmerged": 1,
    "pr_review_submitted": 10,
    "issue_resolved": 14,
    "kudos_given": 2,
    "kudos_received": 2,
    "course_completed": 1,
    "absence_day": 1,
    "protected_leave_day": 1,
    "meeting_hours": 20,
}


def generate(
    path: Path,
    numbers: list[str],
    rows: int,
    seed: int,
    *,
    first_day: date = date(2025, 10, 1),
    days: int = 365,
) -> pl.DataFrame:
    """Write ``rows`` signals over ``days`` days as JSON Lines (vectorised); return them as a
    frame too.
    """
    rng = np.random.default_rng(seed)
    kinds = np.array(list(MIX))
    weights = np.array(list(MIX.values()), dtype=float)
    pace = rng.lognormal(0.0, 0.4, size=len(numbers))
    who = rng.choice(len(numbers), size=rows, p=pace / pace.sum())
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "source": "bench",
            "type": kinds[rng.choice(len(kinds), size=rows, p=weights / weights.sum())],
            "employee_id": np.array(numbers)[who],
            "occurred_at": [
                start + timedelta(seconds=int(s)) for s in rng.integers(0, days * 86400, rows)
            ],
            "value": 1.0,
            "external_id": [f"b{seed}-{i}" for i in range(rows)],
        }
    )
    frame.with_columns(pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_ndjson(path)
    return frame


def floor_seconds(frame: pl.DataFrame, parquet: Path) -> float:
    """One Polars group-by over Parquet: per employee, type and window, count and sum."""
    frame.write_parquet(parquet)
    definition = default_definition()
    windows = {w: engine.window_bounds(w, AS_OF) for w in engine.evidence_needed(definition)}
    started = time.perf_counter()
    day = pl.col("occurred_at").dt.date()
    aggregations = []
    for name, (first, last) in windows.items():
        inside = day.is_between(first, last)
        aggregations += [
            inside.sum().alias(f"{name}_count"),
            pl.col("value").filter(inside).sum().alias(f"{name}_total"),
        ]
    pl.scan_parquet(parquet).group_by("employee_id", "type").agg(aggregations).collect()
    return time.perf_counter() - started


CLIENTS = 50


async def _closed_loop(base_url: str, token: str, numbers: list[str], requests: int) -> float:
    """Saturation: 50 clients each sending its next read as soon as the last one returns;
    returns reads per second.
    """
    queue = [random.choice(numbers) for _ in range(requests)]
    started = time.perf_counter()

    async def client(http: KeepAliveClient) -> None:
        while queue:
            await http.get(f"/api/v1/employees/{queue.pop()}/profile")

    async with _clients(base_url, token) as clients:
        await asyncio.gather(*(client(http) for http in clients))
    return requests / (time.perf_counter() - started)


async def _open_loop(
    base_url: str, token: str, numbers: list[str], rate: float, seconds: float
) -> list[float]:
    """Reads arriving at ``rate`` per second, spread over 50 clients, each read's latency
    counted from when it was due (so a client held up by a slow answer reports the wait too:
    no coordinated omission). Sorted latencies in ms.
    """
    count = int(rate * seconds)
    latencies: list[float] = []
    loop = asyncio.get_running_loop()

    async def client(http: KeepAliveClient, first: int, begin: float) -> None:
        for n in range(first, count, CLIENTS):
            due = begin + n / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            await http.get(f"/api/v1/employees/{random.choice(numbers)}/profile")
            latencies.append((loop.time() - due) * 1000)

    async with _clients(base_url, token) as clients:  # the clock starts once they all exist
        begin = loop.time() + 0.1
        await asyncio.gather(*(client(http, n, begin) for n, http in enumerate(clients)))
    return sorted(latencies)


class KeepAliveClient:
    """One persistent HTTP/1.1 connection sending GETs and reading whole answers.

    The load generator shares the 2 cores with the server under test; httpx spends about as
    much CPU per request as the API itself, which would be measured as server latency. This
    client does only what a benchmark needs (a GET, the status, a ``Content-Length`` body).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: str):
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def connect(cls, base_url: str, token: str) -> KeepAliveClient:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = f"Host: {host}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n"
        return cls(reader, writer, head)

    async def get(self, path: str) -> bytes:
        """The body of a 200 answer; anything else stops the benchmark."""
        self.writer.write(f"GET {path} HTTP/1.1\r\n{self.head}\r\n".encode())
        header = await self.reader.readuntil(b"\r\n\r\n")
        status, _, rest = header.partition(b"\r\n")
        length = 0
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        if status.split(b" ")[1] != b"200":
            raise SystemExit(f"{path}: {status.decode()} {body.decode(errors='replace')}")
        return body

    def close(self) -> None:
        self.writer.close()


@asynccontextmanager
async def _clients(base_url: str, token: str) -> AsyncIterator[list[KeepAliveClient]]:
    clients = [await KeepAliveClient.connect(base_url, token) for _ in range(CLIENTS)]
    try:
        yield clients
    finally:
        for client in clients:
            client.close()


def profile_api(
    target: FreshDatabase, numbers: list[str], args: argparse.Namespace
) -> dict[str, object]:
    """Profile reads from 50 concurrent clients: the saturation throughput, and p50/p95/p99 at
    each offered rate.
    """
    secret_key = secrets.token_urlsafe(32)
    database = target.runtime()
    with database.unit_of_work() as session:
        tenant = tenants.get_tenant(session, slug="bench")
    with database.unit_of_work(tenant.id) as session:
        created = access.create_token(
            session, Subject.operator(tenant.id), employee_number=numbers[0], role="admin"
        )
    database.dispose()
    os.environ["MERITLINE_SECRET_KEY"] = secret_key
    token = created.token
    rates: dict[float, dict[str, float]] = {}
    with server(target, secret_key, workers=args.workers) as (base_url, _):
        asyncio.run(_closed_loop(base_url, token, numbers, 500))  # warm-up: every worker
        throughput = asyncio.run(_closed_loop(base_url, token, numbers, args.requests))
        for rate in args.rates:
            latencies = asyncio.run(_open_loop(base_url, token, numbers, rate, args.seconds))
            rates[rate] = {q: percentile(latencies, q) for q in (50, 95, 99)}
    return {"throughput": throughput, "rates": rates}


def run(backend: str, pg_url: str | None, args: argparse.Namespace) -> dict[str, object]:
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, pg_url) as target:
        people = demo.generate_people(employees=args.employees, seed=3)
        people_csv = Path(tmp) / "people.csv"
        people_csv.write_text(demo.company.to_csv(people), encoding="utf-8")
        run_cli(target, "import", "people", str(people_csv))
        target.analyze()
        numbers = [p.employee_id for p in people if p.termination_date is None]
        signals_file = Path(tmp) / "signals.jsonl"
        frame = generate(signals_file, numbers, args.signals, seed=5)
        console.print(f"{backend}: importing {args.signals:,} signals (not timed)...")
        load_seconds, _ = run_cli(target, "import", "signals", str(signals_file))
        target.analyze()
        # scoring first: it reads the signals, not the rollup, so it needs no refresh before it
        score_seconds, score_mib = run_cli(target, "score", "run", "--as-of", str(AS_OF))
        refresh_seconds, refresh_mib = run_cli(target, "aggregates", "refresh")
        floor = floor_seconds(frame, Path(tmp) / "signals.parquet")
        # the next night: one more day of signals, refreshed and scored as of that day
        day_file = Path(tmp) / "day.jsonl"
        next_day = AS_OF + timedelta(days=1)
        generate(day_file, numbers, args.signals // 365, seed=6, first_day=next_day, days=1)
        nightly = [
            run_cli(target, "import", "signals", str(day_file))[0],
            run_cli(target, "aggregates", "refresh")[0],
            run_cli(target, "score", "run", "--as-of", str(next_day))[0],
        ]
        api = profile_api(target, numbers, args) if args.requests else {}
    total = refresh_seconds + score_seconds
    return {
        "backend": backend,
        "load": load_seconds,
        "refresh": refresh_seconds,
        "score": score_seconds,
        "total": total,
        "nightly": nightly,
        "peak": max(refresh_mib, score_mib),
        "floor": floor,
        **api,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--signals", type=int, default=5_000_000)
    parser.add_argument(
        "--requests", type=int, default=5_000, help="Reads for the saturation run (0: no API)."
    )
    parser.add_argument(
        "--rates",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[25.0, 50.0, 100.0, 150.0, 200.0],
        help="Offered read rates per second for the latency runs.",
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="Length of each latency run.")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes.")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", default=os.environ.get("MERITLINE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "postgres" in backends and not args.postgres:  # say so before an hour of SQLite work
        parser.error("PostgreSQL needs --postgres URL (or MERITLINE_TEST_POSTGRES_URL)")
    results = [run(b, args.postgres, args) for b in backends]
    table = Table(
        "backend",
        "score run s",
        f"< {TARGET_SECONDS:.0f} s",
        "refresh s",
        "refresh + score s",
        f"< {TARGET_SECONDS:.0f} s",
        "peak MiB",
        f"< {TARGET_MIB} MiB",
        "floor s",
        "score / floor",
        title=f"Scoring: {args.employees:,} employees, {args.signals:,} signals",
    )

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for r in results:
        table.add_row(
            str(r["backend"]),
            f"{r['score']:.1f}",
            verdict(r["score"] < TARGET_SECONDS),
            f"{r['refresh']:.1f}",
            f"{r['total']:.1f}",
            verdict(r["total"] < TARGET_SECONDS),
            str(r["peak"]),
            verdict(r["peak"] < TARGET_MIB),
            f"{r['floor']:.2f}",
            f"{r['score'] / r['floor']:.0f}x",
        )
    Console(width=200).print(table)
    night = Table(
        "backend",
        "import s",
        "refresh s",
        "score run s",
        "total s",
        title=f"The next night: {args.signals // 365:,} new signals of one day",
    )
    for r in results:
        steps = r["nightly"]
        night.add_row(str(r["backend"]), *(f"{x:.1f}" for x in steps), f"{sum(steps):.1f}")  # type: ignore[attr-defined]
    Console(width=200).print(night)
    if not args.requests:
        return
    latency = Table(
        "backend",
        "saturation reads/s",
        "offered reads/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        f"p95 < {TARGET_P95_MS:.0f} ms",
        title=f"Profile reads: {CLIENTS} concurrent clients, {args.workers} API workers",
    )
    for r in results:
        for rate, q in r["rates"].items():  # type: ignore[attr-defined]
            latency.add_row(
                str(r["backend"]),
                f"{r['throughput']:.0f}",
                f"{rate:.0f}",
                f"{q[50]:.1f}",
                f"{q[95]:.1f}",
                f"{q[99]:.1f}",
                "met" if q[95] < TARGET_P95_MS else "NOT met",
            )
    Console(width=200).print(latency)


if __name__ == "__main__":
    sys.exit(main())
