"""Background jobs: harvesting (harvest.py) and `paperfeed worker`'s schedule (scheduler.py)."""
