"""Where a file's bytes are: a HEAD on its resolve URL says, with its commit, etag and size.

An LFS file answers with a redirect to its blob, carrying the sha256 (`X-Linked-Etag`), the size
(`X-Linked-Size`) and the commit (`X-Repo-Commit`); the bytes are then fetched from that URL,
with the token only if it is on the hub's own host.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from urllib.parse import urljoin

import httpx

from hubstead.client._http import HubSession, raise_for_status
from hubstead.errors import HfHubHTTPError
from hubstead.protocol import HEADER_LINKED_ETAG, HEADER_LINKED_SIZE, HEADER_REPO_COMMIT

_MAX_HUB_REDIRECTS = 5


@dataclasses.dataclass(frozen=True)
class FileMetadata:
    """What a HEAD on a resolve URL says about a file."""

    commit_hash: str
    etag: str
    location: str
    size: int | None


def normalize_etag(value: str | None) -> str | None:
    """An ETag without its weak marker and quotes (`W/"abc"` → `abc`)."""
    if not value:
        return None
    return value.removeprefix("W/").strip('"')


def fetch_metadata(
    session: HubSession,
    url: str,
    *,
    token: str | bool | None,
    timeout: float | None,
    headers: Mapping[str, str],
    retry: bool,
) -> FileMetadata:
    """HEAD a resolve URL: the file's commit, etag, size and where its bytes are.

    Redirects inside the hub (a renamed repo) are followed; the first redirect carrying
    `X-Linked-Etag`, or leaving the hub's host, ends the walk: its target is where the bytes are.

    Raises:
        RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError,
        HfHubHTTPError: the hub refused, or the answer lacks `X-Repo-Commit` or an ETag.
        httpx.TransportError: the hub could not be reached.
    """
    current = url
    for _ in range(_MAX_HUB_REDIRECTS + 1):
        response = session.request(
            "HEAD",
            current,
            token=token,
            retry=retry,
            headers={**headers, "Accept-Encoding": "identity"},
            follow_redirects=False,
            timeout=timeout,
        )
        raise_for_status(response)
        if not response.is_redirect:
            break
        target = urljoin(current, response.headers["location"])
        if HEADER_LINKED_ETAG in response.headers or not _same_host(target, session.endpoint):
            break
        current = target
    commit = response.headers.get(HEADER_REPO_COMMIT)
    etag = normalize_etag(response.headers.get(HEADER_LINKED_ETAG) or response.headers.get("etag"))
    if commit is None or etag is None:
        missing = HEADER_REPO_COMMIT if commit is None else "ETag"
        raise HfHubHTTPError(
            f"The answer from {current} has no {missing} header: HF_ENDPOINT does not seem to "
            "point at a Hub (check it, and any proxy in between).",
            response=response,
        )
    size = response.headers.get(HEADER_LINKED_SIZE) or (
        None if response.is_redirect else response.headers.get("content-length")
    )
    location = urljoin(current, response.headers["location"]) if response.is_redirect else current
    return FileMetadata(commit, etag.lower(), location, int(size) if size else None)


def _same_host(url: str, endpoint: str) -> bool:
    return httpx.URL(url).host == httpx.URL(endpoint).host
