"""Signing in to the web hub: passwords, browser sessions, and the limits on guessing.

A session is a random secret in the browser's cookie; only its sha256 is stored (like a
token's), with its account, times and the browser's user agent, so that signing out, a
password change and an operator's reset end it on the server, not just in the browser.
Failed sign-ins are counted per account and per client address (`throttle.py`), and an
unknown user and a wrong password get the same answer, after the same work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from hubstead.server import errors
from hubstead.server.domain.accounts import Account, AccountKind
from hubstead.server.domain.web_sessions import WebSession
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.passwords import check_new_password, hash_password, verify_password
from hubstead.server.services.throttle import SlidingWindow
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.web_sessions import WebSessionStore

_REFUSED = "Wrong username or password"
_TOO_MANY = "Too many failed sign-ins; wait a few minutes and try again"
_TOO_MANY_CHANGES = "Too many wrong passwords; wait a few minutes and try again"
# A session's `last_seen_at` is written at most this often, not on every page.
_TOUCH_EVERY = dt.timedelta(minutes=5)
_USER_AGENT_CHARS = 255


@dataclasses.dataclass(frozen=True)
class SignInLimits:
    """How many failures per account and per client address within a window (seconds)."""

    per_account: int
    per_address: int
    window_seconds: int


@dataclasses.dataclass(frozen=True)
class NewSession:
    """A session just started: its record and the cookie secret, which is not kept."""

    session: WebSession
    secret: str


def hash_session(secret: str) -> str:
    """The stored form of a session secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionService:
    """Password sign-in (or with a token), sessions, and password changes."""

    def __init__(
        self,
        accounts: AccountStore,
        sessions: WebSessionStore,
        auth: AuthService,
        limits: SignInLimits,
        *,
        lifetime: dt.timedelta,
        clock: Clock = utcnow,
    ) -> None:
        self._accounts = accounts
        self._sessions = sessions
        self._auth = auth
        self._lifetime = lifetime
        self._clock = clock
        seconds = lambda: clock().timestamp()  # noqa: E731 (the windows' clock)
        self._by_account = SlidingWindow(limits.per_account, limits.window_seconds, seconds)
        self._by_address = SlidingWindow(limits.per_address, limits.window_seconds, seconds)

    def sign_in(self, name: str, password: str, address: str, user_agent: str) -> NewSession:
        """Start a session for the user whose password this is.

        Raises:
            TooManyRequestsError: too many failures for this account or address lately.
            AuthenticationError: no such user, no password set, or the wrong one (one answer).
        """
        account_key = name.strip().lower()
        if self._by_account.exhausted(account_key) or self._by_address.exhausted(address):
            raise errors.TooManyRequestsError(_TOO_MANY)
        account = self._accounts.get_account(name.strip())
        user = account if account is not None and account.kind is AccountKind.USER else None
        stored = self._accounts.password_hash(user.id) if user is not None else None
        if user is None or not verify_password(password, stored):
            self._by_account.fail(account_key)
            self._by_address.fail(address)
            raise errors.AuthenticationError(_REFUSED)
        return self._start(user, user_agent)

    def sign_in_with_token(self, secret: str, address: str, user_agent: str) -> NewSession:
        """Start a session for the owner of an access token.

        Raises:
            TooManyRequestsError: too many failures from this address lately.
            AuthenticationError: not a token of this hub.
        """
        if self._by_address.exhausted(address):
            raise errors.TooManyRequestsError(_TOO_MANY)
        try:
            identity = self._auth.authenticate(secret.strip() or None)
        except errors.AuthenticationError:
            identity = None
        if identity is None or identity.account is None:
            self._by_address.fail(address)
            raise errors.AuthenticationError("That is not a valid access token")
        return self._start(identity.account, user_agent)

    def _start(self, account: Account, user_agent: str) -> NewSession:
        secret = secrets.token_urlsafe(32)
        now = self._clock()
        self._sessions.delete_expired_sessions(now)
        session = self._sessions.add_session(
            account.id,
            hash_session(secret),
            now,
            now + self._lifetime,
            user_agent[:_USER_AGENT_CHARS],
        )
        return NewSession(session, secret)

    def identity(self, secret: str) -> Identity | None:
        """Who is signed in with this session secret; None for an unknown or expired one."""
        now = self._clock()
        found = self._sessions.find_session(hash_session(secret), now)
        if found is None:
            return None
        session, account = found
        if now - session.last_seen_at >= _TOUCH_EVERY:
            self._sessions.touch_session(session.id, now)
        return self._auth.at_keyboard(account)

    def sign_out(self, secret: str) -> None:
        """End the session with this secret."""
        self._sessions.delete_session(hash_session(secret))

    def set_password(self, name: str, password: str) -> int:
        """Set a user's password (an operator's doing) and end all their sessions.

        Returns:
            How many sessions were ended.

        Raises:
            AccountNotFoundError: no such user.
            InvalidRequestError: a password too short or too long.
        """
        user = self._auth.get_account(name, AccountKind.USER)
        check_new_password(password)
        self._accounts.set_password_hash(user.id, hash_password(password))
        return self._sessions.delete_account_sessions(user.id)

    def change_password(
        self, identity: Identity, current: str, new: str, user_agent: str
    ) -> NewSession:
        """Change the signed-in user's password, ending every session, and start a new one.

        Raises:
            AuthenticationError: nobody is signed in, or `current` is not their password.
            TooManyRequestsError: too many wrong passwords for this account lately.
            InvalidRequestError: the new password is too short or too long.
        """
        account = identity.account
        if account is None:
            raise errors.AuthenticationError("Sign in to change your password")
        # A stolen session must not become a way to guess the password: the same per-account
        # limit as signing in.
        account_key = account.name.lower()
        if self._by_account.exhausted(account_key):
            raise errors.TooManyRequestsError(_TOO_MANY_CHANGES)
        if not verify_password(current, self._accounts.password_hash(account.id)):
            self._by_account.fail(account_key)
            raise errors.AuthenticationError("The current password is wrong")
        check_new_password(new)
        self._accounts.set_password_hash(account.id, hash_password(new))
        self._sessions.delete_account_sessions(account.id)
        return self._start(account, user_agent)
