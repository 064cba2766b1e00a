"""Upstream hubs as mirrors see them: where a repo comes from, and storing what it sends.

`Upstream` is what services need of an upstream hub (its API and file bytes); the job layer
implements it with the client library (`jobs/upstream.py`), and `app.py` passes it in. Git data
does not go through it: it comes over git's smart protocol, through `GitFetcher.fetch`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.storage.errors import BlobMismatchError
from hubstead.server.storage.lfs_index import LfsIndex


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a mirrored repo comes from: an upstream hub, the repo there, and the token to use."""

    endpoint: str
    type: RepoType
    repo_id: str
    token: str | None = dataclasses.field(default=None, repr=False)

    @property
    def git_url(self) -> str:
        """The repo's URL for git's smart HTTP protocol."""
        return f"{self.endpoint}/{self.type.url_prefix}{self.repo_id}"

    def __str__(self) -> str:
        return f"{self.type.value} {self.repo_id} at {self.endpoint}"


@dataclasses.dataclass(frozen=True)
class UpstreamRepo:
    """What upstream says about a repo that a mirror copies."""

    private: bool
    gated: str | None


class Upstream(Protocol):
    """An upstream hub's API and file downloads (`jobs/upstream.py` implements it)."""

    def repo(self, source: Source) -> UpstreamRepo:
        """What upstream says about the repo.

        Raises:
            UpstreamNotFoundError: upstream has no such repo (or hides it from the token).
            UpstreamDeniedError: upstream refused the token.
            UpstreamUnavailableError: upstream cannot be reached or failed.
        """

    def download(
        self, source: Source, commit_id: str, path: str, start: int = 0, end: int | None = None
    ) -> AbstractContextManager[Iterator[bytes]]:
        """Bytes `start` to `end` (inclusive; None: to the end) of a file at a commit.

        Errors while iterating are `UpstreamError`s too.

        Raises:
            UpstreamNotFoundError, UpstreamDeniedError, UpstreamUnavailableError: as for `repo`.
        """

    def close(self) -> None:
        """Release connections."""


@dataclasses.dataclass(frozen=True)
class WantedObject:
    """An LFS object a sync fetches, and a file at a commit upstream that holds it."""

    sha256: str
    size: int
    commit_id: str
    path: str


def store_verified(
    index: LfsIndex, repo: RepoRecord, obj: WantedObject, commit: Callable[[], str]
) -> None:
    """Make the object's bytes visible with `commit`, if they verify, then link it to the repo.

    The link comes only after the bytes were verified, so that no repo reaches an object it
    does not hold, not even for a moment; gc spares the stored object until then, since it was
    written within gc's grace period.

    Raises:
        UpstreamUnavailableError: the bytes are not the object (nothing is stored or linked).
    """
    try:
        commit()
    except BlobMismatchError as exc:
        raise wrong_bytes(obj, exc) from None
    index.link(repo.id, obj.sha256, obj.size)


def wrong_bytes(obj: WantedObject, exc: Exception) -> errors.UpstreamUnavailableError:
    """The error for bytes from upstream that are not the object they should be."""
    return errors.UpstreamUnavailableError(
        f"Upstream sent wrong bytes for {obj.path} (LFS object {obj.sha256}): {exc}; "
        "nothing was stored"
    )
