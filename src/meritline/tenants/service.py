"""Tenant use cases."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.db.tenancy import bind_tenant
from meritline.errors import Conflict, InvalidInput, NotFound
from meritline.models import Tenant
from meritline.tenants import queries
from meritline.tenants.schemas import TenantRead

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def create_tenant(session: Session, *, slug: str, name: str | None = None) -> TenantRead:
    """Create a tenant and start its audit chain; the session is scoped to it afterwards."""
    if not SLUG_PATTERN.match(slug):
        raise InvalidInput(
            f"Bad tenant slug {slug!r}: use lower-case letters, digits and '-' (max 63)."
        )
    if queries.by_slug(session, slug) is not None:
        raise Conflict(f"Tenant {slug!r} already exists.")
    tenant = queries.add(session, Tenant(slug=slug, name=name or slug))
    bind_tenant(session, tenant.id)
    audit.start_chain(session, tenant_id=tenant.id)
    audit.record(
        session,
        Subject.operator(tenant.id),
        AuditRecord("tenant.create", "tenant", tenant.id, {"slug": slug, "name": tenant.name}),
    )
    return TenantRead.model_validate(tenant)


def get_tenant(session: Session, *, slug: str) -> TenantRead:
    """The tenant with this slug, or a message saying how to create it."""
    tenant = queries.by_slug(session, slug)
    if tenant is None:
        raise NotFound(
            f"No tenant {slug!r}. Create it with `meritline tenant create {slug}` "
            "(or run `meritline import people FILE.csv`, which creates it)."
        )
    return TenantRead.model_validate(tenant)


def find_tenant(session: Session, *, slug: str) -> TenantRead | None:
    """The tenant with this slug, or None."""
    tenant = queries.by_slug(session, slug)
    return None if tenant is None else TenantRead.model_validate(tenant)


def get_or_create_tenant(session: Session, *, slug: str) -> tuple[TenantRead, bool]:
    """The tenant with this slug, created if missing; and whether it was created."""
    tenant = queries.by_slug(session, slug)
    if tenant is not None:
        bind_tenant(session, tenant.id)
        return TenantRead.model_validate(tenant), False
    return create_tenant(session, slug=slug), True


def list_tenants(session: Session) -> list[TenantRead]:
    """Every tenant."""
    return [TenantRead.model_validate(t) for t in queries.all_tenants(session)]
