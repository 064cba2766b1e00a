"""Upstream hubs as storage reaches them: the `Upstream` Protocol and its records.

An upstream hub (huggingface.co or another hubstead) lies outside the process, as the remote git
repos of `git_remote.py` do: its API says what a repo is, its `resolve` URLs give file bytes.
`upstream_hub.HubUpstream` implements the Protocol with the client library. Like every storage
adapter it raises only narrow storage errors, here `RemoteError` (`failure` says how it failed);
the mirroring services (`services/mirroring/upstreams.py`) turn them into domain errors. Git data
does not go through it: it comes over git's smart protocol, through `GitStore.fetch`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from hubstead.protocol import RepoType


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
    """An upstream hub's API and file downloads (`upstream_hub.HubUpstream` implements it)."""

    def repo(self, source: Source) -> UpstreamRepo:
        """What upstream says about the repo.

        Raises:
            RemoteError: NOT_FOUND (no such repo, or hidden from the token), DENIED (the token
                was refused), UNREACHABLE (no connection, a timeout, a server error), REJECTED
                (any other refusal).
        """

    def download(
        self, source: Source, commit_id: str, path: str, start: int = 0, end: int | None = None
    ) -> AbstractContextManager[Iterator[bytes]]:
        """Bytes `start` to `end` (inclusive; None: to the end) of a file at a commit.

        Errors while iterating are `RemoteError`s too (UNREACHABLE: the transfer was cut).

        Raises:
            RemoteError: as for `repo`; NOT_FOUND also for a file or commit it does not have.
        """

    def close(self) -> None:
        """Release connections."""
