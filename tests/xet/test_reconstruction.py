"""File reconstructions over real hf_xet uploads: plans, their JSON, and the bytes they rebuild.

Three files in two upload sessions make the awkward cases real: `a.bin` fills most of one xorb,
`rep.bin` repeats its own content (terms overlapping in one xorb), and `b.bin`, uploaded later,
reuses pieces of `a.bin` around new bytes (terms alternating between two xorbs). hf_xet itself is
the last judge: it downloads the files through our v1 and v2 answers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import hf_xet
import pytest

from hubstead.xet.errors import WindowPastEndError, XetFormatError
from hubstead.xet.hashing import hash_from_hex, hash_to_hex
from hubstead.xet.reconstruction import (
    FetchRange,
    Plan,
    plan,
    read_window,
    render_v1,
    render_v2,
)
from hubstead.xet.shard import CasInfo, FileInfo, FileSegment, parse_shard
from hubstead.xet.xorb import XorbLayout, layout_of
from tests.helpers.http_server import serving


@dataclass
class Uploaded:
    """What the uploads left: files' bytes and terms; xorbs' bytes, layouts and shard entries."""

    contents: dict[str, bytes]
    files: dict[str, FileInfo]
    xorbs: dict[bytes, bytes]
    layouts: dict[bytes, XorbLayout]
    cas_infos: dict[bytes, CasInfo]
    reads: list[tuple[bytes, int, int]] = field(default_factory=list)

    def read(self, xorb_hash: bytes, start: int, end: int) -> bytes:
        self.reads.append((xorb_hash, start, end))
        return self.xorbs[xorb_hash][start:end]


def _without_footer(blob: bytes) -> bytes:
    # A stored xorb ends with a footer ("XETBLOB"…, then its length as a u32) that uploads do
    # not carry (xet-core xorb_object_format.rs); the hub stores what clients upload.
    footer = int.from_bytes(blob[-4:], "little") + 4
    assert blob[-footer:].startswith(b"XETBLOB")
    return blob[:-footer]


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory: pytest.TempPathFactory) -> Uploaded:
    root = tmp_path_factory.mktemp("xet")
    rng = random.Random(1)
    a = rng.randbytes(3_000_000)
    repeated = rng.randbytes(500_000)
    sessions = [
        {"a.bin": a, "rep.bin": repeated + rng.randbytes(400_000) + repeated},
        {"b.bin": a[1_000_000:2_500_000] + rng.randbytes(700_000) + a[:300_000]},
    ]
    cas = root / "cas"
    for session in sessions:
        for name, data in session.items():
            (root / name).write_bytes(data)
        with hf_xet.XetSession().new_upload_commit(endpoint=f"local://{cas}") as commit:
            for name in session:
                commit.start_upload_file(str(root / name))
    contents = {name: data for session in sessions for name, data in session.items()}
    by_sha = {}
    cas_infos = {}
    for path in (cas / "xet" / "xorbs" / "shards").glob("*.mdb"):
        shard = parse_shard(path.read_bytes())
        by_sha.update({file.sha256: file for file in shard.files})
        cas_infos.update({xorb.cas_hash: xorb for xorb in shard.xorbs})
    xorbs = {}
    for path in (cas / "xet" / "xorbs" / "xorbs").glob("default.*"):
        if path.suffix != ".tagset":
            xorb_hash = hash_from_hex(path.name.removeprefix("default."))
            xorbs[xorb_hash] = _without_footer(path.read_bytes())
    files = {
        name: by_sha[hash_from_hex(hashlib.sha256(data).hexdigest())]
        for name, data in contents.items()
    }
    layouts = {xorb_hash: layout_of(xorb_hash, blob) for xorb_hash, blob in xorbs.items()}
    return Uploaded(contents, files, xorbs, layouts, cas_infos)


def _terms(uploaded: Uploaded, name: str) -> tuple[FileSegment, ...]:
    return uploaded.files[name].segments


def test_the_fixture_has_the_shapes_these_tests_rely_on(uploaded: Uploaded) -> None:
    assert len(uploaded.xorbs) == 2
    for name in ("rep.bin", "b.bin"):
        hashes = [term.cas_hash for term in _terms(uploaded, name)]
        assert len(hashes) > len(set(hashes)), f"{name} should use a xorb in several terms"
    assert len({term.cas_hash for term in _terms(uploaded, "b.bin")}) == 2


def test_layout_of_a_stored_xorb_agrees_with_its_shard_entry(uploaded: Uploaded) -> None:
    for xorb_hash, blob in uploaded.xorbs.items():
        layout = uploaded.layouts[xorb_hash]
        info = uploaded.cas_infos[xorb_hash]
        assert layout.chunk_sizes == tuple(chunk.unpacked_bytes for chunk in info.chunks)
        assert layout.byte_range(0, len(info.chunks)) == (0, len(blob))
        # The shard's byte_range_start counts unpacked bytes, not bytes of the xorb: offsets to
        # fetch can only come from the xorb itself.
        starts = [sum(layout.chunk_sizes[:i]) for i in range(len(info.chunks))]
        assert [chunk.byte_range_start for chunk in info.chunks] == starts


def _windows(uploaded: Uploaded, name: str) -> list[tuple[int, int]]:
    """Whole file, first and last byte, across a term boundary, inside one chunk, and more."""
    terms = _terms(uploaded, name)
    size = len(uploaded.contents[name])
    first = terms[0]
    first_sizes = uploaded.layouts[first.cas_hash].chunk_sizes
    if len(terms) > 1:
        boundary = first.unpacked_bytes
        second = terms[1]
        second_chunk = uploaded.layouts[second.cas_hash].chunk_sizes[second.chunk_index_start]
    else:  # a chunk boundary inside the one term
        boundary = first_sizes[first.chunk_index_start]
        second_chunk = first_sizes[first.chunk_index_start + 1]
    return [
        (0, size - 1),
        (0, 0),
        (size - 1, size - 1),
        (boundary - 1, boundary),
        (boundary - 10, boundary + 70_000),
        (boundary + 5, boundary + second_chunk - 5),
        (size // 3, 2 * size // 3),
        (size - 1_000, size + 1_000_000),
    ]


@pytest.mark.parametrize("name", ["a.bin", "rep.bin", "b.bin"])
def test_read_window_rebuilds_any_window_of_the_file(uploaded: Uploaded, name: str) -> None:
    data = uploaded.contents[name]
    for start, end in _windows(uploaded, name):
        pieces = read_window(_terms(uploaded, name), uploaded.layouts, uploaded.read, start, end)
        assert b"".join(pieces) == data[start : end + 1], (start, end)


@pytest.mark.parametrize("name", ["a.bin", "rep.bin", "b.bin"])
def test_a_plan_holds_just_the_chunks_of_its_window(uploaded: Uploaded, name: str) -> None:
    size = len(uploaded.contents[name])
    for start, end in _windows(uploaded, name):
        window = plan(_terms(uploaded, name), uploaded.layouts, start, end)
        sizes = [uploaded.layouts[t.cas_hash].chunk_sizes for t in window.terms]
        for term, chunk_sizes in zip(window.terms, sizes, strict=True):
            assert term.unpacked_bytes == sum(
                chunk_sizes[term.chunk_index_start : term.chunk_index_end]
            )
        first, last = window.terms[0], window.terms[-1]
        total = sum(term.unpacked_bytes for term in window.terms)
        assert window.length == min(end, size - 1) - start + 1
        # The window starts in the first chunk and ends in the last: no chunk is fetched in vain.
        assert 0 <= window.offset_into_first_range < sizes[0][first.chunk_index_start]
        end_in_plan = window.offset_into_first_range + window.length
        assert total - sizes[-1][last.chunk_index_end - 1] < end_in_plan <= total


@pytest.mark.parametrize("name", ["a.bin", "rep.bin", "b.bin"])
def test_fetch_ranges_merge_the_terms_chunks_per_xorb(uploaded: Uploaded, name: str) -> None:
    terms = _terms(uploaded, name)
    window = plan(terms, uploaded.layouts, 0, len(uploaded.contents[name]) - 1)
    assert window.terms == terms
    assert list(window.fetches) == list(dict.fromkeys(term.cas_hash for term in terms))
    for xorb_hash, ranges in window.fetches.items():
        wanted = {
            index
            for term in terms
            if term.cas_hash == xorb_hash
            for index in range(term.chunk_index_start, term.chunk_index_end)
        }
        fetched = {i for r in ranges for i in range(r.chunk_start, r.chunk_end)}
        assert fetched == wanted
        # Sorted, with a gap between ranges: overlapping and adjacent ones were merged.
        assert all(a.chunk_end < b.chunk_start for a, b in itertools.pairwise(ranges))
        layout = uploaded.layouts[xorb_hash]
        for fetch in ranges:
            assert (fetch.byte_start, fetch.byte_end) == layout.byte_range(
                fetch.chunk_start, fetch.chunk_end
            )


@pytest.mark.parametrize("name", ["rep.bin", "b.bin"])
def test_terms_sharing_a_xorb_share_its_downloads(uploaded: Uploaded, name: str) -> None:
    terms = _terms(uploaded, name)
    window = plan(terms, uploaded.layouts, 0, len(uploaded.contents[name]) - 1)
    assert sum(len(ranges) for ranges in window.fetches.values()) < len(terms)


def test_read_window_reads_only_the_terms_it_needs(uploaded: Uploaded) -> None:
    terms = _terms(uploaded, "b.bin")
    boundary = terms[0].unpacked_bytes
    window = plan(terms, uploaded.layouts, boundary + 5, boundary + 6)
    uploaded.reads.clear()

    assert b"".join(read_window(terms, uploaded.layouts, uploaded.read, boundary + 5, boundary + 6))
    [term] = window.terms
    layout = uploaded.layouts[term.cas_hash]
    assert term.chunk_index_end - term.chunk_index_start == 1
    assert uploaded.reads == [
        (term.cas_hash, *layout.byte_range(term.chunk_index_start, term.chunk_index_end))
    ]


def test_a_window_from_the_end_of_the_file_is_refused(uploaded: Uploaded) -> None:
    terms = _terms(uploaded, "a.bin")
    size = len(uploaded.contents["a.bin"])
    with pytest.raises(WindowPastEndError) as caught:
        plan(terms, uploaded.layouts, size, size + 10)
    assert (caught.value.start, caught.value.size) == (size, size)
    with pytest.raises(WindowPastEndError):
        next(read_window(terms, uploaded.layouts, uploaded.read, size + 1, size + 1))
    with pytest.raises(ValueError, match="ends before it starts"):
        plan(terms, uploaded.layouts, 10, 9)


def test_an_empty_file_has_one_empty_window() -> None:
    assert plan((), {}, 0, -1) == Plan(terms=(), offset_into_first_range=0, length=0, fetches={})
    with pytest.raises(WindowPastEndError):
        plan((), {}, 1, 5)


def _with_term(terms: tuple[FileSegment, ...], index: int, **changes: object) -> list[FileSegment]:
    old = terms[index]
    fields = {
        "cas_hash": old.cas_hash,
        "unpacked_bytes": old.unpacked_bytes,
        "chunk_index_start": old.chunk_index_start,
        "chunk_index_end": old.chunk_index_end,
    }
    fields.update(changes)
    return [*terms[:index], FileSegment(**fields), *terms[index + 1 :]]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"unpacked_bytes": 1}, "declares 1 bytes, its chunks"),
        ({"chunk_index_end": 10_000}, "are not a run of the xorb's"),
        ({"chunk_index_end": 0, "chunk_index_start": 0}, r"chunks \[0, 0\) are not a run"),
        ({"cas_hash": bytes(32)}, "no layout for its xorb"),
    ],
)
def test_terms_that_disagree_with_the_layouts_are_refused(
    uploaded: Uploaded, changes: dict[str, object], message: str
) -> None:
    terms = _with_term(_terms(uploaded, "b.bin"), 1, **changes)
    with pytest.raises(XetFormatError, match=message):
        plan(terms, uploaded.layouts, 0, 10**9)


def test_xorb_bytes_that_disagree_with_the_layout_are_refused(uploaded: Uploaded) -> None:
    terms = _terms(uploaded, "a.bin")
    with pytest.raises(XetFormatError, match="read 9 bytes"):
        b"".join(read_window(terms, uploaded.layouts, lambda h, s, e: bytes(9), 0, 10))
    [term] = terms
    layout = uploaded.layouts[term.cas_hash]
    # Two chunks' sizes swapped: the term's total still agrees, the chunks themselves do not.
    sizes = list(layout.chunk_sizes)
    i = next(
        i for i in range(term.chunk_index_start, term.chunk_index_end) if sizes[i] != sizes[i + 1]
    )
    sizes[i], sizes[i + 1] = sizes[i + 1], sizes[i]
    wrong = XorbLayout(term.cas_hash, layout.chunk_ends, tuple(sizes))
    with pytest.raises(XetFormatError, match=f"chunk {i} unpacks to {layout.chunk_sizes[i]} bytes"):
        b"".join(read_window(terms, {term.cas_hash: wrong}, uploaded.read, 0, 10**9))


def test_renderers_write_the_v1_and_v2_json_shapes(uploaded: Uploaded) -> None:
    terms = _terms(uploaded, "b.bin")
    window = plan(terms, uploaded.layouts, 7, 2_000_000)
    calls: list[tuple[str, int, int]] = []

    def url_for(xorb_hex: str, start: int, end: int) -> str:
        calls.append((xorb_hex, start, end))
        return f"https://cas.example/{xorb_hex}?r={start}-{end}"

    v1 = render_v1(window, url_for)
    v2 = render_v2(window, url_for)

    expected_terms = [
        {
            "hash": hash_to_hex(t.cas_hash),
            "unpacked_length": t.unpacked_bytes,
            "range": {"start": t.chunk_index_start, "end": t.chunk_index_end},
        }
        for t in window.terms
    ]
    fetches = [(hash_to_hex(h), r) for h, ranges in window.fetches.items() for r in ranges]
    assert v1 == {
        "offset_into_first_range": window.offset_into_first_range,
        "terms": expected_terms,
        "fetch_info": {
            xorb_hex: [
                {
                    "range": {"start": r.chunk_start, "end": r.chunk_end},
                    "url": f"https://cas.example/{xorb_hex}?r={r.byte_start}-{r.byte_end - 1}",
                    "url_range": {"start": r.byte_start, "end": r.byte_end - 1},
                }
                for x, r in fetches
                if x == xorb_hex
            ]
            for xorb_hex in dict.fromkeys(x for x, _ in fetches)
        },
    }
    assert v2 == {
        "offset_into_first_range": window.offset_into_first_range,
        "terms": expected_terms,
        "xorbs": {
            xorb_hex: [
                {
                    "url": f"https://cas.example/{xorb_hex}?r={r.byte_start}-{r.byte_end - 1}",
                    "ranges": [
                        {
                            "chunks": {"start": r.chunk_start, "end": r.chunk_end},
                            "bytes": {"start": r.byte_start, "end": r.byte_end - 1},
                        }
                    ],
                }
                for x, r in fetches
                if x == xorb_hex
            ]
            for xorb_hex in dict.fromkeys(x for x, _ in fetches)
        },
    }
    assert calls == 2 * [(x, r.byte_start, r.byte_end - 1) for x, r in fetches]
    assert all(isinstance(r, FetchRange) for _, r in fetches)


class _Cas(BaseHTTPRequestHandler):
    """The two read routes of a CAS, answered with our plans; xorb bytes at self-describing URLs.

    `versions` lists the reconstruction API versions served; the others answer 404, which makes
    hf_xet fall back from v2 to v1 (shared/protocol/xet.md).
    """

    protocol_version = "HTTP/1.1"
    uploaded: Uploaded
    versions: tuple[int, ...]
    requests: list[tuple[str, str | None, int]]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", content_type: str = "") -> None:
        self.requests.append((self.path, self.headers.get("Range"), status))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        route = re.fullmatch(r"/v([12])/reconstructions/([0-9a-f]{64})", self.path)
        xorb = re.fullmatch(r"/xorbs/([0-9a-f]{64})/(\d+)-(\d+)", self.path)
        if route and int(route[1]) in self.versions:
            self._reconstruction(int(route[1]), hash_from_hex(route[2]))
        elif xorb and self.headers.get("Range") == f"bytes={xorb[2]}-{xorb[3]}":
            blob = self.uploaded.xorbs[hash_from_hex(xorb[1])]
            self._answer(206, blob[int(xorb[2]) : int(xorb[3]) + 1])
        else:
            self._answer(404)

    def _reconstruction(self, version: int, file_hash: bytes) -> None:
        [file] = [f for f in self.uploaded.files.values() if f.file_hash == file_hash]
        asked = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
        start, end = (int(asked[1]), int(asked[2])) if asked else (0, file.size - 1)
        try:
            window = plan(file.segments, self.uploaded.layouts, start, end)
        except WindowPastEndError:
            self._answer(416)
            return
        host = f"http://{self.headers['Host']}"

        def url_for(xorb_hex: str, first: int, last: int) -> str:
            return f"{host}/xorbs/{xorb_hex}/{first}-{last}"

        render = render_v2 if version == 2 else render_v1
        body = json.dumps(render(window, url_for)).encode()
        self._answer(200, body, "application/json")


@pytest.fixture
def cas(
    uploaded: Uploaded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, type[_Cas]]]:
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "cache"))
    handler = type("Cas", (_Cas,), {"uploaded": uploaded, "versions": (2,), "requests": []})
    with serving(handler) as url:
        yield url, handler


def _download(
    url: str, info: hf_xet.XetFileInfo, start: int | None = None, end: int | None = None
) -> bytes:
    session = hf_xet.XetSession()
    with session.new_download_stream_group(
        endpoint=url, token="token", token_expiry_unix_secs=int(time.time()) + 3600
    ) as group:
        return b"".join(group.download_stream(info, start=start, end=end))


@pytest.mark.parametrize("version", [2, 1])
def test_hf_xet_downloads_files_and_ranges_through_our_answers(
    uploaded: Uploaded, cas: tuple[str, type[_Cas]], version: int
) -> None:
    url, handler = cas
    handler.versions = (version,)
    data = uploaded.contents["b.bin"]
    file = uploaded.files["b.bin"]
    file_hex = hash_to_hex(file.file_hash)
    sized = hf_xet.XetFileInfo(file_hex, file.size)
    boundary = file.segments[0].unpacked_bytes

    assert _download(url, sized) == data
    assert _download(url, hf_xet.XetFileInfo(file_hex)) == data
    window = _download(url, sized, boundary - 100, boundary + 300_000)
    assert window == data[boundary - 100 : boundary + 300_000]
    route = f"/v{version}/reconstructions/{file_hex}"
    assert (route, f"bytes={boundary - 100}-{boundary + 299_999}", 200) in handler.requests
    # Not knowing the size, hf_xet asks for windows until one starts past the end: our 416.
    assert any(path == route and status == 416 for path, _, status in handler.requests)
