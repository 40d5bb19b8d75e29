"""Pure statistics for scoring and calibration: data in, numbers out, no database.

Each topic lives in a private module and is re-exported here; import from
``meritline.stats``, not from the ``_modules``.

Peer bands (``_peer_bands``)
    k-anonymous percentile bands of a cohort's scores: :func:`peer_band` for one
    cohort, :func:`peer_bands` for every cohort of a frame at once, :func:`shown` and
    :func:`min_cohort_size` for the rule that decides which percentiles may be shown.
"""

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

__all__ = [
    "COHORT_TOO_SMALL",
    "PERCENTILES",
    "PERCENTILE_TOO_EXPOSED",
    "PeerBand",
    "min_cohort_size",
    "peer_band",
    "peer_bands",
    "shown",
]
