"""Recognition (kudos) exports, in the shape Teams and Slack kudos apps export.

CSV columns: ``sent_at`` (or ``timestamp``), ``giver`` and ``receiver`` (e-mail addresses; several
receivers separated by ``;``), and optionally ``badge`` and ``message``. Each receiver gets a
``kudos_received`` signal and the giver one ``kudos_given`` per receiver. Messages are never
stored::

    sent_at,giver,receiver,badge,message
    2026-03-04T16:02:11Z,ana@acme.example,ben@acme.example;cy@acme.example,Team player,Thanks!
"""

from __future__ import annotations

from typing import Any

from meritline.evidence.connectors.files import CsvFileConnector
from meritline.evidence.connectors.tabular import (
    RowProblem,
    required,
)
from meritline.evidence.connectors.tabular import timestamp as parse_time
from meritline.evidence.signals import ExternalAccount, SignalDraft


def kudos(row: dict[str, Any]) -> list[SignalDraft]:
    """One kudos row: a received and a given signal for each receiver."""
    sent = parse_time(row.get("sent_at") or row.get("timestamp"), "sent_at")
    giver = required(row, "giver").lower()
    receivers = [r.strip().lower() for r in required(row, "receiver").split(";") if r.strip()]
    if giver in receivers:
        raise RowProblem("giver and receiver are the same person")
    badge = {"badge": row["badge"]} if row.get("badge") else {}
    key = f"kudos:{giver}:{sent.isoformat()}"
    drafts = []
    for receiver in receivers:
        drafts.append(
            SignalDraft(
                "recognition",
                "kudos_received",
                ExternalAccount("email", receiver),
                sent,
                f"{key}:{receiver}:received",
                1.0,
                {**badge, "from": giver},
            )
        )
        drafts.append(
            SignalDraft(
                "recognition",
                "kudos_given",
                ExternalAccount("email", giver),
                sent,
                f"{key}:{receiver}:given",
                1.0,
                {**badge, "to": receiver},
            )
        )
    return drafts


class KudosCsvConnector(CsvFileConnector):
    """Kudos given and received, from a recognition app's export."""

    type = "kudos_csv"
    description = "recognition / kudos, CSV: sent_at,giver,receiver[,badge,message]"
    required_columns = frozenset({"giver", "receiver"})
    convert = staticmethod(kudos)
