"""``meritline import people`` and ``meritline people``: load an HRIS export, look people up."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from meritline.access import service as access
from meritline.cli.runtime import (
    AS_JSON,
    Runtime,
    command_group,
    console,
    emit_json,
    err_console,
    parse_date,
)
from meritline.people import importing, service
from meritline.people.hris_file import read_people_file
from meritline.people.schemas import EmployeeFilters, ImportSummary

import_app = command_group("Import data from files.")
app = command_group("Look people up (through the visibility rule).")


@import_app.command("people")
def import_people(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV export: employee_id,name,email[,manager_id,...]."),
    effective_date: str | None = typer.Option(
        None, help="Date reporting-line changes take effect (YYYY-MM-DD; default today)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import people from an HRIS export. The whole file is checked first; on any error
    nothing is written, every bad line is listed, and the exit status is 2.

    Columns: employee_id, name, email (required); manager_id, department (a path such as
    Engineering/Platform), job_family, level, location, hire_date, termination_date; and
    special-category columns gender, ethnicity, birth_year, ... or `sensitive_NAME`.

    Example: meritline import people hris-export.csv --dry-run
    """
    effective = parse_date(effective_date, "--effective-date")
    people = read_people_file(file)
    runtime = Runtime.of(ctx)
    with runtime.operator(create_tenant=True, commit=not dry_run) as (session, subject):
        summary = importing.import_people(
            session, subject, people, effective_date=effective, dry_run=dry_run
        )
    if as_json:
        emit_json(summary)
    else:
        print_import_summary(summary)


def print_import_summary(summary: ImportSummary) -> None:
    """Show what an import did, in words."""
    verb = "Would import" if summary.dry_run else "Imported"
    console.print(
        f"{verb} {summary.rows} rows: {summary.employees_created} created, "
        f"{summary.employees_updated} updated, {summary.employees_unchanged} unchanged; "
        f"{summary.org_units_created} org units created; reporting lines "
        f"{summary.reporting_lines_opened} opened, {summary.reporting_lines_closed} closed; "
        f"sensitive values {summary.sensitive_values_set} set, "
        f"{summary.sensitive_values_removed} removed."
    )
    for warning in summary.warnings:
        err_console.print(
            f"[yellow]warning:[/] line {warning.line} ({warning.employee_id}): {warning.reason}",
            highlight=False,
        )
    if summary.unknown_columns:
        err_console.print(
            f"[yellow]Ignored unknown column(s):[/] {', '.join(summary.unknown_columns)}"
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    q: str | None = typer.Option(None, "--search", "-s", help="Match name, e-mail or id."),
    department: str | None = typer.Option(None, help="Department path; includes sub-units."),
    job_family: str | None = typer.Option(None),
    level: str | None = typer.Option(None),
    location: str | None = typer.Option(None),
    include_terminated: bool = typer.Option(False, "--include-terminated"),
    limit: int = typer.Option(50, min=1, max=10_000, help="Rows per page."),
    offset: int = typer.Option(0, min=0, max=2**31 - 1),
    as_employee: str | None = typer.Option(
        None, "--as", help="Preview what this employee would see (with --role)."
    ),
    role: str = typer.Option("manager", help="Role for --as."),
    org_unit: list[str] = typer.Option([], help="Org unit(s) for --as with --role hrbp."),
    as_json: bool = AS_JSON,
) -> None:
    """List employees. Example: meritline people list --as E0002 --role manager."""
    filters = EmployeeFilters(
        q=q,
        department=department,
        job_family=job_family,
        level=level,
        location=location,
        include_terminated=include_terminated,
    )
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        if as_employee:
            subject = access.act_as(
                session,
                subject,
                employee_number=as_employee,
                role=role,
                org_unit_paths=org_unit or None,
            )
        page = service.list_employees(session, subject, filters=filters, limit=limit, offset=offset)
    if as_json:
        emit_json(page)
        return
    table = Table("id", "name", "department", "manager", "level", "location", "status")
    for e in page.items:
        table.add_row(
            e.employee_id,
            e.name,
            e.department or "",
            e.manager_id or "",
            e.level or "",
            e.location or "",
            e.status,
        )
    console.print(table)
    shown = f"{offset + 1}-{offset + len(page.items)}" if page.items else "none"
    more = f"; next: --offset {page.next_offset}" if page.next_offset is not None else ""
    console.print(f"Showing {shown} of {page.total}{more}.")


@app.command("show")
def show(
    ctx: typer.Context,
    employee_id: str = typer.Argument(..., help="The HRIS employee id."),
    as_json: bool = AS_JSON,
) -> None:
    """Show one employee."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        employee = service.get_employee(session, subject, employee_id=employee_id)
    if as_json:
        emit_json(employee)
        return
    for key, value in employee.model_dump().items():
        console.print(f"[bold]{key:>17}[/] {'' if value is None else value}")
