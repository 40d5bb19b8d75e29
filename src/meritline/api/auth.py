"""Bearer-token authentication and the request's unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.db.session import Database
from meritline.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="A token from `meritline token create`.")


@dataclass(frozen=True)
class Caller:
    """An authenticated request: its token and the database to open its transaction on."""

    database: Database
    token: str

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[tuple[Session, Subject]]:
        """The request's one transaction, in the token's tenant, with the acting subject."""
        tenant_id = access.tenant_of_token(self.token)
        with self.database.unit_of_work(tenant_id, read_only=read_only) as session:
            yield session, access.authenticate(session, self.token)

    @contextmanager
    def then_write(self, subject: Subject) -> Iterator[Session]:
        """A short writing transaction after a read-only one, as the subject it authenticated:
        what a read must leave behind (the access log) without holding a write lock, which
        SQLite has one of, while the read runs.
        """
        with self.database.unit_of_work(subject.tenant_id) as session:
            yield session


def database(request: Request) -> Database:
    """The application's database."""
    db: Database = request.app.state.database
    return db


def caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Caller:
    """The caller, or 401 when no bearer token was sent."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send a token: Authorization: Bearer <token>.")
    return Caller(database=database(request), token=credentials.credentials)
