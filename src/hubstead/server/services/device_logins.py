"""OAuth device logins (RFC 8628), as `hf auth login` runs them.

The device asks for a code pair (`start`): a long random device code it polls with, stored
only as its sha256, and a short user code a person types in a browser (`ABCD-EFGH`: eight
letters from an alphabet without look-alikes). A signed-in person approves or denies it
(`decide`); the device's next poll (`poll`) then gets a new write token of theirs, named after
the login, exactly once, or `access_denied`. Codes expire after `lifetime`; a device polling
faster than `interval` is told to `slow_down`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.device_logins import (
    DeviceAuthorization,
    DeviceGrant,
    DeviceGrantError,
    DeviceLogin,
    DeviceLoginState,
)
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.storage.device_logins import DeviceLoginStore
from hubstead.server.storage.errors import AlreadyExistsError

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: what a person reads off a terminal and types is unambiguous.
USER_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY"
_USER_CODE_HALF = 4
_CLIENT_ID_CHARS = 255


def _hash(device_code: str) -> str:
    return hashlib.sha256(device_code.encode()).hexdigest()


def normalize_user_code(text: str) -> str:
    """A user code as typed (any case, with or without the dash or spaces) in stored form."""
    letters = "".join(c for c in text.upper() if c.isalnum())
    return f"{letters[:_USER_CODE_HALF]}-{letters[_USER_CODE_HALF:]}"


class DeviceLoginService:
    """Start, decide and poll device logins."""

    def __init__(
        self,
        store: DeviceLoginStore,
        auth: AuthService,
        *,
        lifetime: dt.timedelta,
        interval: int,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._auth = auth
        self._lifetime = lifetime
        self._interval = interval
        self._clock = clock

    def start(self, client_id: str) -> DeviceAuthorization:
        """A new pending login for a device.

        Raises:
            InvalidRequestError: no `client_id`, or an unusable one.
        """
        if not client_id or len(client_id) > _CLIENT_ID_CHARS or not client_id.isprintable():
            raise errors.InvalidRequestError("A device login needs a client_id")
        now = self._clock()
        self._store.delete_expired_device_logins(now)
        device_code = secrets.token_urlsafe(32)
        while True:
            letters = "".join(
                secrets.choice(USER_CODE_ALPHABET) for _ in range(2 * _USER_CODE_HALF)
            )
            user_code = normalize_user_code(letters)
            try:
                self._store.add_device_login(
                    _hash(device_code), user_code, client_id, now, now + self._lifetime
                )
            except AlreadyExistsError:
                continue  # a live login has that user code: draw another
            break
        return DeviceAuthorization(
            device_code, user_code, int(self._lifetime.total_seconds()), self._interval
        )

    def pending(self, user_code: str) -> DeviceLogin:
        """The login a person is about to decide, by the code they typed.

        Raises:
            NotFoundError: no such code, or it expired or was already decided.
        """
        login = self._store.device_login_by_user_code(normalize_user_code(user_code))
        if (
            login is None
            or login.state is not DeviceLoginState.PENDING
            or login.expires_at <= self._clock()
        ):
            raise errors.NotFoundError("No device is waiting for this code (it may have expired)")
        return login

    def decide(self, identity: Identity, user_code: str, *, approve: bool) -> DeviceLogin:
        """Approve (the device gets a write token of the caller's) or deny a pending login.

        Raises:
            AuthenticationError: nobody is signed in.
            NotFoundError: no pending login with this code.
        """
        if identity.account is None:
            raise errors.AuthenticationError("Sign in to approve a device")
        login = self.pending(user_code)
        state = DeviceLoginState.APPROVED if approve else DeviceLoginState.DENIED
        if not self._store.decide_device_login(login.id, state, identity.account.id):
            raise errors.NotFoundError("This code was decided already")
        return login

    def poll(self, device_code: str, client_id: str) -> DeviceGrant:
        """What a device's poll gets: its token once approved, else why not (yet)."""
        login = self._store.device_login_by_code(_hash(device_code))
        if login is None or login.client_id != client_id:
            return DeviceGrant(error=DeviceGrantError.INVALID_GRANT)
        now = self._clock()
        if login.expires_at <= now:
            return DeviceGrant(error=DeviceGrantError.EXPIRED_TOKEN)
        self._store.record_poll(login.id, now)
        if login.state is DeviceLoginState.DENIED:
            return DeviceGrant(error=DeviceGrantError.ACCESS_DENIED)
        if login.state is DeviceLoginState.DELIVERED:
            return DeviceGrant(error=DeviceGrantError.INVALID_GRANT)
        too_soon = login.last_polled_at is not None and now - login.last_polled_at < (
            dt.timedelta(seconds=self._interval)
        )
        if too_soon:
            return DeviceGrant(error=DeviceGrantError.SLOW_DOWN)
        if login.state is DeviceLoginState.PENDING:
            return DeviceGrant(error=DeviceGrantError.AUTHORIZATION_PENDING)
        return self._deliver(login)

    def _deliver(self, login: DeviceLogin) -> DeviceGrant:
        # Claimed before the token exists: of two racing polls, one gets it, the other nothing.
        if login.account_id is None or not self._store.claim_device_login(login.id):
            return DeviceGrant(error=DeviceGrantError.INVALID_GRANT)
        account = self._auth.reader(login.account_id)
        if account is None or account.account is None:
            return DeviceGrant(error=DeviceGrantError.ACCESS_DENIED)
        name = f"device-login-{login.user_code}"
        new = self._auth.create_token(account.account.name, Role.WRITE, name=name)
        return DeviceGrant(token=new.secret)
