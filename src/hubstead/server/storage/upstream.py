"""`Upstream`: an upstream hub's API and files, as storage reaches them.

An upstream hub (huggingface.co or another hubstead) lies outside the process, as the remote git
repos of `git_remote.py` do: its API says what a repo is, its `resolve` URLs give file bytes.
`upstream_hub.HubUpstream` implements the Protocol with the client library. Like every storage
adapter it raises only narrow storage errors, here `errors.RemoteError` (`failure` says how it
failed); the mirroring services (`services/mirroring/upstreams.py`) turn them into domain errors.
The records it takes and returns (`Source`, `UpstreamRepo`) are in `server.domain.mirrors`. Git
data does not go through it: it comes over git's smart protocol, through `GitFetcher.fetch`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from hubstead.server.domain.mirrors import Source, UpstreamRepo


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
