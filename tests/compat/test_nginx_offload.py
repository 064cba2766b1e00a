"""The official client through a real nginx that sends LFS objects itself (the download offload).

nginx runs the server block documented in docs/operations.md in front of a hub started with
`x_accel_redirect_prefix`: uploads and API calls are proxied, downloads are checked by the hub
and sent by nginx from the blob directory. Skipped when nginx is not installed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.lfs import MiB, file_sha256, lfs_server
from tests.helpers.live_server import LiveServer
from tests.helpers.nginx import BLOB_LOCATION, Nginx, nginx_binary, offload_site


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """A hub that leaves downloads to nginx (uploads of 4 MiB and more go in 1 MiB parts)."""
    nginx_binary()
    postgres = request.config.getoption("--database") == "postgresql"
    data_dir = tmp_path_factory.mktemp("offload-hub")
    with lfs_server(data_dir, postgres, x_accel_redirect_prefix=BLOB_LOCATION) as server:
        yield server


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, hub: LiveServer) -> Iterator[Nginx]:
    proxy = Nginx(
        tmp_path_factory.mktemp("nginx"), offload_site(hub.url, hub.data_dir / "blobs")
    ).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def owner(hub: LiveServer, nginx: Nginx) -> HubUser:
    """A user whose client talks to nginx, not to the hub."""
    user = make_user(hub, "owner")
    return HubUser(user.name, user.token, HfApi(endpoint=nginx.url, token=user.token))


@pytest.fixture(scope="module")
def uploaded(owner: HubUser) -> tuple[str, bytes, str]:
    """A repo with an LFS file uploaded (in parts) through nginx: its id, the bytes, the commit."""
    repo = f"{owner.name}/{unique_name('offload')}"
    owner.api.create_repo(repo)
    data = os.urandom(6 * MiB + 123)
    commit = owner.api.upload_file(
        path_or_fileobj=data, path_in_repo="model.safetensors", repo_id=repo
    )
    return repo, data, commit.oid


def test_hf_hub_download_through_nginx_gets_the_verified_bytes(
    nginx: Nginx, owner: HubUser, uploaded: tuple[str, bytes, str], tmp_path: Path
) -> None:
    repo, data, commit = uploaded

    local = hf_hub_download(
        repo,
        "model.safetensors",
        cache_dir=tmp_path / "cache",
        endpoint=nginx.url,
        token=owner.token,
    )

    assert file_sha256(Path(local)) == hashlib.sha256(data).hexdigest()
    assert Path(local).parent.name == commit  # the snapshot of the commit nginx reported


def test_the_file_metadata_through_nginx_is_the_hubs(
    nginx: Nginx, owner: HubUser, uploaded: tuple[str, bytes, str]
) -> None:
    repo, data, commit = uploaded
    url = hf_hub_url(repo, "model.safetensors", endpoint=nginx.url)

    metadata = get_hf_file_metadata(url, token=owner.token)

    assert metadata.etag == hashlib.sha256(data).hexdigest()
    assert metadata.size == len(data)
    assert metadata.commit_hash == commit


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=1000-1999", 1000, 1999), ("bytes=-500", -500, -1), ("bytes=5000000-", 5000000, -1)],
)
def test_a_range_download_through_nginx_gets_exactly_those_bytes(
    nginx: Nginx,
    owner: HubUser,
    uploaded: tuple[str, bytes, str],
    header: str,
    first: int,
    last: int,
) -> None:
    repo, data, _ = uploaded
    first, last = first % len(data), last % len(data)

    with httpx.Client(base_url=nginx.url, follow_redirects=True, timeout=60) as http:
        response = http.get(
            f"/{repo}/resolve/main/model.safetensors",
            headers={"authorization": f"Bearer {owner.token}", "range": header},
        )

    assert response.status_code == 206
    assert response.content == data[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"


def test_nginx_sends_the_bytes_the_hub_only_names_with_the_hubs_headers(
    hub: LiveServer, nginx: Nginx, owner: HubUser, uploaded: tuple[str, bytes, str]
) -> None:
    repo, data, commit = uploaded
    sha256 = hashlib.sha256(data).hexdigest()

    with httpx.Client(base_url=nginx.url, timeout=60) as http:
        redirect = http.get(
            f"/{repo}/resolve/main/model.safetensors",
            headers={"authorization": f"Bearer {owner.token}"},
        )
        blob_path = httpx.URL(redirect.headers["location"]).raw_path.decode()
        response = http.get(blob_path)
    from_hub = httpx.get(hub.url + blob_path, timeout=60)

    assert from_hub.headers["x-accel-redirect"].startswith(BLOB_LOCATION)
    assert from_hub.content == b""
    assert response.status_code == 200
    assert response.content == data
    assert "x-accel-redirect" not in response.headers
    assert response.headers["etag"] == f'"{sha256}"'
    assert response.headers["x-linked-etag"] == f'"{sha256}"'
    assert response.headers["x-linked-size"] == str(len(data))
    assert response.headers["x-repo-commit"] == commit
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-request-id"]


def test_the_internal_location_and_forged_urls_are_refused(
    nginx: Nginx, uploaded: tuple[str, bytes, str]
) -> None:
    _, data, _ = uploaded
    sha256 = hashlib.sha256(data).hexdigest()

    with httpx.Client(base_url=nginx.url, timeout=60) as http:
        direct = http.get(f"{BLOB_LOCATION}{sha256[:2]}/{sha256[2:4]}/{sha256}")
        unsigned = http.get(f"/lfs/objects/{sha256}?token=not-a-token")

    assert direct.status_code == 404
    assert unsigned.status_code == 403
