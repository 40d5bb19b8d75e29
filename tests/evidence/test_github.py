"""The GitHub connector on GitHub's own example payloads (tests/evidence/fixtures/github)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from meritline.evidence.connectors import webhook_connector, webhook_connectors
from meritline.evidence.connectors.github import GitHubConnector
from meritline.evidence.signals import ExternalAccount, MalformedPayload

FIXTURES = Path(__file__).parent / "fixtures" / "github"
CODERTOCAT = ExternalAccount("github", "Codertocat")
VECTOR = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"  # GitHub's docs


def load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return payload


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_githubs_documented_signature_test_vector_passes() -> None:
    headers = {"x-hub-signature-256": f"sha256={VECTOR}"}
    assert GitHubConnector().verify("It's a Secret to Everybody", b"Hello, World!", headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-hub-signature-256": ""},
        {"x-hub-signature-256": "sha256=" + "0" * 64},
        {"x-hub-signature-256": f"sha1={VECTOR}"},
        {"x-hub-signature-256": f"sha256={VECTOR.upper()}"},
    ],
)
def test_missing_or_wrong_signatures_fail(headers: dict[str, str]) -> None:
    assert not GitHubConnector().verify("It's a Secret to Everybody", b"Hello, World!", headers)


def test_a_signature_over_another_body_fails() -> None:
    body = (FIXTURES / "issues.opened.json").read_bytes()
    signature = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    connector = GitHubConnector()
    assert connector.verify("s3cret", body, {"x-hub-signature-256": signature})
    assert not connector.verify("s3cret", body + b" ", {"x-hub-signature-256": signature})
    assert not connector.verify("other", body, {"x-hub-signature-256": signature})


def test_the_delivery_header_is_the_deduplication_key() -> None:
    connector = GitHubConnector()
    assert connector.delivery_id({"x-github-delivery": "72d3162e-cc78"}) == "72d3162e-cc78"
    assert connector.delivery_id({}) is None


EXPECTED = {
    "pull_request.opened": ("pr_opened", "2019-05-15T15:20:33", 1.0),
    "pull_request.closed": ("pr_closed_unmerged", "2019-05-15T15:21:18", 1.0),
    "pull_request.reopened": ("pr_reopened", None, 1.0),
    "pull_request.synchronize": ("pr_updated", "2019-05-15T15:20:33", 1.0),
    "pull_request_review.submitted": ("pr_review_submitted", "2019-05-15T15:20:38", 1.0),
    "pull_request_review.dismissed": ("pr_review_dismissed", None, 1.0),
    "issues.opened": ("issue_opened", "2019-05-15T15:20:18", 1.0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_yields_its_signal(name: str) -> None:
    event = name.split(".")[0]
    payload = load(name)
    parsed = GitHubConnector().parse(event, payload)
    kind, when, value = EXPECTED[name]
    assert parsed.ignored is None
    (signal,) = parsed.signals
    assert (signal.source, signal.type, signal.account, signal.value) == (
        "github",
        kind,
        CODERTOCAT,
        value,
    )
    if when is not None:
        assert signal.occurred_at == at(when)
    assert signal.occurred_at.tzinfo is not None
    assert signal.attributes["repo"] == "Codertocat/Hello-World"
    assert "title" not in signal.attributes and "body" not in signal.attributes


def test_external_ids_are_stable_and_distinct() -> None:
    connector = GitHubConnector()
    ids = [
        connector.parse(name.split(".")[0], load(name)).signals[0].external_id
        for name in sorted(EXPECTED)
    ]
    again = [
        connector.parse(name.split(".")[0], load(name)).signals[0].external_id
        for name in sorted(EXPECTED)
    ]
    assert ids == again and len(set(ids)) == len(ids)


def test_a_merged_pull_request_is_credited_when_it_merged() -> None:
    payload = load("pull_request.closed")
    payload["pull_request"]["merged"] = True
    payload["pull_request"]["merged_at"] = "2019-05-15T15:21:17Z"
    (signal,) = GitHubConnector().parse("pull_request", payload).signals
    assert (signal.type, signal.occurred_at) == ("pr_merged", at("2019-05-15T15:21:17"))
    assert signal.attributes["additions"] == 1 and signal.attributes["changed_files"] == 1


def test_review_states_and_review_requests() -> None:
    payload = load("pull_request_review.submitted")
    payload["review"]["state"] = "APPROVED"
    (signal,) = GitHubConnector().parse("pull_request_review", payload).signals
    assert signal.attributes["state"] == "approved"
    requested = load("pull_request.opened")
    requested["action"] = "review_requested"
    requested["requested_reviewer"] = {"login": "octocat"}
    (signal,) = GitHubConnector().parse("pull_request", requested).signals
    assert (signal.type, signal.account.value) == ("pr_review_requested", "octocat")
    requested.pop("requested_reviewer")
    requested["requested_team"] = {"slug": "justice-league"}
    assert GitHubConnector().parse("pull_request", requested).ignored == (
        "review requested from a team"
    )


def test_issue_closed_and_push() -> None:
    closed = load("issues.opened")
    closed["action"] = "closed"
    closed["issue"]["closed_at"] = "2019-05-16T10:00:00Z"
    (signal,) = GitHubConnector().parse("issues", closed).signals
    assert (signal.type, signal.occurred_at) == ("issue_closed", at("2019-05-16T10:00:00"))
    push = {
        "ref": "refs/heads/main",
        "after": "abc123",
        "repository": {"full_name": "Codertocat/Hello-World"},
        "sender": {"login": "Codertocat"},
        "commits": [
            {"timestamp": "2019-05-15T15:20:30-07:00"},
            {"timestamp": "2019-05-15T15:20:31-07:00"},
        ],
        "head_commit": {"timestamp": "2019-05-15T15:20:31-07:00"},
    }
    (signal,) = GitHubConnector().parse("push", push).signals
    assert (signal.type, signal.value) == ("commits_pushed", 2.0)
    assert signal.occurred_at == at("2019-05-15T22:20:31")  # converted to UTC
    assert GitHubConnector().parse("push", {**push, "commits": []}).ignored


@pytest.mark.parametrize(
    "event,action",
    [
        ("ping", None),
        ("star", "created"),
        ("issues", "labeled"),
        ("pull_request", "labeled"),
        ("pull_request_review", "edited"),
    ],
)
def test_other_events_and_actions_are_ignored_with_a_reason(event: str, action: str | None) -> None:
    payload = load("pull_request.opened") if event != "issues" else load("issues.opened")
    payload["action"] = action
    parsed = GitHubConnector().parse(event, payload)
    assert parsed.signals == () and parsed.ignored


def test_a_payload_missing_what_its_event_needs_is_malformed() -> None:
    payload = load("pull_request.opened")
    del payload["pull_request"]["user"]
    with pytest.raises(MalformedPayload, match="user"):
        GitHubConnector().parse("pull_request", payload)
    with pytest.raises(MalformedPayload):
        GitHubConnector().parse("pull_request", {"action": "opened"})


def test_the_connector_is_found_through_its_entry_point() -> None:
    assert webhook_connector("github") is GitHubConnector
    assert "github" in webhook_connectors()
