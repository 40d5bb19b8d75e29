"""ORM tables, one module per area. Importing this package registers every table."""

from meritline.models.access import ROLES, ApiToken, ApiTokenOrgUnit
from meritline.models.audit import AuditChainHead, AuditEvent
from meritline.models.evidence import (
    AggregateBacklog,
    Connector,
    ExternalIdentity,
    IngestBatch,
    QuarantinedEvent,
    Signal,
    SignalDaily,
    SignalKey,
)
from meritline.models.people import Employee, OrgUnit, ReportingLine, SensitiveAttribute, Tenant
from meritline.models.reviews import CYCLE_STATUSES, ReviewCycle

__all__ = [
    "CYCLE_STATUSES",
    "ROLES",
    "AggregateBacklog",
    "ApiToken",
    "ApiTokenOrgUnit",
    "AuditChainHead",
    "AuditEvent",
    "Connector",
    "Employee",
    "ExternalIdentity",
    "IngestBatch",
    "OrgUnit",
    "QuarantinedEvent",
    "ReportingLine",
    "ReviewCycle",
    "SensitiveAttribute",
    "Signal",
    "SignalDaily",
    "SignalKey",
    "Tenant",
]
