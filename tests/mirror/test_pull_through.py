"""Pull-through: a hub that mirrors unknown repos from its upstream on demand.

The pulling hub reaches the upstream through a `FaultProxy`, which records what crosses it and
can slow, corrupt or cut it off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from hubstead.protocol import RepoType
from hubstead.server.domain.jobs import JobState
from hubstead.server.services.mirrors import SYNC_KIND
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.git import GitUser, repo_url
from tests.helpers.lfs import blob_files, sha256
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.mirrors import FaultProxy, hub, sync

MiB = 1024 * 1024


@pytest.fixture
def proxy(upstream: LiveServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream.port)
    yield proxy
    proxy.close()


@pytest.fixture
def pulling(tmp_path: Path, postgres: bool, proxy: FaultProxy) -> Iterator[LiveServer]:
    """A hub that pulls unknown repos through from the upstream (behind the proxy)."""
    with hub(tmp_path / "pulling", postgres, pull_through=proxy.url) as server:
        yield server


def seed(owner: HubUser, **files: bytes) -> str:
    repo_id = f"{owner.name}/{unique_name('pulled')}"
    owner.api.create_repo(repo_id)
    for path, data in {"README.md": b"# pulled\n", **files}.items():
        owner.api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=repo_id)
    return repo_id


def download(server: LiveServer, repo_id: str, path: str, cache: Path) -> bytes:
    return Path(hf_hub_download(repo_id, path, endpoint=server.url, cache_dir=cache)).read_bytes()


def test_unknown_repo_is_mirrored_on_first_request_without_its_lfs_files(
    pulling: LiveServer, proxy: FaultProxy, owner: HubUser
) -> None:
    repo_id = seed(owner, **{"model.safetensors": os.urandom(3000)})
    owner.api.create_branch(repo_id, branch="dev")
    owner.api.create_tag(repo_id, tag="v1", tag_message="first")
    anonymous = HfApi(endpoint=pulling.url, token=False)

    info = anonymous.model_info(repo_id)

    assert info.sha == owner.api.model_info(repo_id).sha
    assert anonymous.list_repo_refs(repo_id) == owner.api.list_repo_refs(repo_id)
    assert anonymous.list_repo_files(repo_id) == owner.api.list_repo_files(repo_id)
    assert proxy.matching("/lfs/objects/") == []
    [record] = [m for m in pulling.services.mirrors.list() if m.local_id == repo_id]
    assert record.on_demand and record.upstream == proxy.url
    # Its branches and tags are refreshed by a scheduled sync.
    [refresh] = pulling.services.jobs.list(kind=SYNC_KIND)
    assert refresh.state is JobState.QUEUED and refresh.payload["repo_id"] == repo_id


def test_first_download_streams_from_upstream_and_is_kept_for_offline_use(
    pulling: LiveServer, proxy: FaultProxy, owner: HubUser, tmp_path: Path
) -> None:
    data = os.urandom(3 * MiB + 77)
    repo_id = seed(owner, **{"model.safetensors": data})

    assert download(pulling, repo_id, "model.safetensors", tmp_path / "a") == data

    assert sha256(data) in {p.name for p in blob_files(pulling)}
    proxy.close()  # upstream is gone from now on
    assert download(pulling, repo_id, "model.safetensors", tmp_path / "b") == data
    with httpx.Client(base_url=pulling.url) as http:
        ranged = http.get(
            f"/{repo_id}/resolve/main/model.safetensors",
            headers={"Range": "bytes=100-199"},
            follow_redirects=True,
        )
    assert ranged.status_code == 206 and ranged.content == data[100:200]


def test_concurrent_downloads_share_one_upstream_fetch(
    pulling: LiveServer, proxy: FaultProxy, owner: HubUser, tmp_path: Path
) -> None:
    data = os.urandom(4 * MiB)
    repo_id = seed(owner, **{"model.safetensors": data})
    HfApi(endpoint=pulling.url, token=False).model_info(repo_id)
    proxy.throttle("/lfs/objects/", 128 * 1024, 0.01)  # about 0.3 s for the whole file
    results: dict[int, bytes] = {}

    def fetch(n: int) -> None:
        results[n] = download(pulling, repo_id, "model.safetensors", tmp_path / str(n))

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 4 and all(got == data for got in results.values())
    assert len(proxy.matching("/lfs/objects/")) == 1


def test_readers_in_another_process_follow_the_same_fetch(
    pulling: LiveServer, proxy: FaultProxy, owner: HubUser, tmp_path: Path
) -> None:
    """A second server on the same data dir stands for another worker process: they share
    nothing but the data dir and the database, as processes do."""
    data = os.urandom(4 * MiB)
    repo_id = seed(owner, **{"model.safetensors": data})
    other = start_server(pulling.data_dir, pulling.settings.database_url, pull_through=proxy.url)
    try:
        HfApi(endpoint=pulling.url, token=False).model_info(repo_id)
        proxy.throttle("/lfs/objects/", 64 * 1024, 0.01)
        spool = pulling.data_dir / "mirror" / "spool" / f"{sha256(data)}.part"
        results: dict[str, bytes] = {}

        def fetch(server: LiveServer) -> None:
            results[server.url] = download(
                server, repo_id, "model.safetensors", tmp_path / str(server.port)
            )

        first = threading.Thread(target=fetch, args=(pulling,))
        first.start()
        while not spool.exists() and first.is_alive():
            pass  # the first reader's fetch has begun
        second = threading.Thread(target=fetch, args=(other,))
        second.start()
        first.join()
        second.join()
    finally:
        other.stop()

    assert results == {pulling.url: data, other.url: data}
    assert len(proxy.matching("/lfs/objects/")) == 1


def test_wrong_bytes_from_upstream_never_reach_the_store(
    pulling: LiveServer, proxy: FaultProxy, owner: HubUser, tmp_path: Path
) -> None:
    data = os.urandom(2 * MiB)
    repo_id = seed(owner, **{"model.safetensors": data})
    proxy.corrupt("/lfs/objects/")
    proxy.throttle("/lfs/objects/", 256 * 1024, 0.02)  # the client gets bytes before the end

    # The client sees a body cut short, never the whole of the wrong bytes.
    with httpx.Client(base_url=pulling.url) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get(f"/{repo_id}/resolve/main/model.safetensors")

    assert proxy.corrupted == 1
    assert sha256(data) not in {p.name for p in blob_files(pulling)}
    proxy.corrupt(None)
    proxy.throttle("/nothing/", 1, 0)
    assert download(pulling, repo_id, "model.safetensors", tmp_path) == data


def test_with_upstream_down_what_needs_it_gets_504_and_the_rest_is_served(
    pulling: LiveServer, proxy: FaultProxy, owner: HubUser, tmp_path: Path
) -> None:
    fetched, other = os.urandom(2000), os.urandom(3000)
    repo_id = seed(owner, **{"a.safetensors": fetched, "b.safetensors": other})
    never_seen = seed(owner)
    assert download(pulling, repo_id, "a.safetensors", tmp_path / "a") == fetched
    proxy.close()
    anonymous = HfApi(endpoint=pulling.url, token=False)

    assert anonymous.model_info(repo_id).sha == owner.api.model_info(repo_id).sha
    assert download(pulling, repo_id, "a.safetensors", tmp_path / "b") == fetched
    with pytest.raises(HfHubHTTPError) as caught:
        download(pulling, repo_id, "b.safetensors", tmp_path / "c")
    assert caught.value.response.status_code == 504
    with pytest.raises(HfHubHTTPError) as caught:
        anonymous.model_info(never_seen)
    assert not isinstance(caught.value, RepositoryNotFoundError)
    assert caught.value.response.status_code == 504
    assert "unreachable" in caught.value.response.headers["x-error-message"]


def test_policy_patterns_choose_what_is_pulled(
    tmp_path: Path, postgres: bool, proxy: FaultProxy, owner: HubUser
) -> None:
    allowed = seed(owner)
    denied = f"{owner.name}/secret-{unique_name('x')}"
    owner.api.create_repo(denied)
    with hub(
        tmp_path / "picky",
        postgres,
        pull_through=proxy.url,
        pull_through_allow=(f"{owner.name}/pulled-*", f"{owner.name}/secret-*"),
        pull_through_deny=(f"{owner.name}/secret-*",),
    ) as picky:
        anonymous = HfApi(endpoint=picky.url, token=False)
        assert anonymous.model_info(allowed).sha == owner.api.model_info(allowed).sha
        with pytest.raises(RepositoryNotFoundError):
            anonymous.model_info(denied)
        with pytest.raises(RepositoryNotFoundError):
            anonymous.dataset_info(allowed)  # patterns name datasets with a datasets/ prefix
    assert not any(denied in line for line in proxy.requests)


def test_repo_missing_upstream_is_not_found_and_local_namespaces_are_never_pulled(
    pulling: LiveServer, proxy: FaultProxy, owner: HubUser
) -> None:
    anonymous = HfApi(endpoint=pulling.url, token=False)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info(f"{owner.name}/{unique_name('nothing')}")
    repo_id = seed(owner)
    pulling.services.auth.create_user(owner.name, fullname="A namesake", is_admin=False)
    asked = len(proxy.requests)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info(repo_id)
    assert len(proxy.requests) == asked


def test_pulled_repo_is_read_only_and_a_sync_refreshes_its_refs(
    pulling: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo_id = seed(owner, **{"a.safetensors": os.urandom(1000)})
    anonymous = HfApi(endpoint=pulling.url, token=False)
    anonymous.model_info(repo_id)
    admin = make_user(pulling, "admin", admin=True)
    with pytest.raises(HfHubHTTPError) as caught:
        admin.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert caught.value.response.status_code == 403
    new = os.urandom(2000)
    owner.api.upload_file(path_or_fileobj=new, path_in_repo="b.safetensors", repo_id=repo_id)

    job = sync(pulling, repo_id)

    assert job.state is JobState.SUCCEEDED, job.error
    assert job.progress.files_total == 0  # on demand: files are fetched when downloaded
    assert anonymous.model_info(repo_id).sha == owner.api.model_info(repo_id).sha
    assert download(pulling, repo_id, "b.safetensors", tmp_path) == new
    assert pulling.services.mirrors.get(RepoType.MODEL, repo_id).synced_at is not None


def test_git_clone_of_an_unknown_repo_pulls_it_and_pushes_are_refused(
    pulling: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo_id = seed(owner, **{"notes.txt": b"hello\n"})
    git = GitUser(tmp_path / "home")
    admin = make_user(pulling, "admin", admin=True)

    checkout = git.clone(repo_url(pulling.url, repo_id, token=admin.token), tmp_path / "clone")

    assert (checkout / "notes.txt").read_bytes() == b"hello\n"
    assert git.head(checkout) == owner.api.model_info(repo_id).sha
    git.commit_file(checkout, "local.txt", b"local\n", "a local change")
    refused = git.fails("push", "origin", "main", cwd=checkout)
    assert f"{repo_id} is a mirror of" in refused
