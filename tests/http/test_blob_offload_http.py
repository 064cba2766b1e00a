"""LFS downloads offloaded to a front web server (`x_accel_redirect_prefix`), over raw HTTP.

The hub still checks the signed URL and sends the file's metadata, but no bytes: its
`X-Accel-Redirect` names the object's file under the blob directory, for nginx to send. The
same downloads through a real nginx are in `tests/compat/test_nginx_offload.py`.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.lfs import lfs_server
from tests.helpers.live_server import LiveServer

PREFIX = "/_hubstead_blobs/"


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    postgres = request.config.getoption("--database") == "postgresql"
    data_dir = tmp_path_factory.mktemp("offload-hub")
    with lfs_server(data_dir, postgres, x_accel_redirect_prefix=PREFIX) as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: LiveServer) -> HubUser:
    return make_user(hub, "owner")


@pytest.fixture(scope="module")
def weights(owner: HubUser) -> tuple[str, bytes, str]:
    """A repo with an LFS file: its id, the file's bytes, and the commit holding it."""
    repo = f"{owner.name}/{unique_name('offload')}"
    owner.api.create_repo(repo)
    data = os.urandom(300_000)
    commit = owner.api.upload_file(
        path_or_fileobj=data, path_in_repo="model.safetensors", repo_id=repo
    )
    return repo, data, commit.oid


@pytest.fixture
def http(hub: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=60) as client:
        yield client


def blob_location(http: httpx.Client, owner: HubUser, repo: str) -> str:
    """Where the resolve URL of the LFS file redirects to (the signed blob URL)."""
    response = http.get(
        f"/{repo}/resolve/main/model.safetensors",
        headers={"authorization": f"Bearer {owner.token}"},
    )
    assert response.status_code == 302
    return response.headers["location"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_blob_download_names_the_file_for_the_front_server_and_sends_no_bytes(
    hub: LiveServer,
    http: httpx.Client,
    owner: HubUser,
    weights: tuple[str, bytes, str],
    method: str,
) -> None:
    repo, data, commit = weights
    sha256 = hashlib.sha256(data).hexdigest()

    response = http.request(method, blob_location(http, owner, repo))

    assert response.status_code == 200
    assert response.content == b""
    redirect = response.headers["x-accel-redirect"]
    assert redirect == f"{PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}"
    # Under the internal location's alias (the blob directory) lies exactly the object.
    assert (hub.data_dir / "blobs" / redirect.removeprefix(PREFIX)).read_bytes() == data
    assert response.headers["etag"] == f'"{sha256}"'
    assert response.headers["x-linked-etag"] == f'"{sha256}"'
    assert response.headers["x-linked-size"] == str(len(data))
    assert response.headers["x-repo-commit"] == commit
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_range_is_left_to_the_front_server(
    http: httpx.Client, owner: HubUser, weights: tuple[str, bytes, str]
) -> None:
    repo, _, _ = weights

    response = http.get(blob_location(http, owner, repo), headers={"range": "bytes=10-19"})

    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.headers["x-accel-redirect"].startswith(PREFIX)


def test_a_forged_blob_url_is_refused_without_naming_the_file(
    http: httpx.Client, owner: HubUser, weights: tuple[str, bytes, str]
) -> None:
    repo, _, _ = weights
    url = httpx.URL(blob_location(http, owner, repo))
    token = url.params["token"]
    forged = url.copy_set_param("token", token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))

    response = http.get(forged)

    assert response.status_code == 403
    assert "x-accel-redirect" not in response.headers


def process_umask() -> int:
    """This process's umask, read without changing it (other threads are creating files)."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    found = re.search(r"^Umask:\s*([0-7]+)$", status, re.MULTILINE)
    if found is None:
        pytest.skip("the umask cannot be read without /proc")
    return int(found.group(1), 8)


@pytest.mark.parametrize("size", [300_000, 5 * 1024 * 1024], ids=["basic", "multipart"])
def test_stored_objects_can_be_read_by_a_front_server_running_as_another_user(
    hub: LiveServer, owner: HubUser, size: int
) -> None:
    repo = f"{owner.name}/{unique_name('modes')}"
    owner.api.create_repo(repo)
    data = os.urandom(size)
    owner.api.upload_file(path_or_fileobj=data, path_in_repo="model.safetensors", repo_id=repo)
    sha256 = hashlib.sha256(data).hexdigest()

    mode = (hub.data_dir / "blobs" / sha256[:2] / sha256[2:4] / sha256).stat().st_mode

    # As any file the hub's user creates: 0644 less the umask (not 0600), so nginx's worker
    # user can be given read access with the usual group or umask settings.
    assert stat.S_IMODE(mode) == 0o644 & ~process_umask()
