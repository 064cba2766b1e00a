"""The wire contract shared by the hubstead client and server.

Header names, the `ErrorCode` vocabulary that `huggingface_hub` interprets, repo types and the
rules for repo ids, revisions and paths in a repo. Standard library only: every layer may import
this module and it imports nothing from hubstead.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any

HEADER_ERROR_CODE = "X-Error-Code"
HEADER_ERROR_MESSAGE = "X-Error-Message"
HEADER_REQUEST_ID = "X-Request-Id"
HEADER_REPO_COMMIT = "X-Repo-Commit"
HEADER_LINKED_ETAG = "X-Linked-Etag"
HEADER_LINKED_SIZE = "X-Linked-Size"
# Xet: a CAS token (route `xet-{read|write}-token`), and a file's Xet hash on resolve.
HEADER_XET_CAS_URL = "X-Xet-Cas-Url"
HEADER_XET_ACCESS_TOKEN = "X-Xet-Access-Token"  # noqa: S105 (a header name)
HEADER_XET_EXPIRATION = "X-Xet-Token-Expiration"
HEADER_XET_HASH = "X-Xet-Hash"
HEADER_XET_REFRESH_ROUTE = "X-Xet-Refresh-Route"
LINK_XET_AUTH = "xet-auth"

INVALID_CREDENTIALS_MESSAGE = "Invalid credentials in Authorization header"
STALE_PARENT_MESSAGE = (
    "The branch was updated since you opened this page. Please refresh and try again."
)
DEFAULT_BRANCH = "main"
TOKEN_PREFIX = "hf_"  # noqa: S105 (a prefix, not a secret)


class ErrorCode(enum.StrEnum):
    """Values of the `X-Error-Code` header; the first four are the ones the HF client maps."""

    REPO_NOT_FOUND = "RepoNotFound"
    REVISION_NOT_FOUND = "RevisionNotFound"
    ENTRY_NOT_FOUND = "EntryNotFound"
    GATED_REPO = "GatedRepo"
    # hubstead's own: a Hub feature this hub does not offer (yet); the message names it.
    NOT_IMPLEMENTED = "NotImplemented"
    # hubstead's own: no endpoint of this hub has the requested path (`/api/<unknown>/...`).
    ENDPOINT_NOT_FOUND = "EndpointNotFound"


class RepoType(enum.StrEnum):
    """The four kinds of repo a hub holds.

    Kernels (compute kernels, the `kernels` library's repos) are repos like the others: the
    client creates, reads, uploads to, downloads from and deletes them under `/api/kernels/`
    and the `kernels/` prefix.
    """

    MODEL = "model"
    DATASET = "dataset"
    SPACE = "space"
    KERNEL = "kernel"

    @property
    def api_segment(self) -> str:
        """The plural segment used under `/api/` (`models`, `datasets`, `spaces`, `kernels`)."""
        return f"{self.value}s"

    @property
    def url_prefix(self) -> str:
        """The prefix of non-API URLs: empty for models, `datasets/`, `spaces/`, `kernels/`."""
        return "" if self is RepoType.MODEL else f"{self.value}s/"

    @classmethod
    def from_url_prefix(cls, segment: str) -> RepoType | None:
        """The type whose non-API URLs start with `segment/` (`datasets`, ...), or None."""
        return next((t for t in cls if t.url_prefix == f"{segment}/"), None)

    @classmethod
    def from_api_segment(cls, segment: str) -> RepoType | None:
        """The type named by a plural `/api/` segment, or None."""
        return next((t for t in cls if t.api_segment == segment), None)


_NAME_PART = re.compile(r"[A-Za-z0-9_.\-]{1,96}")
# Exported patterns end in \Z, not $ (which also matches before a trailing newline), so that
# callers' `.match` checks the whole string.
SPECIAL_REF = re.compile(r"^refs/(pr/\d+|convert/[\w\-.]+)\Z")
COMMIT_ID = re.compile(r"^[0-9a-f]{40}\Z")
SHORT_COMMIT_ID = re.compile(r"^[0-9a-f]{4,40}\Z")


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid user, org or repo name part, or None when it is.

    The Hub's rules: 1 to 96 of letters, digits, `-`, `_` and `.`; no `--` or `..`; must not
    start or end with `-` or `.`; must not end with `.git`.
    """
    if not _NAME_PART.fullmatch(name):
        return "must be 1 to 96 characters among letters, digits, '-', '_' and '.'"
    if "--" in name or ".." in name:
        return "must not contain '--' or '..'"
    if name[0] in "-." or name[-1] in "-.":
        return "must not start or end with '-' or '.'"
    if name.endswith(".git"):
        return "must not end with '.git'"
    return None


def repo_id_problem(repo_id: str) -> str | None:
    """Why `repo_id` (`namespace/name`) is not valid, or None when it is."""
    parts = repo_id.split("/")
    if len(parts) != 2:
        return "a repo id has the form 'namespace/name'"
    for part in parts:
        problem = name_problem(part)
        if problem is not None:
            return f"'{part}' {problem}"
    return None


# Bounds on a path written to a repo. A component is a file name: 255 bytes is NAME_MAX on
# Linux, macOS and Windows, so a longer name could never be checked out. The whole path stays
# far below PATH_MAX (4096) so it still fits once prefixed by a clone's directory or a client
# cache (`.../models--ns--name/snapshots/<sha>/`). Model and dataset repos nest files a few
# folders deep; 64 levels leaves room for any real layout while keeping every tree walk (git's,
# the hub's, a client's) short.
MAX_PATH_BYTES = 1024
MAX_PATH_COMPONENT_BYTES = 255
MAX_PATH_DEPTH = 64

# Code points HFS+ ignores in file names: `.git\u200c` is `.git` on a Mac (git's is_hfs_dotgit).
_HFS_IGNORED = frozenset(
    "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
)
# `.git` or its NTFS short name `git~1`, in any case, followed by dots or spaces (which NTFS
# drops) and then nothing or an alternate data stream (`:...`): git's is_ntfs_dotgit.
_NTFS_DOTGIT = re.compile(r"^(?:\.git|git~1)[. ]*(?::.*)?$", re.IGNORECASE | re.DOTALL)


def lookup_path_problem(path: str) -> str | None:
    """Why `path` cannot name anything in a repo, or None when it may.

    The rule for reading: paths are relative and `/`-separated, without empty, `.` or `..`
    components, and never inside a `.git` folder. What `path_problem` adds for new paths is not
    checked, so files stored before those bounds existed stay readable.
    """
    if not path:
        return "the path is empty"
    if path.startswith("/"):
        return "the path must be relative"
    if "\\" in path or "\0" in path:
        return "the path contains a backslash or a NUL character"
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return "the path has an empty, '.' or '..' component"
        if part == ".git":
            return "the path is inside a '.git' folder"
    return None


def path_problem(path: str) -> str | None:
    """Why `path` may not be written to a repo, or None when it may.

    One rule for every way a file enters a repo (commit API, preupload, git push), so that
    whatever the hub stores can be cloned and checked out everywhere: `lookup_path_problem`,
    then git's `verify_path` as it runs on Windows and macOS (no component that NTFS or HFS+
    would read as `.git`), and the bounds `MAX_PATH_BYTES`, `MAX_PATH_COMPONENT_BYTES` and
    `MAX_PATH_DEPTH`.
    """
    problem = lookup_path_problem(path)
    if problem is not None:
        return problem
    try:
        size = len(path.encode())
    except UnicodeEncodeError:
        return "the path is not valid Unicode"
    if size > MAX_PATH_BYTES:
        return f"the path is longer than {MAX_PATH_BYTES} bytes"
    parts = path.split("/")
    if len(parts) > MAX_PATH_DEPTH:
        return f"the path is more than {MAX_PATH_DEPTH} levels deep"
    for part in parts:
        if len(part.encode()) > MAX_PATH_COMPONENT_BYTES:
            return f"a name in the path is longer than {MAX_PATH_COMPONENT_BYTES} bytes"
        if _is_dotgit(part):
            return f"{part!r} is read as '.git' on some file systems"
    return None


def _is_dotgit(name: str) -> bool:
    """Whether a file system of a clone (NTFS, HFS+, case-insensitive ones) sees `.git`."""
    if _NTFS_DOTGIT.match(name):
        return True
    visible = "".join(c for c in name if c not in _HFS_IGNORED)
    return visible.isascii() and visible.lower() == ".git"


def parse_decimal(text: str, *, max_digits: int = 18) -> int | None:
    """The value of `text` when it is 1 to `max_digits` ASCII digits, else None.

    `str.isdigit` and `int` also accept other scripts' digits (`"²"`, `"٣"`), and `int` refuses
    more than 4,300 digits with an error of its own: hostile input must meet neither.
    """
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


# How deep JSON may nest (objects and arrays). Hub documents (commit lines, card data, configs,
# LFS batch bodies) nest a few levels; Python's parser itself fails near a thousand.
MAX_JSON_DEPTH = 100


def load_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    r"""Parse JSON nested at most `max_depth` deep, refusing strings that are not valid Unicode.

    JSON may escape lone surrogates (`"\ud800"`); no path, name or message can hold one, and
    letting one through only fails later, deep in git or the database.

    Raises:
        ValueError: malformed JSON, nesting deeper than `max_depth`, or a lone surrogate.
    """
    try:
        value = json.loads(data)
    except RecursionError:  # the C parser gives up cleanly on nesting a thousand deep
        raise ValueError(f"JSON nested more than {max_depth} deep") from None
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{item!r} holds a lone surrogate") from None
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise ValueError(f"JSON nested more than {max_depth} deep")
            children = [*item, *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return value


LFS_POINTER_VERSION = "version https://git-lfs.github.com/spec/v1"
LFS_POINTER_MAX_SIZE = 1024
# The shortest pointer `parse_lfs_pointer` accepts: the version, oid and size lines with one
# separator between them and no final newline (`size` of one digit). A shorter blob is no pointer.
LFS_POINTER_MIN_SIZE = len(LFS_POINTER_VERSION) + len("oid sha256:") + 64 + len("size 0") + 2
_POINTER_LINE = re.compile(r"^(?P<key>[a-z0-9.\-]+) (?P<value>[^\r\n]*)$")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def may_be_lfs_pointer(size: int) -> bool:
    """Whether a blob of `size` bytes can be a git-lfs pointer (else it need not be read)."""
    return LFS_POINTER_MIN_SIZE <= size < LFS_POINTER_MAX_SIZE


def parse_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """The `(sha256, size)` a git-lfs pointer file names, or None if `data` is not a pointer."""
    if not may_be_lfs_pointer(len(data)) or not data.startswith(LFS_POINTER_VERSION.encode()):
        return None
    try:
        lines = data.decode("ascii").splitlines()
    except UnicodeDecodeError:
        return None
    fields: dict[str, str] = {}
    for line in lines:
        match = _POINTER_LINE.match(line)
        if match is None:
            return None
        fields[match["key"]] = match["value"]
    oid = fields.get("oid", "")
    size = parse_decimal(fields.get("size", ""))
    if not oid.startswith("sha256:") or not _SHA256.fullmatch(oid[7:]) or size is None:
        return None
    return oid[7:], size


def format_lfs_pointer(sha256: str, size: int) -> bytes:
    """The canonical git-lfs pointer file for an object."""
    return f"{LFS_POINTER_VERSION}\noid sha256:{sha256}\nsize {size}\n".encode()
