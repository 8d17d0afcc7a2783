"""Private "For you" Atom feeds: a secret URL per feed, revocable.

A feed reader cannot log in, so the URL carries the authority: 256 random bits, shown
once, of which the store keeps only the SHA-256 (as for API tokens and sessions); a
copy of the database opens no feed. Revoking deletes the row: the URL then answers 404.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from ..models import FeedToken
from ..store import Ratings

PREFIX = "pff_"
SHAPE = re.compile(r"^pff_[A-Za-z0-9_-]{43}$")


def create(ratings: Ratings, user_id: int) -> tuple[str, FeedToken]:
    """(the token, to show once in the feed's URL; its listing)."""
    token = PREFIX + secrets.token_urlsafe(32)
    return token, ratings.add_feed_token(user_id, _digest(token))


def member_of(ratings: Ratings, token: str) -> int | None:
    """The member a feed token belongs to; None for a malformed, unknown or revoked one."""
    if not SHAPE.match(token):
        return None
    return ratings.feed_user(_digest(token))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
