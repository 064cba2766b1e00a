"""The running sha256 of a multipart upload, hashed part by part as its contiguous prefix arrives.

Completion must know the object's sha256. Reading and hashing the whole data file then took
seconds per GiB on one core, after the transfer, while the client waited. Instead, once a part
is whole, the committing writer hashes it and every following whole part onto the hash of the
parts before it. This work overlaps the transfer of the later parts, and completion hashes only
what is left (usually nothing).

Parts have fixed places: part n starts where part n-1 ends (every caller numbers them so).
Two files in the upload's folder (see `multipart_fs`) keep the state, so that any process (the
workers of `serve --workers`) can continue it:

- `hashing` holds the state: the next part to hash, its offset, the sha256 context
  (`sha256_contexts`), the data file's inode and the boot id. Whoever reads or changes the
  state holds an exclusive `flock` on it.
- `writing-<n>`: every writer of part n holds a shared `flock` on it from its start to its end.
  The hash takes in part n only under an exclusive one, so never while the part is being written.

A state is used only when it is the hash of the bytes now in `data`. Otherwise completion hashes
from the start: the digest is right or recomputed, never wrong.
- A writer of part n, when it starts, drops a state that took in part n (it is being rewritten).
- A state from another boot is dropped: its parts' pages may have been lost in a crash, while
  the state was not.
- A state for another data file (inode), or that does not parse, is dropped.

Parts once hashed are dropped from the page cache (`POSIX_FADV_DONTNEED`), which starts their
writeback: a GiB of dirty pages does not pile up to stall the writers, and completion's fsync
has little left to write.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import json
import os
from pathlib import Path

from hubstead.server.storage.sha256_contexts import Sha256Context

STATE = "hashing"
READ_CHUNK = 8 * 1024 * 1024
_RECORD = 512  # bytes, written in one pwrite: a reader sees the old state or the new one
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclasses.dataclass
class _State:
    part: int  # the next part to take in
    offset: int  # where it starts: every byte before it was hashed
    context: Sha256Context


@functools.cache
def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return None


def _enabled() -> bool:
    """Whether states can be kept: libcrypto's context, and a boot id to tell a crash by."""
    return Sha256Context.supported() and _boot_id() is not None


def begin_part(folder: Path, number: int) -> int:
    """Mark part `number` as being written: its `writing-<n>` descriptor, to close at the end.

    The part's marker is removed (it counts again once whole) and a state that took the part
    in is dropped, both under the state's lock, so the hash never holds bytes since rewritten.
    """
    writing = _open_flocked(folder / f"writing-{number}", fcntl.LOCK_SH)
    try:
        state = _open_flocked(folder / STATE, fcntl.LOCK_EX)
        try:
            found = _load(state)
            if found is not None and found[0] > number:
                os.ftruncate(state, 0)
            (folder / str(number)).unlink(missing_ok=True)
        finally:
            os.close(state)
    except BaseException:
        os.close(writing)
        raise
    return writing


def advance(folder: Path, data: int, parts: dict[int, int]) -> None:
    """Take in the whole parts that follow the hashed prefix, one at a time.

    `data` is the upload's data file, open with a shared `flock`; `parts` the whole parts
    (number to size). A part being written, or gone meanwhile, stops the hash there: its writer
    continues when it commits.
    """
    if not _enabled():
        return
    buffer = bytearray(READ_CHUNK)
    while True:
        state = _open_flocked(folder / STATE, fcntl.LOCK_EX)
        try:
            current = _trusted(state, data) or _State(1, 0, Sha256Context())
            size = parts.get(current.part)
            if size is None or not _take_in(folder, data, current, size, buffer):
                return
            _save(state, data, current)
        finally:
            os.close(state)


def continued_digest(folder: Path, data: int) -> str | None:
    """The sha256 of the data file from the kept state, continued to the end; None if none.

    The caller holds an exclusive `flock` on `data`, so no part is being written; on None it
    hashes the file from the start.
    """
    if not _enabled():
        return None
    state = _open_flocked(folder / STATE, fcntl.LOCK_EX)
    try:
        current = _trusted(state, data)
        if current is None:
            return None
        _hash_range(data, current.context, current.offset, None, bytearray(READ_CHUNK))
        return current.context.hexdigest()
    finally:
        os.close(state)


def _take_in(folder: Path, data: int, state: _State, size: int, buffer: bytearray) -> bool:
    """Hash part `state.part` (`size` bytes) unless it is being written; whether it was."""
    writing = os.open(folder / f"writing-{state.part}", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(writing, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:  # rewritten since `parts` was read: its writer takes it in
            if int((folder / str(state.part)).read_text()) != size:
                return False
        except (FileNotFoundError, ValueError):
            return False
        if _hash_range(data, state.context, state.offset, size, buffer) != size:
            return False
        os.posix_fadvise(data, state.offset, size, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(writing)
    state.part += 1
    state.offset += size
    return True


def _hash_range(
    data: int, context: Sha256Context, offset: int, size: int | None, buffer: bytearray
) -> int:
    """Hash `size` bytes of `data` from `offset` (to the end if None); how many there were."""
    done = 0
    while size is None or done < size:
        wanted = len(buffer) if size is None else min(len(buffer), size - done)
        count = os.preadv(data, [memoryview(buffer)[:wanted]], offset + done)
        if count == 0:
            break
        context.update(buffer, count)
        done += count
    return done


def _load(state: int) -> tuple[int, int, str, str, int] | None:
    """The record in the state file: part, offset, context, boot id, inode; None if unreadable."""
    raw = os.pread(state, _RECORD, 0).rstrip(b"\0")
    try:
        record = json.loads(raw)
        return (
            int(record["part"]),
            int(record["offset"]),
            str(record["context"]),
            str(record["boot"]),
            int(record["inode"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def _trusted(state: int, data: int) -> _State | None:
    """The kept state, if it is of this data file and this boot (see the module doc)."""
    found = _load(state)
    if found is None:
        return None
    part, offset, context, boot, inode = found
    if boot != _boot_id() or inode != os.fstat(data).st_ino:
        return None
    try:
        return _State(part, offset, Sha256Context(bytes.fromhex(context)))
    except ValueError:
        return None


def _save(state: int, data: int, current: _State) -> None:
    record = {
        "part": current.part,
        "offset": current.offset,
        "context": current.context.saved().hex(),
        "boot": _boot_id(),
        "inode": os.fstat(data).st_ino,
    }
    os.pwrite(state, json.dumps(record).encode().ljust(_RECORD, b"\0"), 0)


def _open_flocked(path: Path, operation: int) -> int:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, operation)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor
