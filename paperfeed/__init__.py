"""paperfeed: self-hosted research-paper discovery.

The stable surface is the data model and the errors; everything else may move.
Stages, in data-flow order: sources -> store -> index -> discover -> members/digests
-> web/api/cli (mail and feeds are the outgoing formats).
"""

from .errors import (
    BadRequest,
    ConfigError,
    Conflict,
    HarvestError,
    MailError,
    NotFound,
    PaperfeedError,
    SourceError,
    StoreBusy,
)
from .models import Paper, SkippedRecord, StoredPaper

__all__ = [
    "BadRequest",
    "ConfigError",
    "Conflict",
    "HarvestError",
    "MailError",
    "NotFound",
    "Paper",
    "PaperfeedError",
    "SkippedRecord",
    "SourceError",
    "StoreBusy",
    "StoredPaper",
]
__version__ = "0.1.0"
