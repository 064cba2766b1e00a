"""What crashes leave in the git repos, and their collection: quarantines, temp files, garbage.

The `GitUpkeep` side of `git_pygit2.Pygit2GitStore`, on the repos' files. A `git receive-pack`
killed mid-push leaves its quarantine directory (`objects/incoming-*`, `objects/tmp_objdir-*`:
the whole pushed pack, hundreds of MiB for a model); an interrupted repack leaves
`objects/pack/tmp_*` or `.tmp-*` files; a killed server leaves its push work dirs in the store's
`.tmp/`; an aborted or lost commit leaves loose objects no ref reaches, as does history that
`super_squash_history` or a deleted branch dropped. None of them is ever read again. Everything
here spares what was written after `written_before`, so a push or a commit in progress keeps its
files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from hubstead.server.domain.upkeep import Leftover, LeftoverKind
from hubstead.server.storage import git_cli

_QUARANTINES = ("incoming-", "tmp_objdir-")
_PACK_TEMPS = ("tmp_", ".tmp-")


def leftovers(root: Path, temp: Path) -> Iterator[Leftover]:
    """Quarantines and temporary files in every repo under `root`, and the store's `temp`."""
    for entry in sorted(temp.iterdir()):
        yield from _leftover(root, entry, LeftoverKind.GIT_TEMP)
    for repo in sorted(root.glob("??/*.git")):
        objects = repo / "objects"
        with contextlib.suppress(FileNotFoundError):
            for entry in sorted(objects.iterdir()):
                if entry.name.startswith(_QUARANTINES):
                    yield from _leftover(root, entry, LeftoverKind.GIT_QUARANTINE)
            for entry in sorted((objects / "pack").iterdir()):
                if entry.name.startswith(_PACK_TEMPS):
                    yield from _leftover(root, entry, LeftoverKind.GIT_TEMP)


def _leftover(root: Path, path: Path, kind: LeftoverKind) -> Iterator[Leftover]:
    with contextlib.suppress(FileNotFoundError):
        size, newest = _usage(path)
        yield Leftover(kind, str(path.relative_to(root)), size, newest)


def remove_leftover(root: Path, leftover: Leftover, written_before: float) -> bool:
    """Delete a leftover unless something in it was written since `written_before`."""
    path = root / leftover.name
    if not path.resolve().is_relative_to(root.resolve()) or ".." in Path(leftover.name).parts:
        return False
    try:
        if _usage(path)[1] >= written_before:
            return False
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    return True


def unreachable(root: Path, repo: Path, written_before: float) -> Leftover | None:
    """The loose objects of `repo` that no ref reaches, written before `written_before`."""
    output = git_cli.run(repo, "prune", "--dry-run", f"--expire=@{int(written_before)}")
    size = 0
    newest = 0.0
    count = 0
    for line in output.splitlines():
        oid = line.split(" ", 1)[0]
        with contextlib.suppress(FileNotFoundError):
            found = (repo / "objects" / oid[:2] / oid[2:]).stat()
            size += found.st_blocks * 512
            newest = max(newest, found.st_mtime)
            count += 1
    if not count:
        return None
    name = f"{repo.relative_to(root)} ({count} unreachable objects)"
    return Leftover(LeftoverKind.GIT_UNREACHABLE, name, size, newest)


def collect(repo: Path, written_before: float) -> None:
    """Drop the objects no ref reaches (unless written since `written_before`), and repack.

    `git gc` repacks everything reachable into one pack and prunes the rest; reflogs, which
    would keep dropped history alive, expire at once (the hub keeps none on purpose).
    """
    git_cli.run(
        repo,
        "-c",
        "gc.reflogExpire=now",
        "-c",
        "gc.reflogExpireUnreachable=now",
        "-c",
        "gc.autoDetach=false",
        "gc",
        "--quiet",
        f"--prune=@{int(written_before)}",
    )


def _usage(path: Path) -> tuple[int, float]:
    """Bytes on disk under `path` and the newest mtime among it and its contents."""
    found = path.lstat()
    if not path.is_dir() or path.is_symlink():
        return found.st_blocks * 512, found.st_mtime
    size, newest = 0, found.st_mtime
    for folder, _dirs, files in os.walk(path):
        with contextlib.suppress(FileNotFoundError):
            newest = max(newest, os.stat(folder).st_mtime)
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                stat = os.lstat(os.path.join(folder, name))
                size += stat.st_blocks * 512
                newest = max(newest, stat.st_mtime)
    return size, newest
