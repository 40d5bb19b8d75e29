"""People routes: list and read employees through the visibility rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from meritline.api.auth import Caller, caller
from meritline.people import service
from meritline.people.schemas import (
    EmployeeFilters,
    EmployeePage,
    EmployeeRead,
    SensitiveAttributesRead,
)

router = APIRouter(prefix="/employees", tags=["people"])

MAX_OFFSET = 2**31 - 1


@router.get("", response_model=EmployeePage, summary="Employees the caller may see")
def list_employees(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    filters: Annotated[EmployeeFilters, Query()],
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> EmployeePage:
    """One page of the employees the caller may see, ordered by employee id."""
    limit = min(limit, request.app.state.settings.api_page_size_max)
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.list_employees(session, subject, filters=filters, limit=limit, offset=offset)


@router.get(
    "/{employee_id}",
    response_model=EmployeeRead,
    responses={404: {"description": "No such employee, or not visible to the caller"}},
)
def get_employee(employee_id: str, who: Annotated[Caller, Depends(caller)]) -> EmployeeRead:
    """One employee by HRIS id; 404 when absent or outside the caller's visibility."""
    with who.unit_of_work(read_only=True) as (session, subject):
        return service.get_employee(session, subject, employee_id=employee_id)


@router.get(
    "/{employee_id}/sensitive-attributes",
    response_model=SensitiveAttributesRead,
    responses={404: {"description": "Not visible, or the role may not read special categories"}},
)
def get_sensitive_attributes(
    employee_id: str, who: Annotated[Caller, Depends(caller)]
) -> SensitiveAttributesRead:
    """Special-category attributes, for people_analyst and legal only; every read is audited."""
    with who.unit_of_work() as (session, subject):
        return service.get_sensitive_attributes(session, subject, employee_id=employee_id)
