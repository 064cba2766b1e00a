"""The wire contract shared by the hubstead client and server.

Header names, the `ErrorCode` vocabulary that `huggingface_hub` interprets, repo types and the
rules for repo ids, revisions and paths in a repo. Standard library only: every layer may import
this module and it imports nothing from hubstead.
"""

from __future__ import annotations

import enum
import re

HEADER_ERROR_CODE = "X-Error-Code"
HEADER_ERROR_MESSAGE = "X-Error-Message"
HEADER_REQUEST_ID = "X-Request-Id"
HEADER_REPO_COMMIT = "X-Repo-Commit"
HEADER_LINKED_ETAG = "X-Linked-Etag"
HEADER_LINKED_SIZE = "X-Linked-Size"

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


class RepoType(enum.StrEnum):
    """The three kinds of repo a hub holds."""

    MODEL = "model"
    DATASET = "dataset"
    SPACE = "space"

    @property
    def api_segment(self) -> str:
        """The plural segment used under `/api/` (`models`, `datasets`, `spaces`)."""
        return f"{self.value}s"

    @property
    def url_prefix(self) -> str:
        """The prefix of non-API URLs: empty for models, `datasets/` and `spaces/` otherwise."""
        return "" if self is RepoType.MODEL else f"{self.value}s/"

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


def path_problem(path: str) -> str | None:
    """Why `path` may not name a file in a repo, or None when it may.

    Paths are relative and `/`-separated, without empty, `.` or `..` components, and never
    inside a `.git` folder.
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


LFS_POINTER_VERSION = "version https://git-lfs.github.com/spec/v1"
LFS_POINTER_MAX_SIZE = 1024
_POINTER_LINE = re.compile(r"^(?P<key>[a-z0-9.\-]+) (?P<value>[^\r\n]*)$")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def parse_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """The `(sha256, size)` a git-lfs pointer file names, or None if `data` is not a pointer."""
    if len(data) >= LFS_POINTER_MAX_SIZE or not data.startswith(LFS_POINTER_VERSION.encode()):
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
    size = fields.get("size", "")
    if not oid.startswith("sha256:") or not _SHA256.fullmatch(oid[7:]) or not size.isdigit():
        return None
    return oid[7:], int(size)


def format_lfs_pointer(sha256: str, size: int) -> bytes:
    """The canonical git-lfs pointer file for an object."""
    return f"{LFS_POINTER_VERSION}\noid sha256:{sha256}\nsize {size}\n".encode()
