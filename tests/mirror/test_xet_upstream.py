"""Upstream files stored through Xet reach a mirror, which serves them to every client.

huggingface.co stores most files with Xet; here the upstream is a second live hub whose files
were uploaded by the official client through Xet. A mirror fetches their bytes over plain
HTTP (resolve), verifies them by sha256 and stores them as blobs: the default client (with
hf_xet) and plain clients then download them from the mirror alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import hf_hub_download

from hubstead.server.domain.jobs import JobState
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.lfs import blob_files, sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror, hub, sync

pytestmark = pytest.mark.usefixtures("xet")


@pytest.fixture
def pulling(tmp_path: Path, postgres: bool, upstream: LiveServer) -> Iterator[LiveServer]:
    with hub(tmp_path / "pulling", postgres, pull_through=upstream.url) as server:
        yield server


def seed_through_xet(owner: HubUser) -> tuple[str, bytes]:
    repo_id = f"{owner.name}/{unique_name('xet-upstream')}"
    owner.api.create_repo(repo_id)
    data = os.urandom(3 * 1024 * 1024 + 11)
    owner.api.upload_file(path_or_fileobj=data, path_in_repo="model.safetensors", repo_id=repo_id)
    (entry,) = owner.api.get_paths_info(repo_id, ["model.safetensors"])
    assert getattr(entry, "xet_hash", None), "the upstream file was not stored through Xet"
    return repo_id, data


def test_a_sync_stores_xet_files_of_upstream_and_serves_them_to_every_client(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo_id, data = seed_through_xet(owner)
    add_mirror(mirror, repo_id, upstream.url)

    job = sync(mirror, repo_id)

    assert job.state is JobState.SUCCEEDED, job.error
    assert sha256(data) in {p.name for p in blob_files(mirror)}
    path = hf_hub_download(repo_id, "model.safetensors", endpoint=mirror.url, cache_dir=tmp_path)
    assert Path(path).read_bytes() == data
    plain = httpx.get(
        f"{mirror.url}/{repo_id}/resolve/main/model.safetensors", follow_redirects=True
    )
    assert plain.content == data


def test_pull_through_fetches_a_xet_file_of_upstream_on_first_download(
    upstream: LiveServer, pulling: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    repo_id, data = seed_through_xet(owner)

    path = hf_hub_download(repo_id, "model.safetensors", endpoint=pulling.url, cache_dir=tmp_path)

    assert Path(path).read_bytes() == data
    assert sha256(data) in {p.name for p in blob_files(pulling)}
