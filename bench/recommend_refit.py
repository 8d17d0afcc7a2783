"""For you in the app: a member's refit and their page, timed on the bundled demo corpus.

    python bench/recommend_refit.py [--ratings 40]

A member rates papers one at a time ("more like this" / "less like this", two of three
liked); after each rating `Recommender.fitted` refits their model (the vector half, and
whatever the words half fits: rows of the rated papers, the ridge) and `recommend` ranks the
latest week (the words rows of the candidates kept, as the app keeps them). Medians and p95s
over the ratings after the 10th, with the load average. Writes bench/results/
recommend-refit.json (or $BENCH_RESULTS).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from harness.report import print_table, write_json

from paperfeed.catalog import Catalog
from paperfeed.discover.foryou import Recommender
from paperfeed.settings import load_settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ratings", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(load_settings(environ={}, home=Path(home)))
        user = catalog.store.members.add_user("bench", "bench@example.org", "x")
        recommender = Recommender(catalog)
        papers = catalog.store.papers.newest_matching(None, None, [], 2000)
        rng = np.random.default_rng(3)
        picked = rng.choice(len(papers), min(args.ratings, len(papers)), replace=False)
        load = [os.getloadavg()[0]]
        refit, page = [], []
        for n, i in enumerate(picked.tolist()):
            catalog.store.ratings.rate(user.id, papers[i].key, -1 if n % 3 == 2 else 1)
            start = time.perf_counter()
            recommender.fitted(user.id)
            refit.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            recommender.recommend(user.id, "week", 30)
            page.append(1000 * (time.perf_counter() - start))
        load.append(os.getloadavg()[0])
        catalog.store.close()
    row = {"papers": len(papers), "ratings": len(picked),
           "refit_ms_median": round(float(np.median(refit[10:])), 1),
           "refit_ms_p95": round(float(np.percentile(refit[10:], 95)), 1),
           "week_ms_median": round(float(np.median(page[10:])), 1),
           "week_ms_p95": round(float(np.percentile(page[10:], 95)), 1),
           "load_avg_1min": f"{load[0]:.1f}-{load[1]:.1f}"}
    print_table("For you in the app (demo corpus)", [row])
    write_json("recommend-refit", {"refit": row})


if __name__ == "__main__":
    main()
