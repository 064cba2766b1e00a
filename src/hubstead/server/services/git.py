"""Git's smart protocol: who may clone, fetch and push, and the rules every push obeys.

Clone and fetch need the right to read the repo's files; a push needs write access, as a commit
through the API does. A push is checked after git has received its objects and before any ref
moves (`GitTransport.receive_pack`), with the commit API's rules:

- only branches (`refs/heads/…`) and tags (`refs/tags/…`) may be pushed: pull request and
  conversion refs (`refs/pr/…`, `refs/convert/…`) belong to the hub;
- the default branch cannot be deleted;
- every file path in the pushed commits obeys `protocol.path_problem`, the rule the commit API
  applies (no name a clone's file system reads as `.git`, bounded length and depth);
- a file stored in git is at most `max_regular_file_bytes`, as a file committed inline is: larger
  files go through LFS;
- every git-lfs pointer file pushed must name an object uploaded to the repo (git-lfs uploads
  them through the batch API before the push), so no file ever points at nothing.

A refused push moves no ref and git shows the pusher why. What a push changes on the default
branch is visible through the API at once: the repo row is refreshed under the same lock the
commit API holds, so the row always describes the last change to land. That lock is the repo's
own, and a push takes it only after git has received and checked its pack, to move the refs:
a large (or hostile) pack never holds up writers of the repo while it arrives, nor any writer
of another repo.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import BinaryIO, Self

from hubstead.protocol import DEFAULT_BRANCH, RepoType, parse_lfs_pointer, path_problem
from hubstead.server import errors
from hubstead.server.domain.git import IncomingPush, PackService, PushedBlob, PushLimits, RefUpdate
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.files import shown_path
from hubstead.server.services.heads import HeadService
from hubstead.server.services.lfs import LfsService
from hubstead.server.services.repos import RepoService
from hubstead.server.storage.errors import GitUnavailableError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_transport import GitTransport

_PUSHABLE = ("refs/heads/", "refs/tags/")
_LFS_HINT = (
    "hint: push with git-lfs installed (`git lfs install`): it uploads LFS objects before "
    "the push; or upload them with `git lfs push --all origin`, then push again"
)
_SIZE_HINT = (
    "hint: store large files with git-lfs (`git lfs track '*.ext'`, or `git lfs migrate import` "
    "for files already committed); `git log --all --find-object=<blob>` shows where a blob is"
)
_DEFAULT_REF = f"refs/heads/{DEFAULT_BRANCH}"
# A push of thousands of bad paths is refused after this many are named.
_MAX_PATH_REPORTS = 10


class _PackRequest:
    """A fetch or push the caller was found allowed to make, and the file its body goes into.

    The body is written to `body`, then `answer` runs git on it (checking access again: the
    body may take long to arrive). Closing drops the body.
    """

    def __init__(
        self, git: GitService, identity: Identity, type: RepoType, repo_id: str, body: BinaryIO
    ) -> None:
        self._git = git
        self._identity = identity
        self._type = type
        self._repo_id = repo_id
        self.body = body

    def close(self) -> None:
        """Drop the request body."""
        self.body.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Fetch(_PackRequest):
    """A fetch or clone: git-upload-pack's answer to the negotiation in `body`."""

    def answer(self, protocol: str | None) -> Generator[bytes, None, None]:
        """The pack, in chunks as git writes it; closing the generator stops git.

        Raises:
            NotSupportedError, RepoNotFoundError, ...: see `GitService.upload_pack`.
        """
        return self._git.upload_pack(self._identity, self._type, self._repo_id, self.body, protocol)


class Push(_PackRequest):
    """A push: git-receive-pack applied to the commands and pack in `body`."""

    def answer(self, protocol: str | None) -> bytes:
        """The report git gives the pusher: the refs it moved, or why it refused.

        Raises:
            NotSupportedError, RepoNotFoundError, ...: see `GitService.receive_pack`.
        """
        return self._git.receive_pack(
            self._identity, self._type, self._repo_id, self.body, protocol
        )


