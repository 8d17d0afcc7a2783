"""Stage 4b: the community. Accounts and submissions; their SQL lives in store.community."""

from .accounts import Accounts, LoginFailed, TooManyAttempts
from .submit import ArxivUnavailable, ManualPaper, Submissions, SubmitResult

__all__ = ["Accounts", "ArxivUnavailable", "LoginFailed", "ManualPaper", "Submissions",
           "SubmitResult", "TooManyAttempts"]
