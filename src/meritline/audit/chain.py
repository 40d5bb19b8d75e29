"""Pure hash-chain functions: canonical encoding, link hashes and verification.

Each event's hash covers only identifiers, the action and the hash of its payload, so erasing a
payload (a data-subject request) never breaks the chain:

    hash_n = SHA-256(canonical({tenant_id, seq, occurred_at, actor, action, entity_type,
                                entity_id, payload_hash, prev_hash = hash_{n-1}}))

with ``hash_0 = "0" * 64``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} in an audit record")


def canonical(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON (sorted keys, no whitespace, UTC timestamps)."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    ).encode()


def jsonable(payload: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return ``payload`` as plain JSON data (dates as ISO strings), as it will be stored."""
    if payload is None:
        return None
    loaded: dict[str, Any] = json.loads(canonical(payload))
    return loaded


def payload_hash(payload: Mapping[str, Any] | None) -> str:
    """SHA-256 of the canonical payload (of ``null`` when there is none)."""
    return hashlib.sha256(canonical(payload)).hexdigest()


@dataclass(frozen=True)
class Link:
    """The chained fields of one audit event."""

    tenant_id: int
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    payload_hash: str
    prev_hash: str

    def hash(self) -> str:
        """The hash of this link."""
        return hashlib.sha256(
            canonical(
                {
                    "tenant_id": self.tenant_id,
                    "seq": self.seq,
                    "occurred_at": self.occurred_at,
                    "actor": self.actor,
                    "action": self.action,
                    "entity_type": self.entity_type,
                    "entity_id": self.entity_id,
                    "payload_hash": self.payload_hash,
                    "prev_hash": self.prev_hash,
                }
            )
        ).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """An audit event as read back from the database."""

    link: Link
    hash: str
    payload: dict[str, Any] | None
    payload_erased: bool = False


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold."""

    seq: int
    reason: str


def first_break(
    events: Iterable[StoredEvent], *, head_seq: int, head_hash: str
) -> tuple[int, Break | None]:
    """Walk events in ``seq`` order; return how many were checked and the first break, if any.

    Detects edited rows (hash or payload mismatch), deleted rows (a gap, or a tail shorter than
    the head), inserted rows (a duplicate or unexpected sequence number, a wrong ``prev_hash``)
    and reordered rows (a ``prev_hash`` that is not the previous event's hash).
    """
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in events:
        link = event.link
        checked += 1
        if link.seq != expected_seq:
            missing = min(link.seq, expected_seq)
            return checked, Break(missing, f"expected sequence {expected_seq}, found {link.seq}")
        if link.prev_hash != prev_hash:
            return checked, Break(link.seq, "previous-hash link does not match the prior event")
        if link.hash() != event.hash:
            return checked, Break(link.seq, "event fields do not match its hash (edited)")
        if event.payload_erased:
            if event.payload is not None:
                return checked, Break(link.seq, "payload marked erased but still present")
        elif payload_hash(event.payload) != link.payload_hash:
            return checked, Break(link.seq, "payload does not match its hash (edited)")
        prev_hash, expected_seq = event.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if last_seq != head_seq:
        return checked, Break(
            min(last_seq, head_seq) + 1,
            f"chain ends at sequence {last_seq} but the head records {head_seq} (rows deleted "
            "or appended outside meritline)",
        )
    if prev_hash != head_hash:
        return checked, Break(last_seq, "last event's hash does not match the recorded head")
    return checked, None
