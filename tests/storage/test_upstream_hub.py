"""`HubUpstream` (the storage adapter to upstream hubs) against a live hub.

What it reads (visibility, gating, whole files and ranges, LFS files behind their redirect), and
how it fails: always a `RemoteError`, whose `failure` the mirroring services turn into a domain
error. Each failure is produced for real: a missing or private repo, a refused token, a missing
file, a range past the end, a closed port, a transfer cut short.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator

import pytest

from hubstead.protocol import RepoType
from hubstead.server.domain.mirrors import Source, UpstreamRepo
from hubstead.server.storage.errors import RemoteError, RemoteFailure
from hubstead.server.storage.upstream_hub import HubUpstream
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.lfs import CuttingProxy
from tests.helpers.live_server import LiveServer

NOTES = os.urandom(300_000)
WEIGHTS = os.urandom(5000)


@pytest.fixture
def upstream() -> Iterator[HubUpstream]:
    hub = HubUpstream(max_retries=0)
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def owner(live_server: LiveServer) -> HubUser:
    return make_user(live_server, "upstream-owner")


@pytest.fixture(scope="module")
def repo_id(owner: HubUser) -> str:
    """A public model with a regular file and an LFS file."""
    repo_id = f"{owner.name}/{unique_name('upstream')}"
    owner.api.create_repo(repo_id)
    owner.api.upload_file(path_or_fileobj=NOTES, path_in_repo="notes.txt", repo_id=repo_id)
    owner.api.upload_file(path_or_fileobj=WEIGHTS, path_in_repo="w.safetensors", repo_id=repo_id)
    return repo_id


def source(server: LiveServer | str, repo_id: str, token: str | None = None) -> Source:
    endpoint = server if isinstance(server, str) else server.url
    return Source(endpoint, RepoType.MODEL, repo_id, token)


def read(
    upstream: HubUpstream, src: Source, path: str, start: int = 0, end: int | None = None
) -> bytes:
    with upstream.download(src, "main", path, start, end) as chunks:
        return b"".join(chunks)


def failure(call: Callable[[], object]) -> RemoteFailure:
    with pytest.raises(RemoteError) as caught:
        call()
    return caught.value.failure


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_repo_reports_visibility_and_gating(
    upstream: HubUpstream, live_server: LiveServer, owner: HubUser, repo_id: str
) -> None:
    private = f"{owner.name}/{unique_name('private')}"
    owner.api.create_repo(private, private=True)
    gated = f"{owner.name}/{unique_name('gated')}"
    owner.api.create_repo(gated)
    owner.api.update_repo_settings(gated, gated="manual")

    assert upstream.repo(source(live_server, repo_id)) == UpstreamRepo(False, None)
    assert upstream.repo(source(live_server, private, owner.token)) == UpstreamRepo(True, None)
    assert upstream.repo(source(live_server, gated)) == UpstreamRepo(False, "manual")


def test_a_missing_repo_and_one_hidden_from_the_token_are_not_found(
    upstream: HubUpstream, live_server: LiveServer, owner: HubUser
) -> None:
    private = f"{owner.name}/{unique_name('private')}"
    owner.api.create_repo(private, private=True)
    missing = f"{owner.name}/{unique_name('missing')}"

    assert failure(lambda: upstream.repo(source(live_server, missing))) is RemoteFailure.NOT_FOUND
    assert failure(lambda: upstream.repo(source(live_server, private))) is RemoteFailure.NOT_FOUND


def test_a_refused_token_is_denied(
    upstream: HubUpstream, live_server: LiveServer, repo_id: str
) -> None:
    refused = source(live_server, repo_id, "hf_" + "x" * 34)

    assert failure(lambda: upstream.repo(refused)) is RemoteFailure.DENIED
    assert failure(lambda: read(upstream, refused, "notes.txt")) is RemoteFailure.DENIED


def test_download_reads_files_and_ranges_lfs_files_behind_their_redirect(
    upstream: HubUpstream, live_server: LiveServer, repo_id: str
) -> None:
    src = source(live_server, repo_id)

    assert read(upstream, src, "notes.txt") == NOTES
    assert read(upstream, src, "notes.txt", 1000, 1999) == NOTES[1000:2000]
    assert read(upstream, src, "notes.txt", 299_990) == NOTES[299_990:]
    assert read(upstream, src, "w.safetensors") == WEIGHTS
    assert read(upstream, src, "w.safetensors", 10, 19) == WEIGHTS[10:20]


def test_a_missing_file_is_not_found_and_a_range_past_the_end_is_rejected(
    upstream: HubUpstream, live_server: LiveServer, repo_id: str
) -> None:
    src = source(live_server, repo_id)

    assert failure(lambda: read(upstream, src, "nothing.bin")) is RemoteFailure.NOT_FOUND
    past_end = failure(lambda: read(upstream, src, "notes.txt", 400_000, 400_010))
    assert past_end is RemoteFailure.REJECTED


def test_a_hub_that_does_not_answer_is_unreachable(upstream: HubUpstream) -> None:
    down = source(closed_port_url(), "someone/model")

    assert failure(lambda: upstream.repo(down)) is RemoteFailure.UNREACHABLE
    assert failure(lambda: read(upstream, down, "notes.txt")) is RemoteFailure.UNREACHABLE


def test_a_transfer_cut_short_fails_while_reading_as_unreachable(
    upstream: HubUpstream, live_server: LiveServer, repo_id: str
) -> None:
    proxy = CuttingProxy(live_server.port)
    try:
        proxy.cut_next(f"/{repo_id}/resolve/", 50_000)
        # The answer starts well (200 and its headers): the failure comes while reading.
        with (
            upstream.download(source(proxy.url, repo_id), "main", "notes.txt") as chunks,
            pytest.raises(RemoteError) as caught,
        ):
            b"".join(chunks)
    finally:
        proxy.close()

    assert caught.value.failure is RemoteFailure.UNREACHABLE
