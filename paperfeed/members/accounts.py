"""Accounts: sign-up rules, password hashing, sessions, login throttling, emailed links.

- Passwords are hashed with argon2id (argon2-cffi's defaults follow RFC 9106's
  low-memory profile); a hash made with older parameters is upgraded at login.
- A session is a random 256-bit token in an HttpOnly cookie; the store keeps
  only its SHA-256, so a leaked database does not hand out logins.
- Failed logins are counted in the database (so the limit holds across worker
  processes) per account — the account a name *or* an address resolves to, so
  typing both does not double the tries; per typed name when no account has it —
  and per client address.
- Password-reset links carry an itsdangerous token signed with the site
  secret, valid for an hour, and bound to the current password hash, so a
  link stops working once it has been used.
- An address is the member's only once they click an emailed link (signed the
  same way, bound to member and address, valid three days, and spent once the
  address is verified): until then nothing tied to the address (its digest
  subscriptions) is shown to them. A sign-up with an address that already has an
  account creates nothing, and the caller answers as for a new one (the owner
  is told by email), so the form does not reveal who has an account.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import BadRequest, Conflict, LoginFailed, TooManyAttempts
from ..models import User
from ..settings import Settings
from ..store import Members
from .tokens import ApiTokens

SESSION_DAYS = 30
RESET_MAX_AGE_S = 3600
VERIFY_MAX_AGE_S = 3 * 86400
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes anything; this bounds the work a request can ask for
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")
# Login throttling: failures allowed within the window, per account and per address.
ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW_S = 5, 20, 15 * 60

_hasher = PasswordHasher()


def site_secret(settings: Settings) -> str:
    """PAPERFEED_SECRET_KEY, else a random key made once and kept in the data directory."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.home / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two processes starting at once agree on one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass
    return path.read_text().strip()


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"Use a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"Use a password of at most {MAX_PASSWORD} characters.")


