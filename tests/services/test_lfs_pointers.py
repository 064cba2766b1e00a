"""Which blobs are git-lfs pointers: `parse_lfs_pointer` and the size bounds that skip reading."""

from __future__ import annotations

import hashlib

from hubstead.protocol import (
    LFS_POINTER_MAX_SIZE,
    LFS_POINTER_MIN_SIZE,
    format_lfs_pointer,
    may_be_lfs_pointer,
    parse_lfs_pointer,
)

SHA = hashlib.sha256(b"weights").hexdigest()


def test_a_canonical_pointer_names_its_object() -> None:
    assert parse_lfs_pointer(format_lfs_pointer(SHA, 1234)) == (SHA, 1234)


def test_the_shortest_pointer_is_the_minimum_and_nothing_shorter_parses() -> None:
    shortest = format_lfs_pointer(SHA, 0).rstrip(b"\n")

    assert parse_lfs_pointer(shortest) == (SHA, 0)
    assert len(shortest) == LFS_POINTER_MIN_SIZE
    assert may_be_lfs_pointer(LFS_POINTER_MIN_SIZE)
    assert not may_be_lfs_pointer(LFS_POINTER_MIN_SIZE - 1)
    assert all(
        parse_lfs_pointer(shortest[:cut] + shortest[cut + 1 :]) is None
        for cut in range(len(shortest))
    )


def test_pointers_as_large_as_the_limit_are_not_read() -> None:
    padded = format_lfs_pointer(SHA, 1) + b"x-extension " + b"a" * LFS_POINTER_MAX_SIZE + b"\n"

    assert not may_be_lfs_pointer(LFS_POINTER_MAX_SIZE)
    assert may_be_lfs_pointer(LFS_POINTER_MAX_SIZE - 1)
    assert parse_lfs_pointer(padded) is None


def test_text_that_is_not_a_pointer_is_none() -> None:
    assert parse_lfs_pointer(b"version https://git-lfs.github.com/spec/v1\n" + b"x" * 200) is None
    assert parse_lfs_pointer(format_lfs_pointer(SHA, 5).replace(b"sha256:", b"sha1:")) is None
