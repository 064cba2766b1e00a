"""What the web hub's repo pages show: a repo, a folder, a file, a commit, each in one call.

Each answer is built from the services the API answers with (`catalog.info`, `files.tree`,
`refs.refs`, `weights`), so a page shows exactly what the API would show the same caller: a
private repo is a `RepoNotFoundError` for outsiders, a gated repo's file contents a
`GatedRepoError` until access is granted. Pages never load a whole large file: a file's text is
read only when its blob is small enough to show (`SHOWN_TEXT_BYTES`); of an LFS file only what
a preview needs is read, by ranges: the first rows of a dataset file (`previews.py`) or the
header of a safetensors file (`WeightService.tensors`).
"""

from __future__ import annotations

import dataclasses
import re

from hubstead.protocol import DEFAULT_BRANCH, RepoType, parse_lfs_pointer
from hubstead.server import errors
from hubstead.server.domain.git import CommitRecord, EntryKind
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access, cards, previews
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.catalog import CatalogService, Details, RepoInfo
from hubstead.server.services.discussions import (
    DiscussionService,
    ThreadRights,
    pull_request_number,
)
from hubstead.server.services.files import FileInfo, FileService, normalize_path
from hubstead.server.services.likes import LikeService
from hubstead.server.services.pages import Page
from hubstead.server.services.previews import TablePreview
from hubstead.server.services.refs import RefListing, RefService
from hubstead.server.services.repos import RepoService
from hubstead.server.services.weights import TensorList, Unreadable, WeightService
from hubstead.server.storage.git_merge import GitMerger
from hubstead.server.storage.git_objects import GitObjectStore

README = "README.md"
_BRANCHES = "refs/heads/"
SHOWN_TENSORS = 1000
"""The most tensors a safetensors file's page lists (its totals count them all)."""
SHOWN_TEXT_BYTES = 512 * 1024
"""The largest file (or README) whose text a page shows; larger ones get links only."""
DIFF_BYTES = 512 * 1024
"""The bound on a commit page's diff text."""
PREVIEW_GIT_BYTES = 16 * 1024 * 1024
"""The largest file in git (not LFS) a preview reads: git blobs are read whole."""
SAFETENSORS_SUFFIX = ".safetensors"
_DIFF_HEADER = re.compile(r"^diff --git a/(.*) b/(.*)$")
_POINTER_LINE = re.compile(r"^[-+ ](version https://git-lfs|oid sha256:|size \d)")


@dataclasses.dataclass(frozen=True)
class RepoChrome:
    """What every page of a repo shows around its content, whatever the page.

    `open_threads` counts the open discussions and pull requests (the Community tab);
    `upstream` is the URL of the repo this one mirrors (None: not a mirror). `may_manage`: the
    caller may change the repo's settings (the Settings tab); `may_write`: also commit to it
    (never to a mirror, which changes only by syncing). `liked`: the caller likes the repo
    (always False for an anonymous caller).
    """

    open_threads: int
    upstream: str | None = None
    may_manage: bool = False
    liked: bool = False

    @property
    def may_write(self) -> bool:
        """Whether the caller may commit to the repo (upload, add, edit files)."""
        return self.may_manage and self.upstream is None


@dataclasses.dataclass(frozen=True)
class RepoPage:
    """A repo at a revision: its description, a window of its root folder, its README text.

    `root` holds the first entries of the root folder (more follow when `root.more`);
    `readme` is None when there is none, or when it is too large or stored in LFS.
    `may_read_files` is False for a gated repo the caller has no access to yet. `rights` says
    whether the caller may open pull requests (`may_open`); `chrome` what every repo page shows
    (open threads, mirror, whether the caller may commit or change settings).
    """

    info: RepoInfo
    revision: str
    root: Page[FileInfo]
    readme: str | None
    refs: RefListing
    may_read_files: bool
    rights: ThreadRights
    chrome: RepoChrome

    @property
    def open_threads(self) -> int:
        """The open discussions and pull requests."""
        return self.chrome.open_threads

    @property
    def may_write(self) -> bool:
        """Whether the caller may commit to the repo."""
        return self.chrome.may_write


@dataclasses.dataclass(frozen=True)
class Folder:
    """A window of a folder's entries at a revision."""

    repo: RepoInfo
    revision: str
    path: str
    entries: Page[FileInfo]
    refs: RefListing
    chrome: RepoChrome

    @property
    def may_write(self) -> bool:
        """Whether the caller may commit to the repo."""
        return self.chrome.may_write


