"""Git's smart protocol: who may clone, fetch and push, and the rules every push obeys.

Clone and fetch need the right to read the repo's files. A push needs a write token and the
right to take part in the repo's discussions to begin; each ref it moves is then checked as a
commit through the API is. A push is checked after git has received its objects and before any
ref moves (`GitTransport.receive_pack`), with the commit API's rules:

- branches (`refs/heads/…`) and tags (`refs/tags/…`) need write access;
- a pull request's ref (`refs/pr/<num>`) may be moved by the pull request's author and the
  repo's writers while it is open or a draft (checked again under the publish lock, which a
  merge holds), never created or deleted: the hub opens pull requests; the commits it gains are
  added to the pull request's timeline, oldest first;
- other refs (`refs/convert/…`, `refs/notes/…`) belong to the hub;
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
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.discussions import DiscussionService, pull_request_number
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
        discussions: DiscussionService,
        git: GitObjectStore,
        transport: GitTransport,
        lfs: LfsService,
        *,
        max_regular_file_bytes: int,
        max_push_bytes: int,
    ) -> None:
        self._repos = repos
        self._heads = heads
        self._discussions = discussions
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

        A push may begin for whoever may take part in the repo's discussions, with a write
        token: which refs it may move is checked once they are known (`_ref_problems`).

        Raises:
            RepoNotFoundError: missing, or invisible to the caller.
            RepoMovedError: the id is an old name of the repo.
            GatedRepoError, AuthenticationError, AuthorizationError: see `access.check`.
            MirrorReadOnlyError: a push to a mirrored repo.
        """
        if service is PackService.UPLOAD:
            return self._repos.locate(identity, type, repo_id, Action.READ_FILES)
        access.check_write_token(identity, f"write to {repo_id}")
        return self._repos.locate(identity, type, repo_id, Action.DISCUSS)

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
                lines = _report(self._ref_problems(identity, repo, push.updates))
                lines += _report(itertools.islice(_path_problems(push), _MAX_PATH_REPORTS))
                lines += _report(self._oversized(push.blobs), _SIZE_HINT)
                lines += _report(self._missing_objects(repo, push.blobs), _LFS_HINT)
                if lines:
                    return "\n".join(lines)
                # Only an accepted push takes the repo's lock, and only once git has received
                # and indexed its pack: held until its refs moved and the row is refreshed.
                publishing.enter_context(self._heads.publish_lock(repo))
                # A merge marks its pull request merged under this lock: check again.
                return "\n".join(_report(self._closed_pull_requests(repo, push.updates))) or None

            with _git_required():
                outcome = self._transport.receive_pack(
                    repo.storage_key, request, check, protocol, limits
                )
            for update in outcome.updates:
                num = pull_request_number(update.name)
                if num is not None and update.new is not None:
                    self._record_pull_request(identity, repo, num, update)
            self._heads.record_push(repo, outcome.updates, identity.account_id)
        return outcome.output

    def _ref_problems(
        self, identity: Identity, repo: RepoRecord, updates: Sequence[RefUpdate]
    ) -> Iterator[str]:
        write_problem = _write_problem(identity, repo)
        for update in updates:
            name = update.name
            num = pull_request_number(name)
            if not self._git.valid_ref_name(name):
                yield f"refusing {name!r}: it is not a valid ref name"
            elif num is not None:
                yield from self._pull_request_problems(identity, repo, num, update)
            elif not name.startswith(_PUSHABLE):
                yield (
                    f"refusing to update {name}: only branches (refs/heads/...), tags "
                    "(refs/tags/...) and the refs of existing pull requests (refs/pr/N) can be "
                    "pushed; other refs are managed by the hub"
                )
            elif write_problem is not None:
                yield f"refusing to update {name}: {write_problem}"
            elif name == _DEFAULT_REF and update.new is None:
                yield f"refusing to delete {name}: it is the default branch of {repo.repo_id}"

    def _pull_request_problems(
        self, identity: Identity, repo: RepoRecord, num: int, update: RefUpdate
    ) -> Iterator[str]:
        if update.old is None:
            yield (
                f"refusing to create {update.name}: pull request #{num} does not exist; "
                "open one with the API (create_pr=True), then push to its ref"
            )
        elif update.new is None:
            yield f"refusing to delete {update.name}: the refs of pull requests stay"
        else:
            try:
                self._discussions.check_pr_author(identity, repo, num)
            except errors.HubError as exc:
                yield f"refusing to update {update.name}: {exc.message}"

    def _closed_pull_requests(
        self, repo: RepoRecord, updates: Sequence[RefUpdate]
    ) -> Iterator[str]:
        for update in updates:
            num = pull_request_number(update.name)
            if num is None:
                continue
            try:
                self._discussions.check_accepts_commits(repo, num)
            except errors.HubError as exc:
                yield f"refusing to update {update.name}: {exc.message}"

    def _record_pull_request(
        self, identity: Identity, repo: RepoRecord, num: int, update: RefUpdate
    ) -> None:
        """Add the commits a push gave pull request `num` to its timeline, oldest first."""
        assert update.new is not None
        added = self._git.walk(repo.storage_key, update.new, exclude=update.old)
        commit_ids = [commit.id for commit in added]
        self._discussions.record_commits(identity, repo, num, commit_ids[::-1])

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


def _write_problem(identity: Identity, repo: RepoRecord) -> str | None:
    """Why the caller may not write to the repo's branches and tags, or None."""
    try:
        access.check(identity, repo, Action.WRITE)
    except errors.HubError as exc:
        return exc.message
    return None


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
