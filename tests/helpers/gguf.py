"""GGUF files built byte by byte (little-endian, versions 2 and 3), for the `gguf` block's tests.

`gguf_file` writes what llama.cpp's writer does: the magic, the version, the counts, typed
metadata entries, tensor infos and then zeroed, aligned tensor data. The low-level pieces
(`string`, `entry`, `tensor_info`) build the hostile headers of `HOSTILE` by hand.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence

UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY = range(10)
UINT64, INT64, FLOAT64 = 10, 11, 12
F32 = 0  # ggml's tensor type for float32
_ALIGNMENT = 32

Value = tuple[int, object]
"""A typed value: (type, Python value); an array is (ARRAY, (element type, [values]))."""


def string(text: str | bytes) -> bytes:
    """A GGUF string: uint64 length, then the bytes."""
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def value(kind: int, item: object) -> bytes:
    """The bytes of a typed value."""
    forms = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i"}
    forms |= {FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}
    if kind == STRING:
        assert isinstance(item, str | bytes)
        return string(item)
    if kind == ARRAY:
        assert isinstance(item, tuple)
        element: int = item[0]
        items: Sequence[object] = item[1]
        body = b"".join(value(element, x) for x in items)
        return struct.pack("<IQ", element, len(items)) + body
    return struct.pack(forms[kind], item)


def entry(key: str, kind: int, item: object) -> bytes:
    """One metadata entry: key, type, value."""
    return string(key) + struct.pack("<I", kind) + value(kind, item)


def tensor_info(name: str, shape: Sequence[int], offset: int = 0) -> bytes:
    """One tensor info (float32): name, dimensions, type, data offset."""
    dims = struct.pack(f"<{len(shape)}Q", *shape)
    return string(name) + struct.pack("<I", len(shape)) + dims + struct.pack("<IQ", F32, offset)


def header(version: int, tensors: int, entries: int) -> bytes:
    """The fixed start of a file."""
    return b"GGUF" + struct.pack("<IQQ", version, tensors, entries)


def gguf_file(
    metadata: Mapping[str, Value],
    tensors: Mapping[str, Sequence[int]],
    *,
    version: int = 3,
) -> bytes:
    """A whole GGUF file: metadata, tensor infos, and zeroed float32 tensors."""
    out = bytearray(header(version, len(tensors), len(metadata)))
    for key, (kind, item) in metadata.items():
        out += entry(key, kind, item)
    offset = 0
    for name, shape in tensors.items():
        out += tensor_info(name, shape, offset)
        size = 4 * math.prod(shape)
        offset += -(-size // _ALIGNMENT) * _ALIGNMENT
    out += bytes(-len(out) % _ALIGNMENT)
    return bytes(out) + bytes(offset)


def llama(*, version: int = 3, tokens: Sequence[str] = ("<unk>", "<s>", "</s>", "hi")) -> bytes:
    """A small llama-like model: 2 x 3 + 4 + 1 (scalar) = 11 parameters."""
    return gguf_file(
        {
            "general.architecture": (STRING, "llama"),
            "general.name": (STRING, "tiny"),
            "general.alignment": (UINT32, _ALIGNMENT),
            "llama.context_length": (UINT32, 4096),
            "llama.rope.freq_base": (FLOAT32, 10000.0),
            "llama.use_parallel_residual": (BOOL, True),
            "tokenizer.ggml.model": (STRING, "llama"),
            "tokenizer.ggml.tokens": (ARRAY, (STRING, list(tokens))),
            "tokenizer.ggml.scores": (ARRAY, (FLOAT32, [0.0] * len(tokens))),
            "tokenizer.ggml.token_type": (ARRAY, (INT32, [1] * len(tokens))),
            "tokenizer.ggml.bos_token_id": (UINT32, 1),
            "tokenizer.ggml.eos_token_id": (UINT32, 2),
            "tokenizer.chat_template": (
                STRING,
                "{% for m in messages %}{{ m.content }}{% endfor %}",
            ),
            "nested": (ARRAY, (ARRAY, [(UINT8, [1, 2]), (STRING, ["x"])])),
        },
        {"token_embd.weight": [2, 3], "output_norm.weight": [4], "scale": []},
        version=version,
    )


def _entries(count: int, body: bytes) -> bytes:
    return header(3, 0, count) + body


HOSTILE: dict[str, tuple[bytes, str]] = {
    "not gguf": (b"GGML" + bytes(100), "does not start with 'GGUF'"),
    "version 1": (header(1, 0, 0), "GGUF version 1 is not supported"),
    "version 4": (header(4, 0, 0), "GGUF version 4 is not supported"),
    "cut short": (llama()[:200], "ends inside its header"),
    "a billion tensors": (header(3, 10**9, 0), "the tensor count is 1000000000"),
    "a million entries": (header(3, 0, 10**6), "the metadata entry count is 1000000"),
    "a key of 2**63 bytes": (
        _entries(1, struct.pack("<Q", 2**63) + b"k"),
        "a string's length is 9223372036854775808, more than 65535",
    ),
    "a key past the end": (_entries(1, struct.pack("<Q", 1000) + b"k"), "ends inside its header"),
    "an unknown value type": (
        _entries(1, string("k") + struct.pack("<I", 13)),
        "the unknown type 13",
    ),
    "an array of 2**40": (
        _entries(1, string("k") + struct.pack("<IIQ", ARRAY, UINT8, 2**40)),
        "an array's length is 1099511627776",
    ),
    "a skipped string of 2**40 bytes": (
        _entries(1, string("k") + struct.pack("<IQ", STRING, 2**40)),
        "a string's length is 1099511627776",
    ),
    "a skipped string ending past the header bound": (
        _entries(1, string("k") + struct.pack("<IQ", STRING, 64 * 1024 * 1024)),
        "the header is larger than 67108864 bytes",
    ),
    "arrays nested too deep": (
        _entries(
            1,
            string("k")
            + struct.pack("<I", ARRAY)
            + struct.pack("<IQ", ARRAY, 1) * 6
            + struct.pack("<IQ", UINT8, 0),
        ),
        "nested more than 4 deep",
    ),
    "a string array past the end": (
        _entries(1, entry("k", ARRAY, (STRING, ["a"]))[:-1]),
        "ends inside its header",
    ),
    "a kept string not UTF-8": (
        _entries(1, entry("general.architecture", STRING, b"\xff")),
        "not UTF-8",
    ),
    "a template over a megabyte": (
        _entries(1, entry("tokenizer.chat_template", STRING, "x" * (1024 * 1024 + 1))),
        "a string's length is 1048577",
    ),
    "nine dimensions": (header(3, 1, 0) + tensor_info("t", [1] * 9), "9 dimensions"),
    "a total past 2**63": (
        header(3, 2, 0) + tensor_info("a", [2**32, 2**30]) + tensor_info("b", [2**32, 2**30]),
        "the parameter total is larger",
    ),
    "skipped bytes past the end": (
        _entries(1, entry("k", ARRAY, (UINT8, []))[:-8] + struct.pack("<Q", 10**6)),
        "ends inside its header",
    ),
}
"""Headers a hostile uploader may send: (the file, what `read_summary` says about it)."""
