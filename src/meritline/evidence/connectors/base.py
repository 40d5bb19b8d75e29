"""The one small interface every webhook source implements."""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from meritline.evidence.signals import ParsedDelivery


class WebhookConnector(ABC):
    """A source that pushes events: verify the signature, name the delivery, parse the payload.

    Subclasses set ``type`` (the slug in URLs and configuration) and the header names, and
    implement :meth:`parse`. Headers are given lower-cased.
    """

    type: ClassVar[str]
    signature_header: ClassVar[str]
    delivery_header: ClassVar[str]
    event_header: ClassVar[str | None] = None

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether the body carries a valid ``sha256=`` HMAC of ``secret`` (constant time)."""
        given = headers.get(self.signature_header, "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.encode(), expected.encode())

    def delivery_id(self, headers: Mapping[str, str]) -> str | None:
        """The sender's id for this delivery (the same on redelivery): the de-duplication key."""
        return headers.get(self.delivery_header) or None

    def event(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        """The event name, from its header when the source sends one."""
        return headers.get(self.event_header, "") if self.event_header else ""

    @abstractmethod
    def parse(self, event: str, payload: Mapping[str, Any]) -> ParsedDelivery:
        """The signals a delivery yields (pure: no I/O, no clock)."""
