"""Subscribing: double opt-in, signed links, unsubscribing, and a member's subscriptions.

Nothing is sent to an address until someone who reads its mail clicks the
confirmation link, so nobody can subscribe somebody else. A member sees and
manages the subscriptions of their address only once they have verified it
(members/accounts.py): an account made with somebody else's address gets none of
theirs. Links carry
itsdangerous tokens signed with the site secret: confirmation links expire
after three days, unsubscribe and preview links after half a year (a digest
is often opened late, but a link should not work forever).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import BadRequest, NotFound
from ..mail import Mailer, compose
from ..mail.render import render_email
from ..members.accounts import check_email, site_secret
from ..models import FREQUENCIES, Subscription, User
from ..settings import Settings
from ..store import Subscriptions as StoredSubscriptions

CONFIRM_MAX_AGE_S = 3 * 86400
LINK_MAX_AGE_S = 180 * 86400
MAX_QUERY = 200
MAX_NEW_PER_DAY = 5  # new subscriptions per address per day: the form cannot mail-bomb


@dataclass
class Request:
    email: str
    frequency: str
    trending: bool
    query: str | None


def check_request(email: str, frequency: str, trending: bool, query: str) -> Request:
    email = check_email(email)
    if frequency not in FREQUENCIES:
        raise BadRequest(f"Choose a frequency: {' or '.join(FREQUENCIES)}.")
    query = " ".join(query.split())
    if len(query) > MAX_QUERY:
        raise BadRequest(f"Keep the saved search under {MAX_QUERY} characters.")
    if not trending and not query:
        raise BadRequest("Choose trending papers, a saved search, or both.")
    return Request(email, frequency, trending, query or None)


class Subscriptions:
    def __init__(self, stored: StoredSubscriptions, settings: Settings) -> None:
        self.stored = stored
        self.settings = settings
        secret = site_secret(settings)
        self._confirm = URLSafeTimedSerializer(secret, salt="subscription-confirm")
        self._link = URLSafeTimedSerializer(secret, salt="subscription-link")

    # -- tokens -------------------------------------------------------------------

    def confirm_token(self, subscription: Subscription) -> str:
        return self._confirm.dumps({"s": subscription.id, "e": subscription.email.lower()})

    def link_token(self, subscription: Subscription) -> str:
        """For unsubscribe and preview links in digests."""
        return self._link.dumps({"s": subscription.id, "e": subscription.email.lower()})

    def _load(self, serializer: URLSafeTimedSerializer, token: str,
              max_age: int) -> Subscription:
        try:
            data = serializer.loads(token, max_age=max_age)
        except SignatureExpired:
            raise BadRequest("This link has expired.") from None
        except BadSignature:
            raise BadRequest("This link is not valid.") from None
        found = self.stored.get(int(data.get("s", 0)))
        if found is None or found.email.lower() != data.get("e"):
            raise NotFound("This subscription no longer exists.")
        return found

    def from_link(self, token: str) -> Subscription:
        return self._load(self._link, token, LINK_MAX_AGE_S)

    def urls(self, subscription: Subscription) -> dict[str, str]:
        base = self.settings.public_url
        token = self.link_token(subscription)
        return {"unsubscribe": f"{base}/unsubscribe?token={token}",
                "preview": f"{base}/digest/preview?token={token}",
                "manage": f"{base}/subscriptions", "site": base}

    # -- the flow -----------------------------------------------------------------

    def subscribe(self, request: Request, user: User | None = None) -> Subscription:
        """Record a pending subscription and mail its confirmation link."""
        since = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
        if self.stored.recent(request.email, since) >= MAX_NEW_PER_DAY:
            raise BadRequest("This address has asked for several subscriptions today. "
                             "Check its inbox for the confirmation emails.")
        mailer = Mailer(self.settings)  # ConfigError now, before anything is stored
        owner = user.id if user and user.verified and \
            user.email.lower() == request.email.lower() else None
        subscription = self.stored.add(request.email, request.frequency, request.trending,
                                       request.query, owner)
        self._send_confirmation(mailer, subscription)
        return subscription

    def _send_confirmation(self, mailer: Mailer, subscription: Subscription) -> None:
        base = self.settings.public_url
        text, html = render_email(
            "confirm_subscription", subscription=subscription,
            confirm_url=f"{base}/subscribe/confirm?token={self.confirm_token(subscription)}",
            expires_days=CONFIRM_MAX_AGE_S // 86400, site_url=base)
        mailer.send(compose(to=subscription.email, subject="Confirm your paperfeed digest",
                            text=text, html=html, sender=self.settings.mail_from,
                            reply_to=self.settings.mail_reply_to))

    def confirm(self, token: str) -> Subscription:
        subscription = self._load(self._confirm, token, CONFIRM_MAX_AGE_S)
        if subscription.status in ("pending", "paused"):
            self.stored.set_status(subscription.id, "active")
        return self.stored.get(subscription.id) or subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.stored.set_status(subscription.id, "unsubscribed")

    def of_member(self, user: User) -> list[Subscription]:
        """The subscriptions of the member's address, once the address is proven theirs."""
        return self.stored.of_email(user.email) if user.verified else []

    def owned(self, user: User, subscription_id: int) -> Subscription:
        found = self.stored.get(subscription_id) if user.verified else None
        if found is None or found.email.lower() != user.email.lower():
            raise NotFound("No such subscription.")
        return found
