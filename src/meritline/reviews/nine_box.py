"""The 9-box: calibrated performance (from the rating, in thirds of the scale) x potential.

Pure: a rating, a potential and the scale in; the band, box and label out. Boxes are numbered
row by row from the bottom left: 1 is low performance and low potential, 9 high and high.
"""

from __future__ import annotations

from collections.abc import Sequence

BANDS = ("low", "medium", "high")
LABELS = {
    1: "Underperformer",
    2: "Effective",
    3: "Trusted professional",
    4: "Inconsistent player",
    5: "Core player",
    6: "High performer",
    7: "Rough diamond",
    8: "Future star",
    9: "Star",
}


def performance_band(rating: float, scale: Sequence[int]) -> str:
    """``low``, ``medium`` or ``high``: where the rating sits in the scale's range, in thirds.

    >>> [performance_band(r, [1, 2, 3, 4, 5]) for r in (1, 2, 3, 4, 5)]
    ['low', 'low', 'medium', 'high', 'high']
    """
    low, high = min(scale), max(scale)
    place = (rating - low) / (high - low) if high > low else 0.5
    return "low" if place < 1 / 3 else "high" if place > 2 / 3 else "medium"


def place(rating: float, potential: str, scale: Sequence[int]) -> tuple[str, int, str]:
    """(performance band, box 1-9, label).

    >>> place(5, "high", [1, 2, 3, 4, 5])
    ('high', 9, 'Star')
    >>> place(2, "high", [1, 2, 3, 4, 5])
    ('low', 7, 'Rough diamond')
    """
    band = performance_band(rating, scale)
    box = BANDS.index(potential) * 3 + BANDS.index(band) + 1
    return band, box, LABELS[box]
