"""Stage 4b: the community. Accounts and submissions; their storage is store.members and
store.community."""

from .accounts import Accounts
from .submit import ManualPaper, Submissions, SubmitResult

__all__ = ["Accounts", "ManualPaper", "Submissions", "SubmitResult"]
