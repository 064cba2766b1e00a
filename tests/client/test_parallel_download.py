"""Large files: parallel ranges, verification while downloading, resuming, retries.

The 40 MiB LFS file goes through a TCP proxy in front of the live hub, which records every
request and can cut a response short like a dropped connection. Conditions the hub never
produces (no range support, bytes that do not match their etag, 503s) come from a small
Hub-shaped server (`tests/helpers/static_hub.py`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd

from hubstead import errors
from hubstead.client._bodies import sockets_usable
from hubstead.client._http import HubSession
from hubstead.client._locate import fetch_metadata
from hubstead.client._transfer import Transfer, TransferOptions
from hubstead.client._urls import resolve_url
from hubstead.client.api import HfApi
from hubstead.client.downloads import hf_hub_download
from tests.helpers.accounts import make_user, unique_name
from tests.helpers.commits import git_blob_sha1
from tests.helpers.lfs import CuttingProxy, MiB, file_sha256, sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.static_hub import StaticHub

SIZE = 40 * MiB
RANGE = re.compile(r"^range: bytes=(\d+)-(\d*)$", re.IGNORECASE | re.MULTILINE)


class BigRepo:
    def __init__(self, repo_id: str, token: str, content: bytes) -> None:
        self.repo_id = repo_id
        self.token = token
        self.content = content
        self.sha256 = sha256(content)


@pytest.fixture(scope="module")
def big_repo(live_server: LiveServer) -> Iterator[BigRepo]:
    """A repo holding `big.bin`: 40 MiB of random bytes, stored in LFS (uploaded once)."""
    owner = make_user(live_server)
    repo_id = f"{owner.name}/{unique_name('big')}"
    owner.api.create_repo(repo_id)
    content = os.urandom(SIZE)
    owner.api.create_commit(repo_id, [CommitOperationAdd("big.bin", content)], commit_message="big")
    yield BigRepo(repo_id, owner.token, content)
    owner.api.delete_repo(repo_id)


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(live_server.port)
    yield proxy
    proxy.close()


def blob_ranges(proxy: CuttingProxy) -> list[tuple[int, int | None]]:
    """The byte ranges the client asked the blob URL for, in order (plain GETs left out)."""
    found = []
    for head in proxy.requests:
        match = RANGE.search(head)
        if head.startswith("GET /lfs/objects/") and match is not None:
            found.append((int(match.group(1)), int(match.group(2)) if match.group(2) else None))
    return found


def incomplete_path(cache: Path, big: BigRepo) -> Path:
    folder = cache / f"models--{big.repo_id.replace('/', '--')}" / "blobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{big.sha256}.incomplete"


def download_big(
    proxy: CuttingProxy,
    big: BigRepo,
    cache: Path,
    *,
    connections: int | None = None,
    chunk_size: int | None = None,
) -> Path:
    path = hf_hub_download(
        big.repo_id,
        "big.bin",
        endpoint=proxy.url,
        token=big.token,
        cache_dir=cache,
        connections=connections,
        chunk_size=chunk_size,
    )
    return Path(path)


def test_large_file_arrives_through_parallel_ranges_with_the_right_sha256(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    path = download_big(proxy, big_repo, tmp_path, connections=4, chunk_size=8 * MiB)

    assert file_sha256(path) == big_repo.sha256
    assert sorted(blob_ranges(proxy)) == [(s, s + 8 * MiB - 1) for s in range(0, SIZE, 8 * MiB)]
    assert not incomplete_path(tmp_path, big_repo).exists()


def test_default_chunks_are_at_least_16_mib(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    path = download_big(proxy, big_repo, tmp_path)

    assert file_sha256(path) == big_repo.sha256
    assert sorted(blob_ranges(proxy)) == [
        (0, 16 * MiB - 1),
        (16 * MiB, 32 * MiB - 1),
        (32 * MiB, SIZE - 1),
    ]


def test_connections_and_chunk_size_come_from_the_environment(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSTEAD_DOWNLOAD_CHUNK_SIZE", str(10 * MiB))
    download_big(proxy, big_repo, tmp_path / "ranged")
    ranged = blob_ranges(proxy)
    monkeypatch.setenv("HUBSTEAD_DOWNLOAD_CONNECTIONS", "1")
    proxy.requests.clear()

    path = download_big(proxy, big_repo, tmp_path / "single")

    assert len(ranged) == 4
    assert blob_ranges(proxy) == []  # one plain GET, no Range
    assert sum(h.startswith("GET /lfs/objects/") for h in proxy.requests) == 1
    assert file_sha256(path) == big_repo.sha256


def test_download_resumes_from_a_correct_partial_file(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    incomplete_path(tmp_path, big_repo).write_bytes(big_repo.content[: 25 * MiB])

    path = download_big(proxy, big_repo, tmp_path, chunk_size=8 * MiB)

    assert file_sha256(path) == big_repo.sha256
    assert min(start for start, _ in blob_ranges(proxy)) == 25 * MiB
    assert proxy.served < 16 * MiB
    assert not incomplete_path(tmp_path, big_repo).exists()


def test_a_corrupt_partial_file_is_detected_and_fetched_again(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    corrupt = bytearray(big_repo.content[: 25 * MiB])
    corrupt[12345] ^= 0xFF
    incomplete_path(tmp_path, big_repo).write_bytes(bytes(corrupt))

    path = download_big(proxy, big_repo, tmp_path, chunk_size=8 * MiB)

    assert file_sha256(path) == big_repo.sha256
    assert proxy.served > SIZE + 15 * MiB  # the rest, then all of it again
    assert not incomplete_path(tmp_path, big_repo).exists()


def test_a_full_size_partial_with_wrong_bytes_is_never_served(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    # What a killed parallel download leaves: the preallocated file, partly filled.
    incomplete_path(tmp_path, big_repo).write_bytes(big_repo.content[: 30 * MiB] + bytes(10 * MiB))

    path = download_big(proxy, big_repo, tmp_path)

    assert file_sha256(path) == big_repo.sha256


def test_a_cut_connection_is_resumed_within_its_range(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    proxy.cut_next("/lfs/objects/", after=3 * MiB)

    path = download_big(proxy, big_repo, tmp_path, chunk_size=8 * MiB)

    assert file_sha256(path) == big_repo.sha256
    assert proxy.served < SIZE + 4 * MiB
    assert len(blob_ranges(proxy)) == 6  # five chunks, one of them asked twice


def test_an_interrupted_download_keeps_its_verified_prefix_and_resumes(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    proxy.cut_next("/lfs/objects/", after=5 * MiB)
    with (
        HfApi(endpoint=proxy.url, token=big_repo.token, max_retries=0) as api,
        pytest.raises(httpx.TransportError),
    ):
        api.hf_hub_download(big_repo.repo_id, "big.bin", cache_dir=tmp_path, chunk_size=8 * MiB)
    partial = incomplete_path(tmp_path, big_repo).read_bytes()
    proxy.requests.clear()

    path = download_big(proxy, big_repo, tmp_path, chunk_size=8 * MiB)

    assert 0 < len(partial) < 8 * MiB
    assert partial == big_repo.content[: len(partial)]
    assert min(start for start, _ in blob_ranges(proxy)) == len(partial)
    assert file_sha256(path) == big_repo.sha256


# --- servers that misbehave ---------------------------------------------------------------------


@pytest.fixture
def make_hub() -> Iterator[type[StaticHub]]:
    started: list[StaticHub] = []

    class Tracked(StaticHub):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    yield Tracked
    for hub in started:
        hub.close()


def test_a_server_without_range_support_gets_a_single_stream(
    make_hub: type[StaticHub], tmp_path: Path
) -> None:
    content = os.urandom(12 * MiB)
    hub = make_hub({"w.bin": content}, ranges=False)

    path = hf_hub_download("a/b", "w.bin", endpoint=hub.url, cache_dir=tmp_path, chunk_size=MiB)

    assert Path(path).read_bytes() == content
    # The first range request got the whole file, and it was kept.
    assert hub.gets() == [("GET", "/a/b/resolve/main/w.bin", f"bytes=0-{MiB - 1}")]


@pytest.mark.parametrize("size", [MiB, 12 * MiB], ids=["one-stream", "ranges"])
def test_resuming_against_a_server_without_ranges_starts_over(
    make_hub: type[StaticHub], tmp_path: Path, size: int
) -> None:
    content = os.urandom(size)
    hub = make_hub({"w.bin": content}, ranges=False)
    blobs = tmp_path / "models--a--b" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{sha256(content)}.incomplete").write_bytes(content[:1000])

    path = hf_hub_download("a/b", "w.bin", endpoint=hub.url, cache_dir=tmp_path)

    assert Path(path).read_bytes() == content
    assert [r[2] for r in hub.gets()] == ["bytes=1000-"]


@pytest.mark.parametrize(
    ("kind", "size"),
    [("sha256", 2 * MiB), ("git-sha1", 2 * MiB), ("sha256", 12 * MiB), ("git-sha1", 12 * MiB)],
)
def test_bytes_that_do_not_match_their_etag_are_never_served(
    make_hub: type[StaticHub], tmp_path: Path, kind: str, size: int
) -> None:
    content = os.urandom(size)
    etag = sha256(b"other") if kind == "sha256" else git_blob_sha1(b"other")
    hub = make_hub({"w.bin": content}, etags={"w.bin": etag})

    with pytest.raises(errors.IntegrityError, match=etag):
        hf_hub_download("a/b", "w.bin", endpoint=hub.url, cache_dir=tmp_path, chunk_size=MiB)

    folder = tmp_path / "models--a--b"
    assert list((folder / "blobs").iterdir()) == []
    assert not (folder / "snapshots").exists() or not any((folder / "snapshots").rglob("w.bin"))


def test_git_blob_sha1_is_checked_for_regular_files(
    make_hub: type[StaticHub], tmp_path: Path
) -> None:
    content = b"a regular file\n"
    hub = make_hub({"a.txt": content}, etags={"a.txt": git_blob_sha1(content)})

    path = hf_hub_download("a/b", "a.txt", endpoint=hub.url, cache_dir=tmp_path)

    assert Path(path).resolve().name == git_blob_sha1(content)


@pytest.mark.parametrize("size", [MiB, 12 * MiB], ids=["one-stream", "ranges"])
def test_503_answers_are_retried(make_hub: type[StaticHub], tmp_path: Path, size: int) -> None:
    content = os.urandom(size)
    hub = make_hub({"w.bin": content}, fail={"GET": 2, "HEAD": 1})

    path = hf_hub_download("a/b", "w.bin", endpoint=hub.url, cache_dir=tmp_path, chunk_size=4 * MiB)

    assert Path(path).read_bytes() == content
    assert len(hub.gets()) == -(-size // (4 * MiB)) + 2  # a GET per range, the first refused twice


# --- how the bytes are read ---------------------------------------------------------------------


def test_the_httpx_reader_fetches_ranges_and_resumes_a_cut_too(
    proxy: CuttingProxy, big_repo: BigRepo, tmp_path: Path
) -> None:
    with HfApi(endpoint=proxy.url, token=big_repo.token) as api:
        url = resolve_url(proxy.url, big_repo.repo_id, "big.bin", repo_type=None, revision="main")
        location = fetch_metadata(
            api.session, url, token=None, timeout=10, headers={}, retry=True
        ).location
        proxy.cut_next("/lfs/objects/", after=3 * MiB)
        target = tmp_path / "big.incomplete"
        options = TransferOptions(connections=4, chunk_size=8 * MiB, sockets=False)

        Transfer(
            api.session, location, target, etag=big_repo.sha256, size=SIZE, name="big.bin",
            options=options,
        ).run()  # fmt: skip

    assert file_sha256(target) == big_repo.sha256
    assert len(blob_ranges(proxy)) == 6


def test_a_redirected_download_is_followed_by_httpx(
    make_hub: type[StaticHub], tmp_path: Path
) -> None:
    content = os.urandom(12 * MiB)
    hub = make_hub({"w.bin": content}, redirect_gets=True)

    path = hf_hub_download("a/b", "w.bin", endpoint=hub.url, cache_dir=tmp_path, chunk_size=4 * MiB)

    assert Path(path).read_bytes() == content
    # The socket reader met the redirect once; httpx then followed it for each of three ranges.
    targets = sorted(path for _, path, _ in hub.gets())
    assert targets == ["/a/b/resolve/main/w.bin"] * 4 + ["/a/b/resolve/main/w.bin?moved=1"] * 3


def test_sockets_are_used_only_where_httpx_would_not_go_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = HubSession("http://127.0.0.1:9", None)
    url = "http://127.0.0.1:9/lfs/objects/x"
    direct = sockets_usable(session, url)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    proxied = sockets_usable(session, url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bypassed = sockets_usable(session, url)

    assert (direct, proxied, bypassed) == (True, False, True)
