"""Stage 5: email digests. Subscriptions, what each digest holds, and the outbox."""

from .content import DigestPeriod, digest_period
from .outbox import DigestSender, SendReport
from .subscriptions import Subscriptions, check_request

__all__ = ["DigestPeriod", "DigestSender", "SendReport", "Subscriptions", "check_request",
           "digest_period"]
