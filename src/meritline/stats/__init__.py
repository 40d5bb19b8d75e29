"""Pure statistics for scoring and calibration: data in, numbers out, no database.

Each topic lives in a private module and is re-exported here; import from
``meritline.stats``, not from the ``_modules``.

Agreement (``_agreement``)
    :func:`agreement` of several ratings of the same people: :func:`icc1` and
    :func:`krippendorff_alpha` (nominal, ordinal or interval).

Distribution (``_distribution``)
    :func:`distribution_check` of ratings against a guideline (G-test, or a Monte Carlo
    p-value when an expected count is under five; KL divergence and Jensen-Shannon distance),
    :func:`min_testable_n` and :func:`check_guideline`.

Disparities (``_disparities``)
    :func:`group_disparities`: per group of each attribute and intersection, mean rating and
    gap, selection rate and adverse impact ratio (Fisher exact p), controlled gap (OLS),
    Benjamini-Hochberg q-values, the four-fifths rule and suppression of small groups.

Individuals (``_individuals``)
    :func:`rating_mismatches`: ratings far above or below what the evidence supports, within
    rater, with Benjamini-Hochberg control of false flags.

Raters (``_raters``)
    :func:`rater_effects`: leniency and severity as shrunken random intercepts of a mixed model
    (with intervals, p- and q-values), the share of variance due to raters, and central
    tendency (Brown-Forsythe); falls back, and says so, when the model cannot be fitted.

Recency (``_recency``)
    :func:`recency_bias`: reviews whose cited evidence crowds into the period's final weeks,
    against the person's own record (exact binomial test, Benjamini-Hochberg).
Peer bands (``_peer_bands``)
    k-anonymous percentile bands of a cohort's scores: :func:`peer_band` for one
    cohort, :func:`peer_bands` for every cohort of a frame at once, :func:`shown` and
    :func:`min_cohort_size` for the rule that decides which percentiles may be shown.
"""

from meritline.stats._agreement import Agreement, agreement, icc1, krippendorff_alpha
from meritline.stats._disparities import FOUR_FIFTHS, GroupFinding, group_disparities
from meritline.stats._distribution import (
    DistributionCheck,
    check_guideline,
    distribution_check,
    min_testable_n,
)
from meritline.stats._individuals import Individual, rating_mismatches
from meritline.stats._peer_bands import (
    COHORT_TOO_SMALL,
    PERCENTILE_TOO_EXPOSED,
    PERCENTILES,
    PeerBand,
    min_cohort_size,
    peer_band,
    peer_bands,
    shown,
)
from meritline.stats._raters import RaterEffect, RaterEffects, rater_effects
from meritline.stats._recency import WINDOW_DAYS, RecencyFinding, recency_bias

__all__ = [
    "COHORT_TOO_SMALL",
    "FOUR_FIFTHS",
    "PERCENTILES",
    "PERCENTILE_TOO_EXPOSED",
    "WINDOW_DAYS",
    "Agreement",
    "DistributionCheck",
    "GroupFinding",
    "Individual",
    "PeerBand",
    "RaterEffect",
    "RaterEffects",
    "RecencyFinding",
    "agreement",
    "check_guideline",
    "distribution_check",
    "group_disparities",
    "icc1",
    "krippendorff_alpha",
    "min_cohort_size",
    "min_testable_n",
    "peer_band",
    "peer_bands",
    "rater_effects",
    "rating_mismatches",
    "recency_bias",
    "shown",
]
