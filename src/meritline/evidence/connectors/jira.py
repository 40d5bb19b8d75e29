"""Jira Cloud webhooks: issues created, and issues resolved (with their story points).

* ``jira:issue_created``: ``issue_created``, credited to the reporter (else the acting user).
* ``jira:issue_updated`` whose changelog moves the status into a *done* category:
  ``issue_resolved``, credited to the assignee (else the acting user); the value is the
  story points when the issue has them, else 1.

Other events, and updates without such a transition, are acknowledged and counted as ignored.
Summaries and descriptions are never kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

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

SOURCE = "jira"


def _account(user: Any) -> ExternalAccount:
    return account_of("jira", user, "accountId", "emailAddress")


def _event_time(payload: Mapping[str, Any]) -> datetime:
    stamp = field(payload, "timestamp")
    if not isinstance(stamp, int | float):
        raise MalformedPayload("payload timestamp is not epoch milliseconds")
    return datetime.fromtimestamp(stamp / 1000, UTC)


class JiraConnector(WebhookConnector):
    """Jira Cloud webhooks (registered with a secret, so deliveries are signed)."""

    type = "jira"
    signature_header = "x-hub-signature"
    delivery_header = "x-atlassian-webhook-identifier"
    #: Where sites keep story points (the first numeric one found wins).
    story_points_fields: ClassVar[tuple[str, ...]] = (
        "customfield_10016",
        "customfield_10026",
        "customfield_10028",
        "customfield_10002",
    )

    def event(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        """Jira names the event in the body."""
        return str(payload.get("webhookEvent") or "")

    def parse(self, event: str, payload: Mapping[str, Any]) -> ParsedDelivery:
        """Map one Jira event to signals (see the module's table)."""
        try:
            if event == "jira:issue_created":
                return self._created(payload)
            if event == "jira:issue_updated":
                return self._updated(payload)
        except (TypeError, AttributeError, KeyError) as exc:
            raise MalformedPayload(f"{event} payload is not as Jira sends it: {exc}") from None
        return ParsedDelivery(ignored=f"event {event!r} is not evidence")

    def _attributes(self, issue: Mapping[str, Any]) -> dict[str, Any]:
        fields = field(issue, "fields")
        attributes: dict[str, Any] = {
            "issue": field(issue, "key"),
            "project": (fields.get("project") or {}).get("key"),
            "issuetype": (fields.get("issuetype") or {}).get("name"),
        }
        points = next(
            (
                float(fields[name])
                for name in self.story_points_fields
                if isinstance(fields.get(name), int | float) and not isinstance(fields[name], bool)
            ),
            None,
        )
        attributes["story_points"] = points
        return attributes

    def _created(self, payload: Mapping[str, Any]) -> ParsedDelivery:
        issue = field(payload, "issue")
        fields = field(issue, "fields")
        who = fields.get("reporter") or field(payload, "user")
        when = parse_timestamp(fields["created"]) if fields.get("created") else _event_time(payload)
        draft = SignalDraft(
            SOURCE,
            "issue_created",
            _account(who),
            when,
            f"issue:{field(issue, 'id')}:created",
            1.0,
            self._attributes(issue),
        )
        return ParsedDelivery((draft,))

    def _updated(self, payload: Mapping[str, Any]) -> ParsedDelivery:
        issue = field(payload, "issue")
        items = (payload.get("changelog") or {}).get("items") or []
        transition = next(
            (i for i in items if i.get("fieldId") == "status" or i.get("field") == "status"),
            None,
        )
        if transition is None:
            return ParsedDelivery(ignored="issue update without a status change")
        category = field(issue, "fields", "status").get("statusCategory") or {}
        if category.get("key") != "done":
            return ParsedDelivery(ignored="status change not into a done category")
        fields = issue["fields"]
        who = fields.get("assignee") or field(payload, "user")
        attributes = {
            **self._attributes(issue),
            "from_status": transition.get("fromString"),
            "to_status": transition.get("toString"),
        }
        changelog_id = field(payload, "changelog", "id")
        draft = SignalDraft(
            SOURCE,
            "issue_resolved",
            _account(who),
            _event_time(payload),
            f"issue:{field(issue, 'id')}:resolved:{changelog_id}",
            attributes["story_points"] or 1.0,
            attributes,
        )
        return ParsedDelivery((draft,))
