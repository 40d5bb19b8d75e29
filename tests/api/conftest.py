"""A real server on loopback, serving two committed tenants, for the HTTP API tests.

The server runs in another thread, so it cannot share the rolled-back ``db`` fixture's
connection: the data is committed on the runtime engine, in tenants with unique slugs.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.api.app import create_app
from meritline.config import Settings
from meritline.db.session import Database
from tests.fixtures.database import MigratedDatabase
from tests.fixtures.factories import import_lines, new_tenant, person_line

#: Small enough that every listing below spans several pages.
PAGE_SIZE_MAX = 3

#: Tenant A: E1 is the CEO; M1 runs Eng, M2 runs Sales; H1 is the hrbp of Eng.
#: X1 sits in "Engineering", which is not under "Eng" although its path starts with it.
ORG_A = [
    person_line("E1", "", "Exec"),
    person_line("M1", "E1", "Eng"),
    person_line("M2", "E1", "Sales"),
    person_line("I1", "M1", "Eng/Platform", gender="Male", birth_year="1985"),
    person_line("I2", "M1", "Eng/Data"),
    person_line("I3", "I1", "Eng/Platform"),
    person_line("S1", "M2", "Sales"),
    person_line("S2", "M2", "Sales/EMEA"),
    person_line("X1", "M2", "Engineering"),
    person_line("H1", "E1", "People"),
]
EVERYONE_A = {"E1", "M1", "M2", "I1", "I2", "I3", "S1", "S2", "X1", "H1"}

#: Tenant B reuses the number E1 (another person) and has B9, unknown to tenant A.
ORG_B = [
    person_line("E1", "", "Ops", name="Bea Other", email="bea@b.example.com"),
    person_line("B9", "E1", "Ops", email="b9@b.example.com"),
]

#: Token name -> (employee number, role, hrbp org units) in tenant A.
TOKENS_A = {
    "ceo": ("E1", "manager", None),
    "m1": ("M1", "manager", None),
    "m2": ("M2", "manager", None),
    "i1_manager": ("I1", "manager", None),
    "i1": ("I1", "employee", None),
    "calibrator": ("I2", "calibrator", None),
    "hrbp": ("H1", "hrbp", ["Eng"]),
    "admin": ("M2", "admin", None),
    "analyst": ("S1", "people_analyst", None),
    "legal": ("S2", "legal", None),
}


@dataclass(frozen=True)
class Live:
    """The running server, its database and the two tenants' ids and tokens."""

    client: httpx.Client
    database: Database
    tenant_a: int
    tenant_b: int
    tokens: dict[str, str]  # tenant A's, by name in TOKENS_A
    token_ids: dict[str, int]
    token_b: str  # tenant B's admin

    def get(self, path: str, token: str | None = None, **params: object) -> httpx.Response:
        """GET ``path`` as ``token`` (a name in ``tokens``, or a raw token string)."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        return self.client.get(path, headers=headers, params=params)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread on a free loopback port."""
    sock = socket.socket()
    # accepted connections inherit this; without it each response waits ~40 ms (Nagle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))  # handing uvicorn the bound socket leaves no port race
    host, port = sock.getsockname()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the server thread died while starting"
        assert time.monotonic() < deadline, "the server did not start within 10 s"
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def issue_tokens(
    database: Database, tenant_id: int, wanted: dict[str, tuple[str, str, list[str] | None]]
) -> dict[str, tuple[str, int]]:
    """Create tokens in one committed unit of work; return (secret, id) by name."""
    operator = Subject.operator(tenant_id)
    created = {}
    with database.unit_of_work(tenant_id) as session:
        for name, (number, role, units) in wanted.items():
            token = access.create_token(
                session, operator, employee_number=number, role=role, org_unit_paths=units
            )
            created[name] = (token.token, token.id)
    return created


@pytest.fixture(scope="module")
def live(migrated: MigratedDatabase) -> Iterator[Live]:
    """Two committed tenants and a server on loopback, per backend."""
    database = Database(migrated.engine)
    run = uuid.uuid4().hex[:12]
    tenant_a = new_tenant(database, f"api-a-{run}")
    tenant_b = new_tenant(database, f"api-b-{run}")
    import_lines(database, tenant_a, ORG_A)
    import_lines(database, tenant_b, ORG_B)
    tokens_a = issue_tokens(database, tenant_a.tenant_id, TOKENS_A)
    tokens_b = issue_tokens(database, tenant_b.tenant_id, {"admin": ("E1", "admin", None)})
    app = create_app(Settings(api_page_size_max=PAGE_SIZE_MAX), database)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        yield Live(
            client=client,
            database=database,
            tenant_a=tenant_a.tenant_id,
            tenant_b=tenant_b.tenant_id,
            tokens={name: secret for name, (secret, _) in tokens_a.items()},
            token_ids={name: token_id for name, (_, token_id) in tokens_a.items()},
            token_b=tokens_b["admin"][0],
        )
