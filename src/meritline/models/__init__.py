"""ORM tables, one module per area. Importing this package registers every table."""

from meritline.models.access import ROLES, ApiToken, ApiTokenOrgUnit
from meritline.models.audit import AuditChainHead, AuditEvent
from meritline.models.calibration import (
    ApprovalItem,
    CalibrationAdjustment,
    CalibrationAnalysis,
    CalibrationMember,
    CalibrationPopulation,
    CalibrationSession,
    CalibrationVote,
)
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
from meritline.models.reviews import (
    CYCLE_STATUSES,
    CycleTransition,
    NineBoxPosition,
    PeerFeedback,
    Review,
    ReviewCycle,
)
from meritline.models.scoring import (
    AccessLog,
    EmployeeProfile,
    ScoreSnapshot,
    ScoringModel,
    ScoringRun,
)
from meritline.models.writeback import OutboxDelivery, OutboxEvent, WritebackDestination

__all__ = [
    "CYCLE_STATUSES",
    "ROLES",
    "AccessLog",
    "AggregateBacklog",
    "ApiToken",
    "ApiTokenOrgUnit",
    "ApprovalItem",
    "AuditChainHead",
    "AuditEvent",
    "CalibrationAdjustment",
    "CalibrationAnalysis",
    "CalibrationMember",
    "CalibrationPopulation",
    "CalibrationSession",
    "CalibrationVote",
    "Connector",
    "CycleTransition",
    "Employee",
    "EmployeeProfile",
    "ExternalIdentity",
    "IngestBatch",
    "NineBoxPosition",
    "OrgUnit",
    "OutboxDelivery",
    "OutboxEvent",
    "PeerFeedback",
    "QuarantinedEvent",
    "ReportingLine",
    "Review",
    "ReviewCycle",
    "ScoreSnapshot",
    "ScoringModel",
    "ScoringRun",
    "SensitiveAttribute",
    "Signal",
    "SignalDaily",
    "SignalKey",
    "Tenant",
    "WritebackDestination",
]
