"""The FastAPI application factory: composition only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

import meritline
from meritline.api import problems
from meritline.calibration.api import router as calibration_router
from meritline.config import Settings
from meritline.db.migrate import database_revision, head_revision
from meritline.db.session import Database
from meritline.evidence.api import router as webhook_router
from meritline.people.api import router as people_router
from meritline.reviews.api import router as reviews_router
from meritline.scoring.api import router as scoring_router
from meritline.writeback.api import router as writeback_router


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the API for ``settings`` (or the environment's), on ``database`` if given."""
    settings = settings or Settings()
    app = FastAPI(
        title="meritline",
        version=meritline.__version__,
        description="Evidence-grounded performance reviews and calibration.",
    )
    app.state.settings = settings
    app.state.database = database or Database.from_settings(settings)
    problems.install(app)

    @app.get("/health", tags=["ops"])
    def health(request: Request) -> Any:
        """Liveness and readiness: the database answers and its schema is current."""
        db: Database = request.app.state.database
        try:
            revision = database_revision(db.engine)
        except Exception as exc:  # any failure to reach the database means not ready
            return problems.problem(request, 503, f"database unavailable: {type(exc).__name__}")
        head = head_revision()
        status = "ok" if revision == head else "schema_outdated"
        body = {"status": status, "version": meritline.__version__, "schema": revision}
        return JSONResponse(body, status_code=200 if status == "ok" else 503)

    api = APIRouter(prefix="/api/v1")
    api.include_router(people_router)
    api.include_router(scoring_router)
    api.include_router(reviews_router)
    api.include_router(calibration_router)
    api.include_router(writeback_router)
    app.include_router(api)
    app.include_router(webhook_router)
    return app