@dataclasses.dataclass(frozen=True)
class FileView:
    """A file at a revision: its facts, and its text when it is small text in git.

    `text` is None for LFS files, binary files and files over `SHOWN_TEXT_BYTES`. `rights`:
    may the caller commit (`may_write`) or open a pull request (`may_open`)?
    """

    repo: RepoInfo
    revision: str
    file: FileInfo
    text: str | None
    refs: RefListing
    rights: ThreadRights
    chrome: RepoChrome
    table: TablePreview | None = None
    tensors: TensorList | None = None


@dataclasses.dataclass(frozen=True)
class Editor:
    """What the file editor starts from: a file's text (None for a new file) at a commit.

    `commit_id` is the commit the revision was at, the parent the edit is based on;
    `rights` says where the caller may send it: a commit (`may_write`) or a pull request
    (`may_open`). `pr_base` is the branch a pull request goes to when the revision is no
    branch (a tag, a commit): only a pull request can then hold the edit, starting from
    `commit_id`; None when the revision is a branch or a pull request's ref. `crlf`: the
    text's lines end with CRLF.
    """

    repo: RepoInfo
    revision: str
    commit_id: str
    path: str
    text: str | None
    rights: ThreadRights
    chrome: RepoChrome
    pr_base: str | None = None

    @property
    def crlf(self) -> bool:
        """Whether the file's lines end with CRLF (kept when the edit is saved)."""
        return self.text is not None and "\r\n" in self.text


@dataclasses.dataclass(frozen=True)
class LfsChange:
    """An LFS file's pointer change in a diff: the object before and after (None: absent)."""

    old_sha256: str | None
    old_size: int | None
    new_sha256: str | None
    new_size: int | None


@dataclasses.dataclass(frozen=True)
class FileDiff:
    """One file's part of a commit's diff: its unified-diff lines, or its LFS change."""

    path: str
    lines: list[str]
    lfs: LfsChange | None


@dataclasses.dataclass(frozen=True)
class CommitView:
    """A commit and what it changed since its first parent (the whole tree for a root)."""

    commit: CommitRecord
    files: list[FileDiff]
    truncated: bool
    chrome: RepoChrome


@dataclasses.dataclass(frozen=True)
class EditTarget:
    """Where an edit made at a revision goes, and what is at its path there.

    `pr_base`: see `Editor`. `existing` is the kind of entry (`file`, `directory`) already at
    the path at the revision, or None.
    """

    pr_base: str | None
    existing: str | None


def _lfs_change(lines: list[str]) -> LfsChange | None:
    """The pointer change when every changed line of a file's diff is a pointer line."""
    changed = [line for line in lines if line[:1] in "+-" and not line.startswith(("---", "+++"))]
    if not changed or not all(_POINTER_LINE.match(line) for line in changed):
        return None
    old = parse_lfs_pointer("".join(x[1:] + "\n" for x in lines if x[:1] in " -").encode())
    new = parse_lfs_pointer("".join(x[1:] + "\n" for x in lines if x[:1] in " +").encode())
    if old is None and new is None:
        return None
    return LfsChange(
        old[0] if old else None,
        old[1] if old else None,
        new[0] if new else None,
        new[1] if new else None,
    )


def split_diff(text: str) -> list[FileDiff]:
    """A unified diff (`git diff`) cut into one part per file, LFS pointer changes recognized."""
    parts: list[FileDiff] = []
    path, lines = None, []
    for line in [*text.splitlines(), "diff --git a/ b/"]:
        header = _DIFF_HEADER.match(line)
        if header is None:
            lines.append(line)
            continue
        if path is not None:
            hunks = lines[
                next((i for i, x in enumerate(lines) if x.startswith("@@")), len(lines)) :
            ]
            parts.append(FileDiff(path, hunks, _lfs_change(hunks)))
        path, lines = header.group(2), []
    return parts


def _too_large(offset: int, length: int) -> bytes:
    raise previews.Unavailable(
        f"the file is stored in git (not LFS) and is larger than {PREVIEW_GIT_BYTES:,} bytes"
    )


