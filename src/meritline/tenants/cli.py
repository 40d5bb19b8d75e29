"""``meritline tenant``: create and list tenants."""

from __future__ import annotations

import typer
from rich.table import Table

from meritline.cli.runtime import AS_JSON, Runtime, command_group, console, emit_json
from meritline.tenants import service

app = command_group("Create and list tenants (organisations).")


@app.command("create")
def create(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Short id, e.g. acme. Select it with --tenant."),
    name: str | None = typer.Option(None, help="Display name (default: the slug)."),
    as_json: bool = AS_JSON,
) -> None:
    """Create a tenant. Example: meritline tenant create acme --name "Acme Corp"."""
    with Runtime.of(ctx).database().unit_of_work() as session:
        tenant = service.create_tenant(session, slug=slug, name=name)
    if as_json:
        emit_json(tenant)
    else:
        console.print(f"Created tenant [bold]{tenant.slug}[/] ({tenant.name}).")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """List tenants."""
    with Runtime.of(ctx).database().unit_of_work() as session:
        tenants = service.list_tenants(session)
    if as_json:
        emit_json(tenants)
        return
    table = Table("slug", "name", "created")
    for tenant in tenants:
        table.add_row(tenant.slug, tenant.name, f"{tenant.created_at:%Y-%m-%d %H:%M}")
    console.print(table)
