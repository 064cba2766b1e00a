"""CAS tokens are short-lived, and the official client renews them before they expire.

hf_xet renews a token when its `exp` (unix seconds, as the hub answers it) is less than 30
seconds away, by its own clock; it does not retry a request the CAS refused with 401 (hf_xet
1.8, `cas_client/auth.rs`). A token that lives 10 seconds is therefore renewed before every
CAS request, and a download still completes: the hub hands out a valid token on each refresh
and honours it until its expiry.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download

from tests.helpers.accounts import make_user
from tests.helpers.live_server import LiveServer, start_server

TTL = 10


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "hub", xet_token_ttl_seconds=TTL)
    yield server
    server.stop()


@pytest.mark.usefixtures("xet")
def test_a_token_about_to_expire_is_renewed_through_the_refresh_route(
    hub: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make_user(hub)
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    data = os.urandom(200_000)
    owner.api.upload_file(path_or_fileobj=data, path_in_repo="a.bin", repo_id=repo)

    with caplog.at_level("INFO", logger="hubstead.access"):
        path = hf_hub_download(
            repo, "a.bin", endpoint=hub.url, token=owner.token, cache_dir=tmp_path / "cache"
        )

    assert Path(path).read_bytes() == data
    lines = [record.getMessage() for record in caplog.records]
    tokens = [line for line in lines if "/xet-read-token/" in line and " 200 " in line]
    assert len(tokens) >= 2, lines
    assert not [line for line in lines if "/cas/" in line and " 401 " in line]
