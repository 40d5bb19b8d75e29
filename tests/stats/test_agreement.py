"""Agreement against published examples: Krippendorff (2011) and Shrout and Fleiss (1979)."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest

from meritline.stats import _agreement, agreement, icc1, krippendorff_alpha

#: Krippendorff, "Computing Krippendorff's alpha-reliability" (2011), p. 8: four observers,
#: twelve units, values 1-5, None where an observer gave no value.
RELIABILITY_DATA = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
#: Shrout and Fleiss (1979), table 2: six targets, four judges.
TARGETS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


def long(matrix: list[list[int | None]], *, by_row: bool) -> pd.DataFrame:
    rows = [
        (i if by_row else j, j if by_row else i, value)
        for i, row in enumerate(matrix)
        for j, value in enumerate(row)
        if value is not None
    ]
    return pd.DataFrame(rows, columns=["ratee", "rater", "rating"])


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_alpha_reproduces_the_published_example(level: str, published: float) -> None:
    frame = long(RELIABILITY_DATA, by_row=False)  # rows are observers, columns units
    alpha = krippendorff_alpha(frame, unit="ratee", value="rating", level=level)
    assert alpha == pytest.approx(published, abs=5e-4)


def test_icc1_reproduces_shrout_and_fleiss() -> None:
    assert icc1(long(TARGETS, by_row=True), ratee="ratee", rating="rating") == pytest.approx(
        0.17, abs=5e-3
    )


def test_agreement_uses_only_people_rated_more_than_once() -> None:
    frame = long(TARGETS, by_row=True)
    single = pd.DataFrame({"ratee": [99], "rater": [0], "rating": [1]})
    result = agreement(pd.concat([frame, single]), ratee="ratee", rating="rating")
    assert (result.ratees, result.ratings, result.level) == (6, 24, "ordinal")
    assert result.icc == pytest.approx(icc1(frame, ratee="ratee", rating="rating"))
    assert result.krippendorff_alpha is not None and 0 < result.krippendorff_alpha < 1


def test_too_little_overlap_says_so() -> None:
    frame = pd.DataFrame({"ratee": [1, 1, 2], "rating": [3, 4, 5]})
    result = agreement(frame, ratee="ratee", rating="rating")
    assert (result.icc, result.krippendorff_alpha) == (None, None)
    assert "Fewer than two people" in result.note
    with pytest.raises(ValueError, match="level must be one of"):
        agreement(frame, ratee="ratee", rating="rating", level="ratio")


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(_agreement).failed == 0
