"""Every error paperfeed raises on purpose.

    PaperfeedError
     ├── ConfigError          bad setting or data directory
     ├── SourceError          an input could not be read or fetched at all
     │    └── HarvestError    a remote server kept failing after retries
     ├── NotFound             unknown paper id, date or page
     └── BadRequest           malformed query parameters, oversized input

Record-level problems are not errors: sources yield `SkippedRecord`s and the
batch goes on.
"""


class PaperfeedError(Exception):
    """Base class; `str(err)` is a one-line message fit for a user."""


class ConfigError(PaperfeedError):
    pass


class SourceError(PaperfeedError):
    pass


class HarvestError(SourceError):
    pass


class NotFound(PaperfeedError):
    pass


class BadRequest(PaperfeedError):
    pass
