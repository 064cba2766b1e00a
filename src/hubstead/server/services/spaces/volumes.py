"""A Space's volumes at build time: each repo resolved to a commit, its files for the runner.

The owners chose the volumes (`runtime.py` checked then that the caller could read each
repo); at each build they are checked again, as the Space's namespace now: the account that
owns the Space (a user, with their orgs and accepted access requests, or an org, with its own
repos) must still be able to read each repo's files at its revision. A repo made private or
gated since, deleted, renamed, or a revision gone is a `VolumeProblem`: the Space is a
CONFIG_ERROR naming the volume, and nothing of that repo reaches the app. A commit pushed to
a volume's repo reaches the app at its next build (a restart), not before.

A volume is its files (or those of its `path` folder) at the commit, each named by the
address of its content, so that the runner can keep one copy of a file mounted by several
Spaces; large files are read from the object store (blobs or Xet) with their real content,
only when linked to the repo with the pointer's size, as for a download (a content deleted from
the repo for good is not mounted from another repo's copy).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from hubstead.protocol import RepoType, may_be_lfs_pointer, parse_lfs_pointer
from hubstead.server import errors
from hubstead.server.domain.git import EntryKind
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import SpaceVolume
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.repos import RepoService
from hubstead.server.services.spaces.runner import AppVolume, SpaceRunError, VolumeFile
from hubstead.server.storage.errors import PathNotFoundError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.lfs_index import LfsIndex

VOLUME_TYPES = {"model": RepoType.MODEL, "dataset": RepoType.DATASET, "space": RepoType.SPACE}
"""The `type` of a volume, to the repo type it mounts."""

_LARGE = "sha256-"
_SMALL = "git-"


class VolumeProblem(Exception):
    """A volume the Space may not mount now; the message names it and says why."""


class SpaceVolumes:
    """Resolves a Space's volumes for its build."""

    def __init__(
        self,
        repos: RepoService,
        auth: AuthService,
        git: GitObjectStore,
        index: LfsIndex,
        objects: LfsObjects,
    ) -> None:
        self._repos = repos
        self._auth = auth
        self._git = git
        self._index = index
        self._objects = objects

    def resolve(self, space: RepoRecord, volumes: Sequence[SpaceVolume]) -> tuple[AppVolume, ...]:
        """The files of each volume at the commit its revision names now.

        Raises:
            VolumeProblem: the Space's namespace may not read a volume's repo at its revision,
                its folder is not there, or a large file's content is missing from this hub.
        """
        if not volumes:
            return ()
        try:
            owner = self._auth.reader(self._auth.get_account(space.namespace).id)
        except errors.AccountNotFoundError:
            owner = None
        return tuple(self._resolve_one(space, owner, volume) for volume in volumes)

    def _resolve_one(
        self, space: RepoRecord, owner: Identity | None, volume: SpaceVolume
    ) -> AppVolume:
        what = f"The volume at {volume.mount_path} ({volume.kind} {volume.source})"
        type = VOLUME_TYPES.get(volume.kind)
        if owner is None or type is None:
            raise VolumeProblem(f"{what} cannot be mounted: set the Space's volumes again")
        try:
            handle = self._repos.open(
                owner, type, volume.source, Action.READ_FILES, volume.revision
            )
        except errors.RevisionNotFoundError:
            raise VolumeProblem(
                f"{what} cannot be mounted: the repo has no revision {volume.revision!r} any "
                "more; change or delete the volume"
            ) from None
        except (
            errors.NotFoundError,
            errors.AuthenticationError,
            errors.AuthorizationError,
            errors.RepoMovedError,
            errors.InvalidRequestError,
        ):
            raise VolumeProblem(
                f"{what} cannot be mounted: the repo does not exist any more or "
                f"{space.namespace} may no longer read it; change or delete the volume"
            ) from None
        repo, commit = handle.repo, handle.commit_id
        folder = (volume.path or "").strip("/")
        try:
            entries = self._git.list_tree(repo.storage_key, commit, folder, recursive=True)
        except PathNotFoundError:
            raise VolumeProblem(
                f"{what} cannot be mounted: the repo has no folder {folder!r} at "
                f"{volume.revision!r}; change or delete the volume"
            ) from None
        prefix = f"{folder}/" if folder else ""
        files = []
        for entry in entries:
            if entry.kind is not EntryKind.FILE:
                continue
            address, size = f"{_SMALL}{entry.oid}", entry.size
            if may_be_lfs_pointer(entry.size):
                pointer = parse_lfs_pointer(self._git.read_blob(repo.storage_key, entry.oid))
                if pointer is not None:
                    # As for a download: only an object linked to the repo, of the pointer's size.
                    sha256, pointed_size = pointer
                    if (
                        self._index.linked_size(repo.id, sha256) != pointed_size
                        or self._objects.held(sha256) is None
                    ):
                        raise VolumeProblem(
                            f"{what} cannot be mounted: the content of {entry.path} is missing "
                            "from this hub"
                        )
                    address, size = f"{_LARGE}{sha256}", pointed_size
            files.append(VolumeFile(entry.path.removeprefix(prefix), address, size))
        key = repo.storage_key

        def read(file: VolumeFile) -> Iterator[bytes]:
            if file.address.startswith(_LARGE):
                sha256 = file.address.removeprefix(_LARGE)
                held = self._objects.held(sha256)
                if held is None:
                    raise SpaceRunError(f"The content of {file.path} is missing from this hub")
                return self._objects.content(held, sha256)
            return iter((self._git.read_blob(key, file.address.removeprefix(_SMALL)),))

        name = f"{volume.kind} {repo.repo_id} at {commit[:12]}"
        return AppVolume(volume.mount_path, name, tuple(files), read)
