"""Signed webhooks: each outcome POSTed as JSON to an http(s) URL.

Headers:

* ``Idempotency-Key``: the outcome's key (``<topic>:<cycle id>:<employee id>``); the same
  outcome always carries the same key, so a receiver that remembers keys applies it once even
  when meritline sends it again after a crash or a timeout.
* ``X-Meritline-Signature: sha256=<hex>``: HMAC-SHA256 of the exact body with the shared
  secret; receivers compare it in constant time (``hmac.compare_digest``).
* ``X-Meritline-Event``: the topic.

The body is ``{"id": key, "topic": ..., "created_at": ..., "data": {...}}`` as compact JSON with
sorted keys. A 2xx answer is a delivery; 408, 425, 429 and 5xx answers, timeouts and refused
connections are retried with back-off; any other answer is permanent (the destination is
misconfigured) and the delivery is marked dead with the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import urlsplit

from meritline.errors import InvalidInput
from meritline.writeback.destinations.base import (
    Destination,
    Envelope,
    NotTried,
    PermanentFailure,
    TransientFailure,
)

TIMEOUT_SECONDS = 10
RETRYABLE = frozenset({408, 425, 429})


def body_of(envelope: Envelope) -> bytes:
    """The exact bytes sent (and signed)."""
    document = {
        "id": envelope.key,
        "topic": envelope.topic,
        "created_at": envelope.created_at,
        "data": envelope.data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDestination(Destination):
    """POST each outcome, signed, with its idempotency key."""

    type = "webhook"

    @classmethod
    def check(cls, target: str, secret: str | None) -> None:
        if urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).netloc:
            raise InvalidInput(f"A webhook needs an http(s) URL, not {target!r}.")
        if not secret:
            raise InvalidInput("A webhook needs --secret (at least 16 characters) to sign with.")

    def deliver(self, envelopes: Sequence[Envelope]) -> tuple[list[str], dict[str, Exception]]:
        delivered: list[str] = []
        failures: dict[str, Exception] = {}
        for envelope in envelopes:
            try:
                self._post(envelope)
            except (PermanentFailure, TransientFailure) as exc:
                failures[envelope.key] = exc
                if isinstance(exc, TransientFailure):
                    # the receiver is struggling: leave the rest for the next round
                    for later in envelopes[envelopes.index(envelope) + 1 :]:
                        failures[later.key] = NotTried("not tried: the receiver failed")
                    break
            else:
                delivered.append(envelope.key)
        return delivered, failures

    def _post(self, envelope: Envelope) -> None:
        body = body_of(envelope)
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked when added)
            self.target,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": envelope.key,
                "X-Meritline-Event": envelope.topic,
                "X-Meritline-Signature": signature(self.secret or "", body),
                "User-Agent": "meritline-writeback",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):  # noqa: S310
                return
        except urllib.error.HTTPError as exc:
            message = f"HTTP {exc.code} from {self.target}"
            if exc.code in RETRYABLE or exc.code >= 500:
                raise TransientFailure(message) from None
            raise PermanentFailure(message) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientFailure(f"{self.target}: {exc}") from None
