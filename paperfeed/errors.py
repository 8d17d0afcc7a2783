"""Every error paperfeed raises on purpose.

    PaperfeedError
     ├── ConfigError          bad setting or data directory
     ├── SourceError          an input could not be read or fetched at all
     │    └── HarvestError    a remote server kept failing after retries
     ├── NotFound             unknown paper id, date or page
     ├── BadRequest           malformed query parameters, oversized input
     └── MailError            an email could not be handed to the SMTP server

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


class MailError(PaperfeedError):
    """Sending one email failed; `permanent` tells a retrying outbox whether to try again.

    `permanent` is True when the server refused for good (5xx, a refused recipient, bad
    credentials), False when a later attempt may succeed (4xx, timeout, no connection).
    `code` is the SMTP reply code when the server sent one.
    """

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields would be lost by the default Exception pickling (outbox workers).
        return (_rebuild_mail_error, (str(self), self.permanent, self.code))


def _rebuild_mail_error(message: str, permanent: bool, code: int | None) -> MailError:
    return MailError(message, permanent=permanent, code=code)
