"""SQL for tenants (the tenant table itself carries no tenant_id and no RLS)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from meritline.models import Tenant


def by_slug(session: Session, slug: str) -> Tenant | None:
    """The tenant with this slug."""
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).first()


def all_tenants(session: Session) -> Sequence[Tenant]:
    """Every tenant, by slug."""
    return session.scalars(select(Tenant).order_by(Tenant.slug)).all()


def add(session: Session, tenant: Tenant) -> Tenant:
    """Insert a tenant."""
    session.add(tenant)
    session.flush()
    return tenant
