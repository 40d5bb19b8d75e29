"""The base class of writeback destinations, and how a delivery's outcome is reported."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, ClassVar

from meritline.errors import InvalidInput


@dataclass(frozen=True)
class Envelope:
    """One event as sent: its idempotency key, topic, time and data."""

    key: str
    topic: str
    created_at: str
    data: dict[str, Any]


class PermanentFailure(Exception):
    """The destination refused in a way a retry will not change (a 4xx, a bad path)."""


class TransientFailure(Exception):
    """The destination could not take it now (a 5xx, a timeout, a refused connection)."""


class NotTried(TransientFailure):
    """Held back because the destination just failed another one; costs no attempt."""


class Destination(ABC):
    """Delivers envelopes to one place (a plugin implements ``deliver``).

    ``deliver`` gets every pending envelope for this destination at once, oldest first; it
    returns the keys delivered, and raises ``TransientFailure`` / ``PermanentFailure`` for the
    rest (per key through ``failures``). Delivering a key twice must be harmless: a crash
    between sending and recording the delivery sends it again.
    """

    type: ClassVar[str]

    def __init__(self, target: str, secret: str | None, *, history: Sequence[Envelope] = ()):
        self.target, self.secret, self.history = target, secret, history

    @classmethod
    @abstractmethod
    def check(cls, target: str, secret: str | None) -> None:
        """Refuse a target or secret this kind cannot use (``InvalidInput``)."""

    @abstractmethod
    def deliver(self, envelopes: Sequence[Envelope]) -> tuple[list[str], dict[str, Exception]]:
        """Send; return (delivered keys, failures by key)."""


#: The destinations meritline ships (also registered as entry points; listed here so an
#: install whose entry points predate them still finds them).
BUILT_IN = {
    "webhook": "meritline.writeback.destinations.webhook:WebhookDestination",
    "csv": "meritline.writeback.destinations.csv_file:CsvFileDestination",
}


def destination_class(kind: str) -> type[Destination]:
    """The plugin registered under ``kind`` (entry point group ``meritline.destinations``)."""
    found = {e.name: e.value for e in entry_points(group="meritline.destinations")}
    reference = found.get(kind) or BUILT_IN.get(kind)
    if reference is None:
        raise InvalidInput(f"No writeback destination of type {kind!r}.")
    module, _, name = reference.partition(":")
    loaded = getattr(import_module(module), name)
    if not (isinstance(loaded, type) and issubclass(loaded, Destination)):
        raise InvalidInput(f"{reference} is not a writeback destination.")
    return loaded
