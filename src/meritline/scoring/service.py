"""Scoring use cases: model versions, the steps of a scoring run, and reads of scores.

A run spans several transactions so that it can resume (see ``jobs.run_scoring``); each step
here works inside the one its caller opened.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from meritline.access.subject import Subject, require_role
from meritline.audit import service as audit
from meritline.audit.schemas import AuditRecord
from meritline.clock import utcnow, utctoday
from meritline.errors import InvalidInput, NotFound
from meritline.models import ScoringModel, ScoringRun
from meritline.people import queries as people_queries
from meritline.scoring import engine, queries
from meritline.scoring.definition import (
    DEFAULT_MODEL_PATH,
    ScoringModelDefinition,
    default_definition,
    diff_definitions,
    load_definition,
)
from meritline.scoring.engine import EmployeeScore, ScoringInputs, ScoringResult
from meritline.scoring.schemas import (
    AccessLogEntry,
    Explanation,
    ExportRow,
    ModelActivation,
    ModelChange,
    ModelDiff,
    ModelValidation,
    ModelVersion,
    Profile,
    RunSummary,
)

#: ``model activate default``, ``model diff default ...``: the model that ships with meritline.
PACKAGED = "default"
MODEL_ROLES = ("admin",)
READ_ALL_ROLES = ("admin", "people_analyst")
#: Why a role reads someone's scores when it does not say.
DEFAULT_PURPOSE = {
    "employee": "own record",
    "manager": "line management",
    "hrbp": "HR business partnering",
    "calibrator": "calibration",
    "people_analyst": "people analytics",
    "legal": "legal review",
    "admin": "administration",
}
NO_ACTIVE_MODEL = (
    "No scoring model is active yet. `meritline model activate default` activates the one that "
    "ships with meritline (`meritline score run` does so too)."
)


def content_hash(definition: ScoringModelDefinition) -> str:
    """SHA-256 of the definition's canonical JSON: the identity of a model version."""
    return hashlib.sha256(definition.canonical_json().encode()).hexdigest()


def definition_of(model: ScoringModel) -> ScoringModelDefinition:
    """The stored definition, validated again."""
    return ScoringModelDefinition.model_validate(model.definition)


# --- model versions --------------------------------------------------------------------------


def _version(model: ScoringModel) -> ModelVersion:
    return ModelVersion(
        version=model.label,
        name=model.name,
        number=model.version,
        status=model.status,
        content_hash=model.content_hash,
        created_at=model.created_at,
        activated_at=model.activated_at,
        retired_at=model.retired_at,
        definition=model.definition,
    )


def _stored(session: Session, reference: str) -> ScoringModel:
    """A stored version by ``name@number``."""
    name, _, number = reference.partition("@")
    if not number.isdigit():
        raise InvalidInput(
            f"{reference!r} is neither a model file nor a version such as default@1; "
            "`meritline model list` shows the versions."
        )
    model = queries.model_by_version(session, name, int(number))
    if model is None:
        raise NotFound(f"No model version {reference}; `meritline model list` shows them.")
    return model


def _definition(session: Session, reference: str) -> tuple[ScoringModelDefinition, str]:
    """A definition from a file, the packaged default or a stored version; with its label."""
    if reference == PACKAGED:
        return default_definition(), f"packaged {DEFAULT_MODEL_PATH.name}"
    if "@" not in reference or Path(reference).exists():
        return load_definition(Path(reference)), reference
    model = _stored(session, reference)
    return definition_of(model), model.label


def validate(session: Session, subject: Subject, *, reference: str) -> ModelValidation:
    """Validate a model file (or the packaged default) and say whether it is stored already."""
    require_role(subject, *MODEL_ROLES)
    definition, _ = _definition(session, reference)
    stored = queries.model_by_hash(session, content_hash(definition))
    return _validation(definition, stored_as=stored.label if stored else None)


def validate_file(reference: str) -> ModelValidation:
    """Validate a model file (or the packaged default) before any tenant exists."""
    if reference == PACKAGED:
        return _validation(default_definition(), stored_as=None)
    return _validation(load_definition(Path(reference)), stored_as=None)


def _validation(definition: ScoringModelDefinition, *, stored_as: str | None) -> ModelValidation:
    return ModelValidation(
        name=definition.name,
        content_hash=content_hash(definition),
        pillars={p.name: p.weight for p in definition.pillars},
        metrics=len(definition.metrics()),
        signal_types=sorted(definition.signal_types()),
        stored_as=stored_as,
    )


