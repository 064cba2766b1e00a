"""`Upstream` through the client library: an upstream hub (another hubstead, or huggingface.co).

Storage layer, an adapter to something outside the process like `git_remote.py`, and the one
server module that uses `hubstead.client` and httpx (an import contract says so). Repo metadata
comes from the API, file bytes from plain HTTP `resolve` URLs (following the redirect to the CDN,
with a `Range` to resume). The client never negotiates Xet, so Xet-backed files on huggingface.co
arrive as ordinary bytes. Failures are `RemoteError`s, whose `failure` decides what a job does
once the mirroring services have translated them:

- no connection, a timeout, a cut transfer, 408/429/5xx: UNREACHABLE (retried);
- 404, or the Hub's `RepoNotFound` (which it answers with 401 for repos it hides): NOT_FOUND;
- any other 401 or 403 (a bad token, a gated repo): DENIED;
- any other error status: REJECTED.

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
from hubstead.server.domain.mirrors import Source, UpstreamRepo
from hubstead.server.storage.errors import RemoteError, RemoteFailure

_CHUNK = 1024 * 1024
_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Few retries inside one request: a job retries later with backoff, and a pull-through reader
# should hear that upstream is down within seconds, not minutes.
_MAX_RETRIES = 2


class HubUpstream:
    """Upstream hubs, each reached through one `HfApi` per endpoint and token."""

    def __init__(self, *, max_retries: int = _MAX_RETRIES) -> None:
        self._max_retries = max_retries
        # Connection pools, one set per process: nothing in them is shared state.
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
        """Visibility and gating of the repo upstream (see `upstream.Upstream`)."""
        try:
            info = self._client(source).repo_info(source.repo_id, repo_type=source.type.value)
        except client_errors.HfHubHTTPError as exc:
            raise _from_client_error(exc, source) from exc
        except (httpx.TransportError, client_errors.OfflineModeIsEnabled) as exc:
            raise _unreachable(exc) from exc
        gated = info.gated if isinstance(info.gated, str) else None
        return UpstreamRepo(private=bool(info.private), gated=gated)

    @contextlib.contextmanager
    def download(
        self, source: Source, commit_id: str, path: str, start: int = 0, end: int | None = None
    ) -> Iterator[Iterator[bytes]]:
        """Bytes of a file at a commit, from its resolve URL (see `upstream.Upstream`)."""
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
            raise _unreachable(exc) from exc
        try:
            if response.status_code >= 400:
                response.read()
                raise _from_status(response, source)
            # A server that ignores the Range sends the whole file: skip what was not asked for.
            skip = start if response.status_code == 200 else 0
            yield _chunks(response, skip)
        finally:
            response.close()


def _chunks(response: httpx.Response, skip: int) -> Iterator[bytes]:
    try:
        for chunk in response.iter_bytes(_CHUNK):
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            yield chunk[skip:] if skip else chunk
            skip = 0
    except httpx.TransportError as exc:
        raise _unreachable(exc) from exc


def _unreachable(exc: Exception) -> RemoteError:
    return RemoteError(RemoteFailure.UNREACHABLE, f"{type(exc).__name__}: {exc}")


def _from_client_error(exc: client_errors.HfHubHTTPError, source: Source) -> RemoteError:
    status = exc.status_code or 0
    message = exc.server_message or str(exc).splitlines()[0]
    if isinstance(exc, client_errors.RepositoryNotFoundError):
        return RemoteError(RemoteFailure.NOT_FOUND, _answered(source, status, message))
    return _for_status(status, message, source)


def _from_status(response: httpx.Response, source: Source) -> RemoteError:
    message = response.headers.get(HEADER_ERROR_MESSAGE) or response.reason_phrase
    if response.headers.get(HEADER_ERROR_CODE) == ErrorCode.REPO_NOT_FOUND:
        return RemoteError(
            RemoteFailure.NOT_FOUND, _answered(source, response.status_code, message)
        )
    return _for_status(response.status_code, message, source)


def _for_status(status: int, message: str, source: Source) -> RemoteError:
    if status == 404:
        failure = RemoteFailure.NOT_FOUND
    elif status in (401, 403):
        failure = RemoteFailure.DENIED
    elif status in _RETRYABLE_STATUSES:
        failure = RemoteFailure.UNREACHABLE
    else:
        failure = RemoteFailure.REJECTED
    return RemoteError(failure, _answered(source, status, message))


def _answered(source: Source, status: int, message: str) -> str:
    return f"{source.endpoint} answered {status}: {message}"
