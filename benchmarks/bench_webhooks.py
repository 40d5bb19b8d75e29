"""Benchmark the webhook path (verify, de-duplicate, store) over HTTP on loopback.

Usage: .venv/bin/python benchmarks/bench_webhooks.py [--postgres-url URL] [--deliveries 3000]
       [--concurrency 16] [--duplicates 0.1] [--warmup 200] [--repeat 1]

Target (from the issue): >= 500 deliveries/s on one worker with p99 under 50 ms.

Each run builds a fresh database (a SQLite file in a temp dir; with --postgres-url, or
MERITLINE_TEST_POSTGRES_URL set, also a throw-away PostgreSQL schema used through the runtime
role, so row-level security applies), a tenant whose employee E1 is GitHub's ``Codertocat``, and
a GitHub connector. The API then runs in a separate process with one uvicorn worker, and this
process posts signed ``pull_request`` deliveries to it with ``httpx.AsyncClient`` over keep-alive
connections: each a distinct delivery id and pull request number, plus a share of redeliveries
(an earlier delivery id again) that must be de-duplicated. Bodies and signatures are prepared
before the clock starts; a warm-up is sent first and not measured. Afterwards the stored signals
and batches are counted: one per distinct delivery, and every redelivery counted as a duplicate.

One table row per backend (the median run by deliveries/s when --repeat > 1). The exit status
is 1 only when a correctness check fails; missing the target is a measurement, not a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from fresh_databases import FreshDatabase, fresh_database
from sqlalchemy import func, select

from meritline.access.subject import Subject
from meritline.config import Settings
from meritline.db.session import Database
from meritline.evidence import identities, ingestion
from meritline.models import IngestBatch, Signal
from meritline.people import importing
from meritline.people.hris_file import parse_people_csv
from meritline.tenants import service as tenants

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "tests" / "evidence" / "fixtures" / "github" / "pull_request.opened.json"
SECRET = "bench-webhook-secret-0123456789abcdef"
TARGET_RATE = 500.0  # deliveries/s
TARGET_P99_MS = 50.0
CLIENT_SATURATED = 0.9  # load generator CPU (share of one core) above which it caps the figures
PEOPLE = [
    "employee_id,name,email,manager_id,department,level,location,gender,birth_year",
    "E1,Person E1,e1@example.com,,Eng,IC3,Berlin,Female,1988",
    "E2,Person E2,e2@example.com,E1,Eng,IC2,Berlin,Male,1990",
    "E3,Person E3,e3@example.com,E1,Eng,IC2,Lisbon,Female,1992",
    "E4,Person E4,e4@example.com,E2,Eng,IC1,Lisbon,Male,1995",
]


def seed(database: Database, settings: Settings) -> tuple[int, str]:
    """A tenant with a few people, Codertocat mapped to E1, a GitHub connector.

    Returns (tenant id, webhook path).
    """
    with database.unit_of_work() as session:
        tenant = tenants.create_tenant(session, slug=f"bench-{uuid.uuid4().hex[:8]}")
    operator = Subject.operator(tenant.id)
    parsed = parse_people_csv("\n".join(PEOPLE) + "\n")
    with database.unit_of_work(tenant.id) as session:
        importing.import_people(session, operator, parsed)
    with database.unit_of_work(tenant.id) as session:
        identities.add_mapping(
            session, operator, kind="github", value="Codertocat", employee_number="E1"
        )
        connector = ingestion.add_connector(
            session, operator, settings, connector_type="github", secret=SECRET
        )
    return tenant.id, connector.webhook_path


# the server (another process, one uvicorn worker)


def _serve(sock: socket.socket, target: FreshDatabase, secret_key: str) -> None:
    """Run the API on ``sock`` until terminated (the child process's entry point)."""
    import uvicorn

    from meritline.api.app import create_app

    settings = Settings(secret_key=secret_key, database_url=target.url)
    app = create_app(settings, target.runtime())
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", workers=1)
    uvicorn.Server(config).run(sockets=[sock])


@contextmanager
def server(
    target: FreshDatabase, secret_key: str, *, workers: int = 1
) -> Iterator[tuple[str, int]]:
    """Start the API on a pre-bound loopback socket, in ``workers`` spawned processes that all
    accept on it; yield (URL, pid of the first).
    """
    sock = socket.socket()
    # accepted connections inherit this; without it each response waits ~40 ms (Nagle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    base_url = f"http://{host}:{port}"
    processes = [
        multiprocessing.get_context("spawn").Process(
            target=_serve, args=(sock, target, secret_key), name=f"bench-api-{n}"
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    sock.close()  # the children hold their own copies
    process = processes[0]
    try:
        deadline = time.monotonic() + 60
        while True:
            if not all(p.is_alive() for p in processes):
                raise RuntimeError(f"a server process exited ({process.exitcode})")
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready within 60 s")
            time.sleep(0.05)
        assert process.pid is not None
        yield base_url, process.pid
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
                process.join()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# the load


@dataclass(frozen=True)
class Delivery:
    """One prepared request: its id, exact body and signed headers."""

    delivery_id: str
    body: bytes
    headers: dict[str, str]


def prepare(warmup: int, deliveries: int, duplicates: float, seed_: int) -> list[Delivery]:
    """Warm-up then measured deliveries, signed; a share of measured ones are redeliveries."""
    template = json.loads(PAYLOAD.read_bytes())
    rng = random.Random(seed_)
    key = SECRET.encode()
    redelivered = set(rng.sample(range(deliveries), round(deliveries * duplicates)))
    sent: list[Delivery] = []
    number = 100_000
    for i in range(warmup + deliveries):
        measured = i - warmup
        if measured in redelivered and sent:
            sent.append(rng.choice(sent))  # the same id and the same bytes, as GitHub redelivers
            continue
        number += 1
        template["pull_request"]["number"] = number
        body = json.dumps(template).encode()
        delivery_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        }
        sent.append(Delivery(delivery_id, body, headers))
    return sent


@dataclass
class Outcome:
    """What the load saw: latencies (s), wall time, errors and statuses reported."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)  # first few error descriptions
    server_cpu: float | None = None  # share of one core, while sending
    client_cpu: float = 0.0


async def _send(
    client: httpx.AsyncClient, path: str, items: list[Delivery], concurrency: int
) -> Outcome:
    outcome = Outcome()
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # shared iterator: each item goes to exactly one worker
            start = time.perf_counter()
            try:
                response = await client.post(path, content=item.body, headers=item.headers)
            except httpx.HTTPError as exc:
                outcome.latencies.append(time.perf_counter() - start)
                outcome.errors += 1
                if len(outcome.samples) < 3:
                    outcome.samples.append(f"{type(exc).__name__}: {exc}")
                continue
            outcome.latencies.append(time.perf_counter() - start)
            if 200 <= response.status_code < 300:
                outcome.statuses[response.json().get("status", "?")] += 1
            else:
                outcome.errors += 1
                if len(outcome.samples) < 3:
                    outcome.samples.append(f"{response.status_code}: {response.text[:200]}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    outcome.seconds = time.perf_counter() - start
    return outcome


async def load(
    base_url: str,
    path: str,
    warmup: list[Delivery],
    measured: list[Delivery],
    concurrency: int,
    server_pid: int,
) -> tuple[Outcome, Outcome]:
    """Send the warm-up, then the measured deliveries (with CPU use), ``concurrency`` at a time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        first = await _send(client, path, warmup, concurrency)
        server_before, client_before = cpu_seconds(server_pid), time.process_time()
        second = await _send(client, path, measured, concurrency)
        server_after, client_after = cpu_seconds(server_pid), time.process_time()
    if second.seconds:
        second.client_cpu = (client_after - client_before) / second.seconds
        if server_before is not None and server_after is not None:
            second.server_cpu = (server_after - server_before) / second.seconds
    return first, second


# one run


@dataclass
class Run:
    """One run's figures and the correctness problems found."""

    backend: str
    deliveries: int
    concurrency: int
    seconds: float
    rate: float
    p50: float
    p95: float
    p99: float
    max: float
    errors: int
    server_cpu: float | None  # share of one core the server used while measured
    client_cpu: float  # share of one core this process (the load generator) used
    problems: list[str]

    @property
    def met(self) -> bool:
        return self.rate >= TARGET_RATE and self.p99 < TARGET_P99_MS


def percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return float("nan")
    rank = max(1, -(-len(sorted_ms) * q // 100))  # ceil(n * q / 100)
    return sorted_ms[int(rank) - 1]


def run(backend: str, pg_url: str | None, args: argparse.Namespace, seed_: int) -> Run:
    secret_key = Fernet.generate_key().decode()
    items = prepare(args.warmup, args.deliveries, args.duplicates, seed_)
    warmup, measured = items[: args.warmup], items[args.warmup :]
    distinct = len({d.delivery_id for d in items})
    redeliveries = len(items) - distinct
    with fresh_database(backend, pg_url) as target:
        database = target.runtime()
        settings = Settings(secret_key=secret_key, database_url=target.url)
        tenant_id, path = seed(database, settings)
        with server(target, secret_key) as (base_url, pid):
            print(f"  {backend}: server pid {pid} on {base_url}", file=sys.stderr, flush=True)
            first, second = asyncio.run(
                load(base_url, path, warmup, measured, args.concurrency, pid)
            )
        with database.unit_of_work(tenant_id, read_only=True) as session:
            signals = int(session.scalar(select(func.count()).select_from(Signal)) or 0)
            batches = int(session.scalar(select(func.count()).select_from(IngestBatch)) or 0)
            counted = int(session.scalar(select(func.sum(IngestBatch.duplicates))) or 0)
        database.dispose()

    statuses = first.statuses + second.statuses
    problems = [f"error response: {s}" for s in first.samples + second.samples]
    if first.errors + second.errors:
        problems.append(f"{first.errors + second.errors} requests were not 2xx")
    checks = {
        "signals stored": (signals, distinct),
        "batches (one per delivery id)": (batches, distinct),
        "'stored' responses": (statuses["stored"], distinct),
        "'duplicate' responses": (statuses["duplicate"], redeliveries),
        "duplicates counted on batches": (counted, redeliveries),
    }
    problems += [
        f"{name}: {got}, expected {want}" for name, (got, want) in checks.items() if got != want
    ]
    ms = sorted(s * 1000 for s in second.latencies)
    result = Run(
        backend=backend,
        deliveries=len(measured),
        concurrency=args.concurrency,
        seconds=second.seconds,
        rate=len(measured) / second.seconds if second.seconds else 0.0,
        p50=percentile(ms, 50),
        p95=percentile(ms, 95),
        p99=percentile(ms, 99),
        max=ms[-1] if ms else float("nan"),
        errors=first.errors + second.errors,
        server_cpu=second.server_cpu,
        client_cpu=second.client_cpu,
        problems=problems,
    )
    server_share = f"{result.server_cpu:.0%}" if result.server_cpu is not None else "?"
    print(
        f"  {backend}: {result.rate:,.0f}/s, p99 {result.p99:.1f} ms; CPU (share of one core): "
        f"server {server_share}, load generator {result.client_cpu:.0%}; {distinct} distinct "
        f"deliveries, {redeliveries} redeliveries, {signals} signals stored",
        file=sys.stderr,
        flush=True,
    )
    if result.client_cpu >= CLIENT_SATURATED:
        print(
            f"  {backend}: warning: the load generator was CPU-bound; the server may be faster "
            "than these figures",
            file=sys.stderr,
            flush=True,
        )
    return result


# the table


def render(runs: list[Run]) -> str:
    header = [
        "backend",
        "deliveries",
        "concurrency",
        "seconds",
        "deliveries/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "targets met",
    ]
    rows = [
        [
            r.backend,
            f"{r.deliveries:,}",
            str(r.concurrency),
            f"{r.seconds:.2f}",
            f"{r.rate:,.0f}",
            f"{r.p50:.1f}",
            f"{r.p95:.1f}",
            f"{r.p99:.1f}",
            f"{r.max:.1f}",
            str(r.errors),
            "yes" if r.met else "no",
        ]
        for r in runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MERITLINE_TEST_POSTGRES_URL") or None,
        help="PostgreSQL URL (default: $MERITLINE_TEST_POSTGRES_URL; unset: SQLite only)",
    )
    parser.add_argument("--deliveries", type=int, default=3000, help="measured deliveries")
    parser.add_argument("--warmup", type=int, default=200, help="deliveries sent first, unmeasured")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--duplicates", type=float, default=0.1, help="share of measured deliveries redelivered"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per backend (median shown)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of ids and redeliveries")
    args = parser.parse_args()
    if args.deliveries < 1 or args.concurrency < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("--deliveries, --concurrency and --repeat must be >= 1, --warmup >= 0")
    if not 0 <= args.duplicates < 1:
        parser.error("--duplicates must be in [0, 1)")

    backends = ["sqlite"] + (["postgres"] if args.postgres_url else [])
    shown: list[Run] = []
    failed: list[str] = []
    for backend in backends:
        runs = [run(backend, args.postgres_url, args, args.seed + i) for i in range(args.repeat)]
        for i, r in enumerate(runs, 1):
            failed += [f"{backend} run {i}: {p}" for p in r.problems]
        by_rate = sorted(runs, key=lambda r: r.rate)
        shown.append(by_rate[(len(by_rate) - 1) // 2])
    title = (
        f"meritline webhook benchmark: one uvicorn worker on loopback, "
        f"{args.duplicates:.0%} redeliveries, warm-up {args.warmup}"
        + (f", median of {args.repeat} runs by deliveries/s" if args.repeat > 1 else "")
    )
    print(title)
    print(f"target: >= {TARGET_RATE:.0f} deliveries/s and p99 < {TARGET_P99_MS:.0f} ms")
    print()
    print(render(shown))
    if failed:
        print("\ncorrectness checks FAILED:", file=sys.stderr)
        for problem in failed:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("\ncorrectness: all responses 2xx; one signal per distinct delivery; duplicates counted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