def _store(
    session: Session, subject: Subject, definition: ScoringModelDefinition
) -> tuple[ScoringModel, bool]:
    digest = content_hash(definition)
    existing = queries.model_by_hash(session, digest)
    if existing is not None:
        return existing, False
    latest = queries.latest_version(session, definition.name)
    model = queries.add_model(
        session,
        ScoringModel(
            name=definition.name,
            version=1 if latest is None else latest.version + 1,
            definition=definition.model_dump(mode="json"),
            content_hash=digest,
            status="draft",
        ),
    )
    audit.record(
        session,
        subject,
        AuditRecord(
            "scoring_model.stored",
            "scoring_model",
            model.id,
            {"version": model.label, "content_hash": digest},
        ),
    )
    return model, True


def activate(session: Session, subject: Subject, *, reference: str) -> ModelActivation:
    """Make a version the active one: a file or the packaged default is stored as a new version
    first (unless that exact content is stored already). The previous active one is retired.
    """
    require_role(subject, *MODEL_ROLES)
    if reference == PACKAGED or "@" not in reference or Path(reference).exists():
        definition, _ = _definition(session, reference)
        model, created = _store(session, subject, definition)
    else:
        model, created = _stored(session, reference), False
    current = queries.active_model(session)
    if current is not None and current.id == model.id:  # already active: nothing retired
        return ModelActivation(
            version=model.label, created=created, previous=None, already_active=True
        )
    now = utcnow()
    if current is not None:
        current.status, current.retired_at = "retired", now
        session.flush()  # one active version at a time: retire before activating
    model.status, model.activated_at, model.retired_at = "active", now, None
    session.flush()
    audit.record(
        session,
        subject,
        AuditRecord(
            "scoring_model.activated",
            "scoring_model",
            model.id,
            {"version": model.label, "previous": current.label if current else None},
        ),
    )
    return ModelActivation(
        version=model.label, created=created, previous=current.label if current else None
    )


def ensure_active(session: Session, subject: Subject) -> ScoringModel:
    """The active version; the packaged default is activated when none is."""
    model = queries.active_model(session)
    if model is None:
        activate(session, subject, reference=PACKAGED)
        model = queries.active_model(session)
    assert model is not None
    return model


def show(session: Session, subject: Subject, *, reference: str | None = None) -> ModelVersion:
    """A stored version, by default the active one."""
    require_role(subject, *MODEL_ROLES, "people_analyst", "calibrator")
    if reference is None:
        model = queries.active_model(session)
        if model is None:
            raise NotFound(NO_ACTIVE_MODEL)
        return _version(model)
    return _version(_stored(session, reference))


def list_versions(session: Session, subject: Subject) -> list[ModelVersion]:
    """Every stored version."""
    require_role(subject, *MODEL_ROLES, "people_analyst", "calibrator")
    return [_version(m) for m in queries.list_models(session)]


def diff(session: Session, subject: Subject, *, old: str, new: str) -> ModelDiff:
    """What changes from ``old`` to ``new`` (each a version, a file or ``default``)."""
    require_role(subject, *MODEL_ROLES, "people_analyst", "calibrator")
    old_definition, old_label = _definition(session, old)
    new_definition, new_label = _definition(session, new)
    return ModelDiff(
        old=old_label,
        new=new_label,
        changes=[ModelChange(**c) for c in diff_definitions(old_definition, new_definition)],
    )


# --- the steps of a scoring run --------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    """A started (or resumed) run: what it scores, with which model."""

    run_id: int
    model_id: int
    model_version: str
    model_hash: str
    definition: ScoringModelDefinition
    as_of: date
    selection: tuple[str, ...] | None
    resumed: bool


def start_run(
    session: Session,
    subject: Subject,
    *,
    as_of: date | None,
    model: str | None,
    employees: list[str] | None,
    resume: bool,
) -> RunPlan:
    """Open a run in the log, or pick up the latest unfinished one (``resume``)."""
    require_role(subject, "admin")
    if resume:
        if as_of is not None or model is not None or employees is not None:
            raise InvalidInput(
                "--resume takes the run's own date, model and employees; give no others."
            )
        run = queries.unfinished_run(session)
        if run is None:
            raise NotFound(
                "No unfinished scoring run to resume; `meritline score runs` lists them."
            )
        queries.update_run(session, run.id, status="running", resumed=run.resumed + 1, error=None)
        stored = queries.model_by_id(session, run.model_id)
        assert stored is not None
        audit.record(session, subject, AuditRecord("scoring_run.resumed", "scoring_run", run.id))
        return _plan(run, stored, resumed=True)
    when = as_of or utctoday()
    stored = ensure_active(session, subject) if model is None else _stored(session, model)
    selection = None
    if employees is not None:
        numbers = sorted(set(employees))
        found = people_queries.employees_by_numbers(session, numbers)
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise InvalidInput(f"No employee {', '.join(unknown)}; check --employees.")
        selection = numbers
    run = queries.add_run(
        session, ScoringRun(model_id=stored.id, as_of=when, status="running", selection=selection)
    )
    audit.record(
        session,
        subject,
        AuditRecord(
            "scoring_run.started",
            "scoring_run",
            run.id,
            {"model": stored.label, "as_of": when.isoformat(), "employees": selection},
        ),
    )
    return _plan(run, stored, resumed=False)


