"""Connectors: one module per source, each a plugin of :class:`WebhookConnector` (sources that
push events) or :class:`FileConnector` (documented import files).

Plugins register under the ``meritline.connectors`` and ``meritline.file_connectors``
entry-point groups (see ``pyproject.toml``), so a source added by another package is found the
same way as the built-in ones.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from meritline.evidence.connectors.base import WebhookConnector
from meritline.evidence.connectors.files import FileConnector, first_line

ENTRY_POINT_GROUP = "meritline.connectors"
FILE_ENTRY_POINT_GROUP = "meritline.file_connectors"


@cache
def _plugins(group: str, base: type) -> dict[str, Any]:
    """The classes registered under an entry-point group that subclass ``base``, by slug
    (read once per process: scanning installed packages costs milliseconds).
    """
    found: dict[str, Any] = {}
    for entry in entry_points(group=group):
        plugin = entry.load()
        if isinstance(plugin, type) and issubclass(plugin, base):
            found[getattr(plugin, "type")] = plugin  # noqa: B009 (declared on the subclasses)
    return found


def webhook_connectors() -> dict[str, type[WebhookConnector]]:
    """Every installed webhook connector, by its ``type`` slug."""
    return dict(_plugins(ENTRY_POINT_GROUP, WebhookConnector))


def webhook_connector(slug: str) -> type[WebhookConnector]:
    """The connector registered as ``slug``; ``KeyError`` when none is."""
    return webhook_connectors()[slug]


def file_connectors() -> dict[str, type[FileConnector]]:
    """Every installed file connector, by its ``type`` slug."""
    return dict(_plugins(FILE_ENTRY_POINT_GROUP, FileConnector))


def infer_file_connector(path: Path) -> type[FileConnector]:
    """The one file format ``path`` looks like; ``ValueError`` saying why when not exactly one."""
    head = first_line(path)
    matches = [c for c in file_connectors().values() if c.recognises(path, head)]
    if len(matches) == 1:
        return matches[0]
    formats = ", ".join(sorted(file_connectors()))
    if not matches:
        raise ValueError(f"{path.name}: unknown format; pass --format (one of {formats})")
    names = ", ".join(sorted(m.type for m in matches))
    raise ValueError(f"{path.name} could be {names}; pass --format to choose")
