"""Hostile Xet uploads: xorbs and shards that lie, bombs, and reads across repos.

Each case gets a 4xx that says what is wrong, stores and registers nothing it should not, and
leaves the hub serving the next honest upload. Bodies are built with the hub's own format code
(`tests.helpers.xet_cas`) and changed one field at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import lz4.frame
import pytest
from huggingface_hub import CommitOperationAdd
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.lfs import UploadInfo

from hubstead.xet.hashing import ZERO_HASH, chunk_hash, hash_from_hex, hash_to_hex, xorb_hash
from hubstead.xet.shard import HEADER_SIZE, MAX_SHARD_SIZE, FileSegment
from hubstead.xet.xorb import MAX_XORB_SIZE, Compression
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.commits import header, ndjson, post_commit
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.sockets import connect, read_answer
from tests.helpers.xet_cas import XetUpload, build_upload, cas_for, cas_token, upload

MiB = 1024 * 1024


@pytest.fixture
def http(live_server: LiveServer, user: HubUser) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server.url, headers={"authorization": f"Bearer {user.token}"}
    ) as client:
        yield client


@pytest.fixture
def cas(http: httpx.Client, repo: str) -> Iterator[httpx.Client]:
    """A CAS client with a write token for `repo`; afterwards the hub takes an honest upload."""
    with cas_for(http, repo) as client:
        yield client
        upload(client, build_upload(os.urandom(100_000)))


def _stored(server: LiveServer, xorb: str) -> bool:
    return (server.data_dir / "xorbs" / xorb[:2] / xorb[2:4] / xorb).exists()


def _lfs_line(path: str, sha256: str, size: int) -> dict[str, object]:
    return {
        "key": "lfsFile",
        "value": {"path": path, "algo": "sha256", "oid": sha256, "size": size},
    }


def _assert_not_registered(http: httpx.Client, repo: str, file: XetUpload) -> None:
    """Neither a reconstruction nor a commit can reach the file."""
    with cas_for(http, repo, "read") as reader:
        assert reader.get(f"/v1/reconstructions/{file.file_hash}").status_code == 404
    committed = post_commit(
        http, repo, ndjson(header(), _lfs_line("f.bin", file.sha256, len(file.data)))
    )
    assert committed.status_code == 400
    assert "has not been uploaded" in committed.json()["error"]


@contextlib.contextmanager
def _peak_allocations() -> Iterator[Callable[[], int]]:
    """The peak of Python allocations (server thread included) while the block ran."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _chunk_header(stored: int, scheme: int, size: int) -> bytes:
    return bytes([0]) + stored.to_bytes(3, "little") + bytes([scheme]) + size.to_bytes(3, "little")


# --- xorbs --------------------------------------------------------------------------------------


def test_a_xorb_whose_bytes_do_not_hash_to_its_url_is_refused_and_not_stored(
    live_server: LiveServer, http: httpx.Client, repo: str, cas: httpx.Client
) -> None:
    file = build_upload(os.urandom(200_000))
    other = build_upload(os.urandom(200_000))

    response = cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=other.xorb)
    shard = cas.post("/v1/shards", content=file.shard())

    assert response.status_code == 400
    assert f"hash to {other.xorb_hash}, not {file.xorb_hash}" in response.json()["error"]
    assert not _stored(live_server, file.xorb_hash)
    assert not _stored(live_server, other.xorb_hash)
    assert shard.status_code == 400
    assert "does not hold" in shard.json()["error"]
    _assert_not_registered(http, repo, file)


@pytest.mark.parametrize("name", ["abc", "z" * 64, "0" * 63, "0" * 65, "..%2F" + "0" * 60])
def test_a_malformed_xorb_hash_is_400(cas: httpx.Client, name: str) -> None:
    file = build_upload(os.urandom(50_000))

    response = cas.post(f"/v1/xorbs/default/{name}", content=file.xorb)

    assert response.status_code in (400, 404)
    assert response.json()["error"]


def _truncated(file: XetUpload) -> bytes:
    return file.xorb[:-10]