def _plan(run: ScoringRun, model: ScoringModel, *, resumed: bool) -> RunPlan:
    return RunPlan(
        run_id=run.id,
        model_id=model.id,
        model_version=model.label,
        model_hash=model.content_hash,
        definition=definition_of(model),
        as_of=run.as_of,
        selection=tuple(run.selection) if run.selection is not None else None,
        resumed=resumed,
    )


@dataclass(frozen=True)
class Computed:
    """A run's results, with the employees still to write and everyone's HRIS id."""

    result: ScoringResult
    pending: list[EmployeeScore]
    numbers: dict[int, str]


def compute(session: Session, subject: Subject, plan: RunPlan) -> Computed:
    """Read the inputs and score everyone (read-only). Cohorts always take in every active
    employee, so a subset (``--employees``) or a resumed run scores exactly as a full run would.
    """
    require_role(subject, "admin")
    definition, as_of = plan.definition, plan.as_of
    people = queries.active_people(session, as_of, cohort=definition.cohort)
    if people.is_empty():
        raise InvalidInput(
            f"No one is employed on {as_of}; import people first (`meritline import people`)."
        )
    if plan.selection is not None:
        missing = set(plan.selection) - set(people["employee_number"].to_list())
        if missing:
            raise InvalidInput(f"Not employed on {as_of}: {', '.join(sorted(missing))}.")
    needed = engine.evidence_needed(definition)
    windows = {name: engine.window_bounds(name, as_of) for name in needed}
    inputs = ScoringInputs(
        as_of=as_of,
        people=people.drop("employee_number"),
        evidence=queries.window_evidence(session, windows, needed),
        previous=queries.previous_scores(session, as_of),
    )
    result = engine.score(definition, inputs, model_hash=plan.model_hash)
    numbers = dict(
        zip(people["employee_id"].to_list(), people["employee_number"].to_list(), strict=True)
    )
    written = queries.written_employees(session, plan.run_id)
    wanted = None if plan.selection is None else set(plan.selection)
    pending = [
        s
        for s in result.scores
        if s.employee_id not in written and (wanted is None or numbers[s.employee_id] in wanted)
    ]
    return Computed(result=result, pending=pending, numbers=numbers)


def write_scores(
    session: Session, subject: Subject, plan: RunPlan, scores: list[EmployeeScore]
) -> int:
    """Write one chunk of snapshots and upsert the profiles they update; how many were new."""
    require_role(subject, "admin")
    ids = queries.insert_snapshots(
        session,
        [
            {
                "run_id": plan.run_id,
                "employee_id": s.employee_id,
                "model_id": plan.model_id,
                "model_version": plan.model_version,
                "as_of": plan.as_of,
                "score": s.score,
                "confidence": s.confidence,
                "trend": s.trend,
                "cohort": s.cohort,
                "pillars": s.pillars,
                "explanation": s.explanation,
                "fingerprint": s.fingerprint,
            }
            for s in scores
        ],
    )
    queries.upsert_profiles(
        session,
        [
            {
                "employee_id": s.employee_id,
                "snapshot_id": ids[s.employee_id],
                "model_version": plan.model_version,
                "as_of": plan.as_of,
                "score": s.score,
                "confidence": s.confidence,
                "trend": s.trend,
                "pillars": s.pillars,
                "flags": s.flags,
            }
            for s in scores
        ],
    )
    return len(scores)


