"""The client's HTTP layer: one httpx session, retries with backoff, and errors the HF way.

`HubSession.request` retries connection errors, timeouts, 408, 429 and 5xx with exponential
backoff and full jitter, honouring `Retry-After`, and says so in a warning each time;
`raise_for_status` turns an error response into the `hubstead.errors` class its `X-Error-Code`
names, with the server's message, the request id and what the caller was doing.
`HubSession.send` does both: what most callers want.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from hubstead import __version__
from hubstead.errors import (
    BadRequestError,
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from hubstead.protocol import HEADER_ERROR_CODE, HEADER_ERROR_MESSAGE, ErrorCode

logger = logging.getLogger("hubstead.client")

DEFAULT_MAX_RETRIES = 5
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_ERROR_CLASSES: dict[str, type[HfHubHTTPError]] = {
    ErrorCode.REPO_NOT_FOUND: RepositoryNotFoundError,
    ErrorCode.GATED_REPO: GatedRepoError,
    ErrorCode.REVISION_NOT_FOUND: RevisionNotFoundError,
    ErrorCode.ENTRY_NOT_FOUND: RemoteEntryNotFoundError,
}
_DISABLED_MESSAGE = "Access to this resource is disabled."


class HubSession:
    """An httpx client bound to a hub's endpoint and token, with retries.

    Args:
        endpoint: the hub's base URL.
        token: the token sent as `Authorization: Bearer …` to the hub (never to other hosts).
        offline: refuse every request (`OfflineModeIsEnabled`).
        max_retries: attempts after the first, for retryable failures.
        timeout: seconds to wait for the hub (connecting: at most 10).
        transport: an httpx transport (tests, or an in-process ASGI app).
        trust_env: let httpx take proxies and certificates from the environment.
        sleep: how to wait between attempts (tests record the waits instead).
    """

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        offline: bool = False,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | None = 60.0,
        transport: httpx.BaseTransport | None = None,
        trust_env: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.offline = offline
        self.max_retries = max_retries
        self.transport = transport
        self.trust_env = trust_env
        self._sleep = sleep
        self._host = httpx.URL(self.endpoint).host
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout or 10.0, 10.0)),
            follow_redirects=True,
            transport=transport,
            trust_env=trust_env,
            headers={"User-Agent": f"hubstead/{__version__}; hf_hub/compatible"},
        )

    def close(self) -> None:
        """Close pooled connections."""
        self.client.close()

    def url(self, path: str) -> str:
        """An absolute URL on the hub."""
        return f"{self.endpoint}/{path.lstrip('/')}"

    def token_for(self, token: str | bool | None) -> str | None:
        """The token a call sends: its own, else (None or True) the session's; False: none."""
        if token is None or token is True:
            return self.token
        return token or None

    def auth_headers(self, url: str, token: str | bool | None = None) -> dict[str, str]:
        """The Authorization header for `url`: only towards the hub's own host."""
        chosen = self.token_for(token)
        if not chosen or httpx.URL(url).host != self._host:
            return {}
        return {"Authorization": f"Bearer {chosen}"}

    def request(
        self,
        method: str,
        url: str,
        *,
        token: str | bool | None = None,
        retry: bool = True,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request, retrying transient failures when `retry`; the response is unchecked.

        Raises:
            OfflineModeIsEnabled: offline mode is on.
            httpx.TransportError: the connection failed on every attempt.
        """
        if self.offline:
            raise OfflineModeIsEnabled(f"Cannot reach {url}: offline mode is enabled")
        all_headers = {**self.auth_headers(url, token), **(headers or {})}
        attempt = 0
        while True:
            try:
                response = self.client.request(method, url, headers=all_headers, **kwargs)
            except httpx.TransportError as exc:
                if not retry or attempt >= self.max_retries:
                    raise
                delay, reason = backoff(attempt), f"{type(exc).__name__}: {exc}"
            else:
                if not retry or response.status_code not in RETRY_STATUSES:
                    return response
                if attempt >= self.max_retries:
                    return response
                delay, reason = retry_delay(response, attempt), f"HTTP {response.status_code}"
            attempt += 1
            announce_retry(f"{method} {url}", reason, delay, attempt, self.max_retries)
            self._sleep(delay)

    def send(
        self, method: str, url: str, *, action: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """`request`, then `raise_for_status`: a response that is not an error.

        Args:
            method: the HTTP method.
            url: the absolute URL.
            action: what the caller is doing ("upload part 3 of model.safetensors"): failures
                start with "Failed to {action}".
            **kwargs: as for `request` (`token`, `retry`, `headers`, `json`, `content`, ...).

        Raises:
            HfHubHTTPError: the hub answered with an error (the subclass its code names).
            httpx.TransportError: the connection failed on every attempt.
            OfflineModeIsEnabled: offline mode is on.
        """
        try:
            response = self.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            if action is None:
                raise
            message = f"Failed to {action}: {exc or type(exc).__name__}"
            raise type(exc)(message, request=exc.request) from exc
        raise_for_status(response, action)
        return response

    def stream(
        self, method: str, url: str, *, token: str | bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Start a streamed request (no retry: the caller resumes with a Range).

        The caller must close the response.

        Raises:
            OfflineModeIsEnabled: offline mode is on.
            httpx.TransportError: the connection failed.
        """
        if self.offline:
            raise OfflineModeIsEnabled(f"Cannot reach {url}: offline mode is enabled")
        headers = {**self.auth_headers(url, token), **kwargs.pop("headers", {})}
        request = self.client.build_request(method, url, headers=headers, **kwargs)
        return self.client.send(request, stream=True)

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, token: str | bool | None = None
    ) -> Iterator[Any]:
        """Every item of a Link-paginated listing.

        Raises:
            HfHubHTTPError: a page failed.
        """
        url: str | None = self.url(path)
        first = True
        while url is not None:
            response = self.send("GET", url, params=params if first else None, token=token)
            yield from response.json()
            first = False
            url = response.links.get("next", {}).get("url")


