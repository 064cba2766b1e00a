"""The Xet shard (MDB) format: parse and serialize file reconstructions and xorb chunk lists.

A shard is a 48-byte header, a file-info section, a CAS-info (xorb) section, each closed by a
bookend entry, then, on stored shards and global-dedup answers only, three lookup tables and a
200-byte footer. Uploaded shards carry no footer. The layout follows hub-docs `docs/xet/shard.md`;
the footer, which that page calls a reserved buffer, follows xet-core
`xet_core_structures/src/metadata_shard/shard_format.rs` (lookup tables of truncated hashes, stored
and materialized byte counts).

Parsing is bounded: every count and offset is checked against the bytes present before anything
is allocated for it, and every inconsistency raises `XetFormatError` naming the offset. Hashes are
32 raw bytes, in the order they appear on the wire.

Two things do not survive a parse: reserved bytes are read past (and written as zeros), and lookup
table rows with equal keys are rewritten in section order, which is what xet-core writes unless two
chunks of one shard share their first 8 bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import HASH_SIZE

# The largest shard a CAS accepts: clients cut shards at 64 MiB (xet-core
# `MDB_SHARD_TARGET_SIZE`), and one file's entry can take them past it.
MAX_SHARD_SIZE = 128 * 1024 * 1024
ENTRY_SIZE = 48
HEADER_SIZE = 48
FOOTER_SIZE = 200
HEADER_VERSION = 2
FOOTER_VERSION = 1
HEADER_TAG = b"HFRepoMetaData\x00" + bytes(
    [85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
FLAG_WITH_VERIFICATION = 1 << 31
FLAG_WITH_METADATA_EXT = 1 << 30
NO_EXPIRY = 2**64 - 1

_BOOKEND_HASH = b"\xff" * HASH_SIZE
_BOOKEND = _BOOKEND_HASH + bytes(ENTRY_SIZE - HASH_SIZE)
_ZERO_KEY = bytes(HASH_SIZE)
_KNOWN_FILE_FLAGS = FLAG_WITH_VERIFICATION | FLAG_WITH_METADATA_EXT
# An entry is a hash and four little-endian u32s (a file header: flags, count, a u64 unused).
_ENTRY = struct.Struct("<32sIIII")
_HEADER = struct.Struct("<32sQQ")
_FOOTER = struct.Struct("<9Q32sQQ48x4Q")
_LOOKUP = struct.Struct("<QI")
_CHUNK_LOOKUP = struct.Struct("<QII")
_U32_MAX = 2**32 - 1
_U64_MAX = 2**64 - 1


@dataclass(frozen=True)
class FileSegment:
    """One term of a file: the chunks `[chunk_index_start, chunk_index_end)` of one xorb."""

    cas_hash: bytes
    unpacked_bytes: int
    chunk_index_start: int
    chunk_index_end: int
    cas_flags: int = 0


@dataclass(frozen=True)
class FileInfo:
    """A file's reconstruction: its terms, their verification hashes and the file's sha256.

    `verification` holds one range hash per segment, or is None when the shard has none;
    `sha256` is the metadata extension, or None when absent.
    """

    file_hash: bytes
    segments: tuple[FileSegment, ...]
    verification: tuple[bytes, ...] | None = None
    sha256: bytes | None = None

    @property
    def size(self) -> int:
        """The file's length: the sum of its terms' unpacked bytes."""
        return sum(segment.unpacked_bytes for segment in self.segments)


@dataclass(frozen=True)
class CasChunk:
    """One chunk of a xorb: its hash, where it starts, and its unpacked length.

    `byte_range_start` counts unpacked bytes (the lengths of the chunks before it), not bytes
    of the serialized xorb, as hf_xet writes it.
    """

    chunk_hash: bytes
    byte_range_start: int
    unpacked_bytes: int
    flags: int = 0


@dataclass(frozen=True)
class CasInfo:
    """A xorb: its hash, its chunks in order, their total raw size and its serialized size."""

    cas_hash: bytes
    chunks: tuple[CasChunk, ...]
    num_bytes_in_cas: int
    num_bytes_on_disk: int
    cas_flags: int = 0


@dataclass(frozen=True)
class ShardFooter:
    """The footer of a stored shard or a global-dedup answer (offsets are derived, not kept).

    `lookup_tables` False writes empty lookup tables, as hf_xet's local CAS stores uploaded
    shards; a global-dedup answer needs them. A shard with no files and no xorbs always reads
    back with `lookup_tables` True (its tables are empty either way). A non-zero
    `chunk_hash_hmac_key` means the chunk hashes in the CAS-info section are keyed.
    """

    creation_timestamp: int = 0
    key_expiry: int = NO_EXPIRY
    chunk_hash_hmac_key: bytes = _ZERO_KEY
    stored_bytes_on_disk: int = 0
    materialized_bytes: int = 0
    stored_bytes: int = 0
    lookup_tables: bool = True


@dataclass(frozen=True)
class Shard:
    """A whole shard; `footer` is None for the upload form, which carries no footer."""

    files: tuple[FileInfo, ...]
    xorbs: tuple[CasInfo, ...]
    footer: ShardFooter | None = None


def footer_for(
    files: tuple[FileInfo, ...],
    xorbs: tuple[CasInfo, ...],
    *,
    creation_timestamp: int,
    key_expiry: int = NO_EXPIRY,
    chunk_hash_hmac_key: bytes = _ZERO_KEY,
) -> ShardFooter:
    """A footer with lookup tables and the byte totals xet-core computes for these sections.

    A non-zero `chunk_hash_hmac_key` is only recorded: the xorbs' chunk hashes must already be
    keyed with it.
    """
    return ShardFooter(
        creation_timestamp=creation_timestamp,
        key_expiry=key_expiry,
        chunk_hash_hmac_key=chunk_hash_hmac_key,
        stored_bytes_on_disk=sum(xorb.num_bytes_on_disk for xorb in xorbs),
        materialized_bytes=sum(file.size for file in files),
        stored_bytes=sum(xorb.num_bytes_in_cas for xorb in xorbs),
    )


def serialize_shard(shard: Shard) -> bytes:
    """The shard's bytes; with a footer, also its lookup tables (what hf_xet's reader expects).

    Raises:
        XetFormatError: a hash is not 32 bytes, a number does not fit its field, verification
            hashes do not match the segments one to one, or only some files carry them.
    """
    if len({file.verification is None for file in shard.files}) > 1:
        raise XetFormatError(
            "some files have verification entries and some do not; all or none must"
        )
    out = bytearray(_HEADER.pack(HEADER_TAG, HEADER_VERSION, FOOTER_SIZE if shard.footer else 0))
    for file in shard.files:
        _write_file(out, file)
    out += _BOOKEND
    xorb_info_offset = len(out)
    for xorb in shard.xorbs:
        _write_xorb(out, xorb)
    out += _BOOKEND
    footer = shard.footer
    if footer is None:
        return bytes(out)
    tables = _lookup_tables(shard) if footer.lookup_tables else ([], [], [])
    offsets = []
    for table, row in zip(tables, (_LOOKUP, _LOOKUP, _CHUNK_LOOKUP), strict=True):
        offsets.append(len(out))
        for values in table:
            out += row.pack(*values)
    _check_length(footer.chunk_hash_hmac_key, "the footer's HMAC key")
    try:
        out += _FOOTER.pack(
            FOOTER_VERSION,
            HEADER_SIZE,
            xorb_info_offset,
            offsets[0],
            len(tables[0]),
            offsets[1],
            len(tables[1]),
            offsets[2],
            len(tables[2]),
            footer.chunk_hash_hmac_key,
            footer.creation_timestamp,
            footer.key_expiry,
            footer.stored_bytes_on_disk,
            footer.materialized_bytes,
            footer.stored_bytes,
            len(out),
        )
    except struct.error as exc:
        raise XetFormatError(f"shard footer: a value does not fit in a u64 ({exc})") from None
    return bytes(out)


def parse_shard(data: bytes) -> Shard:
    """Parse a shard, with or without its footer.

    Raises:
        XetFormatError: the bytes are not a shard: wrong tag or version, a count or offset that
            points past the data, a missing bookend, trailing bytes, or lookup tables that do not
            index the sections they follow.
    """
    view = memoryview(data)
    if len(view) < HEADER_SIZE:
        raise XetFormatError(f"shard header: {len(view)} bytes, a header needs {HEADER_SIZE}")
    tag, version, footer_size = _HEADER.unpack_from(view, 0)
    if tag != HEADER_TAG:
        raise XetFormatError("shard header at offset 0: wrong tag, not a Xet shard")
    if version != HEADER_VERSION:
        raise XetFormatError(f"shard header at offset 32: version {version}, expected 2")
    if footer_size not in (0, FOOTER_SIZE):
        raise XetFormatError(
            f"shard header at offset 40: footer size {footer_size}, expected 0 or {FOOTER_SIZE}"
        )
    end = len(view) - footer_size
    if end < HEADER_SIZE:
        raise XetFormatError(
            f"shard header at offset 40: declares a {footer_size}-byte footer, "
            f"but the shard is only {len(view)} bytes"
        )
    files, pos = _read_files(view, HEADER_SIZE, end)
    xorb_info_offset = pos
    xorbs, pos = _read_xorbs(view, pos, end)
    if footer_size == 0:
        if pos != end:
            raise XetFormatError(f"shard: {end - pos} bytes after the CAS-info bookend at {pos}")
        return Shard(files=files, xorbs=xorbs)
    shard = Shard(files=files, xorbs=xorbs)
    footer = _read_footer(view, end, xorb_info_offset, pos, shard)
    return Shard(files=files, xorbs=xorbs, footer=footer)


def _write_file(out: bytearray, file: FileInfo) -> None:
    _check_hash(file.file_hash, "a file hash")
    flags = (FLAG_WITH_VERIFICATION if file.verification is not None else 0) | (
        FLAG_WITH_METADATA_EXT if file.sha256 is not None else 0
    )
    _pack_entry(out, file.file_hash, flags, len(file.segments), 0, 0)
    for segment in file.segments:
        _check_hash(segment.cas_hash, "a segment's xorb hash")
        _pack_entry(
            out,
            segment.cas_hash,
            segment.cas_flags,
            segment.unpacked_bytes,
            segment.chunk_index_start,
            segment.chunk_index_end,
        )
    if file.verification is not None:
        if len(file.verification) != len(file.segments):
            raise XetFormatError(
                f"file {file.file_hash.hex()}: {len(file.verification)} verification hashes "
                f"for {len(file.segments)} segments"
            )
        for range_hash in file.verification:
            _check_hash(range_hash, "a verification hash")
            out += range_hash + bytes(ENTRY_SIZE - HASH_SIZE)
    if file.sha256 is not None:
        _check_hash(file.sha256, "a file's sha256")
        out += file.sha256 + bytes(ENTRY_SIZE - HASH_SIZE)


def _write_xorb(out: bytearray, xorb: CasInfo) -> None:
    _check_hash(xorb.cas_hash, "a xorb hash")
    _pack_entry(
        out,
        xorb.cas_hash,
        xorb.cas_flags,
        len(xorb.chunks),
        xorb.num_bytes_in_cas,
        xorb.num_bytes_on_disk,
    )
    for chunk in xorb.chunks:
        _check_hash(chunk.chunk_hash, "a chunk hash")
        _pack_entry(
            out, chunk.chunk_hash, chunk.byte_range_start, chunk.unpacked_bytes, chunk.flags, 0
        )


def _pack_entry(out: bytearray, hash_: bytes, *numbers: int) -> None:
    if any(not 0 <= number <= _U32_MAX for number in numbers):
        raise XetFormatError(f"entry for {hash_.hex()}: a value does not fit in a u32: {numbers}")
    out += _ENTRY.pack(hash_, *numbers)


def _check_length(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise XetFormatError(f"{what} is {len(value)} bytes, a hash is {HASH_SIZE}")


def _check_hash(value: bytes, what: str) -> None:
    _check_length(value, what)
    if value == _BOOKEND_HASH:
        raise XetFormatError(f"{what} is all 0xFF, which marks a section's end")


def _need_entries(pos: int, end: int, entries: int, what: str) -> None:
    if entries > (end - pos) // ENTRY_SIZE:
        raise XetFormatError(
            f"{what} at offset {pos}: needs {entries} entries of {ENTRY_SIZE} bytes, "
            f"but only {max(end - pos, 0)} bytes remain before offset {end}"
        )


def _read_files(view: memoryview, pos: int, end: int) -> tuple[tuple[FileInfo, ...], int]:
    files: list[FileInfo] = []
    while True:
        _need_entries(pos, end, 1, "file-info section (missing bookend?)")
        file_hash, flags, count, _, _ = _ENTRY.unpack_from(view, pos)
        if file_hash == _BOOKEND_HASH:
            return tuple(files), pos + ENTRY_SIZE
        if flags & ~_KNOWN_FILE_FLAGS:
            raise XetFormatError(f"file-info header at offset {pos}: unknown flags {flags:#010x}")
        verified = bool(flags & FLAG_WITH_VERIFICATION)
        has_ext = bool(flags & FLAG_WITH_METADATA_EXT)
        entries = 1 + count * (2 if verified else 1) + has_ext
        _need_entries(pos, end, entries, f"file-info header declaring {count} terms")
        header_pos = pos
        pos += ENTRY_SIZE
        segments = []
        for _ in range(count):
            cas_hash, cas_flags, unpacked, start, stop = _ENTRY.unpack_from(view, pos)
            if start > stop:
                raise XetFormatError(
                    f"file segment at offset {pos}: chunk range [{start}, {stop}) is backwards"
                )
            segments.append(FileSegment(cas_hash, unpacked, start, stop, cas_flags))
            pos += ENTRY_SIZE
        verification = None
        if verified:
            verification = tuple(
                bytes(view[pos + i * ENTRY_SIZE : pos + i * ENTRY_SIZE + HASH_SIZE])
                for i in range(count)
            )
            pos += count * ENTRY_SIZE
        sha256 = None
        if has_ext:
            sha256 = bytes(view[pos : pos + HASH_SIZE])
            pos += ENTRY_SIZE
        if files and (files[0].verification is None) != (verification is None):
            raise XetFormatError(
                f"file-info header at offset {header_pos}: verification entries on some files "
                "but not others; all or none must have them"
            )
        files.append(FileInfo(file_hash, tuple(segments), verification, sha256))


def _read_xorbs(view: memoryview, pos: int, end: int) -> tuple[tuple[CasInfo, ...], int]:
    xorbs: list[CasInfo] = []
    while True:
        _need_entries(pos, end, 1, "CAS-info section (missing bookend?)")
        cas_hash, cas_flags, count, in_cas, on_disk = _ENTRY.unpack_from(view, pos)
        if cas_hash == _BOOKEND_HASH:
            return tuple(xorbs), pos + ENTRY_SIZE
        _need_entries(pos, end, 1 + count, f"CAS-info header declaring {count} chunks")
        pos += ENTRY_SIZE
        chunks = []
        for _ in range(count):
            chunk_hash, start, unpacked, flags, _ = _ENTRY.unpack_from(view, pos)
            chunks.append(CasChunk(chunk_hash, start, unpacked, flags))
            pos += ENTRY_SIZE
        xorbs.append(CasInfo(cas_hash, tuple(chunks), in_cas, on_disk, cas_flags))


def _read_footer(
    view: memoryview, footer_offset: int, xorb_info_offset: int, tables_offset: int, shard: Shard
) -> ShardFooter:
    (
        version,
        file_info_offset,
        declared_xorb_info_offset,
        file_lookup_offset,
        file_lookup_count,
        xorb_lookup_offset,
        xorb_lookup_count,
        chunk_lookup_offset,
        chunk_lookup_count,
        hmac_key,
        created,
        expiry,
        stored_on_disk,
        materialized,
        stored,
        declared_footer_offset,
    ) = _FOOTER.unpack_from(view, footer_offset)
    where = f"shard footer at offset {footer_offset}"
    if version != FOOTER_VERSION:
        raise XetFormatError(f"{where}: version {version}, expected {FOOTER_VERSION}")
    expected = {
        "file-info offset": (file_info_offset, HEADER_SIZE),
        "CAS-info offset": (declared_xorb_info_offset, xorb_info_offset),
        "footer offset": (declared_footer_offset, footer_offset),
    }
    for name, (declared, actual) in expected.items():
        if declared != actual:
            raise XetFormatError(f"{where}: {name} is {declared}, the section is at {actual}")
    # With no files and no xorbs, empty tables are both forms; read them as present.
    lookup_tables = file_lookup_count + xorb_lookup_count + chunk_lookup_count > 0 or not (
        shard.files or shard.xorbs
    )
    tables = _lookup_tables(shard) if lookup_tables else ([], [], [])
    pos = tables_offset
    for name, declared_offset, count, row, table in (
        ("file lookup", file_lookup_offset, file_lookup_count, _LOOKUP, tables[0]),
        ("xorb lookup", xorb_lookup_offset, xorb_lookup_count, _LOOKUP, tables[1]),
        ("chunk lookup", chunk_lookup_offset, chunk_lookup_count, _CHUNK_LOOKUP, tables[2]),
    ):
        if declared_offset != pos:
            raise XetFormatError(f"{where}: {name} table offset {declared_offset}, expected {pos}")
        if count != len(table):
            raise XetFormatError(
                f"{where}: {name} table declares {count} entries, the sections hold {len(table)}"
            )
        if count * row.size > footer_offset - pos:
            raise XetFormatError(f"{where}: the {name} table at {pos} runs into the footer")
        found = [tuple(row.unpack_from(view, pos + i * row.size)) for i in range(count)]
        keys = [entry[0] for entry in found]
        if keys != sorted(keys) or sorted(found) != sorted(table):
            raise XetFormatError(f"{where}: the {name} table at {pos} does not index the sections")
        pos += count * row.size
    if pos != footer_offset:
        raise XetFormatError(f"{where}: {footer_offset - pos} unexpected bytes at offset {pos}")
    return ShardFooter(
        creation_timestamp=created,
        key_expiry=expiry,
        chunk_hash_hmac_key=hmac_key,
        stored_bytes_on_disk=stored_on_disk,
        materialized_bytes=materialized,
        stored_bytes=stored,
        lookup_tables=lookup_tables,
    )


_Table = list[tuple[int, ...]]


def _lookup_tables(shard: Shard) -> tuple[_Table, _Table, _Table]:
    """The three lookup tables xet-core writes: truncated hash to entry index, sorted by key.

    A truncated hash is the hash's first 8 bytes as a little-endian u64. An index counts 48-byte
    entries from the start of its section; the chunk table also gives the chunk's position in
    its xorb. Sorting is stable, so equal keys stay in section order.
    """
    files_table: _Table = []
    index = 0
    for file in shard.files:
        files_table.append((_truncate(file.file_hash), index))
        index += 1 + len(file.segments) * (2 if file.verification is not None else 1)
        index += file.sha256 is not None
    xorbs_table: _Table = []
    chunks_table: _Table = []
    index = 0
    for xorb in shard.xorbs:
        xorbs_table.append((_truncate(xorb.cas_hash), index))
        for position, chunk in enumerate(xorb.chunks):
            chunks_table.append((_truncate(chunk.chunk_hash), index, position))
        index += 1 + len(xorb.chunks)
    return (
        sorted(files_table, key=lambda entry: entry[0]),
        sorted(xorbs_table, key=lambda entry: entry[0]),
        sorted(chunks_table, key=lambda entry: entry[0]),
    )


def _truncate(hash_: bytes) -> int:
    return int.from_bytes(hash_[:8], "little")
