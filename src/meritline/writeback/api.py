"""Writeback routes: destinations and the outbox's state (admin). Delivery itself is the job
``meritline outbox deliver``, run from a scheduler, not a request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from meritline.api.auth import Caller, caller
from meritline.writeback import service
from meritline.writeback.schemas import Destination, DestinationCreate, OutboxStatus

router = APIRouter(tags=["writeback"])
Who = Annotated[Caller, Depends(caller)]


@router.get("/writeback/destinations", response_model=list[Destination])
def list_destinations(who: Who) -> list[Destination]:
    """Every destination (never a secret)."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.list_destinations(session, subject)


@router.post("/writeback/destinations", response_model=Destination, status_code=201)
def add_destination(request: Request, who: Who, data: DestinationCreate) -> Destination:
    """Add a signed webhook or a CSV file; the secret is stored encrypted and never shown."""
    with who.unit_of_work() as (session, subject):
        return service.add_destination(session, subject, data, settings=request.app.state.settings)


@router.get("/writeback/outbox", response_model=OutboxStatus)
def outbox_status(who: Who) -> OutboxStatus:
    """Outcomes waiting, delivered and given up on."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.status(session, subject)
