"""A Xet file's bytes and reconstruction plans, from its record and its xorbs' layouts.

A file uploaded through Xet is stored once, as chunks in xorbs: the hub keeps no second copy
under its sha256. Whoever asks for it by sha256 (a resolve redirect, a git-lfs download, the
hubstead client) gets the bytes reconstructed as they are sent, one term at a time; an Xet
client gets a plan (`hubstead.xet.reconstruction`) and fetches the xorb ranges itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from hubstead.server import errors
from hubstead.server.domain.xet import XetFileRecord, XorbRecord
from hubstead.server.storage.errors import BlobNotFoundError
from hubstead.server.storage.xet_index import XetIndex
from hubstead.server.storage.xorbs import XorbStore
from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import hash_from_hex, hash_to_hex
from hubstead.xet.reconstruction import Plan, plan, read_window
from hubstead.xet.shard import FileSegment
from hubstead.xet.xorb import XorbLayout

_BLOCK = 1024 * 1024


class XetContent:
    """The bytes of the files the hub holds as xorbs."""

    def __init__(self, xorbs: XorbStore, index: XetIndex) -> None:
        self.xorbs = xorbs
        self._index = index

    def read(self, file: XetFileRecord, start: int, end: int) -> Iterator[bytes]:
        """Bytes `start` to `end` (inclusive) of a recorded file.

        Raises:
            StoreDamagedError: a xorb is missing or does not read back as recorded.
        """
        return self.read_with(file, self._records(file, start, end), start, end)

    def read_with(
        self, file: XetFileRecord, records: Mapping[str, XorbRecord], start: int, end: int
    ) -> Iterator[bytes]:
        """`read`, with the records of the file's xorbs at hand (a file not recorded yet)."""
        layouts = {hash_from_hex(key): _layout(record) for key, record in records.items()}
        pieces = read_window(_segments(file), layouts, self._read_xorb, start, end)
        try:
            yield from _blocks(pieces)
        except XetFormatError as exc:
            raise errors.StoreDamagedError(
                f"A xorb of file {file.hash} does not read back as recorded ({exc}); "
                "run `hubstead fsck`"
            ) from None

    def plan(self, file: XetFileRecord, start: int, end: int) -> Plan:
        """The terms and xorb ranges that make bytes `start..end` (inclusive) of the file.

        Raises:
            WindowPastEndError: `start` is at or past the end of the file.
            StoreDamagedError: a xorb of the file is not recorded.
        """
        records = self._records(file, start, end)
        layouts = {hash_from_hex(key): _layout(record) for key, record in records.items()}
        try:
            return plan(_segments(file), layouts, start, end)
        except XetFormatError as exc:
            raise errors.StoreDamagedError(
                f"File {file.hash} does not match its xorbs' records ({exc}); run `hubstead fsck`"
            ) from None

    def _records(self, file: XetFileRecord, start: int, end: int) -> dict[str, XorbRecord]:
        """The records of the xorbs that bytes `start..end` of the file come from.

        Only those: a window of a large file needs a few of its xorbs' chunk lists, not all.
        """
        wanted: set[str] = set()
        position = 0
        for term in file.terms:
            if position > end:
                break
            if position + term.size > start:
                wanted.add(term.xorb)
            position += term.size
        records = self._index.xorbs(wanted)
        missing = wanted - records.keys()
        if missing:
            raise errors.StoreDamagedError(
                f"Xorb {min(missing)} of file {file.hash} is not recorded; run `hubstead fsck`"
            )
        return records

    def _read_xorb(self, xorb: bytes, start: int, end: int) -> bytes:
        key = hash_to_hex(xorb)
        try:
            return self.xorbs.read(key, start, end)
        except BlobNotFoundError:
            raise errors.StoreDamagedError(
                f"Xorb {key} is recorded but not stored; run `hubstead fsck`"
            ) from None


def _blocks(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The same bytes in blocks of at least `_BLOCK` (but the last): one write per block.

    A file comes back a chunk (about 64 KiB) at a time; sent as is, each would cost a message
    through the server, as many as 16,000 a GiB.
    """
    pending: list[bytes] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= _BLOCK:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _layout(record: XorbRecord) -> XorbLayout:
    return XorbLayout(hash_from_hex(record.hash), record.chunk_ends, record.chunk_sizes)


def _segments(file: XetFileRecord) -> tuple[FileSegment, ...]:
    return tuple(
        FileSegment(hash_from_hex(t.xorb), t.size, t.chunk_start, t.chunk_end) for t in file.terms
    )
