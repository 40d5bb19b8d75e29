"""Bearer-token authentication and the request's unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from meritline.access import service as access
from meritline.access.subject import Subject
from meritline.db.session import Database
from meritline.errors import Unauthorized

T = TypeVar("T")
R = TypeVar("R")

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

    def read_then_record(
        self,
        read: Callable[[Session, Subject], tuple[T, R]],
        record: Callable[[Session, Subject, R], None],
    ) -> T:
        """Read, then record what was read (the access log) before anything is answered.

        On SQLite, whose database has one write lock, the read runs in a read-only transaction
        and the record in a short writing one, so no reader holds the lock while it reads. On
        PostgreSQL readers never wait for writers, and one transaction saves a round of BEGIN,
        tenant setting and COMMIT.
        """
        if self.database.dialect == "sqlite":
            with self.unit_of_work(read_only=True) as (session, subject):
                result, pending = read(session, subject)
            with self.database.unit_of_work(subject.tenant_id) as session:
                record(session, subject, pending)
            return result
        with self.unit_of_work() as (session, subject):
            result, pending = read(session, subject)
            record(session, subject, pending)
        return result


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
