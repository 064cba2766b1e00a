"""An upstream hub (another hubstead, or huggingface.co) as mirrors see it, through the client.

Implements `services.syncs.Upstream` with `hubstead.client.HfApi`: repo metadata from the API,
file bytes from plain HTTP `resolve` URLs (following the redirect to the CDN, with a `Range`
to resume). The client never negotiates Xet, so Xet-backed files on huggingface.co arrive as
ordinary bytes. Failures become the domain's upstream errors, which decide what a job does:

- no connection, a timeout, a cut transfer, 408/429/5xx: `UpstreamUnavailableError` (retried);
- 404, or the Hub's `RepoNotFound` (which it answers with 401 for repos it hides):
  `UpstreamNotFoundError` (the job stops);
- any other 401 or 403 (a bad token, a gated repo): `UpstreamDeniedError` (the job stops).

The client is configured only by what is passed here: the server's environment (`HF_TOKEN`,
`HF_ENDPOINT`, a stored login) never leaks into requests to upstream.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import quote

import httpx

from hubstead import errors as client_errors
from hubstead.client.api import HfApi
from hubstead.protocol import HEADER_ERROR_CODE, HEADER_ERROR_MESSAGE, ErrorCode
from hubstead.server import errors
from hubstead.server.services.upstreams import Source, UpstreamRepo

_CHUNK = 1024 * 1024
_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Few retries inside one request: a job retries later with backoff, and a pull-through reader
# should hear that upstream is down within seconds, not minutes.
_MAX_RETRIES = 2


class HubUpstream:
    """Upstream hubs, each reached through one `HfApi` per endpoint and token."""

    def __init__(self, *, max_retries: int = _MAX_RETRIES) -> None:
        self._max_retries = max_retries
        self._clients: dict[tuple[str, str | None], HfApi] = {}
        self._lock = threading.Lock()

    def _client(self, source: Source) -> HfApi:
        key = (source.endpoint, source.token)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = HfApi(
                    endpoint=source.endpoint,
                    token=source.token or False,
                    trust_env=False,
                    max_retries=self._max_retries,
                )
                self._clients[key] = client
            return client

    def close(self) -> None:
        """Close every client's connections."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def repo(self, source: Source) -> UpstreamRepo:
        """Visibility and gating of the repo upstream (see `services.syncs.Upstream`)."""
        try:
            info = self._client(source).repo_info(source.repo_id, repo_type=source.type.value)
        except client_errors.HfHubHTTPError as exc:
            raise _from_client_error(exc, source, f"{source}") from exc
        except (httpx.TransportError, client_errors.OfflineModeIsEnabled) as exc:
            raise _unreachable(source, exc) from exc
        gated = info.gated if isinstance(info.gated, str) else None
        return UpstreamRepo(private=bool(info.private), gated=gated)

    @contextlib.contextmanager
    def download(
        self, source: Source, commit_id: str, path: str, start: int = 0, end: int | None = None
    ) -> Iterator[Iterator[bytes]]:
        """Bytes of a file at a commit, from its resolve URL (see `services.syncs.Upstream`)."""
        url = (
            f"{source.endpoint}/{source.type.url_prefix}{source.repo_id}/resolve/"
            f"{commit_id}/{quote(path)}"
        )
        # Identity encoding: a compressed body would not be the object's bytes under a Range.
        headers = {"Accept-Encoding": "identity"}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end}"
        session = self._client(source).session
        try:
            response = session.stream("GET", url, headers=headers)
        except (httpx.TransportError, client_errors.OfflineModeIsEnabled) as exc:
            raise _unreachable(source, exc) from exc
        try:
            if response.status_code >= 400:
                response.read()
                raise _from_status(response, source, f"{path} of {source}")
            # A server that ignores the Range sends the whole file: skip what was not asked for.
            skip = start if response.status_code == 200 else 0
            yield _chunks(response, source, skip)
        finally:
            response.close()


def _chunks(response: httpx.Response, source: Source, skip: int) -> Iterator[bytes]:
    try:
        for chunk in response.iter_bytes(_CHUNK):
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            yield chunk[skip:] if skip else chunk
            skip = 0
    except httpx.TransportError as exc:
        raise _unreachable(source, exc) from exc


def _unreachable(source: Source, exc: Exception) -> errors.UpstreamUnavailableError:
    return errors.UpstreamUnavailableError(
        f"Upstream {source.endpoint} is unreachable ({type(exc).__name__}: {exc}); what this hub "
        "already mirrored is still served"
    )


def _from_client_error(
    exc: client_errors.HfHubHTTPError, source: Source, what: str
) -> errors.UpstreamError:
    if isinstance(exc, client_errors.RepositoryNotFoundError):
        return errors.UpstreamNotFoundError(
            f"{what} does not exist upstream (or is hidden from the token)"
        )
    status = exc.status_code or 0
    message = exc.server_message or str(exc).splitlines()[0]
    return _for_status(status, message, source, what)


def _from_status(response: httpx.Response, source: Source, what: str) -> errors.UpstreamError:
    if response.headers.get(HEADER_ERROR_CODE) == ErrorCode.REPO_NOT_FOUND:
        return errors.UpstreamNotFoundError(
            f"{what} does not exist upstream (or is hidden from the token)"
        )
    message = response.headers.get(HEADER_ERROR_MESSAGE) or response.reason_phrase
    return _for_status(response.status_code, message, source, what)


def _for_status(status: int, message: str, source: Source, what: str) -> errors.UpstreamError:
    detail = f"upstream {source.endpoint} answered {status}: {message}"
    if status == 404:
        return errors.UpstreamNotFoundError(f"{what} does not exist upstream ({detail})")
    if status in (401, 403):
        return errors.UpstreamDeniedError(
            f"Upstream refused access to {what}: check the upstream token ({detail})"
        )
    if status in _RETRYABLE_STATUSES:
        return errors.UpstreamUnavailableError(f"Upstream failed for {what} ({detail})")
    return errors.UpstreamError(f"Upstream could not serve {what} ({detail})")
