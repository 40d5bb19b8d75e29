"""``meritline token``: issue, list and revoke API tokens."""

from __future__ import annotations

import typer
from rich.table import Table

from meritline.access import service
from meritline.cli.runtime import AS_JSON, Runtime, command_group, console, emit_json, err_console
from meritline.models import ROLES

app = command_group("Issue, list and revoke API tokens.")


@app.command("create")
def create(
    ctx: typer.Context,
    employee: str = typer.Option(..., "--employee", help="HRIS id of the employee it acts as."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    org_unit: list[str] = typer.Option(
        [], "--org-unit", help="hrbp only: org unit path(s) in scope (default: their own)."
    ),
    label: str | None = typer.Option(None, help="A note on what the token is for."),
    expires_in_days: int | None = typer.Option(None, min=1, max=3660, help="Expire after N days."),
    as_json: bool = typer.Option(False, "--json", help='Print {"token": ...} as JSON.'),
) -> None:
    """Create a token; it is printed once and only its hash is stored.

    Example: meritline token create --employee E0001 --role admin --json
    """
    with Runtime.of(ctx).operator() as (session, subject):
        created = service.create_token(
            session,
            subject,
            employee_number=employee,
            role=role,
            org_unit_paths=org_unit or None,
            label=label,
            expires_in_days=expires_in_days,
        )
    if as_json:
        emit_json(created)
        return
    console.print(created.token, highlight=False, soft_wrap=True)
    scope = f" over {', '.join(created.org_units)}" if created.org_units else ""
    err_console.print(
        f"Token {created.id}: {created.employee_id} as {created.role}{scope}. "
        "Store it now; it cannot be shown again."
    )


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = AS_JSON) -> None:
    """List tokens (never their secrets)."""
    with Runtime.of(ctx).operator(read_only=True) as (session, subject):
        tokens = service.list_tokens(session, subject)
    if as_json:
        emit_json(tokens)
        return
    table = Table("id", "employee", "role", "label", "created", "status")
    for t in tokens:
        status = "revoked" if t.revoked_at else "active"
        table.add_row(
            str(t.id), t.employee_id, t.role, t.label or "", f"{t.created_at:%Y-%m-%d}", status
        )
    console.print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: int = typer.Argument(..., min=1, max=2**53, help="Token id from `token list`."),
) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    with Runtime.of(ctx).operator() as (session, subject):
        token = service.revoke_token(session, subject, token_id=token_id)
    console.print(f"Token {token.id} ({token.employee_id} as {token.role}) revoked.")
