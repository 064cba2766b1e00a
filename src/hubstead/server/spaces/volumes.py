"""The local runner's volumes: one read-only tree of files per volume of a run, and where it goes.

The files of every tree are hard links to one copy of each content, kept under `content/` by
its address (`VolumeFile.address`): a model mounted by ten Spaces is on disk once, and a file
that did not change between two commits of a volume is not read again. A content is read from
the hub (its blob or Xet store, through `AppVolume.read`) the first time a tree needs it, and
removed once no tree links to it. A tree is `runs/<run>/<n>/`, made when a run starts and
removed when it ends.

Everything here is root's: `volumes/` is mode 0700, so no app user can reach a tree or a
content by its path on this machine, not even its own; each app sees its trees only where the
launcher bind-mounts them, read-only, in the app's own mount namespace (`launcher.py`). The
files are 0444 and the folders 0755, so the app reads them there and can change nothing.

`mount_point` decides where a volume may go on this machine: an existing folder reached
without symbolic links through folders only root may change, or a missing top-level one
(`/data`), made empty (root's, 0755) for every app to mount onto; never the system's folders
nor the hub's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from hubstead.server.services.spaces.runner import AppVolume, SpaceRunError, VolumeFile

_LOCK = "space-volumes"
"""Held while trees are made or contents pruned: a content is never pruned while linked to."""

SYSTEM_DIRS = tuple(
    Path(name)
    for name in (
        "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
        "/root", "/run", "/sbin", "/sys", "/usr", "/var",
    )
)  # fmt: skip
"""What an app needs of the machine (its Python, its libraries, /proc): never mounted over."""


def mount_point(mount_path: str, reserved: Sequence[Path]) -> Path:
    """The folder of this machine `mount_path` names, made when it is a missing top-level one.

    `reserved` are the hub's folders (its data dir, the runner's, the environments').

    Raises:
        SpaceRunError: the path is, holds or is inside a system or hub folder, goes through a
            symbolic link, is not a folder, or is missing below the top level.
    """
    path = Path(mount_path)
    refused = f"A volume cannot be mounted at {mount_path}"
    for taken in (*SYSTEM_DIRS, *(Path(os.path.realpath(p)) for p in reserved)):
        if path == taken or taken in path.parents or path in taken.parents:
            raise SpaceRunError(
                f"{refused}: it is, holds or is inside {taken}, which apps get as it is; "
                "choose another path"
            )
    if os.path.realpath(path) != str(path):
        raise SpaceRunError(f"{refused}: it goes through a symbolic link on the hub's machine")
    for folder in (path, *path.parents):
        # The launcher mounts as root: no one else may swap a folder of the path for a link.
        with contextlib.suppress(FileNotFoundError):
            status = folder.stat()
            if status.st_uid != 0 or status.st_mode & 0o022:
                raise SpaceRunError(f"{refused}: users other than root may change {folder}")
    if path.parent == Path("/") and not path.exists():
        with contextlib.suppress(FileExistsError):
            _folder(path)
    if not path.exists():
        raise SpaceRunError(
            f"{refused}: it does not exist on the hub's machine (only a missing top-level "
            "folder, such as /data, is made for a volume)"
        )
    if not path.is_dir():
        raise SpaceRunError(f"{refused}: it is not a folder on the hub's machine")
    return path


class VolumeTrees:
    """The trees of the volumes of runs, under `root`, their contents shared by hard links."""

    def __init__(self, root: Path, hold: Callable[[str], AbstractContextManager[None]]) -> None:
        self._root = root
        self._content = root / "content"
        self._runs = root / "runs"
        self._scratch = root / "scratch"
        self._hold = hold

    def make(self, run: str, volumes: Sequence[AppVolume]) -> list[Path]:
        """A tree of each volume's files for the run `run`, in the order of `volumes`.

        Raises:
            SpaceRunError: a file's content could not be read in full.
        """
        trees = []
        with self._hold(_LOCK):
            self._prepare()
            run_dir = self._runs / run
            run_dir.mkdir(mode=0o700)
            for index, volume in enumerate(volumes):
                tree = run_dir / str(index)
                _folder(tree)
                for file in volume.files:
                    target = Path(os.path.normpath(tree / file.path))
                    if tree not in target.parents:
                        raise SpaceRunError(f"The file {file.path!r} is outside {volume.name}")
                    for parent in reversed(target.parents):
                        if tree in parent.parents and not parent.is_dir():
                            _folder(parent)
                    _link(self._stored(volume, file), target)
                trees.append(tree)
        return trees

    def remove(self, run: str) -> None:
        """Remove the trees of `run`, then every content no tree links to any more."""
        with self._hold(_LOCK):
            shutil.rmtree(self._runs / run, ignore_errors=True)
            for parent, _, names in os.walk(self._content):
                for name in names:
                    path = os.path.join(parent, name)
                    if os.lstat(path).st_nlink == 1:
                        os.unlink(path)

    def leftovers(self, prefix: str) -> list[str]:
        """The runs whose name starts with `prefix` (those of an app's earlier starts)."""
        return [run.name for run in self._runs.glob(f"{prefix}*")]

    def _prepare(self) -> None:
        """Make the folders, at the first tree (the runner's folder exists by then)."""
        self._root.mkdir(mode=0o700, exist_ok=True)
        self._root.chmod(0o700)
        for folder in (self._content, self._runs, self._scratch):
            folder.mkdir(mode=0o700, exist_ok=True)

    def _stored(self, volume: AppVolume, file: VolumeFile) -> Path:
        """The content of `file`, read from the hub unless it is stored already."""
        path = self._content / file.address[-2:] / file.address
        if path.exists():
            return path
        path.parent.mkdir(mode=0o700, exist_ok=True)
        descriptor, scratch = tempfile.mkstemp(dir=self._scratch)
        try:
            with os.fdopen(descriptor, "wb") as out:
                for piece in volume.read(file):
                    out.write(piece)
                written = out.tell()
            if written != file.size:
                raise SpaceRunError(
                    f"The content of {file.path} of {volume.name} has {written} bytes, "
                    f"not {file.size}"
                )
            os.chmod(scratch, 0o444)
            os.replace(scratch, path)
        finally:
            if os.path.exists(scratch):
                os.unlink(scratch)
        return path


def _link(stored: Path, target: Path) -> None:
    """Link `target` to a stored content; copy it when it has as many links as it may have."""
    try:
        os.link(stored, target)
    except OSError as exc:
        if exc.errno != errno.EMLINK:
            raise
        shutil.copyfile(stored, target)
        target.chmod(0o444)


def _folder(path: Path) -> None:
    path.mkdir(mode=0o755)
    path.chmod(0o755)  # whatever the hub's umask
