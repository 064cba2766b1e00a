"""Compression bombs: a few KiB per MiB of zeros they inflate to, built in milliseconds.

A MiB of zeros is deflated once, ending on a full flush (byte-aligned, no reference to what came
before), so that copies of it concatenate into one valid stream of any length.
"""

from __future__ import annotations

import functools
import struct
import zlib

_MiB = 1024 * 1024


@functools.cache
def _segment() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(bytes(_MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)


def _deflated_zeros(mib: int) -> bytes:
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # an empty final block
    return _segment() * mib + last


def _crc32_of_zeros(mib: int) -> int:
    crc, block = 0, bytes(_MiB)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return crc


def gzip_zeros(mib: int) -> bytes:
    """A gzip body that inflates to `mib` MiB of zeros."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    size = mib * _MiB
    return header + _deflated_zeros(mib) + struct.pack("<II", _crc32_of_zeros(mib), size % 2**32)


def zlib_zeros(mib: int) -> bytes:
    """A zlib stream (as in git objects) that inflates to `mib` MiB of zeros."""
    # The Adler-32 of n zeros: a stays 1, b adds it n times.
    adler = (((mib * _MiB) % 65521) << 16) | 1
    return b"\x78\xda" + _deflated_zeros(mib) + struct.pack(">I", adler)