def finish_run(
    session: Session, subject: Subject, plan: RunPlan, computed: Computed, *, elapsed_ms: int
) -> RunSummary:
    """Mark the run succeeded with its counts (every employee it was to write is written)."""
    run = queries.run_by_id(session, plan.run_id)
    assert run is not None
    wanted = None if plan.selection is None else set(plan.selection)
    target = [
        s
        for s in computed.result.scores
        if wanted is None or computed.numbers[s.employee_id] in wanted
    ]
    written = len(queries.written_employees(session, plan.run_id))
    values = {
        "status": "succeeded",
        "finished_at": utcnow(),
        "duration_ms": (run.duration_ms or 0) + elapsed_ms,
        "employees": len(target),
        "written": written,
        "unscored": sum(1 for s in target if s.score is None),
        "inputs_digest": computed.result.inputs_digest,
    }
    queries.update_run(session, plan.run_id, **values)
    audit.record(
        session,
        subject,
        AuditRecord(
            "scoring_run.succeeded",
            "scoring_run",
            plan.run_id,
            {k: v for k, v in values.items() if k not in ("finished_at", "status")},
        ),
    )
    return run_summary(session, subject, run_id=plan.run_id)


def fail_run(
    session: Session, subject: Subject, *, run_id: int, error: str, elapsed_ms: int
) -> None:
    """Mark a run failed, with the error (``--resume`` picks it up)."""
    run = queries.run_by_id(session, run_id)
    if run is None:
        return
    queries.update_run(
        session,
        run_id,
        status="failed",
        error=error[:2000],
        finished_at=utcnow(),
        duration_ms=(run.duration_ms or 0) + elapsed_ms,
    )
    audit.record(
        session,
        subject,
        AuditRecord("scoring_run.failed", "scoring_run", run_id, {"error": error[:500]}),
    )


def run_summary(session: Session, subject: Subject, *, run_id: int) -> RunSummary:
    """One run as the log holds it."""
    require_role(subject, *READ_ALL_ROLES)
    for run, label in queries.list_runs(session, limit=1, run_id=run_id):
        return _summary(run, label)
    raise NotFound(f"No scoring run {run_id}.")


def list_runs(session: Session, subject: Subject, *, limit: int = 20) -> list[RunSummary]:
    """The latest runs, newest first."""
    require_role(subject, *READ_ALL_ROLES)
    return [_summary(run, label) for run, label in queries.list_runs(session, limit=limit)]


def _summary(run: ScoringRun, label: str) -> RunSummary:
    return RunSummary(
        run_id=run.id,
        status=run.status,
        model_version=label,
        as_of=run.as_of,
        selection=run.selection,
        employees=run.employees,
        written=run.written,
        unscored=run.unscored,
        resumed=run.resumed,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_ms=run.duration_ms,
        inputs_digest=run.inputs_digest,
        error=run.error,
    )


def run_scores(session: Session, subject: Subject, *, run_id: int) -> list[float | None]:
    """Every score a run wrote (for distributions)."""
    require_role(subject, *READ_ALL_ROLES)
    return queries.run_distribution(session, run_id)


