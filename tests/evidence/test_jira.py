"""The Jira Cloud connector."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from meritline.evidence.connectors import webhook_connector
from meritline.evidence.connectors.jira import JiraConnector
from meritline.evidence.signals import ExternalAccount, MalformedPayload

FIXTURES = Path(__file__).parent / "fixtures" / "jira"
EMMA = ExternalAccount("jira", "5b10ac8d82e05b22cc7d4ef5")
MIA = ExternalAccount("jira", "5b10a2844c20165700ede21g")


def load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return payload


def test_signature_and_delivery_headers() -> None:
    body = (FIXTURES / "jira_issue_created.json").read_bytes()
    signature = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    connector = JiraConnector()
    assert connector.verify("k", body, {"x-hub-signature": signature})
    assert not connector.verify("k", body, {"x-hub-signature-256": signature})
    assert not connector.verify("other", body, {"x-hub-signature": signature})
    assert connector.delivery_id({"x-atlassian-webhook-identifier": "1234"}) == "1234"


def test_an_issue_created_is_credited_to_its_reporter() -> None:
    payload = load("jira_issue_created")
    connector = JiraConnector()
    (signal,) = connector.parse(connector.event({}, payload), payload).signals
    assert (signal.type, signal.account, signal.value) == ("issue_created", MIA, 1.0)
    assert signal.occurred_at == datetime(2024, 11, 18, 10, 40, tzinfo=UTC)
    assert signal.attributes == {
        "issue": "PLAT-42",
        "project": "PLAT",
        "issuetype": "Story",
        "story_points": 3.0,
    }


def test_a_transition_to_done_is_a_resolution_with_story_points() -> None:
    payload = load("jira_issue_updated.resolved")
    (signal,) = JiraConnector().parse("jira:issue_updated", payload).signals
    assert (signal.type, signal.account, signal.value) == ("issue_resolved", EMMA, 5.0)
    assert signal.occurred_at == datetime.fromtimestamp(1732201200, UTC)
    assert (signal.attributes["from_status"], signal.attributes["to_status"]) == (
        "In Progress",
        "Done",
    )
    assert signal.external_id == "issue:10042:resolved:10315"
    assert "summary" not in json.dumps(signal.attributes)


def test_without_story_points_the_value_is_one_and_without_assignee_the_actor_counts() -> None:
    payload = load("jira_issue_updated.resolved")
    payload["issue"]["fields"].pop("customfield_10016")
    payload["issue"]["fields"]["assignee"] = None
    (signal,) = JiraConnector().parse("jira:issue_updated", payload).signals
    assert (signal.value, signal.attributes["story_points"], signal.account) == (1.0, None, EMMA)


@pytest.mark.parametrize("change", ["no_status_item", "not_done", "other_event"])
def test_other_updates_and_events_are_ignored(change: str) -> None:
    payload = copy.deepcopy(load("jira_issue_updated.resolved"))
    event = "jira:issue_updated"
    if change == "no_status_item":
        payload["changelog"]["items"] = payload["changelog"]["items"][:1]
    elif change == "not_done":
        payload["issue"]["fields"]["status"]["statusCategory"]["key"] = "indeterminate"
    else:
        event = "comment_created"
    parsed = JiraConnector().parse(event, payload)
    assert parsed.signals == () and parsed.ignored


def test_a_broken_payload_is_malformed() -> None:
    payload = load("jira_issue_updated.resolved")
    payload["timestamp"] = "yesterday"
    with pytest.raises(MalformedPayload, match="epoch"):
        JiraConnector().parse("jira:issue_updated", payload)
    with pytest.raises(MalformedPayload):
        JiraConnector().parse("jira:issue_created", {"webhookEvent": "jira:issue_created"})


def test_the_connector_is_found_through_its_entry_point() -> None:
    assert webhook_connector("jira") is JiraConnector
