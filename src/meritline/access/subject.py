"""Who is acting: one employee in one role within one tenant (or the CLI operator)."""

from __future__ import annotations

from dataclasses import dataclass

from meritline.errors import NotFound

#: Roles that see the whole tenant's people data (``compensation``: the approvers of promotion
#: proposals and pay outcomes, who act across the organisation).
TENANT_WIDE_ROLES = frozenset({"admin", "people_analyst", "legal", "compensation"})

#: Roles that may read special-category data, for fairness analysis and legal review.
SENSITIVE_READER_ROLES = frozenset({"people_analyst", "legal"})


@dataclass(frozen=True)
class Subject:
    """The acting subject. ``employee_id`` is internal; ``None`` only for the CLI operator."""

    tenant_id: int
    role: str
    employee_id: int | None = None
    org_unit_ids: tuple[int, ...] = ()
    token_id: int | None = None

    @classmethod
    def operator(cls, tenant_id: int) -> Subject:
        """The person at the command line: an admin of the tenant, by virtue of database access."""
        return cls(tenant_id=tenant_id, role="admin")

    @property
    def actor(self) -> str:
        """How the audit log names this subject (internal ids only, no personal data)."""
        if self.employee_id is None:
            return "cli:operator"
        via = f"token:{self.token_id}" if self.token_id is not None else "session"
        return f"employee:{self.employee_id}:{self.role}:{via}"

    @property
    def sees_whole_tenant(self) -> bool:
        """True when the role's visibility is the whole tenant."""
        return self.role in TENANT_WIDE_ROLES

    @property
    def may_read_sensitive(self) -> bool:
        """True when the role may read special-category attributes."""
        return self.role in SENSITIVE_READER_ROLES


def require_role(subject: Subject, *roles: str) -> None:
    """Let only ``roles`` through; others get ``NotFound`` (the operation stays private)."""
    if subject.role not in roles:
        raise NotFound("No such operation for this role.")
