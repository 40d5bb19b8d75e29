"""People schemas: file rows, read models and import results."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PersonRow(BaseModel):
    """One validated row of an HRIS people export. ``None`` fields were blank in the file."""

    model_config = ConfigDict(frozen=True)

    line: int
    employee_id: str
    name: str
    email: str
    manager_id: str | None = None
    department: str | None = None
    job_family: str | None = None
    level: str | None = None
    location: str | None = None
    hire_date: date | None = None
    termination_date: date | None = None
    sensitive: dict[str, str | None] = Field(default_factory=dict)


class RowError(BaseModel):
    """Why one line of a file cannot be imported."""

    line: int
    employee_id: str | None
    reason: str


class PeopleFile(BaseModel):
    """A parsed people file: its rows, which columns it has, and what is wrong with it."""

    rows: list[PersonRow]
    columns: list[str]
    unknown_columns: list[str]
    sensitive_columns: list[str]
    errors: list[RowError]


class ImportSummary(BaseModel):
    """What an import created and changed (all zero when re-importing the same file)."""

    rows: int
    employees_created: int = 0
    employees_updated: int = 0
    employees_unchanged: int = 0
    org_units_created: int = 0
    reporting_lines_opened: int = 0
    reporting_lines_closed: int = 0
    sensitive_values_set: int = 0
    sensitive_values_removed: int = 0
    unknown_columns: list[str] = Field(default_factory=list)
    warnings: list[RowError] = Field(default_factory=list)
    dry_run: bool = False


class EmployeeRead(BaseModel):
    """An employee as the API and CLI show them (no special-category data)."""

    employee_id: str
    name: str
    email: str
    department: str | None
    manager_id: str | None
    job_family: str | None
    level: str | None
    location: str | None
    hire_date: date | None
    termination_date: date | None
    status: Literal["active", "terminated"]


class EmployeePage(BaseModel):
    """One page of employees the caller may see."""

    items: list[EmployeeRead]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class EmployeeFilters(BaseModel):
    """Optional filters for listing employees."""

    q: str | None = None
    department: str | None = None
    job_family: str | None = None
    level: str | None = None
    location: str | None = None
    include_terminated: bool = False


class SensitiveAttributesRead(BaseModel):
    """Special-category attributes of one employee (fairness analysis only)."""

    employee_id: str
    classification: Literal["special_category"] = "special_category"
    attributes: dict[str, str]
