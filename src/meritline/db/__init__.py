"""Database access: engine, unit of work, tenant scoping and migrations."""

from meritline.db.base import Base, BigId, TenantScoped, UTCDateTime
from meritline.db.session import Database

__all__ = ["Base", "BigId", "Database", "TenantScoped", "UTCDateTime"]
