"""Connectors: one module per source, each a plugin of :class:`WebhookConnector` (sources that
push events) or :class:`FileConnector` (documented import files).

Plugins register under the ``meritline.connectors`` and ``meritline.file_connectors``
entry-point groups (see ``pyproject.toml``), so a source added by another package is found the
same way as the built-in ones.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from meritline.evidence.connectors.base import WebhookConnector
from meritline.evidence.connectors.files import FileConnector

ENTRY_POINT_GROUP = "meritline.connectors"
FILE_ENTRY_POINT_GROUP = "meritline.file_connectors"


def webhook_connectors() -> dict[str, type[WebhookConnector]]:
    """Every installed webhook connector, by its ``type`` slug."""
    found: dict[str, type[WebhookConnector]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry.load()
        if isinstance(plugin, type) and issubclass(plugin, WebhookConnector):
            found[plugin.type] = plugin
    return found


def webhook_connector(slug: str) -> type[WebhookConnector]:
    """The connector registered as ``slug``; ``KeyError`` when none is."""
    return webhook_connectors()[slug]


def file_connectors() -> dict[str, type[FileConnector]]:
    """Every installed file connector, by its ``type`` slug."""
    found: dict[str, type[FileConnector]] = {}
    for entry in entry_points(group=FILE_ENTRY_POINT_GROUP):
        plugin = entry.load()
        if isinstance(plugin, type) and issubclass(plugin, FileConnector):
            found[plugin.type] = plugin
    return found