class GitService:
    """Smart-protocol sessions on the hub's repos."""

    def __init__(
        self,
        repos: RepoService,
        heads: HeadService,
        git: GitObjectStore,
        transport: GitTransport,
        lfs: LfsService,
        *,
        max_regular_file_bytes: int,
        max_push_bytes: int,
    ) -> None:
        self._repos = repos
        self._heads = heads
        self._git = git
        self._transport = transport
        self._lfs = lfs
        self._max_regular = max_regular_file_bytes
        self._max_push = max_push_bytes

    def begin_fetch(self, identity: Identity, type: RepoType, repo_id: str) -> Fetch:
        """A fetch (clone) the caller may make, ready to receive its request body.

        Raises:
            RepoNotFoundError, GatedRepoError, ...: see `_authorize`.
        """
        self._authorize(identity, type, repo_id, PackService.UPLOAD)
        return Fetch(self, identity, type, repo_id, self._transport.spool())

    def begin_push(self, identity: Identity, type: RepoType, repo_id: str) -> Push:
        """A push the caller may make, ready to receive its (possibly large) pack.

        Raises:
            RepoNotFoundError, AuthorizationError, MirrorReadOnlyError, ...: see `_authorize`.
        """
        self._authorize(identity, type, repo_id, PackService.RECEIVE)
        return Push(self, identity, type, repo_id, self._transport.spool())

    def _authorize(
        self, identity: Identity, type: RepoType, repo_id: str, service: PackService
    ) -> RepoRecord:
        """The repo, if the caller may fetch from it (upload-pack) or push to it (receive-pack).

        Raises:
            RepoNotFoundError: missing, or invisible to the caller.
            RepoMovedError: the id is an old name of the repo.
            GatedRepoError, AuthenticationError, AuthorizationError: see `access.check`.
            MirrorReadOnlyError: a push to a mirrored repo.
        """
        action = Action.WRITE if service is PackService.RECEIVE else Action.READ_FILES
        return self._repos.locate(identity, type, repo_id, action)

    def advertise(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        service: PackService,
        protocol: str | None,
    ) -> bytes:
        """The refs (or protocol v2 capabilities) git starts a fetch or a push with.

        Raises:
            NotSupportedError: git is not installed on this server.
            RepoNotFoundError, AuthorizationError, ...: see `_authorize`.
        """
        repo = self._authorize(identity, type, repo_id, service)
        with _git_required():
            return self._transport.advertise_refs(repo.storage_key, service, protocol)

    def upload_pack(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        request: BinaryIO,
        protocol: str | None,
    ) -> Generator[bytes, None, None]:
        """Answer a fetch request: git's answer (a pack) in chunks; closing it stops git.

        Raises:
            NotSupportedError: git is not installed on this server.
            RepoNotFoundError, GatedRepoError, ...: see `_authorize`.
        """
        repo = self._authorize(identity, type, repo_id, PackService.UPLOAD)
        with _git_required():
            return self._transport.upload_pack(repo.storage_key, request, protocol)

    def receive_pack(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        request: BinaryIO,
        protocol: str | None,
    ) -> bytes:
        """Apply a push that obeys the rules; git's report to the pusher (also of a refusal).

        Raises:
            NotSupportedError: git is not installed on this server.
            RepoNotFoundError, AuthenticationError, AuthorizationError, ...: see `_authorize`.
        """
        repo = self._authorize(identity, type, repo_id, PackService.RECEIVE)

        limits = PushLimits(max_pack_bytes=self._max_push, max_object_bytes=self._max_regular)
        with contextlib.ExitStack() as publishing:

            def check(push: IncomingPush) -> str | None:
                lines = _report(self._ref_problems(repo, push.updates))
                lines += _report(itertools.islice(_path_problems(push), _MAX_PATH_REPORTS))
                lines += _report(self._oversized(push.blobs), _SIZE_HINT)
                lines += _report(self._missing_objects(repo, push.blobs), _LFS_HINT)
                if lines:
                    return "\n".join(lines)
                # Only an accepted push takes the repo's lock, and only once git has received
                # and indexed its pack: held until its refs moved and the row is refreshed.
                publishing.enter_context(self._heads.publish_lock(repo))
                return None

            with _git_required():
                outcome = self._transport.receive_pack(
                    repo.storage_key, request, check, protocol, limits
                )
            for update in outcome.updates:
                if update.name == _DEFAULT_REF and update.new is not None:
                    self._heads.record_push(repo, DEFAULT_BRANCH, update.new)
        return outcome.output

    def _ref_problems(self, repo: RepoRecord, updates: Sequence[RefUpdate]) -> Iterator[str]:
        for update in updates:
            name = update.name
            if not self._git.valid_ref_name(name):
                yield f"refusing {name!r}: it is not a valid ref name"
            elif not name.startswith(_PUSHABLE):
                yield (
                    f"refusing to update {name}: only branches (refs/heads/...) and tags "
                    "(refs/tags/...) can be pushed; other refs are managed by the hub"
                )
            elif name == _DEFAULT_REF and update.new is None:
                yield f"refusing to delete {name}: it is the default branch of {repo.repo_id}"

    def _oversized(self, blobs: Sequence[PushedBlob]) -> Iterator[str]:
        for blob in blobs:
            if blob.size > self._max_regular:
                yield (
                    f"blob {blob.id} is {blob.size} bytes, more than the {self._max_regular} "
                    "this hub stores in git: push it through LFS"
                )

    def _missing_objects(self, repo: RepoRecord, blobs: Sequence[PushedBlob]) -> Iterator[str]:
        """A problem per LFS object named by a pushed pointer file but not uploaded to the repo."""
        reported = set()
        for blob in blobs:
            pointer = parse_lfs_pointer(blob.content) if blob.content is not None else None
            if pointer is None or pointer[0] in reported:
                continue
            sha256, size = pointer
            if not self._lfs.linked(repo, sha256, size):
                reported.add(sha256)
                yield (
                    f"a pointer file names the LFS object {sha256} ({size} bytes), "
                    f"which was not uploaded to {repo.repo_id}"
                )


def _path_problems(push: IncomingPush) -> Iterator[str]:
    for path in push.file_paths():
        problem = path_problem(path)
        if problem is not None:
            yield f"refusing {shown_path(path)!r}: {problem}"


def _report(problems: Iterable[str], hint: str | None = None) -> list[str]:
    """The lines git shows the pusher for some problems: each as an error, then the hint."""
    lines = [f"error: {problem}" for problem in problems]
    return [*lines, hint] if lines and hint else lines


@contextlib.contextmanager
def _git_required() -> Iterator[None]:
    try:
        yield
    except GitUnavailableError as exc:
        raise errors.NotSupportedError(
            "git over HTTP is not available: the git binary is not installed on this server"
        ) from exc
