"""Repos: create, delete, move, settings, opening a repo at a revision, and publishing changes.

Every other service reaches a repo through `RepoService.open`, which applies the access rules of
`access.py`, follows nothing silently (a moved repo raises `RepoMovedError` so the HTTP layer can
redirect), and resolves the revision to a full commit id. Mirrored repos are read-only here (a
repo with a mirror row changes only by syncing), and a repo this hub does not have may be pulled
through from upstream by the `pull` callable `RepoService` is built with; nothing here imports the
mirroring services (`services/mirroring/`), which are built before it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping

from hubstead.protocol import DEFAULT_BRANCH, RepoType, name_problem, repo_id_problem
from hubstead.server import errors
from hubstead.server.domain.git import Author
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.errors import AlreadyExistsError, AmbiguousRevisionError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.mirrors import MirrorStore
from hubstead.server.storage.repos import RepoStore

_LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib",
    "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot",
    "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors",
    "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip",
    "*.zst", "*tfevents*",
)  # fmt: skip
_DATASET_LFS_PATTERNS = (
    "*.lz4", "*.mds", "*.mp3", "*.ogg", "*.wav", "*.bmp", "*.gif", "*.jpeg", "*.jpg",
    "*.png", "*.tiff", "*.webp", "*.mp4", "*.webm",
)  # fmt: skip
GATED_MODES = ("auto", "manual")
SDKS = ("gradio", "streamlit", "docker", "static")
SYSTEM_AUTHOR = Author("hubstead", "noreply@hubstead.local")


def default_gitattributes(repo_type: RepoType) -> bytes:
    """The `.gitattributes` a new repo starts with: the Hub's LFS patterns for its type."""
    patterns = _LFS_PATTERNS + (_DATASET_LFS_PATTERNS if repo_type is RepoType.DATASET else ())
    return "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in patterns).encode()


def author_of(identity: Identity) -> Author:
    """The git author recorded for a caller's commits."""
    if identity.account is None:
        return SYSTEM_AUTHOR
    email = identity.account.email or f"{identity.account.name}@users.noreply.hubstead.local"
    return Author(identity.account.name, email)


@dataclasses.dataclass(frozen=True)
class RepoHandle:
    """A repo the caller may access, at a resolved revision."""

    repo: RepoRecord
    revision: str
    commit_id: str


@dataclasses.dataclass(frozen=True)
class RepoSettingsChange:
    """A settings change; None leaves a value alone, `gated=False` removes gating."""

    private: bool | None = None
    gated: str | bool | None = None
    discussions_disabled: bool | None = None


PullRepo = Callable[[RepoType, str], RepoRecord | None]
"""Mirrors a repo this hub does not have from upstream now: the repo, or None when not pulled.

Raises `UpstreamError`s when upstream, which may have the repo, fails.
"""


