"""SQL for access: the visibility rule and API tokens.

The visibility rule is one SQL definition, :func:`visibility_filter`. Lists filter with it and
single reads check one id against it, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, or_, select
from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.models import (
    ApiToken,
    ApiTokenOrgUnit,
    CalibrationMember,
    CalibrationPopulation,
    CalibrationSession,
    Employee,
    OrgUnit,
    ReportingLine,
)


def line_valid_on(as_of: date) -> ColumnElement[bool]:
    """Reporting lines in force on ``as_of`` (``valid_to`` is exclusive)."""
    return and_(
        ReportingLine.valid_from <= as_of,
        or_(ReportingLine.valid_to.is_(None), ReportingLine.valid_to > as_of),
    )


def reports_of(tenant_id: int, manager_id: int, as_of: date) -> Select[int]:
    """Direct and indirect reports of a manager on ``as_of`` (recursive)."""
    tree = (
        select(ReportingLine.employee_id.label("employee_id"))
        .where(
            ReportingLine.tenant_id == tenant_id,
            ReportingLine.manager_id == manager_id,
            line_valid_on(as_of),
        )
        .cte("reports", recursive=True)
    )
    tree = tree.union(
        select(ReportingLine.employee_id).where(
            ReportingLine.tenant_id == tenant_id,
            ReportingLine.manager_id == tree.c.employee_id,
            line_valid_on(as_of),
        )
    )
    return select(tree.c.employee_id)


def org_subtree(tenant_id: int, root_ids: Sequence[int], *, name: str = "units") -> Select[int]:
    """The given org units and every unit below them (``name``: the CTE's, unique per query)."""
    tree = (
        select(OrgUnit.id.label("id"))
        .where(OrgUnit.tenant_id == tenant_id, OrgUnit.id.in_(list(root_ids)))
        .cte(name, recursive=True)
    )
    tree = tree.union(
        select(OrgUnit.id).where(OrgUnit.tenant_id == tenant_id, OrgUnit.parent_id == tree.c.id)
    )
    return select(tree.c.id)


def calibration_scope(tenant_id: int, member_id: int) -> Select[int]:
    """The populations of the open calibration sessions ``member_id`` sits on."""
    return (
        select(CalibrationPopulation.employee_id)
        .join(
            CalibrationSession,
            and_(
                CalibrationSession.tenant_id == CalibrationPopulation.tenant_id,
                CalibrationSession.id == CalibrationPopulation.session_id,
            ),
        )
        .join(
            CalibrationMember,
            and_(
                CalibrationMember.tenant_id == CalibrationPopulation.tenant_id,
                CalibrationMember.session_id == CalibrationPopulation.session_id,
            ),
        )
        .where(
            CalibrationPopulation.tenant_id == tenant_id,
            CalibrationMember.employee_id == member_id,
            CalibrationSession.status == "open",
        )
    )


def visibility_filter(subject: Subject, as_of: date) -> ColumnElement[bool]:
    """The visibility rule, as a WHERE clause on ``Employee``: who ``subject`` may see on ``as_of``.

    * employee: themself;
    * calibrator: themself and the populations of the open calibration sessions they sit on
      (the role ends with the session: a locked session shows nobody);
    * manager: themself and their direct and indirect reports on ``as_of``;
    * hrbp: themself and everyone in the subtrees of their org units;
    * admin, people_analyst, legal: the whole tenant.
    """
    tenant = Employee.tenant_id == subject.tenant_id
    if subject.sees_whole_tenant:
        return tenant
    me = subject.employee_id if subject.employee_id is not None else -1
    themself = Employee.id == me
    if subject.role == "manager":
        return and_(
            tenant, or_(themself, Employee.id.in_(reports_of(subject.tenant_id, me, as_of)))
        )
    if subject.role == "calibrator":
        scope = calibration_scope(subject.tenant_id, me)
        return and_(tenant, or_(themself, Employee.id.in_(scope)))
    if subject.role == "hrbp" and subject.org_unit_ids:
        units = org_subtree(subject.tenant_id, subject.org_unit_ids)
        return and_(tenant, or_(themself, Employee.org_unit_id.in_(units)))
    return and_(tenant, themself)


# --- tokens -------------------------------------------------------------------------------


def add_token(session: Session, token: ApiToken, org_unit_ids: Sequence[int]) -> ApiToken:
    """Store a token and its org-unit scope."""
    session.add(token)
    session.flush()
    for org_unit_id in org_unit_ids:
        session.add(
            ApiTokenOrgUnit(tenant_id=token.tenant_id, token_id=token.id, org_unit_id=org_unit_id)
        )
    session.flush()
    return token


def token_by_hash(session: Session, token_hash: str) -> Row[*tuple[Any, ...]] | None:
    """The token with this hash in the session's tenant, and its holder's last day: one
    round trip, as every API request starts with it.
    """
    query = (
        select(
            ApiToken.id,
            ApiToken.role,
            ApiToken.employee_id,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            Employee.termination_date,
        )
        .join(Employee, Employee.id == ApiToken.employee_id)
        .where(ApiToken.token_hash == token_hash)
    )
    return session.execute(query).first()


def token_org_units(session: Session, token_id: int) -> list[int]:
    """The org units an hrbp token is scoped to."""
    return list(
        session.scalars(
            select(ApiTokenOrgUnit.org_unit_id).where(ApiTokenOrgUnit.token_id == token_id)
        )
    )


def token_by_id(session: Session, token_id: int) -> ApiToken | None:
    """A token by id, in the session's tenant."""
    return session.scalars(select(ApiToken).where(ApiToken.id == token_id)).first()


def list_tokens(session: Session) -> Sequence[tuple[ApiToken, str]]:
    """Every token of the session's tenant with its employee number."""
    rows = session.execute(
        select(ApiToken, Employee.employee_number)
        .join(Employee, Employee.id == ApiToken.employee_id)
        .order_by(ApiToken.id)
    ).all()
    return [(row[0], row[1]) for row in rows]
