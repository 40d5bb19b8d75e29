"""API tokens: only a hash is stored; the token carries a role and, for an hrbp, org units."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped, same_tenant_fk

ROLES = (
    "employee",
    "manager",
    "hrbp",
    "calibrator",
    "people_analyst",
    "legal",
    "compensation",
    "admin",
)


class ApiToken(TenantScoped, Base):
    """A bearer token acting as one employee in one role."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="role"),
        UniqueConstraint("tenant_id", "id"),
        same_tenant_fk("employee_id", "employee", ondelete="CASCADE"),
        {"info": {"classification": "secret"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_id: Mapped[int] = mapped_column(BigId)
    role: Mapped[str] = mapped_column(String(32))
    #: SHA-256 of the secret part; tokens are 256-bit random, so a fast hash is sufficient.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiTokenOrgUnit(TenantScoped, Base):
    """An org unit whose subtree an hrbp token may see."""

    __tablename__ = "api_token_org_unit"
    __table_args__ = (
        same_tenant_fk("token_id", "api_token", ondelete="CASCADE"),
        same_tenant_fk("org_unit_id", "org_unit", ondelete="CASCADE"),
        {"info": {"classification": "internal"}},
    )

    token_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
