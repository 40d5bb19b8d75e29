"""The demo's manager reviews, with problems planted for the calibration to find.

Pure: the people, their evidence scores and their signals in; reviews out. A rating follows
the evidence (a person's score, in standard units) with noise, then:

* one **lenient** manager rates a point above what the evidence supports, and one **severe**
  manager a point below;
* in one department, **women** are rated about a point lower than men with
  the same evidence (an unexplained gap);
* a few reviews cite only evidence from the **last weeks** of the period (recency).

The planted choices are returned with the reviews, so tests can check the analysis finds them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from meritline.demo.company import Person

LENIENCY, SEVERITY, GAP = 1.0, -1.0, -1.0
RECENCY_BIASED = 6
NOISE = 0.45
ASSESSMENTS = {
    1: "Fell well short of the role this year; {evidence}. We agreed a support plan.",
    2: "Partly met expectations; {evidence}. Needs to close the gaps we discussed.",
    3: "Met expectations; {evidence}. A reliable contributor to the team's goals.",
    4: "Exceeded expectations; {evidence}. Took on more than the role asked.",
    5: "Far exceeded expectations; {evidence}. Set the standard others follow.",
}


@dataclass(frozen=True)
class Planted:
    """What the demo hid in its reviews."""

    lenient_manager: str
    severe_manager: str
    gap_department: str
    recency_biased: tuple[str, ...]


@dataclass(frozen=True)
class DraftReview:
    """One manager review to submit."""

    employee_id: str
    manager_id: str
    rating: int
    potential: str
    promotion: bool
    assessment: str
    citations: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    """One signal a review may cite."""

    signal_id: int
    occurred_at: datetime


def draft_reviews(
    people: Sequence[Person],
    scores: dict[str, float],
    evidence: dict[str, list[Evidence]],
    *,
    recent_from: datetime,
    seed: int,
) -> tuple[list[DraftReview], Planted]:
    """A manager review for everyone active with a manager and a score."""
    rng = random.Random(seed * 7919 + 11)
    rated = [
        p
        for p in people
        if p.termination_date is None and p.manager is not None and p.employee_id in scores
    ]
    teams = Counter(p.manager.employee_id for p in rated if p.manager)
    # two managers with teams big enough to tell (the largest two in a small company)
    managers = sorted(m for m, n in teams.items() if n >= 6) or [m for m, _ in teams.most_common(2)]
    lenient, severe = managers[len(managers) // 3], managers[(2 * len(managers)) // 3]
    departments = Counter(p.department for p in rated)
    # the largest department with women and men and neither planted manager's team
    gap_department = next(
        (
            d
            for d, _ in departments.most_common()
            if {"Female", "Male"} <= {p.gender for p in rated if p.department == d}
            and not any(
                p.department == d and p.manager and p.manager.employee_id in (lenient, severe)
                for p in rated
            )
        ),
        "",
    )
    values = list(scores.values())
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    candidates = [
        p.employee_id for p in rated if p.manager and p.manager.employee_id not in (lenient, severe)
    ]
    biased = set(rng.sample(sorted(candidates), min(RECENCY_BIASED, len(candidates))))
    drafts = []
    for p in rated:
        assert p.manager is not None
        z = (scores[p.employee_id] - mean) / spread
        latent = 3 + 0.9 * z + rng.gauss(0, NOISE)
        latent += {lenient: LENIENCY, severe: SEVERITY}.get(p.manager.employee_id, 0.0)
        if p.department == gap_department and p.gender == "Female":
            latent += GAP
        rating = max(1, min(5, round(latent)))
        potential_score = z + rng.gauss(0, 0.8)
        potential = (
            "high" if potential_score > 0.8 else "low" if potential_score < -0.8 else "medium"
        )
        cited = _citations(
            rng, evidence.get(p.employee_id, []), recent_from, p.employee_id in biased
        )
        drafts.append(
            DraftReview(
                employee_id=p.employee_id,
                manager_id=p.manager.employee_id,
                rating=rating,
                potential=potential,
                promotion=rating == 5 and potential == "high",
                assessment=ASSESSMENTS[rating].format(evidence=_evidence_words(len(cited))),
                citations=cited,
            )
        )
    planted = Planted(lenient, severe, gap_department, tuple(sorted(biased)))
    return drafts, planted


def _citations(
    rng: random.Random, signals: list[Evidence], recent_from: datetime, recent_only: bool
) -> list[int]:
    """Four or five signals: from the whole year, or (a recency-biased review) the last weeks."""
    pool = [s for s in signals if s.occurred_at >= recent_from] if recent_only else signals
    if not pool:
        return []
    return [s.signal_id for s in rng.sample(pool, min(len(pool), rng.choice((4, 5))))]


def _evidence_words(cited: int) -> str:
    return f"the {cited} pieces of evidence cited show it" if cited else "little evidence is cited"
