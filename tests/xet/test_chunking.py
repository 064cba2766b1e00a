"""The gearhash chunker against the spec's byte-by-byte algorithm."""

from __future__ import annotations

import random

import pytest

from hubstead.xet.chunking import GEAR, MASK, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, chunks


def _byte_by_byte(data: bytes) -> list[bytes]:
    """The pseudocode of hub-docs docs/xet/chunking.md, as written."""
    out, h, start = [], 0, 0
    for i, byte in enumerate(data):
        h = ((h << 1) + GEAR[byte]) & 0xFFFF_FFFF_FFFF_FFFF
        size = i + 1 - start
        if size < MIN_CHUNK_SIZE:
            continue
        if size >= MAX_CHUNK_SIZE or h & MASK == 0:
            out.append(data[start : i + 1])
            start, h = i + 1, 0
    if start < len(data):
        out.append(data[start:])
    return out


# Random data (natural cuts), a zero run (forced 128 KiB cuts) and a short tail.
DATA = (
    random.Random(7).randbytes(1_500_000)
    + bytes(300_000)
    + random.Random(8).randbytes(200_000)
    + b"tail"
)


def test_cuts_are_those_of_the_byte_by_byte_algorithm() -> None:
    expected = _byte_by_byte(DATA)
    assert len(expected) > 10
    assert list(chunks([DATA])) == expected


@pytest.mark.parametrize("block_size", [1, 777, 8 * 1024, 64 * 1024 + 3, 2 * 1024 * 1024])
def test_block_boundaries_do_not_move_the_cuts(block_size: int) -> None:
    data = DATA[:400_000] if block_size == 1 else DATA
    blocks = [data[i : i + block_size] for i in range(0, len(data), block_size)]
    assert list(chunks(blocks)) == list(chunks([data]))


def test_chunk_sizes_are_bounded() -> None:
    sizes = [len(c) for c in chunks([DATA])]
    assert all(MIN_CHUNK_SIZE <= s <= MAX_CHUNK_SIZE for s in sizes[:-1])
    assert MAX_CHUNK_SIZE in sizes  # the zero run is cut at the maximum
    assert b"".join(chunks([DATA])) == DATA


def test_small_and_empty_inputs() -> None:
    assert list(chunks([])) == []
    assert list(chunks([b"", b""])) == []
    assert list(chunks([b"a", b"bc"])) == [b"abc"]
    assert list(chunks([bytes(MIN_CHUNK_SIZE - 1)])) == [bytes(MIN_CHUNK_SIZE - 1)]


def test_an_edit_moves_only_nearby_cuts() -> None:
    edited = DATA[:500_000] + b"inserted" + DATA[500_000:]
    before, after = list(chunks([DATA])), list(chunks([edited]))
    assert before[0] == after[0]
    assert before[-3:] == after[-3:]
