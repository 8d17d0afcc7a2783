"""The account emails, as jobs for the mail thread (`mail.MailQueue`).

Each job looks up what it needs, applies its rate limit and composes the message on
the mail thread, so the request that queued it does the same work whether or not an
account matched (a reset for an unknown name and for a real one answer alike, in the
same time). Rate limits use the store's attempt counters, per account and hour, so a
form cannot flood an inbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.message import EmailMessage

from ..mail import compose
from ..mail.render import render_email
from ..members import Accounts
from ..members.accounts import RESET_MAX_AGE_S, VERIFY_MAX_AGE_S
from ..models import User
from ..settings import Settings
from ..store import Members

PER_HOUR = 3  # emails of one kind to one account
Job = Callable[[], EmailMessage | None]


def _left(members: Members, key: str) -> bool:
    sent, _ = members.attempts(key, time.time() - 3600)
    return sent < PER_HOUR


def _allowed(members: Members, key: str) -> bool:
    """Count one email under `key`, if it has any left this hour."""
    if not _left(members, key):
        return False
    members.count_attempt([key])  # the failed-login counters' table, another key
    return True


def _message(settings: Settings, to: str, subject: str, template: str,
             **context: object) -> EmailMessage:
    text, html = render_email(template, site_url=settings.public_url, **context)
    return compose(to=to, subject=subject, text=text, html=html, sender=settings.mail_from,
                   reply_to=settings.mail_reply_to)


def verifications_left(accounts: Accounts, user: User) -> bool:
    return _left(accounts.members, f"verify:{user.id}")


def verification(accounts: Accounts, user: User) -> Job:
    settings = accounts.settings

    def job() -> EmailMessage | None:
        if not _allowed(accounts.members, f"verify:{user.id}"):
            return None
        url = f"{settings.public_url}/verify?token={accounts.verification_token(user)}"
        return _message(settings, user.email, "Verify your paperfeed address",
                        "verify_address", username=user.username, verify_url=url,
                        expires_days=VERIFY_MAX_AGE_S // 86400)
    return job


def already_registered(accounts: Accounts, owner: User) -> Job:
    """To the owner of an address someone tried to sign up with again."""
    settings = accounts.settings

    def job() -> EmailMessage | None:
        if not _allowed(accounts.members, f"notice:{owner.id}"):
            return None
        return _message(settings, owner.email, "You already have a paperfeed account",
                        "account_exists", username=owner.username,
                        login_url=f"{settings.public_url}/login",
                        forgot_url=f"{settings.public_url}/forgot")
    return job


def password_reset(accounts: Accounts, login: str) -> Job:
    settings = accounts.settings

    def job() -> EmailMessage | None:
        user = accounts.members.user_by_login(login) if login else None
        if user is None or not _allowed(accounts.members, f"reset:{user.id}"):
            return None
        url = f"{settings.public_url}/reset?token={accounts.reset_token(user)}"
        return _message(settings, user.email, "Reset your paperfeed password",
                        "password_reset", username=user.username, reset_url=url,
                        expires_minutes=RESET_MAX_AGE_S // 60)
    return job
