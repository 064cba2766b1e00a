"""Many new blobs written as one git pack, instead of one loose object file each.

A commit of 1,000 small files written as loose objects costs 1,000 files, each through a
temporary file and a rename (and up to 256 fan-out folders): most of the hub's time in such a
commit. One pack and its index (version 2, what git and libgit2 read) hold them in two files.
Objects are stored whole (no deltas), compressed at zlib's fastest level as git compresses loose
objects; `git gc` repacks them with deltas later. The pack is renamed into place before its index
and git finds packs through their index, so no reader sees half a pack; an interrupted write
leaves `tmp_pack_*` files, which the upkeep collects as it does git's own.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

_BLOB = 3  # the object type of a blob in a pack entry's header
_COMPRESSION = 1  # zlib's fastest level, git's default for loose objects (core.looseCompression)
_INDEX_MAGIC = b"\377tOc"
# Index v2 holds offsets under 2 GiB in 4 bytes (larger ones in a table this writer never needs).
_MAX_PACK_BYTES = 0x8000_0000


def write_pack(objects: Path, blobs: Sequence[bytes]) -> list[str]:
    """Write `blobs` as one pack in the `objects` folder of a repo; return their ids, in order.

    A blob given twice is stored once.

    Raises:
        ValueError: the pack would reach 2 GiB.
        OSError: the pack could not be written (nothing is left in place but temporary files).
    """
    ids: list[bytes] = []
    unique: dict[bytes, bytes] = {}
    for data in blobs:
        digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
        digest.update(data)
        ids.append(digest.digest())
        unique.setdefault(ids[-1], data)
    oids = sorted(unique)
    pack = bytearray(b"PACK" + struct.pack(">II", 2, len(oids)))
    offsets: list[int] = []
    crcs: list[int] = []
    for oid in oids:
        data = unique[oid]
        entry = _entry_header(len(data)) + zlib.compress(data, _COMPRESSION)
        offsets.append(len(pack))
        crcs.append(zlib.crc32(entry))
        pack += entry
    if len(pack) >= _MAX_PACK_BYTES:
        raise ValueError(f"{len(oids)} blobs would make a pack of 2 GiB or more")
    checksum = hashlib.sha1(pack, usedforsecurity=False).digest()
    pack += checksum
    folder = objects / "pack"
    folder.mkdir(exist_ok=True)
    name = f"pack-{checksum.hex()}"
    _place(pack, folder / f"{name}.pack")
    _place(_index(oids, offsets, crcs, checksum), folder / f"{name}.idx")
    return [oid.hex() for oid in ids]


def _place(data: bytes | bytearray, path: Path) -> None:
    """Write `data` to a `tmp_pack_*` file beside `path`, then rename it into place."""
    handle, temp = tempfile.mkstemp(prefix="tmp_pack_", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, 0o444)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _entry_header(size: int) -> bytes:
    """A pack entry's type and size: 4 bits of size in the first byte, then 7 bits a byte."""
    header = bytearray([(_BLOB << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        header[-1] |= 0x80
        header.append(size & 0x7F)
        size >>= 7
    return bytes(header)


def _index(oids: Sequence[bytes], offsets: list[int], crcs: list[int], checksum: bytes) -> bytes:
    """The version 2 index of a pack holding `oids` (sorted) at `offsets`."""
    fanout = [0] * 256
    for oid in oids:
        fanout[oid[0]] += 1
    total = 0
    for first, count in enumerate(fanout):
        total += count
        fanout[first] = total
    body = b"".join(
        [
            _INDEX_MAGIC,
            struct.pack(">I", 2),
            struct.pack(">256I", *fanout),
            *oids,
            struct.pack(f">{len(oids)}I", *crcs),
            struct.pack(f">{len(offsets)}I", *offsets),
            checksum,
        ]
    )
    return body + hashlib.sha1(body, usedforsecurity=False).digest()
