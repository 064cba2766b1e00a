"""Upstream hubs as mirroring sees them: API, file bytes and git data, failing as domain errors.

`UpstreamService` is the one door to upstream for syncs and pull-through. It reaches the hub's
API and files through the storage `Upstream` (`storage/upstream_hub.py`) and its git data through
`GitFetcher.remote_refs`/`fetch` (`git_remote.py`); both raise the storage `RemoteError`, which is
turned into the domain's `UpstreamError`s here, in one place (`_upstream_error`), chained. Those
classes decide what a job does (`jobs/runner.is_retryable`) and what a request answers:

    RemoteFailure   domain error                 a job     a request
    UNREACHABLE     UpstreamUnavailableError     retries   504
    CHANGED         UpstreamUnavailableError     retries   504   (after a few tries here)
    NOT_FOUND       UpstreamNotFoundError        stops     404
    DENIED          UpstreamDeniedError          stops     502
    REJECTED        UpstreamError                stops     502

Also here: storing what upstream sends only once it is verified (`store_verified`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.mirrors import MirrorRecord, Source, UpstreamRepo
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.storage.errors import (
    BlobMismatchError,
    GitUnavailableError,
    RemoteError,
    RemoteFailure,
)
from hubstead.server.storage.git_fetch import GitFetcher
from hubstead.server.storage.lfs_index import LfsIndex
from hubstead.server.storage.upstream import Upstream

TRACKED = ("refs/heads/", "refs/tags/")
"""The refs a mirror follows: branches and tags."""
_FETCH_TRIES = 3


@dataclasses.dataclass(frozen=True)
class WantedObject:
    """An LFS object to fetch, and a file at a commit upstream that holds it."""

    sha256: str
    size: int
    commit_id: str
    path: str


class UpstreamService:
    """Upstream hubs, reached through storage, their failures as `UpstreamError`s."""

    def __init__(
        self, upstream: Upstream, fetcher: GitFetcher, *, default_token: str | None
    ) -> None:
        self._upstream = upstream
        self._fetcher = fetcher
        self._default_token = default_token

    def close(self) -> None:
        """Release the connections to upstream hubs."""
        self._upstream.close()

    def source(self, mirror: MirrorRecord) -> Source:
        """Where the mirror comes from; the hub's upstream token serves mirrors without one."""
        return Source(
            mirror.upstream,
            RepoType(mirror.repo_type),
            mirror.upstream_repo_id,
            mirror.upstream_token or self._default_token,
        )

    def repo(self, source: Source) -> UpstreamRepo:
        """What upstream says about the repo.

        Raises:
            UpstreamNotFoundError: upstream has no such repo (or hides it from the token).
            UpstreamDeniedError: upstream refused the token.
            UpstreamUnavailableError: upstream cannot be reached or failed.
            UpstreamError: upstream refused the request for another reason.
        """
        try:
            return self._upstream.repo(source)
        except RemoteError as exc:
            raise _upstream_error(exc, source, str(source)) from exc

    @contextlib.contextmanager
    def download(
        self, source: Source, commit_id: str, path: str, start: int = 0, end: int | None = None
    ) -> Iterator[Iterator[bytes]]:
        """Bytes `start` to `end` (inclusive; None: to the end) of a file at a commit.

        Failures while the block iterates the bytes leave it as `UpstreamError`s too.

        Raises:
            UpstreamNotFoundError: upstream has no such file, commit or repo.
            UpstreamDeniedError, UpstreamUnavailableError, UpstreamError: as for `repo`.
        """
        try:
            with self._upstream.download(source, commit_id, path, start, end) as chunks:
                yield chunks
        except RemoteError as exc:
            raise _upstream_error(exc, source, f"{path} of {source}") from exc

    def fetch_refs(self, key: str, source: Source, revisions: Sequence[str]) -> dict[str, str]:
        """Fetch the objects of upstream's tracked refs into repo `key`; the refs' targets.

        Empty `revisions` tracks every branch and tag; otherwise each names a branch or tag.

        Raises:
            UpstreamNotFoundError: the repo, or a revision, does not exist upstream.
            UpstreamDeniedError, UpstreamUnavailableError, UpstreamError: as for `repo`.
            NotSupportedError: git is not installed on this server.
        """
        attempt = 1
        while True:
            try:
                remote = self._fetcher.remote_refs(source.git_url, source.token)
                chosen = _tracked(remote, revisions, source)
                self._fetcher.fetch(key, source.git_url, source.token, chosen)
            except RemoteError as exc:
                if exc.failure is RemoteFailure.CHANGED and attempt < _FETCH_TRIES:
                    attempt += 1  # upstream moved between listing and fetching: list again
                    continue
                raise _upstream_error(exc, source, str(source)) from exc
            except GitUnavailableError as exc:
                raise errors.NotSupportedError(
                    "mirrors need git: the git binary is not installed on this server"
                ) from exc
            return chosen


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
        raise wrong_bytes(obj, exc) from exc
    index.link(repo.id, obj.sha256, obj.size)


def wrong_bytes(obj: WantedObject, exc: Exception) -> errors.UpstreamUnavailableError:
    """The error for bytes from upstream that are not the object they should be."""
    return errors.UpstreamUnavailableError(
        f"Upstream sent wrong bytes for {obj.path} (LFS object {obj.sha256}): {exc}; "
        "nothing was stored"
    )


def _tracked(remote: dict[str, str], revisions: Sequence[str], source: Source) -> dict[str, str]:
    """The remote refs a mirror follows: every branch and tag, or the named revisions."""
    if not revisions:
        return {name: target for name, target in remote.items() if name.startswith(TRACKED)}
    chosen = {}
    for revision in revisions:
        names = (
            [revision]
            if revision.startswith("refs/")
            else [f"refs/heads/{revision}", f"refs/tags/{revision}"]
        )
        found = next((name for name in names if name in remote), None)
        if found is None:
            raise errors.UpstreamNotFoundError(f"{revision!r} is not a branch or tag of {source}")
        chosen[found] = remote[found]
    return chosen


def _upstream_error(exc: RemoteError, source: Source, what: str) -> errors.UpstreamError:
    """The domain error for a failure of upstream: the one place storage's are translated."""
    detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else exc.failure.value
    if exc.failure is RemoteFailure.NOT_FOUND:
        return errors.UpstreamNotFoundError(
            f"{what} does not exist upstream, or is hidden from the token ({detail})"
        )
    if exc.failure is RemoteFailure.DENIED:
        return errors.UpstreamDeniedError(
            f"Upstream refused access to {what}: check the upstream token ({detail})"
        )
    if exc.failure is RemoteFailure.REJECTED:
        return errors.UpstreamError(f"Upstream could not serve {what} ({detail})")
    return errors.UpstreamUnavailableError(
        f"Upstream {source.endpoint} is unreachable or failing, so {what} cannot be fetched "
        f"({detail}); what this hub already mirrored is still served"
    )
