"""Connectors: one module per source, each a plugin of :class:`WebhookConnector`.

Plugins register under the ``meritline.connectors`` entry-point group (see ``pyproject.toml``),
so a source added by another package is found the same way as the built-in ones.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from meritline.evidence.connectors.base import WebhookConnector

ENTRY_POINT_GROUP = "meritline.connectors"


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
