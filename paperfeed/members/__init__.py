"""Stage 4b: the community. Accounts and submissions; their storage is store.members and
store.community."""

from .accounts import Accounts, Registration
from .submit import ManualPaper, Submissions, SubmitResult
from .tokens import ApiTokens

__all__ = ["Accounts", "ApiTokens", "ManualPaper", "Registration", "Submissions",
           "SubmitResult"]