def _oversized_chunk(_: XetUpload) -> bytes:
    big = 128 * 1024 + 1
    return _chunk_header(big, Compression.NONE, big) + bytes(big)


def _empty_chunk(_: XetUpload) -> bytes:
    return _chunk_header(0, Compression.NONE, 0)


def _bad_version(file: XetUpload) -> bytes:
    return b"\x07" + file.xorb[1:]


def _unknown_scheme(file: XetUpload) -> bytes:
    return file.xorb[:4] + b"\x09" + file.xorb[5:]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_truncated, "truncated"),
        (_oversized_chunk, "a chunk is at most 131072"),
        (_empty_chunk, "holds no bytes"),
        (_bad_version, "unknown version"),
        (_unknown_scheme, "compression scheme"),
        (lambda _: b"", "at least one chunk"),
    ],
)
def test_malformed_xorbs_are_400_and_not_stored(
    live_server: LiveServer, cas: httpx.Client, change: Callable[[XetUpload], bytes], message: str
) -> None:
    file = build_upload(os.urandom(200_000))
    body = change(file)

    response = cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=body)

    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
    assert not _stored(live_server, file.xorb_hash)


def test_an_lz4_bomb_is_refused_without_inflating(
    live_server: LiveServer, cas: httpx.Client
) -> None:
    frame = lz4.frame.compress(bytes(30 * MiB))  # about 120 KiB that inflate to 30 MiB
    chunk = _chunk_header(len(frame), Compression.LZ4, 1000) + frame
    name = hash_to_hex(xorb_hash([(chunk_hash(bytes(1000)), 1000)]))

    with _peak_allocations() as peak:
        response = cas.post(f"/v1/xorbs/default/{name}", content=chunk)
        used = peak()

    assert response.status_code == 400
    assert "does not decompress to the 1000 bytes" in response.json()["error"]
    assert used < 8 * MiB
    assert not _stored(live_server, name)


def test_a_xorb_of_many_small_bombs_does_not_hold_their_bytes(cas: httpx.Client) -> None:
    # Honest chunks, each a tiny LZ4 frame of 128 KiB of zeros: a body of a few hundred KiB
    # that inflates to the 64 MiB a xorb may hold. The hub hashes them one at a time.
    size = 128 * 1024
    frame = lz4.frame.compress(bytes(size))
    count = 512
    body = (_chunk_header(len(frame), Compression.LZ4, size) + frame) * count
    name = hash_to_hex(xorb_hash([(chunk_hash(bytes(size)), size)] * count))

    with _peak_allocations() as peak:
        response = cas.post(f"/v1/xorbs/default/{name}", content=body)
        used = peak()

    assert response.status_code == 200, response.text
    assert used < 16 * MiB


def test_a_xorb_of_more_chunks_than_a_client_writes_is_refused(cas: httpx.Client) -> None:
    body = (_chunk_header(1, Compression.NONE, 1) + b"x") * (8 * 1024 + 1)
    name = hash_to_hex(xorb_hash([(chunk_hash(b"x"), 1)] * (8 * 1024 + 1)))

    response = cas.post(f"/v1/xorbs/default/{name}", content=body)

    assert response.status_code == 400
    assert "8192 chunks" in response.json()["error"]


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/v1/xorbs/default/" + "0" * 64, MAX_XORB_SIZE), ("/v1/shards", MAX_SHARD_SIZE)],
)
def test_an_oversized_body_is_413_before_it_is_sent(
    live_server: LiveServer, http: httpx.Client, repo: str, path: str, limit: int
) -> None:
    _, token = cas_token(http, repo)
    sock = connect(live_server)
    try:
        sock.sendall(
            f"POST /cas{path} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Length: {limit + 1}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = read_answer(sock)
    finally:
        sock.close()

    assert answer.startswith(b"HTTP/1.1 413")
    assert b"larger than" in answer


def test_reuploading_a_xorb_of_another_users_private_repo_tells_nothing(
    live_server: LiveServer,
    http: httpx.Client,
    repo_factory: Callable[..., str],
    other_user: HubUser,
) -> None:
    private = repo_factory(private=True)
    file = build_upload(os.urandom(200_000))
    with cas_for(http, private) as owner:
        upload(owner, file)
    theirs = f"{other_user.name}/own"
    other_user.api.create_repo(theirs)
    with (
        httpx.Client(
            base_url=live_server.url, headers={"authorization": f"Bearer {other_user.token}"}
        ) as other,
        cas_for(other, theirs) as outsider,
    ):
        response = outsider.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb)
        again = outsider.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb)

    assert response.json() == {"was_inserted": True}
    assert again.json() == {"was_inserted": False}


