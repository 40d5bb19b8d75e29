"""Recency: reviews whose cited evidence crowds into the last weeks of the period.

A review that cites evidence mostly from the final weeks reads a year through its end. For each
review with at least ``min_citations`` dated citations, the number ``k`` of the ``n`` citations
inside the final window is compared with what the person's own record predicts: ``p0``, the
share of their evidence that falls in that window (or, without a record, the window's share of
the period). The exact one-sided binomial test gives ``P(K >= k | n, p0)``; Benjamini-Hochberg
across reviews controls false flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

#: The final weeks a review's citations are checked against: six weeks.
WINDOW_DAYS = 42


@dataclass(frozen=True)
class RecencyFinding:
    """One review's citations: how many fall in the final window against what was expected."""

    id: str
    citations: int
    recent: int
    expected_share: float
    p_value: float | None
    q_value: float | None
    flag: bool


def recency_bias(
    frame: pd.DataFrame,
    *,
    id: str,
    cited_at: str,
    period_start: datetime,
    period_end: datetime,
    window_days: int = WINDOW_DAYS,
    baseline: Mapping[str, float] | None = None,
    min_citations: int = 3,
    alpha: float = 0.05,
) -> list[RecencyFinding]:
    """Flag reviews whose cited evidence is concentrated in the period's final window.

    Parameters
    ----------
    frame
        One row per citation: the review's ``id`` and when the cited evidence happened.
    period_start, period_end
        The review period (``period_end`` exclusive); citations outside it are not counted.
    window_days
        Length of the final window.
    baseline
        Per id, the share of the person's own evidence in the final window; missing ids use
        the window's share of the period, ``window_days / period_days``.
    min_citations
        Reviews with fewer dated citations are reported but not tested.
    alpha
        False discovery rate for the flags.

    Returns
    -------
    list of RecencyFinding
        One per id, in order of first appearance.

    Notes
    -----
    ``p = P(K >= k)`` for ``K ~ Binomial(n, p0)`` (Clopper and Pearson's exact tail); q-values
    by Benjamini and Hochberg (1995) over the tested reviews.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> utc = timezone.utc
    >>> cites = pd.DataFrame({"id": ["a"] * 4, "at": [datetime(2026, 12, d, tzinfo=utc)
    ...                                                for d in (1, 5, 9, 20)]})
    >>> f = recency_bias(cites, id="id", cited_at="at",
    ...                  period_start=datetime(2026, 1, 1, tzinfo=utc),
    ...                  period_end=datetime(2027, 1, 1, tzinfo=utc))[0]
    >>> (f.recent, f.citations, f.p_value < 0.001)
    (4, 4, True)
    """
    window_start = period_end - timedelta(days=window_days)
    period_days = max((period_end - period_start).days, 1)
    default_share = min(1.0, window_days / period_days)
    times = pd.to_datetime(frame[cited_at], utc=True, format="ISO8601")
    inside = (times >= pd.Timestamp(period_start)) & (times < pd.Timestamp(period_end))
    counted = pd.DataFrame(
        {"id": frame[id].astype(str), "recent": times >= pd.Timestamp(window_start)}
    )[inside.to_numpy()]
    ids = list(dict.fromkeys(frame[id].astype(str)))
    totals = counted.groupby("id")["recent"].agg(["size", "sum"]).reindex(ids, fill_value=0)
    shares = np.array([(baseline or {}).get(i, default_share) for i in ids], dtype=float)
    shares = np.clip(shares, 1e-9, 1.0)
    n = totals["size"].to_numpy(int)
    k = totals["sum"].to_numpy(int)
    tested = n >= min_citations
    p_values = np.full(len(ids), np.nan)
    # P(K >= k) = sf(k - 1)
    p_values[tested] = stats.binom.sf(k[tested] - 1, n[tested], shares[tested])
    q_values = np.full(len(ids), np.nan)
    if tested.any():
        q_values[tested] = multipletests(p_values[tested], method="fdr_bh")[1]
    return [
        RecencyFinding(
            id=i,
            citations=int(n[j]),
            recent=int(k[j]),
            expected_share=float(shares[j]),
            p_value=None if np.isnan(p_values[j]) else float(p_values[j]),
            q_value=None if np.isnan(q_values[j]) else float(q_values[j]),
            flag=bool(tested[j] and q_values[j] < alpha),
        )
        for j, i in enumerate(ids)
    ]
