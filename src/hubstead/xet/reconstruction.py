"""File reconstructions: which chunks of which xorbs make a byte window of a file, and its bytes.

A file is a run of terms, each a chunk range of one xorb (hub-docs
`docs/xet/file-reconstruction.md`). `plan` clips the terms to the chunks that hold a window of the
file, as the reference server does (xet-core `cas_client/simulation/xorb_utils.rs`,
`compute_reconstruction_ranges`); `render_v1` and `render_v2` turn a plan into the JSON of
`GET /v1/reconstructions/{file_id}` and `GET /v2/reconstructions/{file_id}` (xet-core
`openapi/cas.openapi.yaml`); `read_window` streams the window's bytes from the xorbs, for a server
that serves Xet files over plain HTTP.

Windows are inclusive `[start, end]`, like an HTTP `Range`; every other range here is
end-exclusive, except the byte ranges in the JSON, which the wire makes inclusive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from hubstead.xet.errors import WindowPastEndError, XetFormatError
from hubstead.xet.hashing import hash_to_hex
from hubstead.xet.shard import FileSegment
from hubstead.xet.xorb import XorbLayout, iter_chunks

UrlFor = Callable[[str, int, int], str]
"""`url_for(xorb_hash_hex, byte_start, byte_end_inclusive)`: a URL that serves those bytes."""

# How much of a xorb `read_window` reads at once: a few chunks, not a whole 64 MiB xorb.
READ_BYTES = 4 * 1024 * 1024

ReadXorbBytes = Callable[[bytes, int, int], bytes]
"""`read(xorb_hash, byte_start, byte_end_exclusive)`: those bytes of the serialized xorb."""


@dataclass(frozen=True, slots=True)
class FetchRange:
    """Chunks `[chunk_start, chunk_end)` of a xorb, at bytes `[byte_start, byte_end)` of it."""

    chunk_start: int
    chunk_end: int
    byte_start: int
    byte_end: int


@dataclass(frozen=True)
class Plan:
    """What a client fetches for a window of a file, and how it cuts the result.

    `terms` are the file's terms clipped to the chunks that hold the window, each with the
    unpacked size of its clipped chunk range; the client skips `offset_into_first_range` bytes
    of the first and keeps `length` bytes. `fetches` gives, per xorb in order of first use, the
    ranges to download: the terms' chunk ranges, overlapping or adjacent ones merged.
    """

    terms: tuple[FileSegment, ...]
    offset_into_first_range: int
    length: int
    fetches: Mapping[bytes, tuple[FetchRange, ...]]


def plan(
    terms: Sequence[FileSegment], layouts: Mapping[bytes, XorbLayout], start: int, end: int
) -> Plan:
    """The plan for bytes `[start, end]` of the file these terms make; `end` may lie past the end.

    `end` is clipped to the file's last byte. An empty file has one window, from 0, with no
    terms (what the reference server answers). Only the terms the window touches are checked
    against `layouts`, so `layouts` needs only their xorbs; the others count for their
    declared sizes.

    Raises:
        WindowPastEndError: `start` is at or past the end of a non-empty file, or past 0 for an
            empty one.
        XetFormatError: a term the window touches names a xorb missing from `layouts`, a chunk
            range the xorb does not have, or a size that is not its chunks' sizes.
        ValueError: the window starts before 0 or ends before it starts.
    """
    size = sum(term.unpacked_bytes for term in terms)
    if start < 0:
        raise ValueError(f"a window starts at byte 0 or later, not {start}")
    if start >= size:
        if start == size == 0:
            return Plan(terms=(), offset_into_first_range=0, length=0, fetches={})
        raise WindowPastEndError(start, size)
    stop = min(end, size - 1) + 1
    if stop <= start:
        raise ValueError(f"the window [{start}, {end}] ends before it starts")

    index, position = 0, 0
    while position + terms[index].unpacked_bytes <= start:
        position += terms[index].unpacked_bytes
        index += 1
    clipped: list[FileSegment] = []
    offset = 0
    while position < stop:
        term = terms[index]
        sizes = _checked_layout(index, term, layouts).chunk_sizes
        first, last = term.chunk_index_start, term.chunk_index_end
        while position + sizes[first] <= start:
            position += sizes[first]
            first += 1
        if not clipped:
            offset = start - position
        term_end = position + sum(sizes[first:last])
        while term_end - sizes[last - 1] >= stop:
            term_end -= sizes[last - 1]
            last -= 1
        clipped.append(FileSegment(term.cas_hash, term_end - position, first, last, term.cas_flags))
        position = term_end
        index += 1
    return Plan(
        terms=tuple(clipped),
        offset_into_first_range=offset,
        length=stop - start,
        fetches=_fetches(clipped, layouts),
    )


def _checked_layout(
    index: int, term: FileSegment, layouts: Mapping[bytes, XorbLayout]
) -> XorbLayout:
    """The layout of a term's xorb, once the term's chunk range and size are checked against it."""
    layout = layouts.get(term.cas_hash)
    where = f"term {index} (xorb {hash_to_hex(term.cas_hash)})"
    if layout is None:
        raise XetFormatError(f"{where}: no layout for its xorb")
    first, last = term.chunk_index_start, term.chunk_index_end
    if not 0 <= first < last <= len(layout.chunk_sizes):
        raise XetFormatError(
            f"{where}: chunks [{first}, {last}) are not a run of the xorb's "
            f"{len(layout.chunk_sizes)} chunks"
        )
    unpacked = sum(layout.chunk_sizes[first:last])
    if unpacked != term.unpacked_bytes:
        raise XetFormatError(
            f"{where}: declares {term.unpacked_bytes} bytes, "
            f"its chunks [{first}, {last}) unpack to {unpacked}"
        )
    return layout


def _fetches(
    terms: Sequence[FileSegment], layouts: Mapping[bytes, XorbLayout]
) -> dict[bytes, tuple[FetchRange, ...]]:
    by_xorb: dict[bytes, list[tuple[int, int]]] = {}
    for term in terms:
        by_xorb.setdefault(term.cas_hash, []).append((term.chunk_index_start, term.chunk_index_end))
    fetches = {}
    for xorb_hash, chunk_ranges in by_xorb.items():
        merged: list[list[int]] = []
        for first, last in sorted(chunk_ranges):
            if merged and first <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        layout = layouts[xorb_hash]
        fetches[xorb_hash] = tuple(
            FetchRange(first, last, *layout.byte_range(first, last)) for first, last in merged
        )
    return fetches


def _terms_json(window: Plan) -> list[dict[str, object]]:
    return [
        {
            "hash": hash_to_hex(term.cas_hash),
            "unpacked_length": term.unpacked_bytes,
            "range": {"start": term.chunk_index_start, "end": term.chunk_index_end},
        }
        for term in window.terms
    ]


def render_v1(window: Plan, url_for: UrlFor) -> dict[str, object]:
    """The `QueryReconstructionResponse` JSON: one URL per fetch range, its bytes in `url_range`."""
    fetch_info = {}
    for xorb_hash, ranges in window.fetches.items():
        xorb_hex = hash_to_hex(xorb_hash)
        fetch_info[xorb_hex] = [
            {
                "range": {"start": fetch.chunk_start, "end": fetch.chunk_end},
                "url": url_for(xorb_hex, fetch.byte_start, fetch.byte_end - 1),
                "url_range": {"start": fetch.byte_start, "end": fetch.byte_end - 1},
            }
            for fetch in ranges
        ]
    return {
        "offset_into_first_range": window.offset_into_first_range,
        "terms": _terms_json(window),
        "fetch_info": fetch_info,
    }


def render_v2(window: Plan, url_for: UrlFor) -> dict[str, object]:
    """The `QueryReconstructionResponseV2` JSON, with one URL, and so one range, per entry.

    A URL per range keeps every xorb download a single-range request (no `multipart/byteranges`
    to serve); xet-core's client accepts it, as it does the v1 answer it converts the same way.
    """
    xorbs = {}
    for xorb_hash, ranges in window.fetches.items():
        xorb_hex = hash_to_hex(xorb_hash)
        xorbs[xorb_hex] = [
            {
                "url": url_for(xorb_hex, fetch.byte_start, fetch.byte_end - 1),
                "ranges": [
                    {
                        "chunks": {"start": fetch.chunk_start, "end": fetch.chunk_end},
                        "bytes": {"start": fetch.byte_start, "end": fetch.byte_end - 1},
                    }
                ],
            }
            for fetch in ranges
        ]
    return {
        "offset_into_first_range": window.offset_into_first_range,
        "terms": _terms_json(window),
        "xorbs": xorbs,
    }


def read_window(
    terms: Sequence[FileSegment],
    layouts: Mapping[bytes, XorbLayout],
    read_xorb_bytes: ReadXorbBytes,
    start: int,
    end: int,
) -> Iterator[bytes]:
    """Bytes `[start, end]` of the file, in order, one chunk's worth at a time.

    Each clipped term is read in runs of whole chunks of about `READ_BYTES` (never a whole
    64 MiB xorb at once), and its chunks are decoded one by one, each checked against the
    layout's size.

    Raises:
        WindowPastEndError, XetFormatError, ValueError: as `plan` does; XetFormatError also for
            xorb bytes that are short or do not decode to the chunks the layout describes.
    """
    window = plan(terms, layouts, start, end)
    skip, remaining = window.offset_into_first_range, window.length
    for term in window.terms:
        layout = layouts[term.cas_hash]
        for first, last in _runs(layout, term.chunk_index_start, term.chunk_index_end):
            for chunk in _read_run(layout, read_xorb_bytes, first, last):
                piece = chunk[skip : skip + remaining]
                skip = max(skip - len(chunk), 0)
                remaining -= len(piece)
                if piece:
                    yield piece


def _runs(layout: XorbLayout, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Chunks `[start, end)` cut into runs `[first, last)` of about `READ_BYTES` bytes."""
    first = start
    while first < end:
        last = first + 1
        base = layout.chunk_ends[first - 1] if first else 0
        while last < end and layout.chunk_ends[last] - base <= READ_BYTES:
            last += 1
        yield first, last
        first = last


def _read_run(
    layout: XorbLayout, read_xorb_bytes: ReadXorbBytes, first: int, last: int
) -> Iterator[bytes]:
    """The unpacked chunks `[first, last)` of a xorb, each checked against the layout."""
    byte_start, byte_end = layout.byte_range(first, last)
    data = read_xorb_bytes(layout.hash, byte_start, byte_end)
    where = f"xorb {hash_to_hex(layout.hash)}"
    if len(data) != byte_end - byte_start:
        raise XetFormatError(
            f"{where}: read {len(data)} bytes at {byte_start}, expected {byte_end - byte_start}"
        )
    chunks = iter_chunks(data)
    for index in range(first, last):
        chunk = next(chunks, None)
        if chunk is None or len(chunk) != layout.chunk_sizes[index]:
            found = "nothing" if chunk is None else f"{len(chunk)} bytes"
            raise XetFormatError(
                f"{where}: chunk {index} unpacks to {found}, "
                f"its layout says {layout.chunk_sizes[index]} bytes"
            )
        yield chunk
    if next(chunks, None) is not None:
        raise XetFormatError(f"{where}: bytes {byte_start}-{byte_end} hold extra chunks")