def check_email(email: str) -> str:
    """One plain address (no display name, no header tricks), or BadRequest."""
    email = email.strip()
    name, address = parseaddr(email)
    if (name or address != email or len(email) > 254
            or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        raise BadRequest("That does not look like an email address.")
    return email


def check_signup(username: str, email: str) -> tuple[str, str]:
    username = username.strip()
    if not USERNAME.match(username):
        raise BadRequest("A username is 2–32 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit.")
    return username, check_email(email)


@dataclass(frozen=True)
class Registration:
    """What a sign-up led to. The visitor is told the same either way; only the email
    differs (a link to verify the new account, or a notice to the address's owner)."""

    user: User  # the new member, or the member who already has the address
    created: bool


@dataclass
class Accounts:
    members: Members
    settings: Settings

    def __post_init__(self) -> None:
        secret = site_secret(self.settings)
        self._reset_tokens = URLSafeTimedSerializer(secret, salt="password-reset")
        self._verify_tokens = URLSafeTimedSerializer(secret, salt="verify-address")
        self.tokens = ApiTokens(self.members)

    def sign_up(self, username: str, email: str, password: str,
                *, is_admin: bool | None = None) -> User:
        """A new member, or BadRequest saying which of name and address is taken: for the
        CLI, and for a site that cannot send email (there is no inbox to answer with)."""
        username, email = check_signup(username, email)
        password_hash = hash_password(password)
        taken = self.members.name_or_email_taken(username, email)
        if taken:
            raise BadRequest(f"That {taken} is already registered.")
        try:
            return self.members.add_user(username, email, password_hash, is_admin=is_admin)
        except Conflict:  # lost a race with an identical sign-up
            raise BadRequest("That username or email is already registered.") from None

    def register(self, username: str, email: str, password: str) -> Registration:
        """Sign-up that does not reveal whether `email` has an account: a taken address
        creates nothing and returns its owner. A taken username is still refused
        (usernames are public on member pages); it is checked first, so the answer
        never depends on whose address was typed with it."""
        username, email = check_signup(username, email)
        password_hash = hash_password(password)  # the same work whichever way it goes
        if self.members.user_by_name(username) is not None:
            raise BadRequest("That username is taken. Choose another.")
        owner = self.members.user_by_login(email)
        if owner is not None:
            return Registration(owner, created=False)
        try:
            return Registration(self.members.add_user(username, email, password_hash), True)
        except Conflict:  # lost a race with a sign-up for the same name or address
            owner = self.members.user_by_login(email)
            if owner is None:
                raise BadRequest("That username is taken. Choose another.") from None
            return Registration(owner, created=False)

    def log_in(self, login: str, password: str, address: str) -> User:
        """The member, or LoginFailed / TooManyAttempts. Counts failures either way."""
        login = login.strip()
        user = self.members.user_by_login(login)
        keys = [f"account:{user.id}" if user else f"login:{login.lower()}",
                f"address:{address}"]
        now = time.time()
        for key, allowed in zip(keys, (ACCOUNT_FAILURES, ADDRESS_FAILURES), strict=True):
            count, oldest = self.members.attempts(key, now - FAILURE_WINDOW_S)
            if count >= allowed and oldest is not None:
                raise TooManyAttempts(int(oldest + FAILURE_WINDOW_S - now) + 1)
        if user is None:
            _hasher.hash(password[:MAX_PASSWORD])  # same cost as a real check: no name probing
        if user is None or len(password) > MAX_PASSWORD or not _verify(user, password):
            self.members.count_attempt(keys)
            raise LoginFailed("Wrong username or password.")
        if _hasher.check_needs_rehash(user.password_hash):
            self.members.set_password(user.id, _hasher.hash(password))
        self.members.clear_attempts(keys[0])
        return user

    # -- sessions ---------------------------------------------------------------

    def start_session(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(days=SESSION_DAYS)
        self.members.add_session(_digest(token), user.id,
                                   expires.isoformat(timespec="seconds"))
        return token

    def session_user(self, token: str | None) -> User | None:
        if not token or len(token) > 100:
            return None
        return self.members.session_user(_digest(token))

    def end_session(self, token: str | None) -> None:
        if token:
            self.members.end_session(_digest(token))

    # -- password reset ---------------------------------------------------------

    def reset_token(self, user: User) -> str:
        return self._reset_tokens.dumps({"u": user.id, "h": _digest(user.password_hash)[:16]})

    def user_for_reset(self, token: str) -> User:
        try:
            data = self._reset_tokens.loads(token, max_age=RESET_MAX_AGE_S)
        except SignatureExpired:
            raise BadRequest("This reset link has expired. Ask for a new one.") from None
        except BadSignature:
            raise BadRequest("This reset link is not valid. Ask for a new one.") from None
        user = self.members.user_by_id(int(data.get("u", 0)))
        if user is None or _digest(user.password_hash)[:16] != data.get("h"):
            raise BadRequest("This reset link has already been used. Ask for a new one.")
        return user

    def reset_password(self, token: str, password: str) -> User:
        user = self.user_for_reset(token)
        self.members.set_password(user.id, hash_password(password))
        return user

    def change_password(self, user: User, current: str, new: str) -> None:
        """Ends every session of the member (the caller starts a new one)."""
        if len(current) > MAX_PASSWORD or not _verify(user, current):
            raise BadRequest("Your current password is not that.")
        self.members.set_password(user.id, hash_password(new))

    # -- verifying the address ----------------------------------------------------

    def verification_token(self, user: User) -> str:
        return self._verify_tokens.dumps({"u": user.id, "e": user.email.lower()})

    def user_for_verification(self, token: str) -> User:
        """The member a verification link is for, while it can still verify them."""
        try:
            data = self._verify_tokens.loads(token, max_age=VERIFY_MAX_AGE_S)
        except SignatureExpired:
            raise BadRequest("This verification link has expired. Log in and ask for a "
                             "new one on your account page.") from None
        except BadSignature:
            raise BadRequest("This verification link is not valid.") from None
        user = self.members.user_by_id(int(data.get("u", 0)))
        if user is None or user.email.lower() != data.get("e"):
            raise BadRequest("This verification link is for an address the account no "
                             "longer has.")
        if user.verified:
            raise BadRequest("This address is verified already. Log in to use it.")
        return user

    def verify(self, token: str) -> User:
        """Mark the address verified; the link is spent (it cannot log anyone in again)."""
        user = self.user_for_verification(token)
        if not self.members.set_verified(user.id, user.email):  # a second click, at once
            raise BadRequest("This address is verified already. Log in to use it.")
        found = self.members.user_by_id(user.id)
        assert found is not None
        return found


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _verify(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
