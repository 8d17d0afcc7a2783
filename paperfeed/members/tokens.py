"""Personal API tokens: `Authorization: Bearer pf_…` acts as the member in the JSON API.

A token is 256 random bits, shown once when it is made (on the account page, or by
`paperfeed user token NAME`); the store keeps only its SHA-256, as for sessions, so a
copy of the database hands out no tokens. Each has a label and the time it was last
used, and is revoked by deleting it. A token needs no CSRF check: a browser never
sends one by itself, so another site cannot make it act.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import NotFound
from ..models import ApiToken, User
from ..store import Members

PREFIX = "pf_"  # recognisable in a leaked file or a secret scanner's rules
MAX_LABEL = 100
MAX_TOKEN = 100
USED_EVERY_S = 60  # `last used` is written at most this often: a read, not a write, per call
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_label(label: str) -> str:
    """One line of at most MAX_LABEL characters (it is shown on pages and in the CLI)."""
    label = " ".join(_CONTROL.sub(" ", label).split())[:MAX_LABEL]
    return label or "API token"


@dataclass
class ApiTokens:
    members: Members

    def create(self, user: User, label: str = "") -> tuple[str, ApiToken]:
        """(the token, to show once; its listing)."""
        token = PREFIX + secrets.token_urlsafe(32)
        return token, self.members.add_token(user.id, _digest(token), clean_label(label))

    def of(self, user: User) -> list[ApiToken]:
        return self.members.tokens(user.id)

    def revoke(self, user: User, token_id: int) -> None:
        if not self.members.revoke_token(user.id, token_id):
            raise NotFound("You have no token with that id.")

    def user_for(self, token: str) -> User | None:
        """The member a token acts for, or None for an unknown or revoked one."""
        if not token.startswith(PREFIX) or len(token) > MAX_TOKEN:
            return None
        found = self.members.token_user(_digest(token))
        if found is None:
            return None
        user, token_id, last_used = found
        recent = (datetime.now(UTC) - timedelta(seconds=USED_EVERY_S)).isoformat(
            timespec="seconds")
        if last_used is None or last_used < recent:
            self.members.touch_token(token_id)
        return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
