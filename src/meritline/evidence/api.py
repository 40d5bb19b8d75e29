"""Webhook endpoints: ``POST /webhooks/{type}/{id}`` for GitHub and Jira deliveries.

The connector id names the tenant; the signature, not a bearer token, authenticates the sender.
The body is read up to the configured limit (413 beyond it) before anything else happens.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from meritline.config import Settings
from meritline.db.session import Database
from meritline.errors import PayloadTooLarge
from meritline.evidence import ingestion
from meritline.evidence.schemas import WebhookResult

router = APIRouter(prefix="/webhooks", tags=["evidence"])


async def _body(request: Request, limit: int) -> bytes:
    """The raw body (signatures cover the exact bytes), refused once it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit:,} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body is larger than {limit:,} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/{connector_type}/{public_id}",
    response_model=WebhookResult,
    summary="Receive a delivery from a work tool",
    responses={
        400: {"description": "The body is not JSON"},
        401: {"description": "Bad or missing signature; nothing was stored"},
        404: {"description": "No such webhook"},
        413: {"description": "The body is too large"},
    },
)
async def receive(connector_type: str, public_id: str, request: Request) -> WebhookResult:
    """Verify the signature, de-duplicate on the delivery id, and store the signals."""
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    body = await _body(request, settings.max_webhook_bytes)
    tenant_id = ingestion.tenant_of_connector(public_id)
    headers = {k.lower(): v for k, v in request.headers.items()}

    def work() -> WebhookResult:
        # check and parse first, without the write lock; then store in a short transaction
        with database.unit_of_work(tenant_id, read_only=True) as session:
            verified = ingestion.verify_delivery(
                session,
                settings,
                connector_type=connector_type,
                public_id=public_id,
                body=body,
                headers=headers,
            )
        with database.unit_of_work(tenant_id) as session:
            return ingestion.store_delivery(session, verified)

    return await run_in_threadpool(work)
