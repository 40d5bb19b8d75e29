"""Build the demo company through the same import path a user's HRIS file takes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.demo import company
from meritline.errors import InvalidInput
from meritline.people import importing
from meritline.people import service as people
from meritline.people.hris_file import parse_people_csv
from meritline.people.schemas import EmployeeFilters, ImportSummary
from meritline.reviews import service as reviews
from meritline.reviews.schemas import ReviewCycle, ReviewCycleCreate

ANOTHER_COMPANY = (
    "This tenant already holds another company (a demo with another --seed or --employees, or "
    "real data); run the demo in a fresh tenant (--tenant demo2) or database."
)


class DemoResult(BaseModel):
    """What the demo created."""

    seed: int
    company: dict[str, object]
    imported: ImportSummary
    review_cycle: ReviewCycle
    review_cycle_created: bool
    csv: str


def generate_csv(*, employees: int, seed: int) -> tuple[str, dict[str, object]]:
    """The demo company as an HRIS CSV export, and its headline figures."""
    try:
        people = company.generate_people(employees, seed)
    except ValueError as exc:
        raise InvalidInput(f"{exc}; use --employees 40 or more.") from None
    return company.to_csv(people), company.describe(people)


def save_csv(path: Path, csv_text: str) -> None:
    """Write the generated export, or say why it cannot be written."""
    try:
        path.write_text(csv_text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror}.") from None


def load_demo(
    session: Session,
    subject: Subject,
    *,
    csv_text: str,
    figures: dict[str, object],
    seed: int,
    step: Callable[[str], None] = lambda _: None,
) -> DemoResult:
    """Import the demo export and open the current review cycle (idempotent)."""
    step("validating the export")
    parsed = parse_people_csv(csv_text)
    step("importing people")
    already = people.list_employees(
        session, subject, filters=EmployeeFilters(include_terminated=True), limit=1
    ).total
    try:
        summary = importing.import_people(session, subject, parsed)
    except InvalidInput as exc:
        raise InvalidInput(f"{ANOTHER_COMPANY} {exc.message}", **exc.details) from None
    if already and (summary.employees_created or summary.employees_updated):
        raise InvalidInput(ANOTHER_COMPANY)  # the caller's transaction rolls the import back
    step("opening the review cycle")
    year = company.DEMO_TODAY.year
    name = f"FY{year} annual review"
    existing = {c.name: c for c in reviews.list_cycles(session, subject)}
    cycle = existing.get(name) or reviews.create_cycle(
        session,
        subject,
        ReviewCycleCreate(name=name, period_start=date(year, 1, 1), period_end=date(year, 12, 31)),
    )
    return DemoResult(
        seed=seed,
        company=figures,
        imported=summary,
        review_cycle=cycle,
        review_cycle_created=name not in existing,
        csv=csv_text,
    )
