"""A full disk answers 507 Insufficient Storage and changes nothing (issue 9, D16).

The hub's data dir is on a small tmpfs of the test's own, filled to the last byte: real
ENOSPC from the kernel, no mock. Once space is freed, the same uploads and commits succeed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.accounts import make_user
from tests.helpers.commits import add, branch_head, header, ndjson, post_commit
from tests.helpers.lfs import batch, sha256
from tests.helpers.live_server import LiveServer, start_server


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs, unmounted after the test; skips where mounting is not permitted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def hub(small_disk: Path) -> Iterator[LiveServer]:
    server = start_server(small_disk / "hub")
    yield server
    server.stop()


def fill(disk: Path) -> Path:
    """Write a file until the kernel answers ENOSPC; return it (delete it to free the space)."""
    filler = disk / "filler"
    # Unbuffered: a buffered file would keep the bytes of the last, partial write and fail
    # again when closed (how many depends on how full the disk already was).
    with filler.open("wb", buffering=0) as file, contextlib.suppress(OSError):
        while True:
            file.write(b"\0" * 65536)
    assert os.statvfs(disk).f_bavail == 0
    return filler


def upload_lfs(http: httpx.Client, repo: str, data: bytes) -> httpx.Response:
    """Ask the batch API for an upload of `data` and send it (basic transfer)."""
    answer = batch(http, repo, "upload", [{"oid": sha256(data), "size": len(data)}])
    answer.raise_for_status()
    upload = answer.json()["objects"][0]["actions"]["upload"]
    return http.put(upload["href"], content=data, headers=upload.get("header"))


def test_a_full_disk_answers_507_to_commits_and_uploads_and_loses_nothing(
    hub: LiveServer, small_disk: Path
) -> None:
    user = make_user(hub)
    repo = f"{user.name}/full"
    user.api.create_repo(repo)
    file, blob = os.urandom(200_000), os.urandom(300_000)
    with httpx.Client(
        base_url=hub.url, headers={"authorization": f"Bearer {user.token}"}, timeout=60
    ) as http:
        before = branch_head(http, repo)
        filler = fill(small_disk)

        commit = post_commit(http, repo, ndjson(header(), add("a.txt", file)))
        upload = upload_lfs(http, repo, blob)
        created = http.post("/api/repos/create", json={"name": "another"})

        for response in (commit, upload, created):
            assert response.status_code == 507, response.text
            assert "storage is full" in response.headers["x-error-message"]
        assert branch_head(http, repo) == before
        filler.unlink()
        assert post_commit(http, repo, ndjson(header(), add("a.txt", file))).status_code == 200
        assert http.get(f"/{repo}/resolve/main/a.txt").content == file
        assert upload_lfs(http, repo, blob).status_code == 200
        assert http.post("/api/repos/create", json={"name": "another"}).status_code == 200
