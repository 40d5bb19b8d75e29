"""The ``meritline`` command: composition of each domain's commands."""

from __future__ import annotations

import typer

from meritline.access.cli import app as token_app
from meritline.api.cli import serve
from meritline.audit.cli import app as audit_app
from meritline.calibration.cli import analyze_ratings
from meritline.calibration.session_cli import app as calibration_app
from meritline.cli.runtime import ErrorHandlingGroup, Runtime
from meritline.config import Settings
from meritline.db.cli import app as db_app
from meritline.demo.cli import demo
from meritline.evidence.cli import (
    aggregates_app,
    connectors_app,
    identities_app,
    import_signals,
    ingest_app,
)
from meritline.people.cli import app as people_app
from meritline.people.cli import import_app
from meritline.reviews.cli import app as cycle_app
from meritline.reviews.cli import feedback_app, review_app
from meritline.scoring.cli import model_app, score_app
from meritline.tenants.cli import app as tenant_app
from meritline.writeback.cli import destination_app, outbox_app

app = typer.Typer(
    name="meritline",
    cls=ErrorHandlingGroup,
    rich_markup_mode="markdown",
    help="Evidence-grounded performance reviews and statistically defensible calibration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", "-t", envvar="MERITLINE_TENANT", help="Tenant to act on."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="MERITLINE_DATABASE_URL", help="Database URL."
    ),
) -> None:
    """meritline: run `meritline demo` to start, then `meritline COMMAND --help`."""
    overrides = {k: v for k, v in {"tenant": tenant, "database_url": database_url}.items() if v}
    ctx.obj = Runtime(Settings(**overrides))  # type: ignore[arg-type]


app.command("demo")(demo)
app.command("analyze-ratings")(analyze_ratings)
app.command("serve")(serve)
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(import_app, name="import")
app.add_typer(people_app, name="people")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(cycle_app, name="cycle")
app.add_typer(calibration_app, name="calibration")
app.add_typer(destination_app, name="destination")
app.add_typer(outbox_app, name="outbox")
app.add_typer(review_app, name="review")
app.add_typer(feedback_app, name="feedback")
app.add_typer(connectors_app, name="connectors")
app.add_typer(ingest_app, name="ingest")
app.add_typer(identities_app, name="identities")
app.add_typer(aggregates_app, name="aggregates")
app.add_typer(model_app, name="model")
app.add_typer(score_app, name="score")
import_app.command("signals")(import_signals)


def main() -> None:
    """Console-script entry point."""
    app()