class BrowseService:
    """The repo, folder, file and commit pages' data."""

    def __init__(
        self,
        repos: RepoService,
        catalog: CatalogService,
        files: FileService,
        refs: RefService,
        git: GitObjectStore,
        merger: GitMerger,
        weights: WeightService,
        discussions: DiscussionService,
        likes: LikeService,
    ) -> None:
        self._discussions = discussions
        self._likes = likes
        self._repos = repos
        self._weights = weights
        self._catalog = catalog
        self._files = files
        self._refs = refs
        self._git = git
        self._merger = merger

    def repo(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, root_limit: int
    ) -> RepoPage:
        """The repo page: description and weights at `revision`, root folder, README.

        Raises:
            RepoNotFoundError, RevisionNotFoundError, ...: see `RepoService.open`.
        """
        info = self._describe(identity, type, repo_id, revision, weights=True)
        root = self._files.tree(
            identity,
            type,
            repo_id,
            info.commit.id,
            "",
            recursive=False,
            expand=False,
            offset=0,
            limit=root_limit,
        )
        readme = next((f for f in root if f.path == README and f.kind is EntryKind.FILE), None)
        text = None
        if readme is not None and readme.lfs is None and readme.size <= SHOWN_TEXT_BYTES:
            data = self._git.read_blob(info.repo.storage_key, readme.oid)
            text = cards.strip_front_matter(data.decode(errors="replace"))
        may_read = access.passes_gate(identity, info.repo)
        refs = self._refs.refs(identity, type, repo_id)
        rights = self._discussions.rights(identity, info.repo)
        chrome = self._chrome(identity, info.repo)
        return RepoPage(info, revision, root, text, refs, may_read, rights, chrome)

    def folder(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        path: str,
        *,
        offset: int,
        limit: int,
    ) -> Folder:
        """A window of the folder `path` at `revision`.

        Raises:
            EntryNotFoundError: not a folder at this revision.
            RepoNotFoundError, RevisionNotFoundError, ...: see `RepoService.open`.
        """
        info = self._describe(identity, type, repo_id, revision)
        entries = self._files.tree(
            identity,
            type,
            repo_id,
            info.commit.id,
            path,
            recursive=False,
            expand=False,
            offset=offset,
            limit=limit,
        )
        refs = self._refs.refs(identity, type, repo_id)
        chrome = self._chrome(identity, info.repo)
        return Folder(info, revision, normalize_path(path), entries, refs, chrome)

    def file(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, path: str
    ) -> FileView:
        """The file `path` at `revision`, with its text when it is small text in git.

        Raises:
            EntryNotFoundError: not a file at this revision.
            GatedRepoError: a gated repo the caller has no access to.
            RepoNotFoundError, RevisionNotFoundError, ...: see `RepoService.open`.
        """
        self._repos.open(identity, type, repo_id, Action.READ_FILES, revision)
        info = self._describe(identity, type, repo_id, revision)
        found = self._files.paths_info(identity, type, repo_id, info.commit.id, [path], expand=True)
        if not found or found[0].kind is not EntryKind.FILE:
            raise errors.EntryNotFoundError(
                f"File {normalize_path(path)!r} does not exist at revision {revision}",
                commit_id=info.commit.id,
            )
        file = found[0]
        text = self._text(info, file)
        refs = self._refs.refs(identity, type, repo_id)
        rights = self._discussions.rights(identity, info.repo)
        table = None
        if previews.kind_of(file.path) is not None:
            table = previews.preview(file.path, file.size, self._reader(info, file))
        tensors = None
        if file.path.lower().endswith(SAFETENSORS_SUFFIX):
            tensors = self._weights.tensors(info.repo, info.commit.id, file.path, SHOWN_TENSORS)
        chrome = self._chrome(identity, info.repo)
        return FileView(info, revision, file, text, refs, rights, chrome, table, tensors)

    def editor(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, path: str | None
    ) -> Editor:
        """The text of the file `path` at `revision` to edit, or a new file's start (`None`).

        Raises:
            InvalidRequestError: the file is binary, stored in LFS or Xet, or larger than
                `SHOWN_TEXT_BYTES`: it cannot be edited as text; or the revision is no branch
                (only a pull request could hold the edit) and the repo takes no pull requests.
            AuthorizationError: the caller may neither commit nor open a pull request here.
            EntryNotFoundError: not a file at this revision.
            RepoNotFoundError, RevisionNotFoundError, GatedRepoError, ...: see `file`.
        """
        self._repos.open(identity, type, repo_id, Action.READ_FILES, revision)
        info = self._describe(identity, type, repo_id, revision)
        rights = self._discussions.rights(identity, info.repo)
        if not (rights.may_write or rights.may_open):
            raise errors.AuthorizationError(
                f"You may neither commit to {info.repo.repo_id} nor open a pull request on it"
            )
        chrome = self._chrome(identity, info.repo)
        pr_base = self._pr_base(info.repo, revision)
        if pr_base is not None and not rights.may_open:
            raise errors.InvalidRequestError(
                f"{revision} is not a branch, so an edit there can only be a pull request, and "
                f"{info.repo.repo_id} takes none: edit the file on a branch instead"
            )
        if path is None:
            return Editor(info, revision, info.commit.id, "", None, rights, chrome, pr_base)
        found = self._files.paths_info(identity, type, repo_id, info.commit.id, [path], expand=True)
        if not found or found[0].kind is not EntryKind.FILE:
            raise errors.EntryNotFoundError(
                f"File {normalize_path(path)!r} does not exist at revision {revision}",
                commit_id=info.commit.id,
            )
        file = found[0]
        text = self._text(info, file)
        if text is None:
            if file.lfs is not None:
                why = "it is stored with Git LFS or Xet"
            elif file.size > SHOWN_TEXT_BYTES:
                why = f"it is {file.size:,} bytes, more than {SHOWN_TEXT_BYTES:,}"
            else:
                why = "it is binary, not UTF-8 text"
            raise errors.InvalidRequestError(
                f"{file.path} cannot be edited in the browser: {why}. Upload a new version "
                "with huggingface_hub or git instead."
            )
        return Editor(info, revision, info.commit.id, file.path, text, rights, chrome, pr_base)

    def edit_target(
        self, identity: Identity, type: RepoType, repo_id: str, revision: str, path: str
    ) -> EditTarget:
        """Where an edit made at `revision` goes, and what is at `path` there already.

        Raises:
            RepoNotFoundError, RevisionNotFoundError, GatedRepoError, ...: see `file`.
        """
        handle = self._repos.open(identity, type, repo_id, Action.READ_FILES, revision)
        found = (
            self._files.paths_info(identity, type, repo_id, handle.commit_id, [path], expand=False)
            if normalize_path(path)
            else []
        )
        existing = found[0].kind.value if found else None
        return EditTarget(self._pr_base(handle.repo, revision), existing)

    def chrome(self, identity: Identity, type: RepoType, repo_id: str) -> RepoChrome:
        """What every page of the repo shows around its content (see `RepoChrome`).

        Raises:
            RepoNotFoundError, ...: see `RepoService.locate`.
        """
        return self._chrome(identity, self._repos.locate(identity, type, repo_id, Action.READ))

    def _chrome(self, identity: Identity, repo: RepoRecord) -> RepoChrome:
        return RepoChrome(
            self._discussions.open_count(repo),
            self._repos.upstream_of(repo),
            access.may(identity, repo, Action.WRITE),
            self._likes.likes(identity, repo),
        )

    def _pr_base(self, repo: RepoRecord, revision: str) -> str | None:
        """None when `revision` is a branch or a pull request's ref; else the default branch."""
        if pull_request_number(revision) is not None:
            return None
        branch = revision.removeprefix(_BRANCHES)
        if self._git.resolve(repo.storage_key, _BRANCHES + branch) is not None:
            return None
        return DEFAULT_BRANCH

    def _text(self, info: RepoInfo, file: FileInfo) -> str | None:
        """The file's text when it is small UTF-8 text in git; None otherwise."""
        if file.lfs is not None or file.size > SHOWN_TEXT_BYTES:
            return None
        data = self._git.read_blob(info.repo.storage_key, file.oid)
        if b"\x00" in data:
            return None
        try:
            return data.decode()
        except UnicodeDecodeError:
            return None

    def _reader(self, info: RepoInfo, file: FileInfo) -> previews.Reader:
        """Ranges of a file: a git blob read once, an LFS object a range at a time."""
        if file.lfs is None:
            if file.size > PREVIEW_GIT_BYTES:
                return _too_large
            data = self._git.read_blob(info.repo.storage_key, file.oid)
            return lambda offset, length: data[offset : offset + length]

        def read(offset: int, length: int) -> bytes:
            try:
                return self._weights.read(info.repo, info.commit.id, file.path, offset, length)
            except Unreadable as exc:
                raise previews.Unavailable(str(exc)) from exc

        return read

    def commit(self, identity: Identity, type: RepoType, repo_id: str, commit: str) -> CommitView:
        """A commit and its diff to its first parent (a root commit: every file added), per file.

        Raises:
            RepoNotFoundError, RevisionNotFoundError, ...: see `RepoService.open`.
        """
        handle = self._repos.open(identity, type, repo_id, Action.READ_FILES, commit)
        key = handle.repo.storage_key
        record = self._git.commit(key, handle.commit_id)
        parent = record.parents[0] if record.parents else None
        text = self._merger.diff(key, parent, record.id, max_bytes=DIFF_BYTES)
        truncated = text.endswith(f"[diff truncated at {DIFF_BYTES} bytes]\n")
        chrome = self._chrome(identity, handle.repo)
        return CommitView(record, split_diff(text), truncated, chrome)

    def _describe(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        revision: str,
        *,
        weights: bool = False,
    ) -> RepoInfo:
        details = Details(files=False, used_storage=False, safetensors=weights, gguf=weights)
        return self._catalog.info(identity, type, repo_id, revision or DEFAULT_BRANCH, details)
