"""Access use cases: API tokens and authentication."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from meritline.access import queries
from meritline.access.schemas import TokenCreated, TokenRead
from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utcnow, utctoday
from meritline.errors import InvalidInput, NotFound, Unauthorized
from meritline.models import ROLES, ApiToken, Employee
from meritline.people import queries as people_queries
from meritline.tenants.public_ids import new_public_id, split_public_id

MAX_TOKEN_DAYS = 3660
MAX_LABEL_LENGTH = 200
TOKEN_PREFIX = "ml"  # noqa: S105 (a public prefix, not a secret)


def hash_token(token: str) -> str:
    """SHA-256 of a token (tokens carry 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def tenant_of_token(token: str) -> int:
    """Read the tenant id a token names (``ml_<tenant>_<secret>``); 401 when malformed."""
    parsed = split_public_id(token, TOKEN_PREFIX)
    if parsed is None or len(parsed[1]) < 32:
        raise Unauthorized("Unknown or malformed token.")
    return parsed[0]


def create_token(
    session: Session,
    subject: Subject,
    *,
    employee_number: str,
    role: str,
    org_unit_paths: list[str] | None = None,
    label: str | None = None,
    expires_in_days: int | None = None,
) -> TokenCreated:
    """Issue a token acting as ``employee_number`` in ``role``; only its hash is stored.

    An hrbp token is scoped to org units (``org_unit_paths``; by default the employee's own).
    """
    require_role(subject, "admin")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise InvalidInput(
            f"expires_in_days must be 1 to {MAX_TOKEN_DAYS} (omit it for no expiry)."
        )
    if label is not None and len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(f"The label is longer than {MAX_LABEL_LENGTH} characters.")
    employee, org_unit_ids = _resolve_role(session, employee_number, role, org_unit_paths)
    secret = new_public_id(TOKEN_PREFIX, subject.tenant_id, random_bytes=32)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = queries.add_token(
        session,
        ApiToken(
            tenant_id=subject.tenant_id,
            employee_id=employee.id,
            role=role,
            token_hash=hash_token(secret),
            label=label,
            expires_at=expires_at,
        ),
        org_unit_ids,
    )
    audit.record(
        session,
        subject,
        AuditRecord(
            "api_token.create",
            "api_token",
            token.id,
            {"employee_id": employee.id, "role": role, "org_unit_ids": org_unit_ids},
        ),
    )
    paths = people_queries.org_unit_paths(session, org_unit_ids)
    return TokenCreated(
        id=token.id,
        token=secret,
        employee_id=employee_number,
        role=role,
        org_units=[paths[i] for i in org_unit_ids],
        expires_at=expires_at,
    )


def _resolve_role(
    session: Session, employee_number: str, role: str, org_unit_paths: list[str] | None
) -> tuple[Employee, list[int]]:
    """Check an employee can take ``role``; return them and the hrbp org-unit scope."""
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}. Choose one of: {', '.join(ROLES)}.")
    employee = people_queries.employee_by_number(session, employee_number)
    if employee is None:
        raise NotFound(f"No employee {employee_number!r} in this tenant.")
    if employee.termination_date is not None and employee.termination_date < utctoday():
        raise InvalidInput(f"Employee {employee_number!r} has left; roles are for current staff.")
    if org_unit_paths and role != "hrbp":
        raise InvalidInput("Only the hrbp role is scoped to org units (--org-unit).")
    if role != "hrbp":
        return employee, []
    if not org_unit_paths:
        if employee.org_unit_id is None:
            raise InvalidInput("An hrbp needs --org-unit: the employee has no department.")
        return employee, [employee.org_unit_id]
    units = people_queries.org_units_by_path(session, org_unit_paths)
    unknown = sorted(set(org_unit_paths) - set(units))
    if unknown:
        raise InvalidInput(f"Unknown org unit(s): {', '.join(unknown)}.")
    return employee, [units[path].id for path in org_unit_paths]


def act_as(
    session: Session,
    subject: Subject,
    *,
    employee_number: str,
    role: str,
    org_unit_paths: list[str] | None = None,
) -> Subject:
    """The subject an employee in ``role`` would be (the operator previews visibility with it)."""
    require_role(subject, "admin")
    employee, org_unit_ids = _resolve_role(session, employee_number, role, org_unit_paths)
    return Subject(
        tenant_id=subject.tenant_id,
        role=role,
        employee_id=employee.id,
        org_unit_ids=tuple(org_unit_ids),
    )


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> Subject:
    """Turn a bearer token into a subject, in a session already scoped to the token's tenant.

    Unknown, malformed, revoked or expired tokens, and tokens of staff who have left (after their
    last day), are 401.
    """
    tenant_id = tenant_of_token(token)
    digest = hash_token(token)
    stored = queries.token_by_hash(session, digest)  # a lookup by hash leaks no timing
    now = now or utcnow()
    if (
        stored is None
        or stored.revoked_at is not None
        or (stored.expires_at is not None and stored.expires_at <= now)
        or (stored.termination_date is not None and stored.termination_date < now.date())
    ):
        raise Unauthorized("Unknown or revoked token.")
    # only an hrbp's view depends on org units
    units = queries.token_org_units(session, stored.id) if stored.role == "hrbp" else []
    return Subject(
        tenant_id=tenant_id,
        role=stored.role,
        employee_id=stored.employee_id,
        org_unit_ids=tuple(units),
        token_id=stored.id,
    )


def revoke_token(session: Session, subject: Subject, *, token_id: int) -> TokenRead:
    """Revoke a token; later requests with it get 401."""
    require_role(subject, "admin")
    token = queries.token_by_id(session, token_id)
    if token is None:
        raise NotFound(f"No token {token_id} in this tenant.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(session, subject, AuditRecord("api_token.revoke", "api_token", token.id))
    employee = people_queries.employee_by_id(session, token.employee_id)
    return _token_read(token, employee.employee_number if employee else "")


def list_tokens(session: Session, subject: Subject) -> list[TokenRead]:
    """Every token of the tenant (never the secrets)."""
    require_role(subject, "admin")
    return [_token_read(token, number) for token, number in queries.list_tokens(session)]


def _token_read(token: ApiToken, employee_number: str) -> TokenRead:
    return TokenRead(
        id=token.id,
        employee_id=employee_number,
        role=token.role,
        label=token.label,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )
