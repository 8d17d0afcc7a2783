"""paperfeed: self-hosted research-paper discovery.

The stable surface is the data model and the errors; everything else may move.
Stages, in data-flow order: sources -> store -> index -> discover -> web/api/cli.
"""

from .errors import (
    BadRequest,
    ConfigError,
    HarvestError,
    NotFound,
    PaperfeedError,
    SourceError,
)
from .models import Paper, SkippedRecord, StoredPaper

__all__ = [
    "BadRequest",
    "ConfigError",
    "HarvestError",
    "NotFound",
    "Paper",
    "PaperfeedError",
    "SkippedRecord",
    "SourceError",
    "StoredPaper",
]
__version__ = "0.1.0"
