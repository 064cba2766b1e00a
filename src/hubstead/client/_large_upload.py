"""`HfApi.upload_large_folder`'s work: a big folder in many commits, resumable.

What is known about each file is kept next to it, in
`<folder>/.cache/huggingface/upload/<path>.metadata`, in `huggingface_hub`'s format (so either
tool can resume the other's work): its size, sha256, upload mode, the oid at its path on the
hub, whether it is uploaded and committed, and when that was written. A file modified since
starts over.

The flow: scan → preupload (files whose mode is not known yet) → files already committed, or
identical on the hub, are done → LFS files are hashed and uploaded (the hub's batch answer skips
objects it already holds, and a partly uploaded multipart object resumes from its missing
parts) → commits of at most 100 files or 1 GiB of files, titled "Add files using
upload-large-folder tool", made as soon as enough files are ready while the rest keeps
uploading. On a failure, the uploads in flight end, what is ready is committed, the state is
saved and the error is raised: running the same call again resumes.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hubstead.client import _commits, models
from hubstead.client._http import HubSession
from hubstead.client._lfs_upload import LfsFile, LfsUploader, UploadCancelledError
from hubstead.client._upload_sources import UploadSource

COMMIT_MESSAGE = "Add files using upload-large-folder tool"
MAX_COMMIT_FILES = 100
MAX_COMMIT_BYTES = 1024**3
_UPLOAD_DIR = Path(".cache", "huggingface", "upload")


@dataclasses.dataclass
class FileState:
    """What is known about one file of the folder (None: not known yet)."""

    size: int
    timestamp: float | None = None
    should_ignore: bool | None = None
    sha256: str | None = None
    upload_mode: str | None = None
    remote_oid: str | None = None
    is_uploaded: bool = False
    is_committed: bool = False


@dataclasses.dataclass
class _Item:
    path_in_repo: str
    file: Path
    metadata: Path
    source: UploadSource
    state: FileState

    def save(self) -> None:
        """Write the state (to a temporary file first, so a crash never leaves half of it)."""
        self.state.timestamp = time.time()
        s = self.state
        lines = [
            str(s.timestamp),
            str(s.size),
            "" if s.should_ignore is None else str(int(s.should_ignore)),
            s.sha256 or "",
            s.upload_mode or "",
            s.remote_oid or "",
            str(int(s.is_uploaded)),
            str(int(s.is_committed)),
        ]
        self.metadata.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.metadata.with_name(f"{self.metadata.name}.{os.getpid()}.tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, self.metadata)


def read_state(file: Path, metadata: Path) -> FileState:
    """The saved state of `file`, or a fresh one if none is saved or the file changed since."""
    size = file.stat().st_size
    try:
        fields = metadata.read_text(encoding="utf-8").split("\n")
        state = FileState(
            timestamp=float(fields[0]),
            size=int(fields[1]),
            should_ignore=None if fields[2] == "" else bool(int(fields[2])),
            sha256=fields[3] or None,
            upload_mode=fields[4] or None,
            remote_oid=fields[5] or None,
            is_uploaded=bool(int(fields[6])),
            is_committed=bool(int(fields[7])),
        )
    except (OSError, ValueError, IndexError):
        return FileState(size=size)
    fresh = state.timestamp is not None and file.stat().st_mtime <= state.timestamp
    if not fresh or state.size != size or state.upload_mode not in (None, "regular", "lfs"):
        return FileState(size=size)
    return state


def upload_in_commits(
    session: HubSession,
    repo_id: str,
    root: Path,
    files: dict[str, Path],
    *,
    repo_type: str,
    branch: str,
    workers: int,
    report_every: int | None,
    progress_bars: bool,
) -> models.CommitInfo | None:
    """Upload and commit the files of `root` not committed yet (see the module doc).

    Args:
        session: the hub session (its token is used).
        repo_id: the repo, which exists, as does `branch`.
        root: the folder, where the state is kept.
        files: the files to upload, by path in the repo.
        repo_type: `model`, `dataset` or `space`.
        branch: the branch to commit to.
        workers: uploads at once.
        report_every: seconds between progress reports on stderr (None: no reports).
        progress_bars: draw a bar for the LFS uploads.

    Returns:
        The last commit made, or None when there was nothing left to commit.

    Raises:
        HfHubHTTPError: a step was refused; what was done is saved, and a new call resumes.
        httpx.TransportError: the hub could not be reached (same).
    """
    _keep_out_of_git(root / _UPLOAD_DIR.parent)
    items = []
    for path_in_repo, file in files.items():
        metadata = root / _UPLOAD_DIR / f"{path_in_repo}.metadata"
        state = read_state(file, metadata)
        items.append(_Item(path_in_repo, file, metadata, UploadSource(file), state))
    run = _Run(
        session,
        repo_id,
        repo_type,
        branch,
        items,
        workers=workers,
        report_every=report_every,
        progress_bars=progress_bars,
    )
    return run.start()


class _Run:
    """One call of `upload_large_folder`: its files, its uploads and its commits."""

    def __init__(
        self,
        session: HubSession,
        repo_id: str,
        repo_type: str,
        branch: str,
        items: list[_Item],
        *,
        workers: int,
        report_every: int | None,
        progress_bars: bool,
    ) -> None:
        self.session = session
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.branch = branch
        self.items = items
        self.workers = workers
        self.report_every = report_every
        self.progress_bars = progress_bars
        self.last: models.CommitInfo | None = None
        self.committed = sum(1 for i in items if i.state.is_committed)
        self._ready: queue.Queue[_Item | None] = queue.Queue()
        self._lfs: dict[int, LfsFile] = {}  # by id() of the item

    def start(self) -> models.CommitInfo | None:
        """Upload and commit everything not committed yet."""
        todo = [i for i in self.items if not i.state.is_committed]
        self._preupload([i for i in todo if i.state.upload_mode is None])
        todo = [i for i in todo if not i.state.should_ignore]
        for item in todo:
            if _lfs(item):
                self._lfs[id(item)] = LfsFile(item.path_in_repo, item.source, item.state.sha256)
            else:
                self._ready.put(item)
        item_of = {id(f): i for i in todo if (f := self._lfs.get(id(i))) is not None}
        uploader = LfsUploader(
            self.session,
            self.repo_id,
            repo_type=self.repo_type,
            revision=self.branch,
            num_workers=self.workers,
            progress_bars=self.progress_bars,
        )
        failure: list[BaseException] = []

        def upload() -> None:
            try:
                uploader.upload(list(self._lfs.values()), lambda f: self._ready.put(item_of[id(f)]))
            except BaseException as exc:
                failure.append(exc)
            finally:
                self._ready.put(None)

        thread = threading.Thread(target=upload, name="upload-large-folder", daemon=True)
        thread.start()
        try:
            self._commit_as_ready()
        except BaseException:
            uploader.cancel()
            raise
        finally:
            thread.join()
            for item in todo:
                file = self._lfs.get(id(item))
                if file is not None and file.sha256 and item.state.sha256 != file.sha256:
                    item.state.sha256 = file.sha256
                    item.save()
        if failure and not isinstance(failure[0], UploadCancelledError):
            raise failure[0]
        self._report(final=True)
        return self.last

    def _preupload(self, items: list[_Item]) -> None:
        modes = _commits.preupload(
            self.session,
            self.repo_id,
            [(i.path_in_repo, i.source) for i in items],
            repo_type=self.repo_type,
            revision=self.branch,
            token=None,
            create_pr=False,
        )
        for item, mode in zip(items, modes, strict=True):
            item.state.upload_mode = "lfs" if mode.lfs else "regular"
            item.state.should_ignore = mode.should_ignore
            item.state.remote_oid = mode.remote_oid
            item.save()

    def _commit_as_ready(self) -> None:
        """Commit files as they become ready, in batches, until the uploads end."""
        batch: list[_Item] = []
        weight = 0
        uploads_running = True
        last_report = time.monotonic()
        while uploads_running or batch:
            try:
                item = self._ready.get(timeout=1.0) if uploads_running else None
            except queue.Empty:
                item = None
            else:
                uploads_running = uploads_running and item is not None
            if item is not None and not self._unchanged(item):
                batch.append(item)
                weight += item.state.size
            full = len(batch) >= MAX_COMMIT_FILES or weight >= MAX_COMMIT_BYTES
            if batch and (full or not uploads_running):
                self._commit(batch)
                batch, weight = [], 0
            if self.report_every and time.monotonic() - last_report >= self.report_every:
                self._report()
                last_report = time.monotonic()

    def _unchanged(self, item: _Item) -> bool:
        """Mark an item whose content is already at its path as committed (True), else False."""
        state = item.state
        file = self._lfs.get(id(item))
        if file is not None:
            state.sha256, state.is_uploaded = file.sha256, True
            local = file.sha256
        else:
            local = item.source.git_sha1() if state.remote_oid else None
        if state.remote_oid is not None and local == state.remote_oid:
            state.is_committed = True
            self.committed += 1
        item.save()
        return state.is_committed

    def _commit(self, batch: list[_Item]) -> None:
        self.last = _commits.post_commit(
            self.session,
            self.repo_id,
            (_line(item) for item in batch),  # inline content is read as it is sent
            repo_type=self.repo_type,
            revision=self.branch,
            commit_message=COMMIT_MESSAGE,
            commit_description=None,
            parent_commit=None,
            token=None,
            create_pr=False,
        )
        for item in batch:
            item.state.is_committed = True
            item.save()
        self.committed += len(batch)

    def _report(self, *, final: bool = False) -> None:
        if self.report_every is None:
            return
        total = len(self.items)
        status = "done" if final else "in progress"
        sys.stderr.write(
            f"upload-large-folder {status}: {self.committed}/{total} files committed\n"
        )


def _keep_out_of_git(directory: Path) -> None:
    """Make git (and `git add .`) ignore the upload state kept in the folder."""
    directory.mkdir(parents=True, exist_ok=True)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n", encoding="utf-8")


def _lfs(item: _Item) -> bool:
    return item.state.upload_mode == "lfs" and item.source.size > 0


def _line(item: _Item) -> dict[str, Any]:
    if _lfs(item):
        assert item.state.sha256 is not None
        return _commits.lfs_line(item.path_in_repo, item.state.sha256, item.state.size)
    return _commits.file_line(item.path_in_repo, item.source)
