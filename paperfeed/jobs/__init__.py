"""Background jobs, used by `serve`, `paperfeed worker` and the CLI.

- follower.py: keep a process's indexes following the store (a thread; never on the event loop)
- harvest.py: harvesting arXiv by OAI-PMH, and the scheduled harvest under its lease
- digests.py: the scheduled digest runs and outbox deliveries
- scheduler.py: `paperfeed worker`'s schedule (APScheduler)
- status.py: what an admin watches (index progress, harvest, outbox, hidden, members)
"""
