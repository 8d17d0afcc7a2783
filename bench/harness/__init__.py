"""The benchmark harness: what every script in bench/ shares, one job per module.

- `report`: machine info, `log`, tables on stdout, JSON in bench/results/NAME.json.
- `corpora`: where the shared corpora live; SciFact and arXiv readers.
- `datadir`: build a data dir from a corpus (or reuse one), copy one, open a Catalog.
- `tables`: the only place that reads or writes a data dir's tables directly (what the
  app has no API for: samples, bench members, bulk subscriptions, resets).
- `measure`: latency percentiles, peak RSS/PSS of a process tree, CPU accounting, ports.
- `server`: start and stop `paperfeed serve`, its memory and CPU.
- `wrk`: wrk with a generated Lua script, its output parsed, CPU of everyone accounted.
- `members`: bench members of a running site (sign-up/log-in forms, votes over the API).
- `community`: bench members' votes and digest subscribers made in process.
- `profile`: cProfile of page handlers, in process.
- `evaluate`: nDCG@k and recall@k against qrels, dense rankings, exact top-k.
- `ann`: recall of the HNSW index against an exact scan.
- `queries`: the seeded query sets (topics, computer-science queries, title spans).
- `baseline`: the TF-IDF full scan (arxiv-sanity-lite's method) to compare search with.
- `smtp`: an SMTP sink in its own process that only counts, and per-message SMTP probes.

Scripts import it as `from harness import ...` (bench/ is on sys.path when a script runs).
"""
