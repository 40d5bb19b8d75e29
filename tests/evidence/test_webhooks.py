"""Webhooks over real HTTP on loopback, on each backend: GitHub's example payloads, signatures,
malformed and oversized bodies, redeliveries (also ten at once), unknown people, Jira.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from meritline.access.subject import Subject
from meritline.api.app import create_app
from meritline.config import Settings
from meritline.db.session import Database
from meritline.evidence import identities, ingestion
from meritline.evidence.connectors.github import GitHubConnector
from meritline.evidence.connectors.jira import JiraConnector
from meritline.models import IngestBatch, QuarantinedEvent, Signal
from tests.api.conftest import serve
from tests.fixtures.database import MigratedDatabase
from tests.fixtures.factories import import_lines, new_tenant, person_line

FIXTURES = Path(__file__).parent / "fixtures"
GITHUB_SECRET = "It's a Secret to Everybody"
JIRA_SECRET = "jira-webhook-secret-0123456789"


@dataclass(frozen=True)
class Hooks:
    client: httpx.Client
    database: Database
    tenant_id: int
    github_path: str
    jira_path: str

    def post(
        self,
        path: str,
        body: bytes,
        *,
        secret: str = GITHUB_SECRET,
        headers: dict[str, str] | None = None,
        signature_header: str = "X-Hub-Signature-256",
    ) -> httpx.Response:
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        sent = {"Content-Type": "application/json", signature_header: signature, **(headers or {})}
        return self.client.post(path, content=body, headers=sent)

    def github(self, event: str, body: bytes, delivery: str | None = None) -> httpx.Response:
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4())}
        return self.post(self.github_path, body, headers=headers)

    def count(self, model: Any, *where: Any) -> int:
        with self.database.unit_of_work(self.tenant_id, read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def signal_types(self, batch_id: int | None = None) -> Counter[str]:
        with self.database.unit_of_work(self.tenant_id, read_only=True) as session:
            query = select(Signal.type)
            if batch_id is not None:
                query = query.where(Signal.batch_id == batch_id)
            return Counter(session.scalars(query))


@pytest.fixture(scope="module")
def hooks(migrated: MigratedDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooks]:
    """A committed tenant whose E1 is GitHub's Codertocat, with GitHub and Jira connectors."""
    database = Database(migrated.engine)
    operator = new_tenant(database, f"hooks-{uuid.uuid4().hex[:10]}")
    import_lines(database, operator, [person_line("E1"), person_line("E2", "E1")])
    settings = Settings(secret_key=Fernet.generate_key().decode())
    with database.unit_of_work(operator.tenant_id) as session:
        identities.add_mapping(
            session, operator, kind="github", value="Codertocat", employee_number="E1"
        )
        github = ingestion.add_connector(
            session, operator, settings, connector_type="github", secret=GITHUB_SECRET
        )
        jira = ingestion.add_connector(
            session, operator, settings, connector_type="jira", secret=JIRA_SECRET
        )
    app = create_app(settings, database)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield Hooks(client, database, operator.tenant_id, github.webhook_path, jira.webhook_path)


@pytest.mark.parametrize(
    "fixture", sorted(p.stem for p in (FIXTURES / "github").glob("*.json")), ids=str
)
def test_every_github_example_payload_is_accepted_and_stored_as_parsed(
    hooks: Hooks, fixture: str
) -> None:
    body = (FIXTURES / "github" / f"{fixture}.json").read_bytes()
    event = fixture.split(".")[0]
    expected = GitHubConnector().parse(event, json.loads(body))

    response = hooks.github(event, body)

    assert response.status_code == 200, response.text
    result = response.json()
    if expected.ignored:
        assert result["status"] == "ignored"
        return
    assert result["status"] in {"stored", "quarantined"}
    with hooks.database.unit_of_work(hooks.tenant_id, read_only=True) as session:
        batch_id = session.scalar(
            select(IngestBatch.id).where(IngestBatch.delivery_id == result["delivery"])
        )
        stored = Counter(session.scalars(select(Signal.type).where(Signal.batch_id == batch_id)))
    # a payload delivered again in another test may already be stored: then it is a duplicate
    assert result["signals"] + result["duplicates"] + result["quarantined"] == len(expected.signals)
    assert sum(stored.values()) == result["signals"]
    assert set(stored) <= {draft.type for draft in expected.signals}


def test_the_same_delivery_twice_stores_once_and_counts_the_duplicate(hooks: Hooks) -> None:
    body = (FIXTURES / "github" / "pull_request.reopened.json").read_bytes()
    payload = json.loads(body)
    payload["pull_request"]["number"] = 90_001  # an event no other test sends
    body = json.dumps(payload).encode()
    delivery = str(uuid.uuid4())

    first = hooks.github("pull_request", body, delivery)
    again = hooks.github("pull_request", body, delivery)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["signals"] == 1
    assert again.json()["status"] == "duplicate"
    assert hooks.count(IngestBatch, IngestBatch.delivery_id == delivery) == 1
    with hooks.database.unit_of_work(hooks.tenant_id, read_only=True) as session:
        duplicates = session.scalar(
            select(IngestBatch.duplicates).where(IngestBatch.delivery_id == delivery)
        )
    assert duplicates == 1


