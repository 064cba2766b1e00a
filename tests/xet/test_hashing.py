"""The Xet hashes against xet-core's published vectors and the installed hf_xet."""

from __future__ import annotations

import json
import random
from pathlib import Path

import hf_xet
import pytest

from hubstead.xet.chunking import chunks
from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import (
    chunk_hash,
    file_hash,
    hash_from_hex,
    hash_to_hex,
    verification_hash,
    xorb_hash,
)

# Extracted from xet-core `xet_core_structures/src/merklehash/aggregated_hashes.rs`,
# `test_correctness` (the zero-salt file hash of each case).
VECTORS = json.loads((Path(__file__).parent / "aggregated_hashes_vectors.json").read_text())


@pytest.mark.parametrize("case", VECTORS, ids=[str(len(v["chunks"])) for v in VECTORS])
def test_xorb_and_file_hashes_match_xet_core_vectors(case: dict[str, object]) -> None:
    pairs = [(hash_from_hex(h), size) for h, size in case["chunks"]]  # type: ignore[attr-defined]
    assert hash_to_hex(xorb_hash(pairs)) == case["xorb_hash"]
    assert hash_to_hex(file_hash(pairs)) == case["file_hash"]


def test_the_string_form_reverses_each_8_byte_word() -> None:
    raw = bytes(range(32))
    text = hash_to_hex(raw)
    assert text[:16] == "0706050403020100"
    assert text[48:] == "1f1e1d1c1b1a1918"
    assert hash_from_hex(text) == raw
    assert hash_from_hex(text.upper()) == raw


@pytest.mark.parametrize(
    "text", ["", "00" * 31, "g" * 64, "0" * 65, " " + "0" * 63, "0" * 63 + "\n"]
)
def test_a_malformed_hash_string_is_refused(text: str) -> None:
    with pytest.raises(XetFormatError, match="not a Xet hash"):
        hash_from_hex(text)


def test_a_hash_of_the_wrong_length_has_no_string_form() -> None:
    with pytest.raises(XetFormatError, match="a hash is 31 bytes, not 32"):
        hash_to_hex(bytes(31))


def test_chunk_hashes_are_keyed() -> None:
    # hub-docs docs/xet/hashing.md: a chunk hash is not plain blake3.
    assert hash_to_hex(chunk_hash(b"")) != hash_to_hex(bytes(32))
    assert chunk_hash(b"a") != chunk_hash(b"b")


def test_verification_hash_depends_on_the_order_of_the_range() -> None:
    a, b = chunk_hash(b"a"), chunk_hash(b"b")
    assert verification_hash([a, b]) != verification_hash([b, a])
    assert len(verification_hash([a])) == 32


def _our_file_hash(data: bytes) -> str:
    return hash_to_hex(file_hash([(chunk_hash(c), len(c)) for c in chunks([data])]))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"x",
        random.Random(1).randbytes(1024 * 1024),
        random.Random(2).randbytes(700 * 1024) + bytes(300 * 1024),
    ],
    ids=["empty", "one-byte", "1MiB-random", "multi-chunk-with-zeros"],
)
def test_file_hash_equals_hf_xet(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "file"
    path.write_bytes(data)
    [info] = hf_xet.hash_files([str(path)])
    assert info.file_size == len(data)
    assert _our_file_hash(data) == info.hash
