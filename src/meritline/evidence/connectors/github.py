"""GitHub webhooks: pull requests, reviews, issues and pushes.

| event, action | signal (the person) |
| --- | --- |
| ``pull_request`` opened | ``pr_opened`` (author), value 1; attributes repo, number, size |
| ``pull_request`` closed, merged | ``pr_merged`` (author) |
| ``pull_request`` closed, not merged | ``pr_closed_unmerged`` (author) |
| ``pull_request`` reopened | ``pr_reopened`` (author) |
| ``pull_request`` synchronize | ``pr_updated`` (the sender, who pushed) |
| ``pull_request`` review_requested | ``pr_review_requested`` (the requested reviewer) |
| ``pull_request_review`` submitted | ``pr_review_submitted`` (reviewer); attribute ``state`` |
| ``pull_request_review`` dismissed | ``pr_review_dismissed`` (reviewer) |
| ``issues`` opened | ``issue_opened`` (author) |
| ``issues`` closed | ``issue_closed`` (the sender, who closed it) |
| ``push`` | ``commits_pushed`` (pusher), value = number of commits |

Anything else is acknowledged and counted as ignored. Titles and bodies are never kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from meritline.evidence.connectors.base import WebhookConnector
from meritline.evidence.signals import (
    ExternalAccount,
    MalformedPayload,
    ParsedDelivery,
    SignalDraft,
    account_of,
    field,
    parse_timestamp,
)

SOURCE = "github"
REVIEW_STATES = {"approved", "changes_requested", "commented"}


def _account(user: Any) -> ExternalAccount:
    return account_of("github", user, "login", "email")


def _one(
    kind: str,
    user: Any,
    when: str,
    external_id: str,
    attributes: dict[str, Any],
    value: float = 1.0,
) -> ParsedDelivery:
    """A delivery that yields one signal about ``user`` at ``when`` (GitHub's ISO time)."""
    draft = SignalDraft(
        SOURCE, kind, _account(user), parse_timestamp(when), external_id, value, attributes
    )
    return ParsedDelivery((draft,))


def _pr_attributes(payload: Mapping[str, Any]) -> dict[str, Any]:
    pr = field(payload, "pull_request")
    attributes = {"repo": field(payload, "repository", "full_name"), "number": field(pr, "number")}
    for size in ("additions", "deletions", "changed_files", "commits"):
        if isinstance(pr.get(size), int):
            attributes[size] = pr[size]
    return attributes


def _pr_key(payload: Mapping[str, Any]) -> str:
    return f"{field(payload, 'repository', 'full_name')}#{field(payload, 'pull_request', 'number')}"


def _pull_request(action: str, payload: Mapping[str, Any]) -> ParsedDelivery:
    pr = field(payload, "pull_request")
    key, attributes = _pr_key(payload), _pr_attributes(payload)
    updated = field(pr, "updated_at")
    if action == "synchronize":
        push = f"pr:{key}:push:{field(payload, 'after')}"
        return _one("pr_updated", field(payload, "sender"), updated, push, attributes)
    if action == "review_requested":
        reviewer = payload.get("requested_reviewer")
        if reviewer is None:  # a team was requested: no one person to credit
            return ParsedDelivery(ignored="review requested from a team")
        request = f"pr:{key}:review_requested:{field(reviewer, 'login')}:{updated}"
        return _one("pr_review_requested", reviewer, updated, request, attributes)
    if action == "opened":
        kind, when = "pr_opened", field(pr, "created_at")
    elif action == "closed" and pr.get("merged"):
        kind, when = "pr_merged", field(pr, "merged_at")
    elif action == "closed":
        kind, when = "pr_closed_unmerged", field(pr, "closed_at")
    elif action == "reopened":
        kind, when = "pr_reopened", updated
    else:
        return ParsedDelivery(ignored=f"pull_request action {action!r} is not evidence")
    return _one(kind, field(pr, "user"), when, f"pr:{key}:{kind}:{when}", attributes)


def _pull_request_review(action: str, payload: Mapping[str, Any]) -> ParsedDelivery:
    review = field(payload, "review")
    key = f"review:{_pr_key(payload)}:{field(review, 'id')}"
    attributes = {**_pr_attributes(payload), "review_id": review["id"]}
    reviewer = field(review, "user")
    if action == "submitted":
        state = str(field(review, "state")).lower()
        if state not in REVIEW_STATES:
            return ParsedDelivery(ignored=f"review state {state!r} is not evidence")
        return _one(
            "pr_review_submitted",
            reviewer,
            field(review, "submitted_at"),
            f"{key}:submitted",
            {**attributes, "state": state},
        )
    if action == "dismissed":
        when = field(payload, "pull_request", "updated_at")
        return _one("pr_review_dismissed", reviewer, when, f"{key}:dismissed", attributes)
    return ParsedDelivery(ignored=f"pull_request_review action {action!r} is not evidence")


def _issues(action: str, payload: Mapping[str, Any]) -> ParsedDelivery:
    issue = field(payload, "issue")
    key = f"{field(payload, 'repository', 'full_name')}#{field(issue, 'number')}"
    attributes = {"repo": payload["repository"]["full_name"], "number": issue["number"]}
    if action == "opened":
        kind, who, when = "issue_opened", field(issue, "user"), field(issue, "created_at")
    elif action == "closed":
        kind, who, when = "issue_closed", field(payload, "sender"), field(issue, "closed_at")
    else:
        return ParsedDelivery(ignored=f"issues action {action!r} is not evidence")
    return _one(kind, who, when, f"issue:{key}:{kind}:{when}", attributes)


def _push(_action: str, payload: Mapping[str, Any]) -> ParsedDelivery:
    commits = payload.get("commits") or []
    if not commits:
        return ParsedDelivery(ignored="push without commits (a branch created or deleted)")
    head = payload.get("head_commit") or commits[-1]
    repo = field(payload, "repository", "full_name")
    pusher = payload.get("pusher")
    pusher = pusher if isinstance(pusher, dict) else {}
    sender = {**field(payload, "sender"), "email": pusher.get("email")}  # the pusher's address
    return _one(
        "commits_pushed",
        sender,
        field(head, "timestamp"),
        f"push:{repo}:{field(payload, 'after')}",
        {"repo": repo, "ref": payload.get("ref")},
        value=float(len(commits)),
    )


Handler = Callable[[str, Mapping[str, Any]], ParsedDelivery]

#: event -> (its handler, the actions that are evidence; None: every delivery is)
HANDLERS: dict[str, tuple[Handler, frozenset[str] | None]] = {
    "pull_request": (
        _pull_request,
        frozenset({"opened", "closed", "reopened", "synchronize", "review_requested"}),
    ),
    "pull_request_review": (_pull_request_review, frozenset({"submitted", "dismissed"})),
    "issues": (_issues, frozenset({"opened", "closed"})),
    "push": (_push, None),
}


class GitHubConnector(WebhookConnector):
    """GitHub repository and organisation webhooks (``application/json`` content type)."""

    type = "github"
    signature_header = "x-hub-signature-256"
    delivery_header = "x-github-delivery"
    event_header = "x-github-event"

    def parse(self, event: str, payload: Mapping[str, Any]) -> ParsedDelivery:
        """Map one GitHub event to signals (see the module's table)."""
        if event not in HANDLERS:
            return ParsedDelivery(ignored=f"event {event!r} is not evidence")
        handler, actions = HANDLERS[event]
        action = str(payload.get("action") or "")
        if actions is not None and action not in actions:
            return ParsedDelivery(ignored=f"{event} action {action!r} is not evidence")
        try:
            return handler(action, payload)
        except (TypeError, AttributeError, KeyError) as exc:
            raise MalformedPayload(f"{event} payload is not as GitHub sends it: {exc}") from None
