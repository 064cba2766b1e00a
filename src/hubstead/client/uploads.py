"""Uploads: commit operations, and the `HfApi` methods that commit files.

A commit goes: README metadata check (when a root README.md is added) → preupload (the hub
picks inline or LFS per file) → LFS batch and transfers, hashing overlapping the uploads →
NDJSON commit. Files whose content is already at their path are dropped, and a commit left
with nothing to do is not made. The protocol's requests are in `_commits.py`, the LFS transfers
in `_lfs_upload.py`, and `upload_large_folder`'s batches of commits in `_large_upload.py`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Literal

from hubstead.client import _commits, models
from hubstead.client._files import FileMethods
from hubstead.client._large_upload import upload_in_commits
from hubstead.client._lfs_upload import LfsFile, LfsUploader
from hubstead.client._paths import filter_paths, scan_folder, validate_path_in_repo
from hubstead.client._progress import bars_enabled
from hubstead.client._refs import RefMethods
from hubstead.client._repos import RepoMethods
from hubstead.client._upload_sources import UploadSource
from hubstead.client._urls import repo_type_of, validate_repo_id
from hubstead.errors import HFValidationError
from hubstead.protocol import DEFAULT_BRANCH, RepoType

__all__ = [
    "CommitOperation",
    "CommitOperationAdd",
    "CommitOperationCopy",
    "CommitOperationDelete",
    "UploadMethods",
]


@dataclasses.dataclass(frozen=True)
class CommitOperationAdd:
    """Add or overwrite a file: `path_or_fileobj` is a local path, bytes, or a binary file object.

    A file object must be seekable; its whole content (from offset 0) is uploaded.

    Raises:
        ValueError: a path that is not a file, an unusable file object, or a bad `path_in_repo`.
    """

    path_in_repo: str
    path_or_fileobj: str | Path | bytes | BinaryIO
    source: UploadSource = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_in_repo", validate_path_in_repo(self.path_in_repo))
        object.__setattr__(self, "source", UploadSource(self.path_or_fileobj))


@dataclasses.dataclass(frozen=True)
class CommitOperationDelete:
    """Delete a file, or a folder (`is_folder=True`, or "auto": the path ends with `/`)."""

    path_in_repo: str
    is_folder: bool | Literal["auto"] = "auto"

    def __post_init__(self) -> None:
        path = validate_path_in_repo(self.path_in_repo)
        object.__setattr__(self, "path_in_repo", path)
        if self.is_folder == "auto":
            object.__setattr__(self, "is_folder", path.endswith("/"))
        if not isinstance(self.is_folder, bool):
            raise HFValidationError(f"is_folder must be True, False or 'auto': {self.is_folder!r}")


@dataclasses.dataclass(frozen=True)
class CommitOperationCopy:
    """Copy a file of the repo (at `src_revision`, default the commit's revision) to a new path.

    LFS files are copied by reference; regular files are read and committed again.
    """

    src_path_in_repo: str
    path_in_repo: str
    src_revision: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "src_path_in_repo", validate_path_in_repo(self.src_path_in_repo))
        object.__setattr__(self, "path_in_repo", validate_path_in_repo(self.path_in_repo))


CommitOperation = CommitOperationAdd | CommitOperationCopy | CommitOperationDelete


@dataclasses.dataclass(frozen=True)
class _Stored:
    """An addition once the hub has seen it: how it travelled, and its LFS object if any."""

    mode: _commits.UploadMode
    lfs: LfsFile | None


Line = Callable[[], dict[str, Any]]


class UploadMethods(FileMethods, RepoMethods, RefMethods):
    """Upload methods of `HfApi`: commits, files, folders."""

    def create_commit(
        self,
        repo_id: str,
        operations: Iterable[CommitOperation],
        *,
        commit_message: str,
        commit_description: str | None = None,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        create_pr: bool | None = None,
        num_threads: int = 5,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Add, copy and delete files on a branch in one commit.

        Unchanged files are left out; when nothing changes, no commit is made and the branch's
        head is returned.

        Args:
            repo_id: the repo (it must exist).
            operations: `CommitOperationAdd`, `CommitOperationCopy` and `CommitOperationDelete`.
            commit_message: the commit's title.
            commit_description: the commit's body.
            token: overrides the client's token.
            repo_type: `model` (default), `dataset` or `space`.
            revision: the branch (default `main`).
            create_pr: open a pull request instead of committing to the branch.
            num_threads: LFS objects uploaded at once.
            parent_commit: fail (412) unless this is still the branch's head.

        Raises:
            HFValidationError: an empty message, a malformed `parent_commit` or path.
            BadRequestError: invalid README.md metadata, or an operation the hub refused.
            RepositoryNotFoundError, RevisionNotFoundError: no such repo or branch.
            RemoteEntryNotFoundError: a deleted path that does not exist.
            EntryNotFoundError: a copy whose source is missing or a folder.
            HfHubHTTPError: any other refusal, naming the step (412: `parent_commit` is stale).
        """
        _commits.check_commit_args(commit_message, parent_commit)
        validate_repo_id(repo_id)
        repo_type_of(repo_type)
        revision = revision or DEFAULT_BRANCH
        ops = list(operations)
        stored = self._store_additions(
            repo_id,
            [op for op in ops if isinstance(op, CommitOperationAdd)],
            repo_type=repo_type,
            revision=revision,
            token=token,
            create_pr=bool(create_pr),
            num_threads=num_threads,
        )
        copies = [op for op in ops if isinstance(op, CommitOperationCopy)]
        sources = _commits.resolve_copies(
            self,
            repo_id,
            [(c.src_path_in_repo, c.path_in_repo, c.src_revision) for c in copies],
            repo_type=repo_type,
            revision=revision,
            token=token,
        )
        resolved = {id(c): source for c, source in zip(copies, sources, strict=True)}
        changes = list(_changes(ops, stored, resolved))
        if not changes:
            head = self.repo_info(repo_id, repo_type=repo_type, revision=revision, token=token).sha
            return _commits.head_commit_info(
                self.session,
                repo_id,
                head or "",
                repo_type=repo_type,
                commit_message=commit_message,
                commit_description=commit_description,
            )
        return _commits.post_commit(
            self.session,
            repo_id,
            (line() for line in changes),
            repo_type=repo_type,
            revision=revision,
            commit_message=commit_message,
            commit_description=commit_description,
            parent_commit=parent_commit,
            token=token,
            create_pr=bool(create_pr),
            has_deletions=any(isinstance(op, CommitOperationDelete) for op in ops),
        )

    def upload_file(
        self,
        *,
        path_or_fileobj: str | Path | bytes | BinaryIO,
        path_in_repo: str,
        repo_id: str,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Upload a local file, bytes or a binary file object to `path_in_repo` in one commit.

        Raises:
            HfHubHTTPError: as for `create_commit` (which lists the subclasses).
        """
        return self.create_commit(
            repo_id,
            [CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=path_or_fileobj)],
            commit_message=commit_message or f"Upload {path_in_repo} with hubstead",
            commit_description=commit_description,
            token=token,
            repo_type=repo_type,
            revision=revision,
            create_pr=create_pr,
            parent_commit=parent_commit,
        )

    def upload_folder(
        self,
        *,
        repo_id: str,
        folder_path: str | Path,
        path_in_repo: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        delete_patterns: list[str] | str | None = None,
    ) -> models.CommitInfo:
        """Upload a folder's files (filtered by patterns) in one commit.

        Remote files under `path_in_repo` matching `delete_patterns` and not being uploaded are
        deleted in the same commit (never `.gitattributes`); `.git/` and `.cache/huggingface/`
        are never uploaded.

        Raises:
            HFValidationError: `folder_path` is not a directory.
            HfHubHTTPError: as for `create_commit` (which lists the subclasses).
        """
        files = scan_folder(
            folder_path, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns
        )
        prefix = (path_in_repo or "").strip("/")
        prefix = "" if prefix in ("", ".") else prefix + "/"
        additions = [CommitOperationAdd(prefix + rel, path) for rel, path in files.items()]
        added = {op.path_in_repo for op in additions}
        deletions: list[CommitOperation] = []
        if delete_patterns is not None:
            remote = self.list_repo_files(
                repo_id, revision=revision, repo_type=repo_type, token=token
            )
            relative = {p[len(prefix) :]: p for p in remote if p.startswith(prefix)}
            deletions = [
                CommitOperationDelete(relative[rel], is_folder=False)
                for rel in filter_paths(relative, allow_patterns=delete_patterns)
                if relative[rel] != ".gitattributes" and relative[rel] not in added
            ]
        return self.create_commit(
            repo_id,
            [*deletions, *additions],
            commit_message=commit_message or "Upload folder using hubstead",
            commit_description=commit_description,
            token=token,
            repo_type=repo_type,
            revision=revision,
            create_pr=create_pr,
            parent_commit=parent_commit,
        )

    def delete_file(
        self,
        path_in_repo: str,
        repo_id: str,
        *,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Delete one file in one commit.

        Raises:
            RemoteEntryNotFoundError: there is no such file.
            HfHubHTTPError: any other refusal, as for `create_commit`.
        """
        return self.create_commit(
            repo_id,
            [CommitOperationDelete(path_in_repo, is_folder=False)],
            commit_message=commit_message or f"Delete {path_in_repo} with hubstead",
            commit_description=commit_description,
            token=token,
            repo_type=repo_type,
            revision=revision,
            create_pr=create_pr,
            parent_commit=parent_commit,
        )

    def delete_folder(
        self,
        path_in_repo: str,
        repo_id: str,
        *,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Delete a folder and everything under it in one commit.

        Raises:
            RemoteEntryNotFoundError: there is no such folder.
            HfHubHTTPError: any other refusal, as for `create_commit`.
        """
        return self.create_commit(
            repo_id,
            [CommitOperationDelete(path_in_repo, is_folder=True)],
            commit_message=commit_message or f"Delete folder {path_in_repo} with hubstead",
            commit_description=commit_description,
            token=token,
            repo_type=repo_type,
            revision=revision,
            create_pr=create_pr,
            parent_commit=parent_commit,
        )

    def upload_large_folder(
        self,
        repo_id: str,
        folder_path: str | Path,
        *,
        repo_type: str,
        revision: str | None = None,
        private: bool | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        num_workers: int | None = None,
        print_report: bool = True,
        print_report_every: int = 60,
    ) -> models.CommitInfo | None:
        """Upload a large folder in many commits; run it again to resume after an interruption.

        Creates the repo (and the branch `revision`) if missing. Commits hold at most 100 files
        or 1 GiB. What is known about each file is kept in `.cache/huggingface/upload/` inside
        the folder, so a new run neither re-hashes nor re-uploads what is done.

        Args:
            repo_id: the repo (created if missing).
            folder_path: the folder to upload.
            repo_type: `model`, `dataset` or `space` (required, as in huggingface_hub).
            revision: the branch (created from `main` if missing; default `main`).
            private: create the repo private (if it is created).
            allow_patterns: only paths matching one of these wildcards.
            ignore_patterns: no path matching one of these.
            num_workers: uploads at once (default: from the number of CPUs, 2 to 8).
            print_report: print progress to stderr.
            print_report_every: seconds between progress reports.

        Returns:
            The last commit made, or None when everything was already committed.

        Raises:
            HFValidationError: no `repo_type`, a malformed repo id, or not a directory.
            HfHubHTTPError: as for `create_commit`; running again resumes.
            httpx.TransportError: the hub could not be reached; running again resumes.
        """
        if repo_type is None:
            raise HFValidationError("upload_large_folder needs an explicit repo_type")
        kind = repo_type_of(repo_type)
        validate_repo_id(repo_id)
        root = Path(folder_path).expanduser().resolve()
        files = scan_folder(root, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns)
        self.create_repo(
            repo_id,
            repo_type=kind.value,
            private=private,
            exist_ok=True,
            space_sdk="gradio" if kind is RepoType.SPACE else None,
        )
        if revision is not None:
            self.create_branch(repo_id, branch=revision, repo_type=kind.value, exist_ok=True)
        return upload_in_commits(
            self.session,
            repo_id,
            root,
            files,
            repo_type=kind.value,
            branch=revision or DEFAULT_BRANCH,
            workers=num_workers or max(2, min(8, os.cpu_count() or 2)),
            report_every=print_report_every if print_report else None,
            progress_bars=bars_enabled(None, self.config.progress_bars),
        )

    def _store_additions(
        self,
        repo_id: str,
        additions: list[CommitOperationAdd],
        *,
        repo_type: str | None,
        revision: str,
        token: str | bool | None,
        create_pr: bool,
        num_threads: int,
    ) -> dict[int, _Stored]:
        """Validate the card, ask how each file travels, and upload the LFS ones (by `id(op)`)."""
        readme = next((op for op in additions if op.path_in_repo == "README.md"), None)
        if readme is not None:
            content = readme.source.read_all().decode("utf-8", errors="replace")
            _commits.validate_readme(self.session, content, repo_type=repo_type, token=token)
        gitignore = next((op for op in additions if op.path_in_repo == ".gitignore"), None)
        modes = _commits.preupload(
            self.session,
            repo_id,
            [(op.path_in_repo, op.source) for op in additions],
            repo_type=repo_type,
            revision=revision,
            token=token,
            create_pr=create_pr,
            gitignore=gitignore.source.read_all().decode("utf-8", "replace") if gitignore else None,
        )
        stored = {
            id(op): _Stored(
                mode,
                LfsFile(op.path_in_repo, op.source)
                if mode.lfs and not mode.should_ignore
                else None,
            )
            for op, mode in zip(additions, modes, strict=True)
        }
        LfsUploader(
            self.session,
            repo_id,
            repo_type=repo_type,
            revision=revision,
            token=token,
            num_workers=num_threads,
            progress_bars=bars_enabled(None, self.config.progress_bars),
        ).upload([s.lfs for s in stored.values() if s.lfs is not None])
        return stored


def _changes(
    ops: list[CommitOperation], stored: dict[int, _Stored], copies: dict[int, _commits.CopySource]
) -> Iterator[Line]:
    """The commit's lines (made when sent), without the operations that change nothing.

    An addition or copy whose content is already at its path is dropped, unless the same
    commit deletes that path (or a folder above it).
    """
    deleted = {op.path_in_repo.rstrip("/") for op in ops if isinstance(op, CommitOperationDelete)}

    def is_deleted(path: str) -> bool:
        return any(p in deleted for p in (path, *map(str, PurePosixPath(path).parents)))

    for op in ops:
        path = op.path_in_repo
        if isinstance(op, CommitOperationDelete):
            yield functools.partial(_commits.delete_line, path, is_folder=op.is_folder is True)
        elif isinstance(op, CommitOperationCopy):
            copy = copies[id(op)]
            if copy.unchanged and not is_deleted(path):
                continue
            if copy.content is not None:
                yield functools.partial(_commits.inline_line, path, copy.content)
            else:
                yield functools.partial(_commits.lfs_line, path, copy.sha256 or "", copy.size)
        else:
            mode, lfs = stored[id(op)].mode, stored[id(op)].lfs
            if mode.should_ignore:
                continue
            if mode.remote_oid is not None and not is_deleted(path):
                local_oid = lfs.sha256 if lfs is not None else op.source.git_sha1()
                if local_oid == mode.remote_oid:
                    continue
            if lfs is not None:
                yield functools.partial(_commits.lfs_line, path, lfs.sha256 or "", op.source.size)
            else:
                yield functools.partial(_commits.file_line, path, op.source)
