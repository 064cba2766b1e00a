"""Git history through the API: refs, commit listings, branches, tags and super-squash.

Each change moves its ref under the repo's publish lock and records it there
(`HeadService.record_push`); a refused change records nothing.
"""

from __future__ import annotations

import dataclasses
import itertools

from hubstead.protocol import COMMIT_ID, DEFAULT_BRANCH, SPECIAL_REF, RepoType
from hubstead.server import errors
from hubstead.server.domain.git import CommitRecord, Ref, RefUpdate
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.heads import HeadService
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoService, author_of
from hubstead.server.storage.errors import RefConflictError
from hubstead.server.storage.git_objects import GitObjectStore

_BRANCHES = "refs/heads/"
_TAGS = "refs/tags/"


@dataclasses.dataclass(frozen=True)
class RefListing:
    """A repo's refs, grouped as the Hub groups them."""

    branches: list[Ref]
    tags: list[Ref]
    converts: list[Ref]
    pull_requests: list[Ref]


class RefService:
    """Branches, tags and history."""

    def __init__(self, repos: RepoService, heads: HeadService, git: GitObjectStore) -> None:
        self._repos = repos
        self._heads = heads
        self._git = git

    def refs(self, identity: Identity, type: RepoType, repo_id: str) -> RefListing:
        """Every ref of the repo, grouped."""
        repo = self._repos.locate(identity, type, repo_id, Action.READ)
        listing = RefListing([], [], [], [])
        for ref in self._git.refs(repo.storage_key):
            if ref.name.startswith(_BRANCHES):
                listing.branches.append(ref)
            elif ref.name.startswith(_TAGS):
                listing.tags.append(ref)
            elif ref.name.startswith("refs/convert/"):
                listing.converts.append(ref)
            elif ref.name.startswith("refs/pr/"):
                listing.pull_requests.append(ref)
        return listing

    def commits(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        *,
        offset: int,
        limit: int,
    ) -> Page[CommitRecord]:
        """A page of the commits reachable from a revision, newest first.

        Raises:
            RepoNotFoundError, RevisionNotFoundError, ...: see `RepoService.open`.
        """
        handle = self._repos.open(identity, type, repo_id, Action.READ, revision)
        walk = self._git.walk(handle.repo.storage_key, handle.commit_id)
        return Page.of(list(itertools.islice(walk, offset, offset + limit + 1)), limit)

    def create_branch(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        branch: str,
        starting_point: str | None,
        *,
        exist_ok: bool = False,
    ) -> None:
        """Create a branch at a revision (default: the head of `main`).

        Raises:
            InvalidRequestError: a name git or the Hub does not allow for a branch (see
                `_may_name`), or one that nests under or above another branch.
            ConflictError: the branch exists (unless `exist_ok`).
            RevisionNotFoundError: the starting point does not exist.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        if not self._may_name(branch, _BRANCHES):
            raise errors.InvalidRequestError(f"Invalid reference for a branch: {branch!r}")
        target = self._repos.resolve(repo, starting_point or DEFAULT_BRANCH)
        ref = _BRANCHES + branch
        with self._heads.publish_lock(repo):
            try:
                self._git.update_ref(repo.storage_key, ref, target, None)
            except RefConflictError as exc:
                self._refuse_existing(repo.storage_key, ref, exc, exist_ok=exist_ok)
                return
            self._heads.record_push(repo, [RefUpdate(ref, None, target)], identity.account_id)

    def delete_branch(self, identity: Identity, type: RepoType, repo_id: str, branch: str) -> None:
        """Delete a branch other than `main`.

        Raises:
            AuthorizationError: deleting `main`.
            RevisionNotFoundError: no such branch.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        if branch == DEFAULT_BRANCH:
            raise errors.AuthorizationError(f"Cannot delete {_BRANCHES}{DEFAULT_BRANCH}")
        self._delete_ref(identity, repo, _BRANCHES + branch, f"branch {branch!r}")

    def create_tag(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        tag: str,
        message: str | None,
        *,
        exist_ok: bool = False,
    ) -> None:
        """Tag a revision (annotated when there is a message).

        Raises:
            InvalidRequestError: an invalid tag name, or one that nests under or above another.
            ConflictError: the tag exists (unless `exist_ok`).
            RevisionNotFoundError: the revision does not exist.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        if not self._may_name(tag, _TAGS):
            raise errors.InvalidRequestError(f"Invalid tag name: {tag!r}")
        target = self._repos.resolve(repo, revision)
        author = author_of(identity)
        with self._heads.publish_lock(repo):
            try:
                created = self._git.create_tag(repo.storage_key, tag, target, author, message)
            except RefConflictError as exc:
                self._refuse_existing(repo.storage_key, _TAGS + tag, exc, exist_ok=exist_ok)
                return
            update = RefUpdate(_TAGS + tag, None, created)
            self._heads.record_push(repo, [update], identity.account_id)

    def delete_tag(self, identity: Identity, type: RepoType, repo_id: str, tag: str) -> None:
        """Delete a tag.

        Raises:
            RevisionNotFoundError: no such tag.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        self._delete_ref(identity, repo, _TAGS + tag, f"tag {tag!r}")

    def _may_name(self, name: str, prefix: str) -> bool:
        """Whether a new branch or tag may be called `name`.

        Besides git's rules: no full ref names (`refs/pr/5`), and no 40-hex names, which clients
        take for commit ids and answer from their cache without asking the hub.
        """
        return not (
            name.startswith("refs/")
            or COMMIT_ID.match(name)
            or not self._git.valid_ref_name(prefix + name)
        )

    def _refuse_existing(
        self, key: str, name: str, exc: RefConflictError, *, exist_ok: bool
    ) -> None:
        """Explain why creating the ref `name` failed, unless it exists and `exist_ok`.

        A name that nests under or above another ref is a 400, not a 409: clients treat 409 as
        "already exists" and would report success for a branch that was never created.
        """
        if self._git.ref_target(key, name) is None:
            raise errors.InvalidRequestError(
                f"{exc}: a ref can neither sit inside another ref nor contain one"
            ) from exc
        if not exist_ok:
            raise errors.ConflictError(f"Reference {name} already exists") from exc

    def _delete_ref(self, identity: Identity, repo: RepoRecord, name: str, what: str) -> None:
        key = repo.storage_key
        current = self._git.ref_target(key, name) if self._git.valid_ref_name(name) else None
        if current is None:
            raise errors.RevisionNotFoundError(f"Invalid rev id: no {what}")
        with self._heads.publish_lock(repo):
            try:
                self._git.update_ref(key, name, None, current)
            except RefConflictError as exc:
                if self._git.ref_target(key, name) is None:  # deleted by someone else meanwhile
                    raise errors.RevisionNotFoundError(f"Invalid rev id: no {what}") from exc
                raise errors.ConflictError(f"The {what} changed while deleting it; retry") from exc
            self._heads.record_push(repo, [RefUpdate(name, current, None)], identity.account_id)

    def super_squash(
        self, identity: Identity, type: RepoType, repo_id: str, branch: str, message: str
    ) -> str:
        """Replace a branch's history by one commit with the same tree; return its id.

        Raises:
            InvalidRequestError: `branch` is a tag or a commit id.
            RevisionNotFoundError: no such branch.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.WRITE)
        ref = branch if SPECIAL_REF.match(branch) else _BRANCHES + branch.removeprefix(_BRANCHES)
        head = (
            self._git.ref_target(repo.storage_key, ref) if self._git.valid_ref_name(ref) else None
        )
        if head is None:
            if self._git.resolve(repo.storage_key, branch) is not None or COMMIT_ID.match(branch):
                raise errors.InvalidRequestError(f"Cannot squash {branch!r}: not a branch")
            raise errors.RevisionNotFoundError(f"Invalid rev id: no branch {branch!r}")
        text = message.strip() or f"Super-squash branch '{branch}'"
        commit_id = self._git.write_commit(
            repo.storage_key, None, [], author_of(identity), text, tree_from=head
        )
        with self._heads.publish_lock(repo):
            try:
                self._git.update_ref(repo.storage_key, ref, commit_id, head)
            except RefConflictError as exc:
                raise errors.ConflictError(f"{branch!r} moved while squashing it; retry") from exc
            self._heads.record_push(repo, [RefUpdate(ref, head, commit_id)], identity.account_id)
        return commit_id
