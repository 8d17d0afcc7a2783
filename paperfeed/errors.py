"""Every error paperfeed raises on purpose, each with the HTTP status it means.

    PaperfeedError            500  base; `str(err)` is a one-line message fit for a user
     ├── ConfigError          500  bad setting or data directory
     ├── SourceError          500  an input could not be read or fetched at all
     │    ├── HarvestError    500  a remote server kept failing after retries
     │    └── ArxivUnavailable 503 arXiv could not be asked; the member may enter the paper
     ├── BadRequest           400  malformed parameters or form fields, oversized input
     │    ├── RequestTooLarge 413  a request body over the limit
     │    └── UrlTooLong      414  a URL over the limit
     ├── LoginFailed          400  wrong username or password
     ├── LoginRequired        401  no member session (or a bad API token); pages
     │                             redirect to the login form
     ├── Forbidden            403  a refused CSRF check, or a member without the right role
     ├── NotFound             404  unknown paper id, date, page or route
     ├── MethodNotAllowed     405  a route asked with a method it does not take
     ├── Conflict             409  the change clashes with what is stored
     ├── TooManyAttempts      429  too many failed logins (or comments); `retry_after_s` says
     │                             how long to wait
     ├── StoreBusy            503  the database stayed locked past its busy timeout; retry
     └── MailError            500  an email could not be handed to the SMTP server

`status` is what the web app answers; the one error handler (web/app.py) renders
it as a page or, under /api, as `{"error": {"status": N, "message": "..."}}`.
The CLI prints `error: <message>` and exits 1. Record-level problems are not
errors: sources yield `SkippedRecord`s and the batch goes on. The store translates
its driver's errors into `Conflict` and `StoreBusy` once (store/database.py), so no
code above it knows which database runs underneath.
"""

from __future__ import annotations


class PaperfeedError(Exception):
    """Base class; `str(err)` is a one-line message fit for a user."""

    status: int = 500  # what the web app answers with
    retry_after_s: int | None = None  # when set: the Retry-After an HTTP answer carries


class ConfigError(PaperfeedError):
    pass


class SourceError(PaperfeedError):
    pass


class HarvestError(SourceError):
    pass


class ArxivUnavailable(SourceError):
    """arXiv could not be asked (offline, timeout, error): the member may enter the paper."""

    status = 503


class BadRequest(PaperfeedError):
    status = 400


class RequestTooLarge(BadRequest):
    status = 413


class UrlTooLong(BadRequest):
    status = 414


class LoginFailed(PaperfeedError):
    status = 400


class LoginRequired(PaperfeedError):
    """401 for the API; pages redirect to the login form and come back to `next_path`.

    `why` names the action that needs a member (e.g. "upvote"): the form says it."""

    status = 401

    def __init__(self, next_path: str = "/", *,
                 message: str = "Log in first: this needs a member's session.",
                 why: str | None = None) -> None:
        super().__init__(message)
        self.next_path = next_path
        self.why = why


class Forbidden(PaperfeedError):
    status = 403


class NotFound(PaperfeedError):
    status = 404


class MethodNotAllowed(PaperfeedError):
    """`allow`: the methods the address does take, for the `Allow` header (RFC 9110)."""

    status = 405

    def __init__(self, message: str, allow: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allow = allow


class Conflict(PaperfeedError):
    """A uniqueness (or other integrity) rule of the store refused a write: nothing changed."""

    status = 409


class TooManyAttempts(PaperfeedError):
    status = 429

    def __init__(self, retry_after_s: int, what: str = "Too many failed logins.") -> None:
        minutes = max(1, round(retry_after_s / 60))
        super().__init__(f"{what} Try again in {minutes} minute"
                         f"{'s' if minutes != 1 else ''}.")
        self.retry_after_s = retry_after_s


class StoreBusy(PaperfeedError):
    """The database was locked by other writers for longer than the busy timeout."""

    status = 503
    retry_after_s = 5


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
