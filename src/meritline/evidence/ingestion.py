"""Ingestion use cases: every path (webhook, import file, retry, demo) ends in :func:`ingest`.

``ingest`` resolves each signal's person, stores the new signals (idempotent per source and
external id), and quarantines what cannot be attached, with the reason. Nothing is dropped
silently: every event is counted as stored, duplicate, quarantined or ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from meritline import crypto
from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utcnow
from meritline.config import Settings
from meritline.errors import InvalidInput, MalformedRequest, NotFound, Unauthorized
from meritline.evidence import queries, store
from meritline.evidence.connectors import (
    file_connectors,
    infer_file_connector,
    webhook_connector,
    webhook_connectors,
)
from meritline.evidence.frames import SIGNAL_SCHEMA, from_drafts, normalise_accounts
from meritline.evidence.read_ahead import read_ahead
from meritline.evidence.schemas import (
    ConnectorCreated,
    ConnectorRead,
    IngestStatus,
    IngestSummary,
    QuarantinedRead,
    QuarantinePage,
    RetrySummary,
    WebhookResult,
)
from meritline.evidence.signals import MalformedPayload, ParsedDelivery, RejectedRow
from meritline.tenants.public_ids import new_public_id, split_public_id

WEBHOOK_PREFIX = "wh"
#: Signals dated further ahead than this are refused (a clock or unit mistake, not evidence).
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
MAX_RAW_CHARS = 100_000
RETRY_PAGE = 20_000

Progress = Callable[[int], None]


# connectors


def webhook_path(connector_type: str, public_id: str) -> str:
    """The path a tool posts its deliveries to."""
    return f"/webhooks/{connector_type}/{public_id}"


def tenant_of_connector(public_id: str) -> int:
    """The tenant a webhook id names (``wh_<tenant>_<random>``); 404 when malformed."""
    parsed = split_public_id(public_id, WEBHOOK_PREFIX)
    if parsed is None:
        raise NotFound("No such webhook.")
    return parsed[0]


def add_connector(
    session: Session,
    subject: Subject,
    settings: Settings,
    *,
    connector_type: str,
    secret: str,
    name: str | None = None,
) -> ConnectorCreated:
    """Configure a webhook source; its secret is stored encrypted (see :mod:`meritline.crypto`)."""
    require_role(subject, "admin")
    known = webhook_connectors()
    if connector_type not in known:
        raise InvalidInput(
            f"Unknown connector type {connector_type!r}; one of: {', '.join(sorted(known))}."
        )
    if len(secret) < 16:
        raise InvalidInput(
            "The webhook secret is too short: use at least 16 characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    public_id = new_public_id(WEBHOOK_PREFIX, subject.tenant_id, random_bytes=16)
    connector = queries.insert_connector(
        session,
        tenant_id=subject.tenant_id,
        public_id=public_id,
        type=connector_type,
        name=name or connector_type,
        secret_ciphertext=crypto.encrypt(settings, secret),
    )
    audit.record(
        session,
        subject,
        AuditRecord("connector.added", "connector", connector.id, {"type": connector_type}),
    )
    return ConnectorCreated(
        id=public_id,
        type=connector_type,
        name=connector.name,
        webhook_path=webhook_path(connector_type, public_id),
    )


def list_connectors(session: Session, subject: Subject) -> list[ConnectorRead]:
    """The tenant's webhook connectors (never their secrets)."""
    require_role(subject, "admin")
    return [
        ConnectorRead(
            id=c.public_id,
            type=c.type,
            name=c.name,
            webhook_path=webhook_path(c.type, c.public_id),
            created_at=c.created_at,
        )
        for c in queries.list_connectors(session)
    ]


# the common path


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _out_of_range(frame: pl.DataFrame, now: datetime) -> pl.Expr:
    latest = now + FUTURE_TOLERANCE
    return (pl.col("occurred_at") > latest) | (pl.col("occurred_at") < EARLIEST)