class RepoService:
    """The lifecycle and metadata of repos.

    `mirrors` says which repos are mirrors (read-only here); `pull` mirrors a repo this hub does
    not have when a reader asks for it (`server/app.py` passes `PullThroughService.pull`).
    """

    def __init__(
        self,
        store: RepoStore,
        accounts: AccountStore,
        git: GitObjectStore,
        mirrors: MirrorStore,
        *,
        pull: PullRepo,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._git = git
        self._mirrors = mirrors
        self._pull = pull

    # --- locating ---------------------------------------------------------------------------------

    def locate(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        action: Action,
        *,
        settings: bool = False,
    ) -> RepoRecord:
        """The repo, if the caller may perform `action` on it.

        A repo this hub does not have is mirrored from upstream first, when pull-through
        allows it (reads only). `settings`: the write is to the repo's settings, which its
        managers change on a mirror too (its files and discussions stay read-only).

        Raises:
            RepoNotFoundError: missing, or invisible to the caller.
            RepoMovedError: the id is an old name of a repo the caller can see.
            GatedRepoError, AuthenticationError, AuthorizationError: see `access.check`.
            MirrorReadOnlyError: a write to a mirrored repo, or a discussion of one.
            UpstreamError: the repo had to be pulled through and upstream failed.
        """
        # An id that breaks the naming rules (`gpt2`, `a/b c`) was never given to any repo.
        if repo_id_problem(repo_id) is not None:
            raise access.not_found(identity, type.value, repo_id)
        namespace, _, name = repo_id.partition("/")
        # One lookup answers every question a missing repo raises, with the same statements as
        # for a repo that exists: a missing repo must not answer faster or slower than a
        # private one (an existence oracle).
        found = self._store.find_repo(type.value, namespace, name)
        repo = found.repo
        if repo is None:
            moved = found.moved
            if moved is not None and access.can_see(identity, moved):
                raise errors.RepoMovedError(repo_id, moved.repo_id)
            # A missing repo in a local namespace is a local one: upstream is not asked.
            if action in (Action.READ, Action.READ_FILES) and not found.owned:
                repo = self._pull(type, repo_id)
            if repo is None:
                raise access.not_found(identity, type.value, repo_id)
        access.check(identity, repo, action)
        if action in (Action.WRITE, Action.DISCUSS) and not settings:
            mirror = self._mirrors.get(repo.id)
            if mirror is not None:
                raise errors.MirrorReadOnlyError(
                    f"{repo.repo_id} is a mirror of {mirror.upstream}: it changes only by "
                    f"syncing from upstream (hubstead mirror sync {repo.repo_id})"
                )
        return repo

    def upstream_of(self, repo: RepoRecord) -> str | None:
        """The URL of the upstream repo `repo` mirrors (None: not a mirror); no access check."""
        mirror = self._mirrors.get(repo.id)
        if mirror is None:
            return None
        return f"{mirror.upstream}/{RepoType(repo.type).url_prefix}{mirror.upstream_repo_id}"

    def find(self, key: int) -> RepoRecord | None:
        """The repo whose row id is `key`, or None; no access check (callers make one)."""
        return self._store.get_repo_by_key(key)

    def open(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        action: Action,
        revision: str = DEFAULT_BRANCH,
    ) -> RepoHandle:
        """The repo at a revision (branch, tag, full ref, or full or short commit id).

        Raises:
            RevisionNotFoundError: the revision does not exist in the repo.
            RepoNotFoundError, RepoMovedError, ...: see `locate`.
        """
        repo = self.locate(identity, type, repo_id, action)
        return RepoHandle(repo, revision, self.resolve(repo, revision))

    def resolve(self, repo: RepoRecord, revision: str) -> str:
        """The full commit id a revision names.

        Raises:
            RevisionNotFoundError: it names nothing (a commit id: nothing any ref reaches).
            InvalidRequestError: a short commit id that several commits start with.
        """
        try:
            commit_id = self._git.resolve(repo.storage_key, revision) if revision else None
        except AmbiguousRevisionError as exc:
            raise errors.InvalidRequestError(
                f"Invalid rev id: {revision!r} is the start of several commits of "
                f"{repo.repo_id}; give more characters"
            ) from exc
        if commit_id is None:
            raise errors.RevisionNotFoundError(
                f"Invalid rev id: {revision!r} is not a branch, tag or commit of {repo.repo_id}"
            )
        return commit_id

    # --- lifecycle --------------------------------------------------------------------------------

    def create(
        self,
        identity: Identity,
        type: RepoType,
        namespace: str | None,
        name: str,
        *,
        private: bool | None = None,
        sdk: str | None = None,
        copy_of: RepoRecord | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> RepoRecord:
        """Create a repo whose `main` starts with a commit holding `.gitattributes`.

        `files` are more files for that commit (a Space template's).

        With `copy_of`, the repo starts with that repo's branches and tags instead (its git
        objects are copied; the caller checked that it may read them).

        Without `private`, the repo is private when its namespace's owner says new repos are
        (`Account.private_by_default`).

        Raises:
            InvalidRequestError: a bad name or Space SDK.
            AuthenticationError, AuthorizationError: the caller may not create in the namespace.
            ConflictError: the repo exists (`url` is left for the HTTP layer to fill).
            LocalStorageError: the disk is full (no repo was created).
        """
        if identity.account is None:
            raise errors.AuthenticationError("You must be authenticated to create a repo")
        namespace = namespace or identity.account.name
        for part in (namespace, name):
            problem = name_problem(part)
            if problem is not None:
                raise errors.InvalidRequestError(f"Invalid repo name {part!r}: {problem}")
        if type is RepoType.SPACE and sdk is not None and sdk not in SDKS:
            raise errors.InvalidRequestError(f"Invalid Space SDK {sdk!r}: one of {', '.join(SDKS)}")
        owner = self._accounts.get_account(namespace)
        if owner is None:
            raise errors.AuthorizationError(f"The namespace {namespace!r} does not exist")
        access.check_namespace_write(identity, owner.name, f"create a repo in {owner.name!r}")
        existing = self._store.get_repo(type.value, owner.name, name)
        if existing is not None:
            raise errors.ConflictError(f"You already created this {type.value} repo")
        key = uuid.uuid4().hex
        initial = {".gitattributes": default_gitattributes(type), **(files or {})}
        try:
            with errors.out_of_space(f"creating {owner.name}/{name}"):
                if copy_of is None:
                    head = self._git.create(key, initial, author_of(identity), "initial commit")
                else:
                    head = self._git.create_copy(key, copy_of.storage_key)
        except errors.LocalStorageError:
            self._git.delete(key)  # what was written of the repo before the disk filled
            raise
        try:
            return self._store.create_repo(
                type.value,
                owner.name,
                name,
                key,
                owner.private_by_default if private is None else private,
                sdk if type is RepoType.SPACE else None,
                head=head,
                actor_id=identity.account_id,
            )
        except AlreadyExistsError as exc:
            self._git.delete(key)
            raise errors.ConflictError(f"You already created this {type.value} repo") from exc

    def delete(self, identity: Identity, type: RepoType, repo_id: str) -> None:
        """Delete a repo and its git data.

        Raises:
            RepoNotFoundError, AuthorizationError: see `locate`.
        """
        repo = self.locate(identity, type, repo_id, Action.WRITE)
        self._store.delete_repo(repo.id, actor_id=identity.account_id)
        self._git.delete(repo.storage_key)

    def move(self, identity: Identity, type: RepoType, from_id: str, to_id: str) -> RepoRecord:
        """Rename a repo or move it to another namespace; the old id keeps resolving.

        Raises:
            InvalidRequestError: `to_id` is not a valid repo id.
            ConflictError: a repo already has `to_id`.
            RepoNotFoundError, AuthorizationError: on either side.
        """
        repo = self.locate(identity, type, from_id, Action.WRITE)
        namespace, _, name = to_id.partition("/")
        for part in (namespace, name):
            problem = name_problem(part)
            if problem is not None:
                raise errors.InvalidRequestError(f"Invalid repo id {to_id!r}: {problem}")
        owner = self._accounts.get_account(namespace)
        if owner is None:
            raise errors.InvalidRequestError(f"The namespace {namespace!r} does not exist")
        access.check_namespace_write(identity, owner.name, f"move a repo to {owner.name!r}")
        try:
            return self._store.move_repo(repo.id, owner.name, name, actor_id=identity.account_id)
        except AlreadyExistsError as exc:
            raise errors.ConflictError(f"A {type.value} repo named {to_id} already exists") from exc

    def update_settings(
        self, identity: Identity, type: RepoType, repo_id: str, settings: RepoSettingsChange
    ) -> RepoRecord:
        """Change visibility, gating or discussions (a hub event says which changed).

        Raises:
            InvalidRequestError: an unknown gating mode.
            RepoNotFoundError, AuthorizationError: see `locate` (a mirror's settings change too).
        """
        repo = self.locate(identity, type, repo_id, Action.WRITE, settings=True)
        values: dict[str, object] = {}
        if settings.private is not None:
            values["private"] = settings.private
        if settings.gated is not None:
            if settings.gated is not False and settings.gated not in GATED_MODES:
                raise errors.InvalidRequestError(
                    f"Invalid gated value {settings.gated!r}: 'auto', 'manual' or false"
                )
            values["gated"] = settings.gated or None
        if settings.discussions_disabled is not None:
            values["discussions_disabled"] = settings.discussions_disabled
        return (
            self._store.update_settings(repo.id, identity.account_id, **values) if values else repo
        )
