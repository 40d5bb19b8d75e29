"""The full ratings analysis (``meritline analyze-ratings``) at 10,000 and 100,000 ratings.

Usage::

    python benchmarks/bench_calibration.py [--sizes 10000:1000,100000:10000] [--seed 1]

Each size is ``ratings:raters``: synthetic ratings driven by an evidence score, three group
attributes (gender, region, level, with their intersections), the guideline distribution, rater
effects by mixed model, group disparities and individual mismatches, timed in-process from the
table in memory to the finished result.

Targets (issue 5): 10,000 ratings and 1,000 raters under 5 s; 100,000 ratings under 60 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from meritline.calibration import service

TARGETS = {10_000: 5.0, 100_000: 60.0}
GUIDELINE = {1.0: 0.1, 2.0: 0.2, 3.0: 0.4, 4.0: 0.2, 5.0: 0.1}


def ratings(n: int, raters: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    evidence = rng.normal(size=n)
    leniency = rng.normal(0, 0.3, raters)
    rater = rng.integers(0, raters, n)
    rating = np.clip(np.rint(3 + 0.8 * evidence + leniency[rater] + rng.normal(0, 0.6, n)), 1, 5)
    return pd.DataFrame(
        {
            "id": [f"E{i:06d}" for i in range(n)],
            "rater": [f"M{r:05d}" for r in rater],
            "evidence": evidence,
            "rating": rating,
            "gender": rng.choice(["Female", "Male"], n),
            "region": rng.choice(["North", "South", "East", "West"], n),
            "level": rng.choice(["L1", "L2", "L3"], n),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000:1000,100000:10000")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    options = service.AnalysisOptions(
        rating="rating",
        id="id",
        rater="rater",
        evidence="evidence",
        groups=("gender", "region", "level"),
        guideline=GUIDELINE,
    )
    table = Table("ratings", "raters", "seconds", "target", "rater model", "groups", "flags")
    for size in args.sizes.split(","):
        n, raters = (int(x) for x in size.split(":"))
        frame = ratings(n, raters, args.seed)
        started = time.perf_counter()
        result = service.analyze_ratings(frame, options)
        seconds = time.perf_counter() - started
        target = TARGETS.get(n)
        flags = sum(1 for r in result.raters.items if r.flag) if result.raters else 0
        table.add_row(
            f"{n:,}",
            f"{raters:,}",
            f"{seconds:.1f}",
            "-"
            if target is None
            else ("met" if seconds < target else "NOT met") + f" (< {target:g} s)",
            result.raters.method if result.raters else "-",
            str(len(result.groups)),
            f"{flags} raters, {sum(1 for i in result.individuals if i.flags)} people",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
