"""Tenants, the org tree, employees, effective-dated reporting lines and sensitive attributes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meritline.clock import utcnow
from meritline.db.base import Base, BigId, TenantScoped, same_tenant_fk


class Tenant(Base):
    """An organisation using meritline; every business row belongs to exactly one."""

    __tablename__ = "tenant"
    __table_args__ = {"info": {"classification": "internal"}}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrgUnit(TenantScoped, Base):
    """A node of the org tree (company, division, department, team)."""

    __tablename__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "path"),
        UniqueConstraint("tenant_id", "id"),
        same_tenant_fk("parent_id", "org_unit", ondelete="RESTRICT"),
        {"info": {"classification": "internal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The full path from the root, "/"-separated, as HRIS exports write departments.
    path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Employee(TenantScoped, Base):
    """A person employed by the tenant (ordinary personal data; nothing special-category)."""

    __tablename__ = "employee"
    __table_args__ = (
        UniqueConstraint("tenant_id", "employee_number"),
        UniqueConstraint("tenant_id", "id"),
        same_tenant_fk("org_unit_id", "org_unit", ondelete="RESTRICT"),
        Index("ix_employee_tenant_email", "tenant_id", "email"),
        CheckConstraint(
            "termination_date IS NULL OR hire_date IS NULL OR termination_date >= hire_date",
            name="terminated_after_hire",
        ),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_number: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    #: Stored lower-cased; identity resolution matches on it.
    email: Mapped[str] = mapped_column(String(320))
    org_unit_id: Mapped[int | None] = mapped_column(BigId, index=True)
    job_family: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str | None] = mapped_column(String(50))
    location: Mapped[str | None] = mapped_column(String(100))
    hire_date: Mapped[date | None]
    termination_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReportingLine(TenantScoped, Base):
    """Employee reports to manager from ``valid_from`` (inclusive) to ``valid_to`` (exclusive).

    A reorg closes the open line and opens a new one, so history is never overwritten.
    """

    __tablename__ = "reporting_line"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint("employee_id <> manager_id", name="not_self"),
        same_tenant_fk("employee_id", "employee", ondelete="CASCADE"),
        same_tenant_fk("manager_id", "employee", ondelete="CASCADE"),
        Index("ix_reporting_line_manager_validity", "tenant_id", "manager_id", "valid_from"),
        Index("ix_reporting_line_employee_validity", "tenant_id", "employee_id", "valid_from"),
        {"info": {"classification": "personal"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_id: Mapped[int] = mapped_column(BigId)
    manager_id: Mapped[int] = mapped_column(BigId)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]


class SensitiveAttribute(TenantScoped, Base):
    """A protected characteristic of one employee, kept apart from the employee row.

    Special-category data (GDPR art. 9): readable only by the roles that need it for fairness
    analysis, and every read is recorded in the audit log.
    """

    __tablename__ = "sensitive_attribute"
    __table_args__ = (
        UniqueConstraint("tenant_id", "employee_id", "attribute"),
        same_tenant_fk("employee_id", "employee", ondelete="CASCADE"),
        {"info": {"classification": "special_category"}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    employee_id: Mapped[int] = mapped_column(BigId, index=True)
    attribute: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
