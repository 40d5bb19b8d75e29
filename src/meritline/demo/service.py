"""Build the demo company through the same import path a user's HRIS file takes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy.orm import Session

from meritline.access.subject import Subject
from meritline.demo import company
from meritline.demo import evidence as demo_evidence
from meritline.errors import InvalidInput
from meritline.evidence import aggregates, identities, ingestion
from meritline.evidence.frames import from_drafts
from meritline.evidence.schemas import AggregateRefresh, IngestSummary, WindowsReport
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


#: Signals handed to ingestion per batch (one progress step each).
EVIDENCE_BATCH = 25_000


class EvidenceResult(BaseModel):
    """The demo's twelve months of evidence: what was ingested, and the rolled-up windows."""

    identities: int
    ingested: IngestSummary
    refresh: AggregateRefresh
    windows: WindowsReport


def generate_people(*, employees: int, seed: int) -> list[company.Person]:
    """The demo company's people."""
    try:
        return company.generate_people(employees, seed)
    except ValueError as exc:
        raise InvalidInput(f"{exc}; use --employees 40 or more.") from None


def generate_csv(*, employees: int, seed: int) -> tuple[str, dict[str, object]]:
    """The demo company as an HRIS CSV export, and its headline figures."""
    people = generate_people(employees=employees, seed=seed)
    return company.to_csv(people), company.describe(people)


def load_evidence(
    session: Session,
    subject: Subject,
    *,
    people: list[company.Person],
    seed: int,
    progress: Callable[[int], None] = lambda _: None,
) -> EvidenceResult:
    """Map the demo's GitHub logins, send twelve months of signals through ingestion (the path
    imports and webhooks take), and roll them up (idempotent: a rerun stores nothing new).
    """
    mappings = identities.parse_mapping_csv(demo_evidence.identities_csv(people))
    identities.import_mappings(session, subject, mappings, origin="import")
    drafts = demo_evidence.generate_signals(people, seed=seed)
    total = IngestSummary(source="demo")
    while chunk := list(islice(drafts, EVIDENCE_BATCH)):
        summary = ingestion.ingest_drafts_batch(
            session, subject, from_drafts(chunk), kind="demo", source="demo"
        )
        total.add(summary)
        progress(len(chunk))
    refreshed = aggregates.refresh(session, subject)
    as_of = company.DEMO_TODAY - timedelta(days=1)  # the last day of the demo's evidence
    return EvidenceResult(
        identities=len(mappings),
        ingested=total,
        refresh=refreshed,
        windows=aggregates.windows(session, subject, as_of=as_of),
    )


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