def example_employee(session: Session, subject: Subject, *, run_id: int) -> str | None:
    """Someone whose explanation shows the model at work: among those with the most evidence
    in the largest cohort, the one whose score is nearest the run's upper quartile.
    """
    require_role(subject, *READ_ALL_ROLES)
    rows = queries.run_scores_by_employee(session, run_id)
    if not rows:
        return None
    sizes = Counter(cohort for *_, cohort in rows)
    largest = max(sizes.values())
    best = max(c for _, _, c, cohort in rows if sizes[cohort] == largest)
    scores = sorted(s for _, s, _, _ in rows)
    upper = scores[(3 * len(scores)) // 4]
    candidates = [
        (abs(s - upper), n) for n, s, c, cohort in rows if c == best and sizes[cohort] == largest
    ]
    return min(candidates)[1]


# --- reads of scores, each in the access log -------------------------------------------------


def _visible_employee(session: Session, subject: Subject, employee_id: str) -> int:
    internal = people_queries.visible_employee_id(
        session, subject, employee_number=employee_id, as_of=utctoday()
    )
    if internal is None:
        raise NotFound(f"No employee {employee_id!r}.")
    return internal


@dataclass(frozen=True)
class ScoreRead:
    """A read of one employee's scores, to keep in the access log."""

    employee_id: int
    resource: str


def _log(
    session: Session, subject: Subject, employee_ids: list[int], resource: str, purpose: str | None
) -> None:
    why = (purpose or "").strip() or DEFAULT_PURPOSE.get(subject.role, subject.role)
    queries.log_access(
        session,
        [
            {
                "actor": subject.actor,
                "actor_employee_id": subject.employee_id,
                "role": subject.role,
                "employee_id": employee_id,
                "resource": resource,
                "purpose": why[:200],
            }
            for employee_id in employee_ids
        ],
    )


def record_read(
    session: Session, subject: Subject, read: ScoreRead, *, purpose: str | None = None
) -> None:
    """Keep a read of someone's scores in the access log (who, whose, what, when and why)."""
    _log(session, subject, [read.employee_id], read.resource, purpose)


def get_profile(
    session: Session, subject: Subject, *, employee_id: str, purpose: str | None = None
) -> Profile:
    """One employee's latest score, through the visibility rule; the read is logged."""
    profile, read = read_profile(session, subject, employee_id=employee_id)
    record_read(session, subject, read, purpose=purpose)
    return profile


def get_explanation(
    session: Session,
    subject: Subject,
    *,
    employee_id: str,
    as_of: date | None = None,
    purpose: str | None = None,
) -> Explanation:
    """Why one employee's score is what it is (the latest, or the snapshot as of a date); the
    read is logged.
    """
    explanation, read = read_explanation(session, subject, employee_id=employee_id, as_of=as_of)
    record_read(session, subject, read, purpose=purpose)
    return explanation


def read_profile(
    session: Session, subject: Subject, *, employee_id: str
) -> tuple[Profile, ScoreRead]:
    """One employee's latest score, through the visibility rule, and the read to record: a
    reader that cannot write in this transaction records it in the next, before answering.
    """
    internal = _visible_employee(session, subject, employee_id)
    profile = queries.profile_of(session, internal)
    if profile is None:
        raise NotFound(f"No score for {employee_id!r} yet; scores come from `meritline score run`.")
    return Profile(
        employee_id=employee_id,
        as_of=profile.as_of,
        model_version=profile.model_version,
        score=profile.score,
        confidence=profile.confidence,
        trend=profile.trend,
        pillars=profile.pillars,
        flags=profile.flags,
        updated_at=profile.updated_at,
    ), ScoreRead(internal, "profile")


def read_explanation(
    session: Session, subject: Subject, *, employee_id: str, as_of: date | None = None
) -> tuple[Explanation, ScoreRead]:
    """Why one employee's score is what it is, and the read to record (see ``read_profile``)."""
    internal = _visible_employee(session, subject, employee_id)
    if as_of is None:
        profile = queries.profile_of(session, internal)
        snapshot = None if profile is None else queries.snapshot_by_id(session, profile.snapshot_id)
    else:
        snapshot = queries.snapshot_for(session, internal, as_of)
    if snapshot is None:
        when = f" as of {as_of}" if as_of else ""
        raise NotFound(
            f"No score for {employee_id!r}{when}; scores come from `meritline score run`."
        )
    detail = snapshot.explanation
    explanation = Explanation(
        employee_id=employee_id,
        as_of=snapshot.as_of,
        model_version=snapshot.model_version,
        fingerprint=snapshot.fingerprint,
        score=snapshot.score,
        confidence=snapshot.confidence,
        reference=detail["reference"],
        trend=snapshot.trend,
        cohort=snapshot.cohort,
        pillars=snapshot.pillars,
        pillar_details=detail["pillars"],
        metrics=detail["metrics"],
        top_positive=detail["top_positive"],
        top_negative=detail["top_negative"],
        missing_evidence=detail["missing_evidence"],
        benchmark=detail["benchmark"],
        narrative=detail["narrative"],
    )
    return explanation, ScoreRead(internal, "explanation")


def export(session: Session, subject: Subject, *, purpose: str | None = None) -> list[ExportRow]:
    """Every current profile, for tools (admins and people analysts); logged per employee."""
    require_role(subject, *READ_ALL_ROLES)
    rows = queries.all_profiles(session)
    _log(session, subject, [p.employee_id for p, _ in rows], "export", purpose)
    return [
        ExportRow(
            employee_id=number,
            as_of=p.as_of,
            model_version=p.model_version,
            score=p.score,
            confidence=p.confidence,
            pillars=p.pillars,
        )
        for p, number in rows
    ]


def access_log(
    session: Session, subject: Subject, *, employee_id: str | None = None, limit: int = 50
) -> list[AccessLogEntry]:
    """Who read whose scores, newest first (admins and legal)."""
    require_role(subject, "admin", "legal")
    internal = None if employee_id is None else _visible_employee(session, subject, employee_id)
    entries = queries.access_log(session, employee_id=internal, limit=limit)
    numbers = people_queries.employee_numbers(session, {e.employee_id for e in entries})
    return [
        AccessLogEntry(
            at=e.at,
            actor=e.actor,
            role=e.role,
            employee_id=numbers.get(e.employee_id, str(e.employee_id)),
            resource=e.resource,
            purpose=e.purpose,
        )
        for e in entries
    ]
