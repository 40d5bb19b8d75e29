"""Ratings the evidence does not support: planted mismatches are found, chance rarely is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from meritline.stats import rating_mismatches

ABOVE = {"p0003", "p0150", "p0777"}
BELOW = {"p0042", "p0500"}


def people(seed: int, *, planted: bool, lenient_rater: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 1000
    ids = [f"p{i:04d}" for i in range(n)]
    rater = [f"m{i % 50:02d}" for i in range(n)]
    evidence = rng.normal(size=n)
    rating = 3 + 0.9 * evidence + rng.normal(scale=0.4, size=n)
    if lenient_rater:
        rating += np.array([1.5 if r == "m07" else 0.0 for r in rater])
    frame = pd.DataFrame({"id": ids, "rater": rater, "evidence": evidence, "rating": rating})
    if planted:
        frame.loc[frame.id.isin(ABOVE), "rating"] += 2.5
        frame.loc[frame.id.isin(BELOW), "rating"] -= 2.5
    return frame


def flagged(frame: pd.DataFrame, **options: str) -> dict[str, tuple[str, ...]]:
    found = rating_mismatches(frame, id="id", rating="rating", evidence="evidence", **options)
    return {person.id: person.flags for person in found if person.flags}


def test_planted_mismatches_are_found_in_the_right_direction() -> None:
    found = flagged(people(1, planted=True), rater="rater")
    assert {i for i, f in found.items() if f == ("rating_above_evidence",)} == ABOVE
    assert {i for i, f in found.items() if f == ("rating_below_evidence",)} == BELOW


def test_a_lenient_raters_team_is_not_blamed_for_the_rater() -> None:
    frame = people(2, planted=False, lenient_rater=True)
    assert not flagged(frame, rater="rater")  # within rater: the +1.5 is the rater's
    team = set(frame.loc[frame.rater == "m07", "id"])
    assert set(flagged(frame)) & team  # without the rater, the team looks over-rated


def test_without_mismatches_few_are_flagged() -> None:
    total = sum(len(flagged(people(seed, planted=False), rater="rater")) for seed in range(10))
    assert total <= 10  # out of 10,000 ratings


def test_a_rater_with_one_rating_gives_nothing_to_compare() -> None:
    frame = people(3, planted=False).head(101)
    frame.loc[100, "rater"] = "alone"
    found = rating_mismatches(frame, id="id", rating="rating", evidence="evidence", rater="rater")
    alone = next(person for person in found if person.id == "p0100")
    assert (alone.residual, alone.flags) == (None, ())