# --- shards -------------------------------------------------------------------------------------


def test_garbage_shards_are_400(cas: httpx.Client) -> None:
    for body in (b"", b"garbage", os.urandom(10_000), bytes(HEADER_SIZE)):
        response = cas.post("/v1/shards", content=body)
        assert response.status_code == 400
        assert response.json()["error"].startswith("Rejected shard")


def test_a_shard_naming_a_missing_xorb_is_400(
    http: httpx.Client, repo: str, cas: httpx.Client
) -> None:
    file = build_upload(os.urandom(100_000))

    response = cas.post("/v1/shards", content=file.shard())

    assert response.status_code == 400
    assert f"first {file.xorb_hash}; upload them first" in response.json()["error"]
    _assert_not_registered(http, repo, file)


def test_a_xorb_of_a_repo_the_uploader_cannot_read_looks_missing(
    live_server: LiveServer,
    http: httpx.Client,
    repo_factory: Callable[..., str],
    other_user: HubUser,
) -> None:
    private = repo_factory(private=True)
    file = build_upload(os.urandom(100_000))
    absent = build_upload(os.urandom(100_000))
    with cas_for(http, private) as owner:
        assert (
            owner.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb).status_code == 200
        )
    theirs = f"{other_user.name}/own"
    other_user.api.create_repo(theirs)

    with (
        httpx.Client(
            base_url=live_server.url, headers={"authorization": f"Bearer {other_user.token}"}
        ) as other,
        cas_for(other, theirs) as outsider,
    ):
        hidden = outsider.post("/v1/shards", content=file.shard())
        missing = outsider.post("/v1/shards", content=absent.shard())
        _assert_not_registered(other, theirs, file)

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["error"].replace(file.xorb_hash, "X") == missing.json()["error"].replace(
        absent.xorb_hash, "X"
    )


def _segment(file: XetUpload, **changes: Any) -> tuple[FileSegment, ...]:
    return (dataclasses.replace(file.file.segments[0], **changes),)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (lambda f: {"segments": _segment(f, chunk_index_end=999)}, "are outside xorb"),
        (lambda f: {"segments": _segment(f, chunk_index_start=2, chunk_index_end=1)}, "backwards"),
        (lambda f: {"segments": _segment(f, unpacked_bytes=len(f.data) + 1)}, "declares"),
        (lambda f: {"segments": (), "verification": ()}, "has no terms"),
        (lambda f: {"file_hash": ZERO_HASH[:-1] + b"\x01"}, "is not the hash of the chunks"),
        (lambda f: {"verification": (b"\x01" * 32,)}, "wrong verification hash"),
        (lambda f: {"sha256": None}, "carries no sha256"),
    ],
)
def test_shards_that_lie_about_their_files_are_400_and_register_nothing(
    http: httpx.Client,
    repo: str,
    cas: httpx.Client,
    changes: Callable[[XetUpload], dict[str, object]],
    message: str,
) -> None:
    file = build_upload(os.urandom(300_000))
    assert cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb).status_code == 200

    response = cas.post("/v1/shards", content=file.shard(**changes(file)))

    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
    _assert_not_registered(http, repo, file)


