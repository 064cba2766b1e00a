"""The CAS served by another process on the same data: `xet_cas_url` sends clients there.

Two hubs share one data dir and database, as processes behind a load balancer would; the
first hands out the second's URL (through a recording proxy) as `casUrl`. Every CAS request
of an upload and a download then goes to the second, and both work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download

from tests.helpers.accounts import make_user
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.proxy import RecordingProxy


@pytest.fixture
def cas_host(tmp_path: Path, database_url: str | None) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "hub", database_url)
    yield server
    server.stop()


@pytest.fixture
def proxy(cas_host: LiveServer) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(cas_host.port)
    yield proxy
    proxy.close()


@pytest.fixture
def hub(cas_host: LiveServer, proxy: RecordingProxy) -> Iterator[LiveServer]:
    server = start_server(
        cas_host.data_dir, cas_host.settings.database_url, xet_cas_url=f"{proxy.url}/cas"
    )
    yield server
    server.stop()


@pytest.mark.usefixtures("xet")
def test_uploads_and_downloads_use_the_cas_xet_cas_url_names(
    hub: LiveServer, proxy: RecordingProxy, tmp_path: Path
) -> None:
    owner = make_user(hub)
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    data = os.urandom(300_000)

    owner.api.upload_file(path_or_fileobj=data, path_in_repo="model.bin", repo_id=repo)
    path = hf_hub_download(
        repo, "model.bin", endpoint=hub.url, token=owner.token, cache_dir=tmp_path / "cache"
    )

    assert Path(path).read_bytes() == data
    assert proxy.requests("POST", "/cas/v1/xorbs/")
    assert proxy.requests("POST", "/cas/v1/shards")
    assert proxy.requests("GET", "/cas/v1/xorb-ranges/")
    assert not [seen for seen in proxy.seen if not seen.path.startswith("/cas/")]