def test_ten_concurrent_deliveries_with_one_id_store_exactly_one_signal(hooks: Hooks) -> None:
    payload = json.loads((FIXTURES / "github" / "pull_request.opened.json").read_bytes())
    payload["pull_request"]["number"] = 90_002
    body = json.dumps(payload).encode()
    delivery = str(uuid.uuid4())

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(
            pool.map(lambda _: hooks.github("pull_request", body, delivery), range(10))
        )

    assert [r.status_code for r in responses] == [200] * 10
    statuses = Counter(r.json()["status"] for r in responses)
    assert statuses == {"stored": 1, "duplicate": 9}
    assert hooks.count(Signal, Signal.external_id.contains("90002")) == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=abc", "signed-with-another-secret"],
)
def test_bad_or_missing_signatures_get_401_and_write_nothing(
    hooks: Hooks, signature: str | None
) -> None:
    body = (FIXTURES / "github" / "issues.opened.json").read_bytes()
    delivery = str(uuid.uuid4())
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery}
    if signature == "signed-with-another-secret":
        response = hooks.post(hooks.github_path, body, secret="not the secret", headers=headers)
    else:
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        response = hooks.client.post(hooks.github_path, content=body, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert hooks.count(IngestBatch, IngestBatch.delivery_id == delivery) == 0


def test_malformed_json_gets_400_and_writes_nothing(hooks: Hooks) -> None:
    delivery = str(uuid.uuid4())
    response = hooks.github("issues", b'{"action": "opened",', delivery)
    assert response.status_code == 400
    assert hooks.count(IngestBatch, IngestBatch.delivery_id == delivery) == 0


def test_a_body_over_25_mb_gets_413(hooks: Hooks) -> None:
    body = b'{"pad": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    delivery = str(uuid.uuid4())
    response = hooks.github("issues", body, delivery)
    assert response.status_code == 413
    assert hooks.count(IngestBatch, IngestBatch.delivery_id == delivery) == 0


def test_an_unknown_webhook_id_is_404(hooks: Hooks) -> None:
    body = b"{}"
    assert hooks.post("/webhooks/github/wh_1_nosuchconnector", body).status_code == 404
    assert hooks.post("/webhooks/github/garbage", body).status_code == 404
    jira_id = hooks.jira_path.rsplit("/", 1)[1]
    assert hooks.post(f"/webhooks/github/{jira_id}", body).status_code == 404


def test_an_unknown_person_is_quarantined_then_retried_after_mapping(hooks: Hooks) -> None:
    payload = json.loads((FIXTURES / "github" / "pull_request.opened.json").read_bytes())
    payload["pull_request"]["number"] = 90_003
    payload["pull_request"]["user"]["login"] = "new-hire-9"
    body = json.dumps(payload).encode()

    response = hooks.github("pull_request", body)

    assert response.status_code == 200
    assert response.json()["status"] == "quarantined"
    held = QuarantinedEvent.account_value == "new-hire-9"
    assert hooks.count(QuarantinedEvent, held, QuarantinedEvent.status == "open") == 1
    with hooks.database.unit_of_work(hooks.tenant_id) as session:
        operator = Subject.operator(hooks.tenant_id)
        identities.add_mapping(
            session, operator, kind="github", value="new-hire-9", employee_number="E2"
        )
        retried = ingestion.retry(session, operator)
    assert retried.signals >= 1
    assert hooks.count(QuarantinedEvent, held, QuarantinedEvent.status == "resolved") == 1
    assert hooks.count(Signal, Signal.external_id.contains("90003")) == 1


def test_other_events_get_2xx_and_count_as_ignored(hooks: Hooks) -> None:
    response = hooks.github("star", b'{"action": "created"}')
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"


def test_jira_resolution_becomes_issue_resolved_with_story_points(hooks: Hooks) -> None:
    body = (FIXTURES / "jira" / "jira_issue_updated.resolved.json").read_bytes()
    payload = json.loads(body)
    expected = JiraConnector().parse(JiraConnector().event({}, payload), payload)
    account = expected.signals[0].account
    with hooks.database.unit_of_work(hooks.tenant_id) as session:
        operator = Subject.operator(hooks.tenant_id)
        identities.add_mapping(
            session, operator, kind="jira", value=account.value, employee_number="E2"
        )
    delivery = str(uuid.uuid4())
    headers = {"X-Atlassian-Webhook-Identifier": delivery}

    response, again = (
        hooks.post(
            hooks.jira_path,
            body,
            secret=JIRA_SECRET,
            headers=headers,
            signature_header="X-Hub-Signature",
        )
        for _ in range(2)
    )

    assert response.status_code == 200, response.text
    assert response.json()["signals"] + response.json()["duplicates"] == len(expected.signals)
    assert again.json()["status"] == "duplicate"
    resolved = [d for d in expected.signals if d.type == "issue_resolved"]
    assert resolved, "the fixture resolves an issue"
    with hooks.database.unit_of_work(hooks.tenant_id, read_only=True) as session:
        value = session.scalar(
            select(Signal.value).where(Signal.external_id == resolved[0].external_id)
        )
    assert value == resolved[0].value