def test_a_false_sha256_claim_is_refused_and_cannot_be_committed(
    http: httpx.Client, user: HubUser, repo: str, cas: httpx.Client
) -> None:
    file = build_upload(os.urandom(300_000))
    victim = os.urandom(300_000)  # the bytes whose sha256 the uploader would poison
    claimed = build_upload(victim).sha256
    assert cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb).status_code == 200

    response = cas.post("/v1/shards", content=file.shard(sha256=hash_from_hex(claimed)))

    assert response.status_code == 400
    assert (
        f"claims sha256 {claimed}, but its bytes hash to {file.sha256}" in response.json()["error"]
    )
    raw = post_commit(
        http, repo, ndjson(header(), _lfs_line("poison.bin", claimed, len(file.data)))
    )
    assert raw.status_code == 400
    assert f"LFS object {claimed}" in raw.json()["error"]
    forged = CommitOperationAdd("poison.bin", victim)
    forged.upload_info = UploadInfo(
        sha256=bytes.fromhex(claimed), size=len(file.data), sample=victim[:512]
    )
    forged._upload_mode = "lfs"
    forged._is_uploaded = True
    with pytest.raises(HfHubHTTPError) as refused:
        user.api.create_commit(repo, [forged], commit_message="poison")
    assert refused.value.response.status_code == 400
    assert "has not been uploaded" in str(refused.value)
    assert [f.rfilename for f in user.api.model_info(repo).siblings or []] == [".gitattributes"]


@pytest.mark.parametrize("section", ["files", "terms", "chunks"])
def test_a_shard_declaring_2_to_the_32_entries_is_refused_quickly(
    cas: httpx.Client, section: str
) -> None:
    file = build_upload(os.urandom(100_000))
    shard = bytearray(file.shard())
    if section == "terms":
        shard[HEADER_SIZE + 36 : HEADER_SIZE + 40] = (2**32 - 1).to_bytes(4, "little")
    elif section == "files":
        shard[HEADER_SIZE + 32 : HEADER_SIZE + 36] = (3 << 30).to_bytes(4, "little")
    else:
        xorb_entry = bytes(32) + (0).to_bytes(4, "little") + (2**32 - 1).to_bytes(4, "little")
        shard = shard[:-48] + bytearray(xorb_entry + bytes(8)) + shard[-48:]

    started = time.monotonic()
    with _peak_allocations() as peak:
        response = cas.post("/v1/shards", content=bytes(shard))
        used = peak()

    assert response.status_code == 400
    assert response.json()["error"].startswith("Rejected shard")
    assert time.monotonic() - started < 5
    assert used < 8 * MiB


# --- dedup --------------------------------------------------------------------------------------


def test_dedup_shows_a_private_chunk_only_to_who_may_read_it(
    live_server: LiveServer,
    http: httpx.Client,
    repo_factory: Callable[..., str],
    other_user: HubUser,
) -> None:
    private = repo_factory(private=True)
    file = build_upload(os.urandom(200_000))
    with cas_for(http, private) as owner:
        upload(owner, file)
        first = file.first_chunk_hash
        seen = owner.get(f"/v1/chunks/default-merkledb/{first}")
    theirs = f"{other_user.name}/own"
    other_user.api.create_repo(theirs)
    with (
        httpx.Client(
            base_url=live_server.url, headers={"authorization": f"Bearer {other_user.token}"}
        ) as other,
        cas_for(other, theirs) as outsider,
    ):
        hidden = outsider.get(f"/v1/chunks/default-merkledb/{first}")
        unknown = outsider.get(f"/v1/chunks/default-merkledb/{'1' * 64}")

    assert seen.status_code == 200
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()


def test_a_file_larger_than_the_hub_accepts_is_refused_before_it_is_read(tmp_path: Path) -> None:
    server = start_server(tmp_path, max_lfs_object_bytes=100_000)
    try:
        owner = make_user(server, "owner")
        repo = f"{owner.name}/weights"
        owner.api.create_repo(repo)
        file = build_upload(os.urandom(200_000))
        with (
            httpx.Client(
                base_url=server.url, headers={"authorization": f"Bearer {owner.token}"}
            ) as http,
            cas_for(http, repo) as cas,
        ):
            assert (
                cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb).status_code
                == 200
            )
            response = cas.post("/v1/shards", content=file.shard())
    finally:
        server.stop()

    assert response.status_code == 400
    assert "200000 bytes, more than the 100000 this hub accepts" in response.json()["error"]
