"""``meritline cycle``: review cycles."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.table import Table

from meritline.cli.runtime import AS_JSON, Runtime, command_group, console, emit_json
from meritline.errors import InvalidInput
from meritline.reviews import service
from meritline.reviews.schemas import ReviewCycleCreate

app = command_group("Create and list review cycles.")


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help='e.g. "2026 annual review".'),
    start: str = typer.Option(..., help="Period start, YYYY-MM-DD."),
    end: str = typer.Option(..., help="Period end, YYYY-MM-DD."),
    as_json: bool = AS_JSON,
) -> None:
    """Create a review cycle. Example: meritline cycle create "FY2026" --start 2026-01-01
    --end 2026-12-31.
    """
    try:
        data = ReviewCycleCreate(name=name, period_start=start, period_end=end)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'period'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"Bad review cycle: {problems}.") from None
    with Runtime.of(ctx).operator() as (session, subject):
        cycle = service.create_cycle(session, subject, data)
    if as_json:
        emit_json(cycle)
    else:
        console.print(
            f"Created review cycle {cycle.name!r} ({cycle.period_start} to "
            f"{cycle.period_end}, {cycle.status})."
        )


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """List review cycles, newest first."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        cycles = service.list_cycles(session, subject)
    if as_json:
        emit_json(cycles)
        return
    table = Table("name", "start", "end", "status")
    for c in cycles:
        table.add_row(c.name, str(c.period_start), str(c.period_end), c.status)
    console.print(table)
