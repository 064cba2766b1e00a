"""Paths in a repo and on disk: pattern filters, the files of a folder, and path checks.

Patterns (`allow_patterns`, `ignore_patterns`, `delete_patterns`, the CLI's `--include` and
`--exclude`) are `fnmatch` wildcards matched case-sensitively against the whole relative path,
so `*` crosses `/` (`data/*.json` matches `data/a/b.json`) and a pattern ending in `/` means
everything under that folder: the rules `huggingface_hub` uses. Uploads check the paths they
write to (`validate_path_in_repo`); downloads check the paths they write from the repo into a
local folder (`validate_filename`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from hubstead.errors import HFValidationError

# `.git` and the bookkeeping that downloads and uploads keep in a folder never go to a repo.
DEFAULT_IGNORE_PATTERNS = (
    ".git",
    ".git/*",
    "*/.git",
    "**/.git/**",
    ".cache/huggingface",
    ".cache/huggingface/*",
    "*/.cache/huggingface",
    "**/.cache/huggingface/**",
)
FORBIDDEN_FOLDERS = (".git", ".cache")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _patterns(patterns: str | Iterable[str] | None) -> list[str] | None:
    if patterns is None:
        return None
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    return [p.replace("\\", "/") + ("*" if p.endswith("/") else "") for p in items]


def filter_paths(
    paths: Iterable[str],
    *,
    allow_patterns: str | Iterable[str] | None = None,
    ignore_patterns: str | Iterable[str] | None = None,
) -> Iterator[str]:
    """The paths that match an allow pattern (if any are given) and no ignore pattern."""
    allow, ignore = _patterns(allow_patterns), _patterns(ignore_patterns)
    for path in paths:
        if allow is not None and not any(fnmatchcase(path, p) for p in allow):
            continue
        if ignore is not None and any(fnmatchcase(path, p) for p in ignore):
            continue
        yield path


def scan_folder(
    folder: str | Path,
    *,
    allow_patterns: str | Iterable[str] | None = None,
    ignore_patterns: str | Iterable[str] | None = None,
) -> dict[str, Path]:
    """Every file under `folder` to upload, by its relative POSIX path, in sorted order.

    `.git/` and `.cache/huggingface/` are skipped without being walked.

    Raises:
        HFValidationError: `folder` is not a directory.
    """
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise HFValidationError(f"Provided path: {str(folder)!r} is not a directory")
    found: dict[str, Path] = {}
    for directory, subdirs, files in os.walk(root):
        relative_dir = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        subdirs[:] = [
            d
            for d in subdirs
            if d != ".git" and not (d == "huggingface" and Path(directory).name == ".cache")
        ]
        for name in files:
            if os.path.isfile(os.path.join(directory, name)):
                found[prefix + name] = Path(directory, name)
    ignored = [*DEFAULT_IGNORE_PATTERNS, *(_patterns(ignore_patterns) or [])]
    kept = filter_paths(sorted(found), allow_patterns=allow_patterns, ignore_patterns=ignored)
    return {path: found[path] for path in kept}


def validate_path_in_repo(path_in_repo: str) -> str:
    """A path in a repo, normalized (no leading `/` or `./`).

    Raises:
        HFValidationError: `.`, a `..` segment, or a path inside `.git/` or `.cache/`.
    """
    path = path_in_repo.removeprefix("/")
    parts = path.split("/")
    if path in ("", ".") or ".." in parts:
        raise HFValidationError(f"Invalid `path_in_repo` in CommitOperation: {path_in_repo!r}")
    path = path.removeprefix("./")
    for forbidden in FORBIDDEN_FOLDERS:
        if forbidden in path.split("/"):
            raise HFValidationError(
                f"Invalid `path_in_repo` in CommitOperation: cannot update files under a "
                f"'{forbidden}/' folder (path: {path_in_repo!r})"
            )
    return path


def validate_filename(filename: str) -> str:
    """`filename` if it is a relative path inside a repo, safe to join to a local folder.

    Raises:
        HFValidationError: an absolute path, a drive or a `..` segment (a hostile repo could
            otherwise write outside the cache or the local dir).
    """
    parts = filename.replace("\\", "/").split("/")
    if not filename or ".." in parts or PurePosixPath(filename).is_absolute():
        raise HFValidationError(f"Invalid filename {filename!r}: not a relative path in a repo")
    if any(_DRIVE.match(part) for part in parts):
        raise HFValidationError(f"Invalid filename {filename!r}: not a relative path in a repo")
    return filename
