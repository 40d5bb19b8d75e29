"""Errors as RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from meritline.errors import MeritlineError, Unauthorized

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("meritline.api")


def problem(
    request: Request, status: int, detail: str, *, title: str | None = None, **extra: Any
) -> JSONResponse:
    """A problem-details response."""
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    """Render every error the API can raise as problem+json."""

    @app.exception_handler(MeritlineError)
    async def _meritline(request: Request, exc: MeritlineError) -> JSONResponse:
        title = exc.title if not isinstance(exc, Unauthorized) else "Unauthorized"
        return problem(request, exc.status_code, exc.message, title=title)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return problem(request, 422, "The request is not valid.", errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(request, 500, "An unexpected error occurred; it has been logged.")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(request, exc.status_code, str(exc.detail))
