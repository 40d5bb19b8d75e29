"""The error hierarchy: each error carries its HTTP status; the CLI exits 2 on user errors."""

from __future__ import annotations

from typing import Any


class MeritlineError(Exception):
    """Base of every error meritline raises on purpose."""

    status_code = 500
    title = "Internal error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(MeritlineError):
    """The caller's input is wrong; the message says how."""

    status_code = 422
    title = "Invalid input"


class MalformedRequest(MeritlineError):
    """The request body cannot be read at all (not JSON, for instance)."""

    status_code = 400
    title = "Malformed request"


class PayloadTooLarge(MeritlineError):
    """The request body is larger than meritline accepts."""

    status_code = 413
    title = "Payload too large"


class NotFound(MeritlineError):
    """Does not exist, or is outside the caller's visibility or tenant (never 403)."""

    status_code = 404
    title = "Not found"


class Conflict(MeritlineError):
    """The request conflicts with the current state."""

    status_code = 409
    title = "Conflict"


class Unauthorized(MeritlineError):
    """Missing, unknown or revoked credentials."""

    status_code = 401
    title = "Unauthorized"


class SchemaOutdated(MeritlineError):
    """The database schema is behind the code."""

    status_code = 503
    title = "Database schema outdated"


class ConfigurationError(MeritlineError):
    """meritline is set up in a way it refuses to run with (the message says what to change)."""

    status_code = 500
    title = "Configuration error"


class IntegrityViolation(MeritlineError):
    """Stored data failed an integrity check (for example a broken audit chain)."""

    status_code = 500
    title = "Integrity violation"
