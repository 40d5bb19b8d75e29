"""What every command shares: settings, the database, the operator's unit of work, output."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar, cast

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.config import Settings
from meritline.db.migrate import ensure_schema
from meritline.db.session import Database
from meritline.db.tenancy import bind_tenant
from meritline.errors import IntegrityViolation, InvalidInput, MeritlineError
from meritline.tenants import service as tenants

console = Console()
err_console = Console(stderr=True)


@dataclass
class Runtime:
    """Per-invocation state, kept on the Typer context."""

    settings: Settings
    _database: Database | None = field(default=None, init=False)

    @classmethod
    def of(cls, ctx: typer.Context) -> Runtime:
        """The runtime of the current invocation."""
        runtime = ctx.find_root().obj
        if not isinstance(runtime, Runtime):
            runtime = cls(Settings())
            ctx.find_root().obj = runtime
        return runtime

    def database(self) -> Database:
        """The database, with its schema at head (upgraded, or a message saying what to run)."""
        if self._database is None:
            ensure_schema(
                self.settings.owner_database_url,
                auto_migrate=self.settings.auto_migrate,
                runtime_role=self.settings.database_role,
            )
            self._database = Database.from_settings(self.settings)
        return self._database

    def has_tenant(self) -> bool:
        """Whether the configured tenant exists yet."""
        with self.database().unit_of_work(read_only=True) as session:
            return tenants.find_tenant(session, slug=self.settings.tenant) is not None

    @contextmanager
    def operator(
        self, *, create_tenant: bool = False, commit: bool = True, read_only: bool = False
    ) -> Iterator[tuple[Session, Subject]]:
        """One transaction in the configured tenant, acting as the CLI operator (an admin)."""
        created = False
        with self.database().unit_of_work(commit=commit, read_only=read_only) as session:
            if create_tenant:
                tenant, created = tenants.get_or_create_tenant(session, slug=self.settings.tenant)
            else:
                tenant = tenants.get_tenant(session, slug=self.settings.tenant)
                bind_tenant(session, tenant.id)
            yield session, Subject.operator(tenant.id)
        if created and commit:
            err_console.print(f"Created tenant [bold]{tenant.slug}[/].")

    @contextmanager
    def acting(
        self,
        acting_as: ActingAs,
        *,
        read_only: bool = False,
    ) -> Iterator[tuple[Session, Subject]]:
        """The operator's unit of work, acting as an employee in a role when ``--as`` is given
        (the CLI's way to do what that person would do through the API).
        """
        with self.operator(read_only=read_only) as (session, subject):
            if acting_as.employee is not None:
                subject = access.act_as(
                    session,
                    subject,
                    employee_number=acting_as.employee,
                    role=acting_as.role,
                    org_unit_paths=list(acting_as.org_units) or None,
                )
            yield session, subject


@dataclass(frozen=True)
class ActingAs:
    """Who a command acts as: ``--as EMPLOYEE --role ROLE [--org-unit PATH]``."""

    employee: str | None = None
    role: str = "manager"
    org_units: tuple[str, ...] = ()


AS_EMPLOYEE = typer.Option(None, "--as", help="Act as this employee (with --role).")
AS_ROLE = typer.Option("manager", "--role", help="The role --as acts in.")
AS_ORG_UNIT = typer.Option([], "--org-unit", help="Org unit(s) for --role hrbp.")

C = TypeVar("C", bound=Callable[..., None])


def with_acting_options(command: C) -> C:
    """Give a command ``--as EMPLOYEE --role ROLE [--org-unit PATH]``, handed to it as one
    keyword-only ``acting: ActingAs`` (the options are declared once, here).

    Typer reads a command's options from its signature, so the wrapper's signature is the
    command's own with ``acting`` replaced by the three options.
    """
    own = inspect.signature(command, eval_str=True)
    options = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
        for name, default, kind in (
            ("as_employee", AS_EMPLOYEE, str | None),
            ("as_role", AS_ROLE, str),
            ("as_org_unit", AS_ORG_UNIT, list[str]),
        )
    ]
    kept = [p for p in own.parameters.values() if p.name != "acting"]

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        as_employee: str | None = None,
        as_role: str = "manager",
        as_org_unit: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        command(*args, acting=ActingAs(as_employee, as_role, tuple(as_org_unit)), **kwargs)

    wrapper.__signature__ = own.replace(parameters=[*kept, *options])  # type: ignore[attr-defined]
    return cast(C, wrapper)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], what: str, **values: object) -> M:
    """``model`` from a command's options, or every problem in one line a user can act on."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or what}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"Bad {what}: {problems}.") from None


#: The ``--json`` flag every listing and report command takes.
AS_JSON = typer.Option(False, "--json", help="Print JSON.")


def command_group(help_text: str) -> typer.Typer:
    """A ``meritline`` sub-command group (``meritline GROUP COMMAND``)."""
    return typer.Typer(rich_markup_mode="markdown", help=help_text, no_args_is_help=True)


def parse_date(value: str | None, option: str) -> date | None:
    """A date option (YYYY-MM-DD), or a message naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} must be a date like 2026-09-30, not {value!r}.") from None


def emit_json(value: BaseModel | Sequence[BaseModel] | Mapping[str, Any]) -> None:
    """Print a result as JSON on stdout, for other tools."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, Mapping):
        data = dict(value)
    else:
        data = [item.model_dump(mode="json") for item in value]
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def safe_url(url: str) -> str:
    """A database URL with its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


class ErrorHandlingGroup(TyperGroup):
    """Turns meritline's errors into a clear message and an exit status, never a traceback.

    Exit 2: the user's input or set-up needs changing; exit 1: an integrity check failed.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except IntegrityViolation as exc:
            err_console.print(f"[bold red]integrity check failed:[/] {exc.message}")
            raise typer.Exit(1) from None
        except MeritlineError as exc:
            report_error(exc)
            raise typer.Exit(2) from None
        except DBAPIError as exc:
            if not isinstance(exc, OperationalError):
                err_console.print(
                    "[bold red]error:[/] the database refused the operation: "
                    f"{str(exc.orig).strip().splitlines()[0]}"
                )
                raise typer.Exit(1) from None
            url = Runtime.of(ctx).settings.database_url
            err_console.print(
                f"[bold red]error:[/] cannot use the database at {safe_url(url)}: "
                f"{str(exc.orig).strip().splitlines()[0]}\n"
                "Check MERITLINE_DATABASE_URL (see the README, Configuration)."
            )
            raise typer.Exit(2) from None


def report_error(exc: MeritlineError) -> None:
    """Print an error and any per-line details on stderr."""
    err_console.print(f"[bold red]error:[/] {exc.message}")
    if isinstance(exc, InvalidInput):
        for error in exc.details.get("errors", []):
            who = f" ({error.employee_id})" if error.employee_id else ""
            err_console.print(f"  line {error.line}{who}: {error.reason}", highlight=False)
