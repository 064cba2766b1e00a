"""`UpstreamService`: upstream's failures become domain errors in one place, and decide what
jobs and requests do with them.

The service runs on the real storage adapters (`HubUpstream` for the API and files, the git
store's `git ls-remote`/`git fetch` for git data) against a live hub, and every failure is real.
For each: the domain error class, whether the job runner retries it, the status a request gets,
what the message says, and the storage error chained beneath it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.mirrors import Source
from hubstead.server.jobs.runner import is_retryable
from hubstead.server.services.mirroring.upstreams import UpstreamService
from hubstead.server.storage.errors import RemoteError
from hubstead.server.storage.git_pygit2 import Pygit2GitStore
from hubstead.server.storage.upstream_hub import HubUpstream
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.lfs import CuttingProxy
from tests.helpers.live_server import LiveServer

NOTES = os.urandom(300_000)
REFUSED_TOKEN = "hf_" + "x" * 34


@pytest.fixture
def git(tmp_path: Path) -> Pygit2GitStore:
    return Pygit2GitStore(tmp_path / "repos")


@pytest.fixture
def upstreams(git: Pygit2GitStore) -> Iterator[UpstreamService]:
    service = UpstreamService(HubUpstream(max_retries=0), git, default_token=None)
    yield service
    service.close()


@pytest.fixture(scope="module")
def owner(live_server: LiveServer) -> HubUser:
    return make_user(live_server, "upstream-owner")


@pytest.fixture(scope="module")
def repo_id(owner: HubUser) -> str:
    repo_id = f"{owner.name}/{unique_name('upstream')}"
    owner.api.create_repo(repo_id)
    owner.api.upload_file(path_or_fileobj=NOTES, path_in_repo="notes.txt", repo_id=repo_id)
    return repo_id


def source(endpoint: str, repo_id: str, token: str | None = None) -> Source:
    return Source(endpoint, RepoType.MODEL, repo_id, token)


def fetch_refs(upstreams: UpstreamService, git: Pygit2GitStore, src: Source) -> dict[str, str]:
    key = uuid.uuid4().hex
    git.init(key)
    return upstreams.fetch_refs(key, src, ())


def read(upstreams: UpstreamService, src: Source, start: int = 0, end: int | None = None) -> bytes:
    with upstreams.download(src, "main", "notes.txt", start, end) as chunks:
        return b"".join(chunks)


def raised(call: Callable[[], object]) -> errors.UpstreamError:
    """The domain error `call` raises, checked to chain the storage error it comes from."""
    with pytest.raises(errors.UpstreamError) as caught:
        call()
    assert isinstance(caught.value.__cause__, RemoteError)
    return caught.value


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_git_data_is_fetched_with_upstreams_commit_ids(
    upstreams: UpstreamService,
    git: Pygit2GitStore,
    live_server: LiveServer,
    owner: HubUser,
    repo_id: str,
) -> None:
    refs = fetch_refs(upstreams, git, source(live_server.url, repo_id))

    assert refs == {"refs/heads/main": owner.api.model_info(repo_id).sha}


def test_a_repo_missing_upstream_is_not_found_and_stops_a_job(
    upstreams: UpstreamService, git: Pygit2GitStore, live_server: LiveServer, owner: HubUser
) -> None:
    # With a token: to anonymous git, the Hub answers 401 for a missing repo as for a hidden one.
    missing = source(live_server.url, f"{owner.name}/{unique_name('missing')}", owner.token)

    for error in (
        raised(lambda: upstreams.repo(missing)),
        raised(lambda: fetch_refs(upstreams, git, missing)),
        raised(lambda: read(upstreams, missing)),
    ):
        assert isinstance(error, errors.UpstreamNotFoundError), error
        assert not is_retryable(error)
        assert errors.status_of(error) == 404
        assert "does not exist upstream" in error.message


def test_a_refused_token_is_denied_and_stops_a_job(
    upstreams: UpstreamService, git: Pygit2GitStore, live_server: LiveServer, repo_id: str
) -> None:
    refused = source(live_server.url, repo_id, REFUSED_TOKEN)

    for error in (
        raised(lambda: upstreams.repo(refused)),
        raised(lambda: fetch_refs(upstreams, git, refused)),
        raised(lambda: read(upstreams, refused)),
    ):
        assert isinstance(error, errors.UpstreamDeniedError), error
        assert not is_retryable(error)
        assert errors.status_of(error) == 502
        assert "check the upstream token" in error.message


def test_an_unreachable_upstream_is_unavailable_and_retried(
    upstreams: UpstreamService, git: Pygit2GitStore
) -> None:
    endpoint = closed_port_url()
    down = source(endpoint, "someone/model")

    for error in (
        raised(lambda: upstreams.repo(down)),
        raised(lambda: fetch_refs(upstreams, git, down)),
        raised(lambda: read(upstreams, down)),
    ):
        assert isinstance(error, errors.UpstreamUnavailableError), error
        assert is_retryable(error)
        assert errors.status_of(error) == 504
        assert f"Upstream {endpoint} is unreachable" in error.message
        assert "what this hub already mirrored is still served" in error.message


def test_a_transfer_cut_while_reading_is_unavailable_and_retried(
    upstreams: UpstreamService, live_server: LiveServer, repo_id: str
) -> None:
    proxy = CuttingProxy(live_server.port)
    try:
        proxy.cut_next(f"/{repo_id}/resolve/", 50_000)
        error = raised(lambda: read(upstreams, source(proxy.url, repo_id)))
    finally:
        proxy.close()

    assert isinstance(error, errors.UpstreamUnavailableError)
    assert is_retryable(error)
    assert "notes.txt of model" in error.message


def test_any_other_refusal_is_an_upstream_error_that_stops_a_job(
    upstreams: UpstreamService, live_server: LiveServer, repo_id: str
) -> None:
    error = raised(lambda: read(upstreams, source(live_server.url, repo_id), 400_000, 400_010))

    assert type(error) is errors.UpstreamError
    assert not is_retryable(error)
    assert errors.status_of(error) == 502
    assert "Upstream could not serve notes.txt" in error.message
    assert "416" in error.message
