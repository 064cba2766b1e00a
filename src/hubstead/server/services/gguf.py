"""GGUF headers: what a llama.cpp model file says about itself, for the Hub's `gguf` block.

A GGUF file (versions 2 and 3, little-endian) starts with the magic `GGUF`, a uint32 version, a
uint64 tensor count and a uint64 count of metadata entries. Each entry is a key (a uint64
length and UTF-8 bytes), a uint32 value type and a value: integers, floats and booleans of
fixed size, strings, or arrays (a uint32 element type, a uint64 count, the elements). Tensor
infos follow: a name, a uint32 dimension count, uint64 dimensions, a uint32 type and a uint64
offset into the data. The tensors' data comes after the header and is never read here.

`read_summary` walks the header through ranges of the file (`Read`), a megabyte at a time, and
keeps only what the Hub shows: the parameter total (per tensor, the product of its dimensions),
`general.architecture`, `<architecture>.context_length`, `tokenizer.chat_template`, and the BOS
and EOS tokens (`tokenizer.ggml.{bos,eos}_token_id` looked up in `tokenizer.ggml.tokens`).
Everything a hostile file can inflate is bounded (the header's size, counts, string lengths,
array lengths, nesting, dimensions); past a bound, or on anything that is not GGUF, it raises
`GgufError` and the caller shows no block.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Callable

MAGIC = b"GGUF"
VERSIONS = (2, 3)
MAX_HEADER_BYTES = 64 * 1024 * 1024  # real headers (vocabularies and merges) take a few MiB
MAX_TENSORS = 1 << 20
MAX_ENTRIES = 1 << 16
MAX_KEY_BYTES = 65_535  # the spec's bound on keys
MAX_ARRAY_LENGTH = 1 << 21  # vocabularies and merges hold a few hundred thousand
MAX_KEPT_STRING_BYTES = 1024 * 1024  # a chat template or a token, kept in memory
MAX_DIMENSIONS = 8  # ggml has 4
MAX_NESTING = 4
MAX_TOTAL = 2**63 - 1  # the total is sent as JSON and kept as a 64-bit integer by clients
_CHUNK = 1024 * 1024

Read = Callable[[int, int], bytes]
"""`read(offset, length)`: up to `length` bytes of the file from `offset` (fewer at its end)."""

_STRING, _ARRAY = 8, 9
# Value types of fixed size: their struct format (little-endian).
_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}  # fmt: skip
_INTEGERS = frozenset((0, 1, 2, 3, 4, 5, 10, 11))
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class GgufError(Exception):
    """A file that is not GGUF (2 or 3), ends inside its header, or exceeds a bound."""


@dataclasses.dataclass(frozen=True)
class GgufSummary:
    """What the Hub's `gguf` block shows; None where the file does not say."""

    total: int
    architecture: str | None = None
    context_length: int | None = None
    chat_template: str | None = None
    bos_token: str | None = None
    eos_token: str | None = None


class _Cursor:
    """A position in the header, reading through `read` a chunk at a time."""

    def __init__(self, read: Read) -> None:
        self._read = read
        self._buffer = b""
        self._start = 0
        self.offset = 0

    def take(self, size: int) -> bytes:
        end = self.offset + size
        if end > MAX_HEADER_BYTES:
            raise GgufError(f"the header is larger than {MAX_HEADER_BYTES} bytes")
        if not (self._start <= self.offset and end <= self._start + len(self._buffer)):
            self._buffer = self._read(self.offset, max(size, _CHUNK))
            self._start = self.offset
            if len(self._buffer) < size:
                raise GgufError("the file ends inside its header")
        data = self._buffer[self.offset - self._start : end - self._start]
        self.offset = end
        return data

    def skip(self, size: int) -> None:
        if self.offset + size > MAX_HEADER_BYTES:
            raise GgufError(f"the header is larger than {MAX_HEADER_BYTES} bytes")
        self.offset += size

    def u32(self) -> int:
        value: int = _U32.unpack(self.take(4))[0]
        return value

    def u64(self) -> int:
        value: int = _U64.unpack(self.take(8))[0]
        return value

    def count(self, limit: int, what: str) -> int:
        value = self.u64()
        if value > limit:
            raise GgufError(f"{what} is {value}, more than {limit}")
        return value

    def string(self, limit: int = MAX_KEPT_STRING_BYTES) -> str:
        raw = self.take(self.count(limit, "a string's length"))
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            raise GgufError("a string is not UTF-8") from exc

    def skip_string(self) -> None:
        self.skip(self.count(MAX_HEADER_BYTES, "a string's length"))

    def skip_strings(self, count: int) -> None:
        """Skip `count` strings, walking the buffer directly (vocabularies hold 100,000s)."""
        unpack = _U64.unpack_from
        for _ in range(count):
            position = self.offset - self._start
            if position >= 0 and position + 8 <= len(self._buffer):
                (length,) = unpack(self._buffer, position)
                if length > MAX_HEADER_BYTES:
                    raise GgufError(f"a string's length is {length}, more than {MAX_HEADER_BYTES}")
                self.offset += 8
                self.skip(length)
            else:
                self.skip_string()

    def ends_within_file(self) -> None:
        """Raises GgufError when something skipped ran past the end of the file."""
        if self.offset and len(self._read(self.offset - 1, 1)) < 1:
            raise GgufError("the file ends inside its header")


