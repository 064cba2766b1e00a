"""Short-lived, self-authenticating URL tokens (HMAC-SHA256 over what the URL may do).

LFS upload hrefs and blob download redirects must work without an `Authorization` header (the
client sends none to them), so the URL carries a token that names its purpose, its subject and
its expiry, signed with the hub's secret key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

from hubstead.server import errors


class UrlSigner:
    """Signs and checks tokens bound to a purpose and a subject."""

    def __init__(self, secret: bytes, *, clock: Any = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def sign(self, purpose: str, subject: dict[str, Any], ttl_seconds: int) -> str:
        """A token allowing `purpose` on `subject` for `ttl_seconds`."""
        body = {"p": purpose, "s": subject, "e": int(self._clock()) + ttl_seconds}
        payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload.decode().rstrip('=')}.{self._mac(payload)}"

    def expiry(self, token: str) -> int:
        """When a token this signer issued expires (seconds since the epoch); not a check."""
        payload_text = token.partition(".")[0]
        body = json.loads(base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4)))
        return int(body["e"])

    def verify(self, token: str, purpose: str) -> dict[str, Any]:
        """The subject of a valid, unexpired token for `purpose`.

        Raises:
            AuthorizationError: the token is malformed, forged, for another purpose, or expired.
        """
        payload_text, _, mac = token.partition(".")
        payload = (payload_text + "=" * (-len(payload_text) % 4)).encode()
        if not mac or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            raise errors.AuthorizationError("This URL's signature is invalid")
        try:
            body = json.loads(base64.urlsafe_b64decode(payload))
        except (binascii.Error, ValueError):
            raise errors.AuthorizationError("This URL's signature is invalid") from None
        if body.get("p") != purpose or not isinstance(body.get("s"), dict):
            raise errors.AuthorizationError("This URL is not valid for this request")
        if int(body.get("e", 0)) < self._clock():
            raise errors.AuthorizationError("This URL has expired; ask for a new one")
        subject: dict[str, Any] = body["s"]
        return subject

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
