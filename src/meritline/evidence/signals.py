"""What a connector produces: drafts of signals, before identity resolution and storage."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class ExternalAccount:
    """A person as a work tool knows them (a GitHub login, a Jira accountId, an e-mail).

    ``email`` is the address the tool reports for the account, when it does: an account nobody
    has mapped yet is matched to the employee with that address (and the mapping recorded).
    """

    kind: str
    value: str
    email: str | None = None


def account_of(kind: str, user: Any, id_key: str, email_key: str) -> ExternalAccount:
    """The account a tool's user object names (``user[id_key]``), with the e-mail address it
    reports under ``email_key`` as a hint when that looks like one.
    """
    email = user.get(email_key) if isinstance(user, dict) else None
    hint = email.strip().lower() if isinstance(email, str) and "@" in email else None
    return ExternalAccount(kind, str(field(user, id_key)), hint)


@dataclass(frozen=True)
class SignalDraft:
    """One piece of evidence about one (not yet resolved) person.

    ``external_id`` is unique per source: ingesting the same draft twice stores one signal.
    """

    source: str
    type: str
    account: ExternalAccount
    occurred_at: datetime
    external_id: str
    value: float = 1.0
    attributes: dict[str, Any] = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")


@dataclass(frozen=True)
class ParsedDelivery:
    """The signals one delivery yields, or why it yields none (counted as ignored)."""

    signals: tuple[SignalDraft, ...] = ()
    ignored: str | None = None


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp as tools send it (``Z`` or an offset) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(UTC)


class MalformedPayload(ValueError):
    """A payload that is valid JSON but lacks what its event must carry."""


def field(payload: Any, *path: str) -> Any:
    """``payload[path[0]][path[1]]...``, or ``MalformedPayload`` naming the missing key."""
    current = payload
    for i, key in enumerate(path):
        if not isinstance(current, dict) or current.get(key) is None:
            raise MalformedPayload(f"payload has no {'.'.join(path[: i + 1])}")
        current = current[key]
    return current


@dataclass(frozen=True)
class RejectedRow:
    """A line of an import file that cannot become a signal: it goes to quarantine as is."""

    line: int
    reason: str
    raw: str