def resolve(session: Session, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Attach employees: (resolved frame with ``employee_id``, unresolved frame, new mappings).

    An account maps through ``external_identity``; an ``employee_id`` through the employee
    number; an e-mail also through the employee's address. An unmapped account whose tool
    reported an e-mail address that is an employee's is mapped to that employee, and the
    mapping is recorded (origin ``email_match``).
    """
    pairs = frame.select("account_kind", "account_value").unique()
    mapping: list[tuple[str, str, int]] = []
    for kind, group in pairs.group_by("account_kind"):
        values = group["account_value"].to_list()
        kind_name = str(kind[0])
        if kind_name == "employee_id":
            found = queries.employees_by_number(session, values)
        else:
            found = queries.identities(session, kind_name, values)
            if kind_name == "email":
                rest = [v for v in values if v not in found]
                found.update(queries.employees_by_email(session, rest))
        mapping.extend((kind_name, value, employee) for value, employee in found.items())
    matched = _match_by_email(session, frame, {(k, v) for k, v, _ in mapping})
    mapping.extend(matched)
    table = pl.DataFrame(
        mapping,
        schema={"account_kind": pl.String, "account_value": pl.String, "employee_id": pl.Int64},
        orient="row",
    )
    joined = frame.join(table, on=["account_kind", "account_value"], how="left")
    resolved = joined.filter(pl.col("employee_id").is_not_null())
    unresolved = joined.filter(pl.col("employee_id").is_null()).drop("employee_id")
    return resolved, unresolved, len(matched)


def _match_by_email(
    session: Session, frame: pl.DataFrame, known: set[tuple[str, str]]
) -> list[tuple[str, str, int]]:
    hinted = (
        frame.filter(pl.col("account_email").is_not_null())
        .select("account_kind", "account_value", "account_email")
        .unique(subset=["account_kind", "account_value"])
    )
    candidates = [row for row in hinted.iter_rows() if (row[0], row[1]) not in known]
    if not candidates:
        return []
    employees = queries.employees_by_email(session, sorted({email for _, _, email in candidates}))
    matched = [(k, v, employees[e]) for k, v, e in candidates if e in employees]
    queries.upsert_identities(
        session,
        [
            {
                "tenant_id": session.info["tenant_id"],
                "kind": k,
                "value": v,
                "employee_id": e,
                "origin": "email_match",
                "created_at": utcnow(),
            }
            for k, v, e in matched
        ],
    )
    return matched


def ingest(
    session: Session,
    frame: pl.DataFrame,
    *,
    source: str,
    origin: str,
    batch_id: int | None,
    rejected: list[RejectedRow] | None = None,
) -> IngestSummary:
    """Store a frame of signal drafts and quarantine what cannot be stored, with the reason."""
    now = utcnow()
    rejected = list(rejected or [])
    if frame.height:
        bad_time = frame.filter(_out_of_range(frame, now))
        if bad_time.height:
            frame = frame.filter(~_out_of_range(frame, now))
            rejected.extend(_time_rejections(bad_time, now))
    resolved, unresolved, matched = resolve(session, frame) if frame.height else (frame, frame, 0)
    stored = store.insert_signals(session, resolved, batch_id=batch_id)
    held, held_twice = _quarantine(session, unresolved, rejected, source, origin, batch_id)
    return IngestSummary(
        batch_id=batch_id,
        source=source,
        events=frame.height + len(rejected),
        signals=stored,
        duplicates=resolved.height - stored + held_twice,
        quarantined=held,
        identities_matched_by_email=matched,
    )


def _time_rejections(frame: pl.DataFrame, now: datetime) -> list[RejectedRow]:
    rows = []
    for row in frame.to_dicts():
        when = row["occurred_at"]
        reason = (
            f"occurred_at {when.isoformat()} is in the future"
            if when > now
            else f"occurred_at {when.isoformat()} is before {EARLIEST.year}"
        )
        rows.append(RejectedRow(row.get("line") or 0, reason, json.dumps(row, default=str)))
    return rows


def _quarantine(
    session: Session,
    unresolved: pl.DataFrame,
    rejected: list[RejectedRow],
    source: str,
    origin: str,
    batch_id: int | None,
) -> tuple[int, int]:
    """Hold unresolved signals and rejected rows; returns (newly held, already held)."""
    tenant_id, now = session.info["tenant_id"], utcnow()
    rows: list[dict[str, Any]] = []
    for signal in unresolved.to_dicts():
        kind, value = signal["account_kind"], signal["account_value"]
        rows.append(
            {
                "fingerprint": _fingerprint("signal", signal["source"], signal["external_id"]),
                "reason_code": "unknown_person",
                "reason": (
                    f"no employee for {kind} account {value!r}: map it (`meritline identities "
                    f"add {kind} {value} EMPLOYEE_ID`), then run `meritline ingest retry`"
                )[:500],
                "line": signal["line"],
                "account_kind": kind,
                "account_value": value,
                "signal_source": signal["source"],
                "signal_type": signal["type"],
                "occurred_at": signal["occurred_at"],
                "value": signal["value"],
                "attributes": json.loads(signal["attributes"]) if signal["attributes"] else None,
                "external_id": signal["external_id"],
                "raw": None,
            }
        )
    for row in rejected:
        rows.append(
            {
                "fingerprint": _fingerprint("row", source, row.raw),
                "reason_code": "invalid_row",
                "reason": row.reason[:500],
                "line": row.line or None,
                "raw": row.raw[:MAX_RAW_CHARS],
            }
        )
    return hold(
        session, rows, source=source, origin=origin, batch_id=batch_id, now=now, tenant_id=tenant_id
    )


def hold(
    session: Session,
    rows: list[dict[str, Any]],
    *,
    source: str,
    origin: str,
    batch_id: int | None,
    now: datetime,
    tenant_id: int,
) -> tuple[int, int]:
    """Insert quarantine rows not held yet; returns (newly held, already held)."""
    if not rows:
        return 0, 0
    unique = {row["fingerprint"]: row for row in rows}
    seen = queries.quarantined_fingerprints(session, list(unique))
    fresh = [row for fp, row in unique.items() if fp not in seen]
    columns = (
        "line",
        "account_kind",
        "account_value",
        "signal_source",
        "signal_type",
        "occurred_at",
        "value",
        "attributes",
        "external_id",
        "raw",
    )
    queries.insert_quarantine(
        session,
        [
            {
                **dict.fromkeys(columns),
                **row,
                "tenant_id": tenant_id,
                "status": "open",
                "source": source,
                "origin": origin[:500],
                "batch_id": batch_id,
                "received_at": now,
            }
            for row in fresh
        ],
    )
    return len(fresh), len(rows) - len(fresh)


# import files


def import_file(
    session: Session,
    subject: Subject,
    path: Path,
    *,
    file_format: str | None = None,
    progress: Progress = lambda _: None,
) -> IngestSummary:
    """Import a signal file in batches; bad lines go to quarantine, good ones still land."""
    require_role(subject, "admin")
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file.")
    connectors = file_connectors()
    if file_format is None:
        try:
            plugin_class = infer_file_connector(path)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(str(exc)) from None
    elif file_format in connectors:
        plugin_class = connectors[file_format]
    else:
        raise InvalidInput(
            f"Unknown format {file_format!r}; one of: {', '.join(sorted(connectors))}."
        )
    fmt = plugin_class.type
    batch = queries.insert_batch(
        session,
        tenant_id=subject.tenant_id,
        kind="file",
        source=fmt,
        reference=path.name[:500],
        file_sha256=_file_sha256(path),
    )
    total = IngestSummary(batch_id=batch.id, source=fmt)
    try:
        for part in read_ahead(plugin_class().batches(path)):
            summary = ingest(
                session,
                part.signals,
                source=fmt,
                origin=path.name,
                batch_id=batch.id,
                rejected=part.rejected,
            )
            total.add(summary)
            progress(summary.events)
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} is not UTF-8 text; export it as UTF-8.") from None
    _close_batch(session, batch.id, total)
    audit.record(
        session,
        subject,
        AuditRecord("evidence.imported", "ingest_batch", batch.id, _counts(total, path.name)),
    )
    return total


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _counts(summary: IngestSummary, reference: str) -> dict[str, Any]:
    return {
        "source": summary.source,
        "reference": reference,
        "events": summary.events,
        "signals": summary.signals,
        "duplicates": summary.duplicates,
        "quarantined": summary.quarantined,
        "ignored": summary.ignored,
    }


def _close_batch(session: Session, batch_id: int, summary: IngestSummary) -> None:
    queries.update_batch(
        session,
        batch_id,
        events=summary.events,
        signals=summary.signals,
        quarantined=summary.quarantined,
        ignored=summary.ignored,
        duplicates=summary.duplicates,
        ignored_reason=summary.ignored_reason,
    )


def ingest_drafts_batch(
    session: Session, subject: Subject, frame: pl.DataFrame, *, kind: str, source: str
) -> IngestSummary:
    """Ingest an in-memory frame as one batch (the demo uses it; same path as files)."""
    require_role(subject, "admin")
    batch = queries.insert_batch(session, tenant_id=subject.tenant_id, kind=kind, source=source)
    summary = ingest(session, frame, source=source, origin=kind, batch_id=batch.id)
    _close_batch(session, batch.id, summary)
    audit.record(
        session,
        subject,
        AuditRecord("evidence.ingested", "ingest_batch", batch.id, _counts(summary, kind)),
    )
    return summary


# webhooks


@dataclass(frozen=True)
class VerifiedDelivery:
    """A delivery whose signature checked out, parsed, not yet stored."""

    connector_id: int
    connector_type: str
    delivery: str
    event: str
    body: bytes
    parsed: ParsedDelivery | None
    #: Why the payload could not be parsed (it is then quarantined), else None.
    malformed: str | None = None


def verify_delivery(
    session: Session,
    settings: Settings,
    *,
    connector_type: str,
    public_id: str,
    body: bytes,
    headers: Mapping[str, str],
) -> VerifiedDelivery:
    """Check and parse one delivery; reads only (run it before taking the write lock).

    Unknown connector: ``NotFound``. Bad signature: ``Unauthorized``. Not JSON:
    ``MalformedRequest``. A payload its connector cannot read is returned with the reason.
    """
    connector = queries.connector_by_public_id(session, public_id)
    if connector is None or connector.type != connector_type:
        raise NotFound("No such webhook.")
    plugin = webhook_connector(connector_type)()
    if not plugin.verify(crypto.decrypt(settings, connector.secret_ciphertext), body, headers):
        raise Unauthorized("Bad or missing signature.")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedRequest("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise MalformedRequest("The body is not a JSON object.")
    delivery = plugin.delivery_id(headers) or hashlib.sha256(body).hexdigest()
    event = plugin.event(headers, payload)
    verified = VerifiedDelivery(connector.id, connector_type, delivery[:200], event, body, None)
    try:
        return replace(verified, parsed=plugin.parse(event, payload))
    except MalformedPayload as exc:
        return replace(verified, malformed=f"{event or 'event'}: {exc}"[:500])


def store_delivery(session: Session, verified: VerifiedDelivery) -> WebhookResult:
    """Store a verified delivery once, in the caller's (writing) transaction.

    A redelivery (same delivery id) stores nothing and is counted as a duplicate.
    """
    connector_type, delivery = verified.connector_type, verified.delivery
    batch_id = queries.claim_delivery(
        session,
        kind="webhook",
        source=connector_type,
        connector_id=verified.connector_id,
        delivery_id=delivery,
        event=verified.event[:100] or None,
    )
    if batch_id is None:
        queries.count_duplicate_delivery(
            session, connector_id=verified.connector_id, delivery_id=delivery
        )
        return WebhookResult(status="duplicate", delivery=delivery, duplicates=1)
    origin = f"{connector_type} delivery {delivery}"
    if verified.parsed is None:
        row = {
            "fingerprint": _fingerprint("payload", connector_type, delivery),
            "reason_code": "malformed_payload",
            "reason": verified.malformed or "unreadable payload",
            "raw": verified.body.decode("utf-8", errors="replace")[:MAX_RAW_CHARS],
        }
        held, _ = hold(
            session,
            [row],
            source=connector_type,
            origin=origin,
            batch_id=batch_id,
            now=utcnow(),
            tenant_id=session.info["tenant_id"],
        )
        queries.update_batch(session, batch_id, events=1, quarantined=held)
        return WebhookResult(
            status="quarantined", delivery=delivery, quarantined=held, reason=verified.malformed
        )
    if verified.parsed.ignored:
        reason = verified.parsed.ignored
        queries.update_batch(session, batch_id, events=1, ignored=1, ignored_reason=reason[:200])
        return WebhookResult(status="ignored", delivery=delivery, reason=reason)
    summary = ingest(
        session,
        from_drafts(verified.parsed.signals),
        source=connector_type,
        origin=origin,
        batch_id=batch_id,
    )
    _close_batch(session, batch_id, summary)
    status = "stored" if summary.signals or summary.duplicates else "quarantined"
    return WebhookResult(
        status=status,
        delivery=delivery,
        signals=summary.signals,
        quarantined=summary.quarantined,
        duplicates=summary.duplicates,
    )


# quarantine and status


def status(session: Session, subject: Subject) -> IngestStatus:
    """Counts of signals, open quarantine, ignored events and duplicate deliveries."""
    require_role(subject, "admin")
    totals = queries.batch_totals(session)
    return IngestStatus(
        signals=queries.count_signals(session),
        quarantined=queries.count_quarantine(session),
        ignored=totals["ignored"],
        duplicates=totals["duplicates"],
        aggregate_backlog=queries.backlog_size(session),
        by_source=[
            {"source": source, "type": type_, "signals": n}
            for source, type_, n in queries.signal_counts_by_source(session)
        ],
    )


def quarantine(
    session: Session,
    subject: Subject,
    *,
    status: str = "open",
    reason_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> QuarantinePage:
    """A page of quarantined events, oldest first."""
    require_role(subject, "admin")
    total, rows = queries.quarantine_page(
        session, status=status, reason_code=reason_code, limit=limit, offset=offset
    )
    return QuarantinePage(total=total, items=[QuarantinedRead.model_validate(r) for r in rows])


def retry(session: Session, subject: Subject) -> RetrySummary:
    """Re-process quarantined signals whose person was unknown; those now known are stored."""
    require_role(subject, "admin")
    batch = queries.insert_batch(session, tenant_id=subject.tenant_id, kind="retry", source="retry")
    result = RetrySummary(retried=0, signals=0, duplicates=0, still_unknown=0)
    after = 0
    while page := queries.retryable(session, after_id=after, limit=RETRY_PAGE):
        after = page[-1].id
        frame = normalise_accounts(
            pl.DataFrame(
                {
                    "source": [q.signal_source for q in page],
                    "type": [q.signal_type for q in page],
                    "account_kind": [q.account_kind for q in page],
                    "account_value": [q.account_value for q in page],
                    "account_email": [None] * len(page),
                    "occurred_at": [q.occurred_at for q in page],
                    "value": [q.value for q in page],
                    "external_id": [q.external_id for q in page],
                    "attributes": [
                        json.dumps(q.attributes, separators=(",", ":"), sort_keys=True)
                        if q.attributes
                        else None
                        for q in page
                    ],
                    "line": [q.line for q in page],
                },
                schema=SIGNAL_SCHEMA,
            ).with_columns(pl.Series("quarantine_id", [q.id for q in page]))
        )
        resolved, unresolved, _ = resolve(session, frame.drop("quarantine_id"))
        resolved_ids = frame.join(
            resolved.select("source", "external_id"), on=["source", "external_id"], how="semi"
        )["quarantine_id"].to_list()
        stored = store.insert_signals(session, resolved, batch_id=batch.id)
        queries.mark_quarantine(session, resolved_ids, status="resolved")
        result.retried += len(page)
        result.signals += stored
        result.duplicates += resolved.height - stored
        result.still_unknown += unresolved.height
    queries.update_batch(
        session,
        batch.id,
        events=result.retried,
        signals=result.signals,
        duplicates=result.duplicates,
    )
    audit.record(
        session,
        subject,
        AuditRecord("evidence.retried", "ingest_batch", batch.id, result.model_dump()),
    )
    return result


def discard(session: Session, subject: Subject, ids: list[int]) -> int:
    """Give up on quarantined events (they stay listed, as discarded); returns how many."""
    require_role(subject, "admin")
    discarded = queries.discard_quarantine(session, ids)
    audit.record(
        session, subject, AuditRecord("quarantine.discarded", "quarantine", None, {"ids": ids})
    )
    return discarded
