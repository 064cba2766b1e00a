"""Reading a Xet file's bytes back from its xorbs, for plain HTTP, git-lfs and sha256 checks.

A file uploaded through Xet is stored once, as chunks in xorbs: the hub keeps no second copy
under its sha256. Whoever asks for it by sha256 (a resolve redirect, a git-lfs download, the
hubstead client) gets the bytes reconstructed as they are sent, one term at a time, each
chunk checked against the hash recorded when its xorb was verified.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from hubstead.server import errors
from hubstead.server.domain.xet import XetFileRecord, XorbRecord
from hubstead.server.storage.errors import BlobNotFoundError
from hubstead.server.storage.xet_index import XetIndex
from hubstead.server.storage.xorbs import XorbStore
from hubstead.xet.errors import XetFormatError
from hubstead.xet.xorb import parse_xorb


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
        records = self._index.xorbs(file.xorbs)
        missing = file.xorbs - records.keys()
        if missing:
            raise errors.StoreDamagedError(
                f"Xorb {min(missing)} of file {file.hash} is not recorded; run `hubstead fsck`"
            )
        return self.read_with(file, records, start, end)

    def read_with(
        self, file: XetFileRecord, records: Mapping[str, XorbRecord], start: int, end: int
    ) -> Iterator[bytes]:
        """`read`, with the records of the file's xorbs at hand (a file not recorded yet)."""
        offset = 0
        for term in file.terms:
            if offset > end:
                return
            if offset + term.size > start:
                pieces = self._term_bytes(
                    term.xorb, records[term.xorb], term.chunk_start, term.chunk_end
                )
                yield from _clip(pieces, offset, start, end)
            offset += term.size

    def _term_bytes(
        self, xorb: str, record: XorbRecord, chunk_start: int, chunk_end: int
    ) -> Iterator[bytes]:
        first = record.chunk_ends[chunk_start - 1] if chunk_start else 0
        try:
            data = self.xorbs.read(xorb, first, record.chunk_ends[chunk_end - 1])
            chunks = parse_xorb(data)
        except (XetFormatError, BlobNotFoundError) as exc:
            raise errors.StoreDamagedError(
                f"Stored xorb {xorb} is damaged ({exc}); run `hubstead fsck`"
            ) from None
        if [chunk.hash for chunk in chunks] != list(record.chunk_hashes[chunk_start:chunk_end]):
            raise errors.StoreDamagedError(
                f"Stored xorb {xorb} does not hold the chunks recorded for it; run `hubstead fsck`"
            )
        for chunk in chunks:
            yield chunk.data


def _clip(pieces: Iterator[bytes], offset: int, start: int, end: int) -> Iterator[bytes]:
    """The parts of `pieces` (which begin at file offset `offset`) within `[start, end]`."""
    for piece in pieces:
        piece_end = offset + len(piece)
        if piece_end > start and offset <= end:
            yield piece[max(0, start - offset) : end + 1 - offset]
        offset = piece_end
        if offset > end:
            return
