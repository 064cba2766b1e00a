"""The shard format against real shards written by hf_xet, round trips and malformed input."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import hf_xet
import pytest

from hubstead.xet.errors import XetFormatError
from hubstead.xet.hashing import hash_to_hex
from hubstead.xet.shard import (
    FOOTER_SIZE,
    HEADER_SIZE,
    NO_EXPIRY,
    CasChunk,
    CasInfo,
    FileInfo,
    FileSegment,
    Shard,
    ShardFooter,
    footer_for,
    parse_shard,
    serialize_shard,
)
from tests.helpers.http_server import serving

ENTRY = 48


def _h(n: int) -> bytes:
    return bytes([n]) * 32


@pytest.fixture(scope="module")
def real_upload(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """hf_xet uploads two files to a local CAS directory, which writes real shards."""
    root = tmp_path_factory.mktemp("xet")
    contents = {"random.bin": os.urandom(300_000), "text.bin": b"hello world" * 10_000}
    for name, data in contents.items():
        (root / name).write_bytes(data)
    cas = root / "cas"
    cas.mkdir()
    with hf_xet.XetSession().new_upload_commit(endpoint=f"local://{cas}") as commit:
        for name in contents:
            commit.start_upload_file(str(root / name))
    return cas, contents


def _real_shard(cas: Path, kind: str) -> bytes:
    (path,) = (cas / "xet" / kind).glob("*.mdb")
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["shard-cache", "xorbs/shards"])
def test_real_hf_xet_shards_parse_and_serialize_back_byte_for_byte(
    real_upload: tuple[Path, dict[str, bytes]], kind: str
) -> None:
    cas, contents = real_upload
    data = _real_shard(cas, kind)

    shard = parse_shard(data)

    assert serialize_shard(shard) == data
    assert parse_shard(serialize_shard(shard)) == shard
    assert len(shard.files) == 2
    assert sorted(file.size for file in shard.files) == sorted(len(c) for c in contents.values())
    assert all(file.verification is not None for file in shard.files)
    expected_sha256 = {hashlib.sha256(c).hexdigest() for c in contents.values()}
    assert {hash_to_hex(file.sha256 or b"") for file in shard.files} == expected_sha256
    assert shard.footer is not None
    assert shard.footer.materialized_bytes == sum(len(c) for c in contents.values())


def test_real_cache_shard_has_the_lookup_tables_our_writer_computes(
    real_upload: tuple[Path, dict[str, bytes]],
) -> None:
    cas, _ = real_upload
    shard = parse_shard(_real_shard(cas, "shard-cache"))
    assert shard.footer is not None
    assert shard.footer.lookup_tables

    footer = footer_for(
        shard.files,
        shard.xorbs,
        creation_timestamp=shard.footer.creation_timestamp,
        key_expiry=shard.footer.key_expiry,
    )
    rebuilt = Shard(shard.files, shard.xorbs, footer)
    # hf_xet's session shards record stored_bytes_on_disk as 0; everything else matches.
    assert serialize_shard(rebuilt)[:-48] == _real_shard(cas, "shard-cache")[:-48]


def test_real_xet_hashes_in_the_shard_match_hf_xet_hash_files(
    real_upload: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    cas, contents = real_upload
    shard = parse_shard(_real_shard(cas, "xorbs/shards"))
    paths = []
    for name, data in contents.items():
        paths.append(str(tmp_path / name))
        (tmp_path / name).write_bytes(data)
    hashed = {info.hash for info in hf_xet.hash_files(paths)}
    assert {hash_to_hex(file.file_hash) for file in shard.files} == hashed


class _CasRecorder(BaseHTTPRequestHandler):
    """Just enough of a CAS for one hf_xet upload; answers global-dedup queries with our shards.

    The server's real CAS routes come later; this stands in for them so that hf_xet itself judges
    the shards `serialize_shard` writes. Routes and fallbacks: shared/protocol/xet.md.
    """

    protocol_version = "HTTP/1.1"
    xorbs: list[CasInfo]
    requests: list[str]
    uploaded_shards: list[Shard]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.requests.append(f"POST {self.path}")
        if self.path.startswith("/v1/xorbs/default/"):
            self._answer(200, json.dumps({"was_inserted": True}).encode())
        elif self.path == "/v1/shards":
            shard = parse_shard(body)
            self.uploaded_shards.append(shard)
            self.xorbs.extend(shard.xorbs)
            self._answer(200, json.dumps({"result": 0}).encode())
        else:
            self._answer(404)

    def do_GET(self) -> None:
        self.requests.append(f"GET {self.path}")
        # hf_xet 1.8 asks /v1/chunks/default/{chunk hash}, with the hash in Xet's hex form.
        prefix = "/v1/chunks/default/"
        wanted = self.path.removeprefix(prefix)
        for xorb in self.xorbs:
            if self.path.startswith(prefix) and any(
                hash_to_hex(chunk.chunk_hash) == wanted for chunk in xorb.chunks
            ):
                now = int(time.time())
                footer = footer_for((), (xorb,), creation_timestamp=now, key_expiry=now + 3600)
                self._answer(200, serialize_shard(Shard((), (xorb,), footer)))
                return
        self._answer(404)


@pytest.fixture
def cas_url() -> Iterator[tuple[str, type[_CasRecorder]]]:
    handler = type("Cas", (_CasRecorder,), {"xorbs": [], "requests": [], "uploaded_shards": []})
    with serving(handler) as url:
        yield url, handler


def test_hf_xet_dedups_against_our_global_dedup_answer(
    cas_url: tuple[str, type[_CasRecorder]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cas = cas_url
    data = os.urandom(1_000_000)
    for attempt in ("first", "second"):
        # A fresh local cache each time, so only the server's answer can make hf_xet dedup.
        monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / attempt))
        session = hf_xet.XetSession()
        with session.new_upload_commit(
            endpoint=url, token="token", token_expiry_unix_secs=int(time.time()) + 3600
        ) as commit:
            commit.start_upload_bytes(data)

    xorb_uploads = [r for r in cas.requests if r.startswith("POST /v1/xorbs/")]
    dedup_queries = [r for r in cas.requests if r.startswith("GET /v1/chunks/default/")]
    assert len(dedup_queries) == 2
    # The first upload found nothing (404) and sent its xorb; the second took our shard instead.
    assert len(xorb_uploads) == 1
    first, second = cas.uploaded_shards
    assert second.xorbs == ()
    assert second.files[0].file_hash == first.files[0].file_hash
    assert {s.cas_hash for s in second.files[0].segments} == {first.xorbs[0].cas_hash}


def _sample(footer: ShardFooter | None) -> Shard:
    files = (
        FileInfo(
            _h(1),
            (FileSegment(_h(9), 100, 0, 2), FileSegment(_h(8), 50, 1, 3, cas_flags=0)),
            verification=(_h(3), _h(4)),
            sha256=_h(5),
        ),
        FileInfo(_h(2), (FileSegment(_h(9), 70, 2, 3),), verification=(_h(6),)),
    )
    xorbs = (
        CasInfo(
            _h(9),
            (CasChunk(_h(20), 0, 60), CasChunk(_h(21), 40, 40), CasChunk(_h(22), 70, 70)),
            num_bytes_in_cas=170,
            num_bytes_on_disk=120,
        ),
        CasInfo(_h(8), (CasChunk(_h(20), 0, 10, flags=1),), 10, 20),
    )
    return Shard(files, xorbs, footer)


@pytest.mark.parametrize(
    "footer",
    [
        None,
        ShardFooter(),
        ShardFooter(lookup_tables=False),
        ShardFooter(
            creation_timestamp=1_700_000_000,
            key_expiry=1_800_000_000,
            chunk_hash_hmac_key=_h(7),
            stored_bytes_on_disk=1,
            materialized_bytes=2,
            stored_bytes=3,
        ),
    ],
)
def test_shard_round_trips(footer: ShardFooter | None) -> None:
    shard = _sample(footer)
    data = serialize_shard(shard)
    assert parse_shard(data) == shard
    assert serialize_shard(parse_shard(data)) == data


def test_upload_form_has_no_footer_and_says_so_in_the_header() -> None:
    data = serialize_shard(_sample(None))
    assert struct.unpack_from("<Q", data, 40) == (0,)
    # header, 2 files (1 + 2 + 2 + 1 and 1 + 1 + 1 entries), bookend, 2 xorbs (4 + 2), bookend
    assert len(data) == HEADER_SIZE + ENTRY * (6 + 3 + 1 + 6 + 1)


def test_footer_lookup_tables_are_sorted_and_point_at_the_entries() -> None:
    data = serialize_shard(_sample(ShardFooter()))
    footer = data[-FOOTER_SIZE:]
    fields = struct.unpack_from("<9Q", footer)
    _, file_info, xorb_info, file_at, file_n, xorb_at, xorb_n, chunk_at, chunk_n = fields
    assert (file_n, xorb_n, chunk_n) == (2, 2, 4)
    chunks = [struct.unpack_from("<QII", data, chunk_at + 16 * i) for i in range(chunk_n)]
    assert [key for key, _, _ in chunks] == sorted(key for key, _, _ in chunks)
    for key, xorb_index, position in chunks:
        at = xorb_info + ENTRY * (xorb_index + 1 + position)
        assert int.from_bytes(data[at : at + 8], "little") == key
    for section, table_at, count in ((file_info, file_at, file_n), (xorb_info, xorb_at, xorb_n)):
        rows = [struct.unpack_from("<QI", data, table_at + 12 * i) for i in range(count)]
        assert [key for key, _ in rows] == sorted(key for key, _ in rows)
        for key, index in rows:
            at = section + ENTRY * index
            assert int.from_bytes(data[at : at + 8], "little") == key
    assert struct.unpack_from("<Q", footer, 192) == (len(data) - FOOTER_SIZE,)


def test_footer_for_sums_the_sections() -> None:
    shard = _sample(None)
    footer = footer_for(shard.files, shard.xorbs, creation_timestamp=5)
    assert footer == ShardFooter(5, NO_EXPIRY, bytes(32), 140, 220, 180, True)


def test_empty_shard_round_trips() -> None:
    for shard in (Shard((), ()), Shard((), (), ShardFooter())):
        assert parse_shard(serialize_shard(shard)) == shard


def _replace(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


UPLOAD = serialize_shard(_sample(None))
STORED = serialize_shard(_sample(ShardFooter()))
XORB_INFO = struct.unpack_from("<Q", STORED, len(STORED) - FOOTER_SIZE + 16)[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "a header needs 48"),
        (b"x" * 48, "wrong tag"),
        (_replace(UPLOAD, 32, struct.pack("<Q", 3)), "version 3, expected 2"),
        (_replace(UPLOAD, 40, struct.pack("<Q", 100)), "footer size 100"),
        (UPLOAD[:HEADER_SIZE] + b"\0" * 20, "missing bookend"),
        (UPLOAD[:-1], "missing bookend"),
        (UPLOAD[: -ENTRY * 2], "CAS-info header declaring 1 chunks at offset 720: needs 2 entries"),
        (UPLOAD + b"\0", "1 bytes after the CAS-info bookend"),
        # a file declaring 0xFFFFFFFF terms is refused before anything is allocated
        (_replace(UPLOAD, 36 + HEADER_SIZE, b"\xff\xff\xff\xff"), "declaring 4294967295 terms"),
        (_replace(UPLOAD, 32 + HEADER_SIZE, struct.pack("<I", 1)), "unknown flags"),
        (_replace(UPLOAD, HEADER_SIZE * 2 + 40, struct.pack("<I", 9)), "is backwards"),
        # the second file drops its verification flag
        (_replace(UPLOAD, HEADER_SIZE + ENTRY * 6 + 32, struct.pack("<I", 0)), "all or none"),
        (_replace(STORED, 40, struct.pack("<Q", 0)), "bytes after the CAS-info bookend"),
        (_replace(UPLOAD, 40, struct.pack("<Q", FOOTER_SIZE)), "only"),
        (STORED[:-1], "version 256, expected 1"),
        (_replace(STORED, len(STORED) - FOOTER_SIZE, struct.pack("<Q", 2)), "version 2"),
        (_replace(STORED, len(STORED) - FOOTER_SIZE + 16, struct.pack("<Q", 5)), "CAS-info"),
        (_replace(STORED, len(STORED) - 8, struct.pack("<Q", 1)), "footer offset is 1"),
        (_replace(STORED, len(STORED) - FOOTER_SIZE + 32, struct.pack("<Q", 3)), "declares 3"),
        (
            _replace(STORED, len(STORED) - FOOTER_SIZE + 64, struct.pack("<Q", 2**64 - 1)),
            "chunk lookup table declares",
        ),
        (
            _replace(STORED, XORB_INFO + ENTRY + 5, b"\x01"),
            "chunk lookup table at",
        ),
    ],
)
def test_malformed_shards_raise_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(XetFormatError, match=message):
        parse_shard(data)


def test_xorb_declaring_huge_chunk_count_is_refused_before_allocation() -> None:
    xorb_header = HEADER_SIZE + ENTRY * 10
    data = _replace(UPLOAD, xorb_header + 36, b"\xff\xff\xff\xff")
    with pytest.raises(
        XetFormatError, match="CAS-info header declaring 4294967295 chunks at offset 528"
    ):
        parse_shard(data)


@pytest.mark.parametrize(
    ("shard", "message"),
    [
        (Shard((FileInfo(b"short", ()),), ()), "a file hash is 5 bytes"),
        (Shard((), (CasInfo(b"\xff" * 32, (), 0, 0),)), "all 0xFF"),
        (Shard((FileInfo(_h(1), (FileSegment(_h(2), 2**32, 0, 1),)),), ()), "u32"),
        (Shard((FileInfo(_h(1), (), verification=(_h(2),)),), ()), "1 verification hashes"),
        (
            Shard((FileInfo(_h(1), (), verification=()), FileInfo(_h(2), ())), ()),
            "all or none",
        ),
        (Shard((), (), ShardFooter(chunk_hash_hmac_key=b"k")), "HMAC key is 1 bytes"),
        (Shard((), (), ShardFooter(creation_timestamp=-1)), "u64"),
    ],
)
def test_serializing_invalid_records_raises(shard: Shard, message: str) -> None:
    with pytest.raises(XetFormatError, match=message):
        serialize_shard(shard)