def backoff(attempt: int, *, base: float = 1.0, cap: float = 8.0) -> float:
    """Exponential backoff with full jitter: a random wait up to min(cap, base * 2**attempt)."""
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 (not for secrets)


def retry_delay(response: httpx.Response, attempt: int) -> float:
    """How long to wait before retrying `response`: its `Retry-After` (0 too), else backoff."""
    delay = _retry_after(response)
    return backoff(attempt) if delay is None else delay


def announce_retry(what: str, reason: str, delay: float, attempt: int, retries: int) -> None:
    """Warn that `what` failed and is tried again after `delay` seconds (attempt of retries)."""
    logger.warning(
        "%s failed (%s); retrying in %.1f s (%d/%d)", what, reason, delay, attempt, retries
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return min(float(value), 60.0) if value.isdigit() else None


def server_message(response: httpx.Response) -> str | None:
    """What the server said about an error: `X-Error-Message`, else the JSON body's error."""
    header: str | None = response.headers.get(HEADER_ERROR_MESSAGE)
    if header:
        return header
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, httpx.ResponseNotRead):
        return None
    if isinstance(body, dict):
        for key in ("error", "message", "error_description"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, list) and value:
                return "; ".join(str(v) for v in value)
    return None


def raise_for_status(response: httpx.Response, action: str | None = None) -> None:
    """Raise the `hubstead.errors` exception an error response stands for; nothing on success.

    Args:
        response: the response to check.
        action: what the caller was doing ("upload part 3 of model.safetensors"), for the message.

    Raises:
        RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError,
        RemoteEntryNotFoundError, DisabledRepoError, BadRequestError, HfHubHTTPError.
    """
    if response.status_code < 400:
        return
    message = server_message(response)
    code = response.headers.get(HEADER_ERROR_CODE, "")
    request = response.request
    lines = [f"{response.status_code} {response.reason_phrase} for {request.method} {request.url}"]
    if action:
        lines[0] = f"Failed to {action}: {lines[0]}"
    if message:
        lines.append(f"Server says: {message}")
    request_id = response.headers.get("x-request-id") or response.headers.get("x-amzn-trace-id")
    if request_id:
        lines.append(f"Request id: {request_id}")
    if code in _ERROR_CLASSES:
        cls = _ERROR_CLASSES[code]
    elif message == _DISABLED_MESSAGE:
        cls = DisabledRepoError
    elif response.status_code == 400:
        cls = BadRequestError
    else:
        cls = HfHubHTTPError
    hint = _hint(cls, response.status_code, token_sent="authorization" in request.headers)
    if hint:
        lines.append(hint)
    raise cls("\n".join(lines), response=response, server_message=message)


def _hint(cls: type[HfHubHTTPError], status: int, *, token_sent: bool) -> str | None:
    """What to try next, for the error class and status."""
    if cls is GatedRepoError:
        return "The repo is gated: ask its owners for access."
    if cls is RepositoryNotFoundError:
        return (
            "Check the repo id and type; if the repo is private, check that your token can see it."
        )
    if status == 401 and not token_sent:
        return "No token was sent: set HF_TOKEN or log in (hubstead login)."
    if status == 401:
        return "Your token was refused: check HF_TOKEN or log in again (hubstead login)."
    if status == 403:
        return "Your token is valid but lacks the permission for this."
    if status >= 500:
        return "The hub failed; retry later, and quote the request id if it persists."
    return None