@dataclasses.dataclass
class _Metadata:
    architecture: str | None = None
    chat_template: str | None = None
    bos_id: int | None = None
    eos_id: int | None = None
    tokens: tuple[int, int] | None = None  # where the token strings start, and their count
    context_lengths: dict[str, int] = dataclasses.field(default_factory=dict)


def read_summary(read: Read) -> GgufSummary:
    """The summary of a GGUF file, from its header alone.

    Raises:
        GgufError: not GGUF 2 or 3, a header cut short, a value of an unknown type, or a bound
            exceeded (header bytes, tensors, entries, string or array lengths, nesting,
            dimensions, a total past 2**63 - 1).
    """
    cursor = _Cursor(read)
    if cursor.take(4) != MAGIC:
        raise GgufError("the file does not start with 'GGUF'")
    version = cursor.u32()
    if version not in VERSIONS:
        raise GgufError(f"GGUF version {version} is not supported (only 2 and 3)")
    tensors = cursor.count(MAX_TENSORS, "the tensor count")
    entries = cursor.count(MAX_ENTRIES, "the metadata entry count")
    metadata = _Metadata()
    for _ in range(entries):
        _entry(cursor, metadata)
    total = 0
    for _ in range(tensors):
        cursor.skip_string()
        dimensions = cursor.u32()
        if dimensions > MAX_DIMENSIONS:
            raise GgufError(f"a tensor has {dimensions} dimensions, more than {MAX_DIMENSIONS}")
        total += math.prod(cursor.u64() for _ in range(dimensions))
        if total > MAX_TOTAL:
            raise GgufError(f"the parameter total is larger than {MAX_TOTAL}")
        cursor.skip(12)  # the tensor's type and offset
    cursor.ends_within_file()
    context = metadata.context_lengths.get(f"{metadata.architecture}.context_length")
    bos, eos = _tokens(read, metadata)
    return GgufSummary(total, metadata.architecture, context, metadata.chat_template, bos, eos)


def _entry(cursor: _Cursor, metadata: _Metadata) -> None:
    """Read one metadata entry, keeping what the summary needs."""
    key = cursor.string(MAX_KEY_BYTES)
    kind = cursor.u32()
    if kind == _STRING and key == "general.architecture":
        metadata.architecture = cursor.string()
    elif kind == _STRING and key == "tokenizer.chat_template":
        metadata.chat_template = cursor.string()
    elif kind in _INTEGERS and key in (
        "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.eos_token_id",
    ):
        value = _integer(cursor, kind)
        if key.endswith("bos_token_id"):
            metadata.bos_id = value
        else:
            metadata.eos_id = value
    elif kind in _INTEGERS and key.endswith(".context_length"):
        metadata.context_lengths[key] = _integer(cursor, kind)
    elif kind == _ARRAY and key == "tokenizer.ggml.tokens":
        element, count = _array_head(cursor)
        metadata.tokens = (cursor.offset, count) if element == _STRING else None
        _skip_elements(cursor, element, count, 1)
    else:
        _skip_value(cursor, kind, 0)


def _integer(cursor: _Cursor, kind: int) -> int:
    form = _SCALARS[kind]
    value: int = struct.unpack(form, cursor.take(struct.calcsize(form)))[0]
    return value


def _array_head(cursor: _Cursor) -> tuple[int, int]:
    element = cursor.u32()
    return element, cursor.count(MAX_ARRAY_LENGTH, "an array's length")


def _skip_value(cursor: _Cursor, kind: int, depth: int) -> None:
    if kind in _SCALARS:
        cursor.skip(struct.calcsize(_SCALARS[kind]))
    elif kind == _STRING:
        cursor.skip_string()
    elif kind == _ARRAY:
        element, count = _array_head(cursor)
        _skip_elements(cursor, element, count, depth + 1)
    else:
        raise GgufError(f"a value has the unknown type {kind}")


def _skip_elements(cursor: _Cursor, element: int, count: int, depth: int) -> None:
    if depth > MAX_NESTING:
        raise GgufError(f"arrays are nested more than {MAX_NESTING} deep")
    if element in _SCALARS:
        cursor.skip(count * struct.calcsize(_SCALARS[element]))
        return
    if element == _STRING:
        cursor.skip_strings(count)
        return
    for _ in range(count):
        _skip_value(cursor, element, depth)


def _tokens(read: Read, metadata: _Metadata) -> tuple[str | None, str | None]:
    """The BOS and EOS tokens' text, read back from the token list when it has their ids."""
    if metadata.tokens is None:
        return None, None
    start, count = metadata.tokens
    wanted = {i for i in (metadata.bos_id, metadata.eos_id) if i is not None and 0 <= i < count}
    if not wanted:
        return None, None
    cursor = _Cursor(read)
    cursor.offset = start
    found: dict[int, str] = {}
    position = 0
    for index in sorted(wanted):
        cursor.skip_strings(index - position)
        found[index] = cursor.string()
        position = index + 1
    return (
        found.get(metadata.bos_id) if metadata.bos_id is not None else None,
        found.get(metadata.eos_id) if metadata.eos_id is not None else None,
    )
