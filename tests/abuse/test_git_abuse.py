"""Abuse of git smart HTTP: gzip bombs on fetches, pack bombs on pushes.

Slow (seconds each), bounded: loopback only, a few connections, fixed numbers of requests.
Each attack runs while other clients keep using the hub, and they must be answered.
"""

from __future__ import annotations

import base64
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers.accounts import HubUser
from tests.helpers.bombs import gzip_zeros, zlib_zeros
from tests.helpers.live_server import LiveServer
from tests.http.test_git_http import UPLOAD_REQUEST, pkt_line

pytestmark = pytest.mark.slow

_GiB_IN_MiB = 1024


def test_gzip_bombs_on_upload_pack_are_refused_while_other_clients_are_served(
    live_server: LiveServer, repo: str
) -> None:
    bomb = gzip_zeros(_GiB_IN_MiB)  # 1 MiB that inflates to 1 GiB, as the probe sent

    def fetch_bomb() -> int:
        headers = {"content-type": UPLOAD_REQUEST, "content-encoding": "gzip"}
        url = f"{live_server.url}/{repo}.git/git-upload-pack"
        return httpx.post(url, content=bomb, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(4) as pool:
        bombs = [pool.submit(fetch_bomb) for _ in range(4)]
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            statuses = [client.get(f"/api/models/{repo}").status_code for _ in range(20)]
        assert [bomb.result(timeout=60) for bomb in bombs] == [413] * 4
    assert statuses == [200] * 20


def _blob_bomb_pack(mib: int) -> bytes:
    """A pack of one blob of zeros: the object header declares its size, zlib shrinks it."""
    size, header = mib * 1024 * 1024, []
    byte = (3 << 4) | (size & 0x0F)  # type 3: blob
    size >>= 4
    while size:
        header.append(byte | 0x80)
        byte, size = size & 0x7F, size >> 7
    header.append(byte)
    body = b"PACK" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes(header)
    body += zlib_zeros(mib)
    return body + hashlib.sha1(body).digest()


def test_a_pack_bomb_pushed_to_one_repo_holds_up_no_commit(
    live_server: LiveServer, user: HubUser, repo_factory: object
) -> None:
    bombed, other = repo_factory(), repo_factory()  # type: ignore[operator]
    head = user.api.model_info(bombed).sha
    command = pkt_line(f"{head} {'1' * 40} refs/heads/main\0report-status\n") + b"0000"
    body = command + _blob_bomb_pack(_GiB_IN_MiB)
    password = base64.b64encode(f"git:{user.token}".encode()).decode()

    def push() -> float:
        httpx.post(
            f"{live_server.url}/{bombed}.git/git-receive-pack",
            content=body,
            headers={"authorization": f"Basic {password}"},
            timeout=60,
        )
        return time.monotonic()

    with ThreadPoolExecutor(1) as pool:
        pushed = pool.submit(push)
        # While git inflates the bomb, commits to the bombed repo and to another one land.
        for target in (bombed, other):
            user.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=target)
        committed = time.monotonic()
        assert committed < pushed.result(timeout=60)
    assert "a.txt" in user.api.list_repo_files(bombed)
    assert "a.txt" in user.api.list_repo_files(other)
