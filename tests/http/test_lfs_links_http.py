"""Who may reach an LFS object: links made only after the bytes verify, and download URLs
bound to their repo and caller (issue 9, D1 and D18).

The attacks are made over raw HTTP against a live hub with small multipart parts (objects of
4 MiB and more go multipart, in 1 MiB parts). Transfer and blob URLs are used without an
`Authorization` header, as the official client does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.lfs import MiB, batch, lfs_server, sha256
from tests.helpers.live_server import LiveServer

ATTACK_SIZE = 4 * MiB + 5  # announced by the attacker: large enough to go multipart


@pytest.fixture
def hub(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A hub of its own, so that its upload area and its index hold only this test's doing."""
    postgres = request.config.getoption("--database") == "postgresql"
    with lfs_server(tmp_path / "hub", postgres) as server:
        yield server


@pytest.fixture
def client(hub: LiveServer) -> Iterator[Callable[[HubUser | None], httpx.Client]]:
    """HTTP clients acting as a user (or anonymous), closed after the test."""
    with contextlib.ExitStack() as stack:

        def make(user: HubUser | None) -> httpx.Client:
            headers = {"authorization": f"Bearer {user.token}"} if user else {}
            return stack.enter_context(httpx.Client(base_url=hub.url, headers=headers, timeout=60))

        yield make


def new_repo(user: HubUser, namespace: str | None = None, **kwargs: Any) -> str:
    repo_id = f"{namespace or user.name}/{unique_name('lfs')}"
    user.api.create_repo(repo_id, **kwargs)
    return repo_id


def obj(data: bytes) -> dict[str, Any]:
    return {"oid": sha256(data), "size": len(data)}


def only(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    objects: list[dict[str, Any]] = response.json()["objects"]
    assert len(objects) == 1
    return objects[0]


def upload(http: httpx.Client, repo: str, data: bytes) -> None:
    item = only(batch(http, repo, "upload", [obj(data)]))
    assert httpx.put(item["actions"]["upload"]["href"], content=data).status_code == 200


def download_url(http: httpx.Client, repo: str, data: bytes) -> str:
    href: str = only(batch(http, repo, "download", [obj(data)]))["actions"]["download"]["href"]
    return href


def upload_folder(hub: LiveServer) -> Path:
    """The one multipart upload in progress on the hub."""
    (folder,) = (hub.data_dir / "blobs" / ".uploads").iterdir()
    return folder


def wait_for_blocked_flock(path: Path) -> None:
    """Return once someone waits for a lock on `path` (Linux shows waiters in /proc/locks)."""
    inode = f":{os.stat(path).st_ino} "
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = Path("/proc/locks").read_text().splitlines()
        if any("->" in line and inode in line for line in waiting):
            return
        time.sleep(0.005)
    raise AssertionError(f"nobody came to wait for the lock on {path}")


# --- D1: a link only after the bytes verify -----------------------------------------------------


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_a_multipart_completion_of_another_repos_object_never_links_it_before_it_verifies(
    hub: LiveServer, client: Callable[[HubUser | None], httpx.Client]
) -> None:
    victim, thief = make_user(hub, "victim"), make_user(hub, "thief")
    secret = os.urandom(1000)
    upload(client(victim), new_repo(victim, private=True), secret)
    own = new_repo(thief)
    as_thief = client(thief)
    # The thief asks to upload the victim's object into his own repo, announcing a large size,
    # and sends zeros.
    claimed = {"oid": sha256(secret), "size": ATTACK_SIZE}
    action = only(batch(as_thief, own, "upload", [claimed]))["actions"]["upload"]
    parts = {int(k): v for k, v in action["header"].items() if k.isdigit()}
    for number, href in parts.items():
        size = min(MiB, ATTACK_SIZE - (number - 1) * MiB)
        assert httpx.put(href, content=bytes(size)).status_code == 200
    # Hold the completion's verification: a shared lock on the upload's data, as a part
    # writer in flight holds it, makes the completion wait before hashing.
    data = upload_folder(hub) / "data"
    held = os.open(data, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_SH)
    completion: list[httpx.Response] = []
    body = {"oid": sha256(secret), "parts": [{"partNumber": n, "etag": "x"} for n in parts]}
    completing = threading.Thread(
        target=lambda: completion.append(httpx.post(action["href"], json=body, timeout=60))
    )
    completing.start()
    try:
        wait_for_blocked_flock(data)

        # While the bytes are not verified, the thief's repo reaches nothing.
        during = only(batch(as_thief, own, "download", [obj(secret)]))
        verify = as_thief.post(f"/{own}.git/info/lfs/objects/verify", json=obj(secret))
    finally:
        os.close(held)
        completing.join(timeout=60)

    assert during.get("error", {}).get("code") == 404, during
    assert verify.status_code == 404
    assert completion[0].status_code == 400
    assert only(batch(as_thief, own, "download", [obj(secret)]))["error"]["code"] == 404


def test_a_basic_upload_of_wrong_bytes_never_links_the_object(
    hub: LiveServer, client: Callable[[HubUser | None], httpx.Client]
) -> None:
    victim, thief = make_user(hub, "victim"), make_user(hub, "thief")
    secret = os.urandom(1000)
    upload(client(victim), new_repo(victim, private=True), secret)
    own = new_repo(thief)
    as_thief = client(thief)
    href = only(batch(as_thief, own, "upload", [obj(secret)]))["actions"]["upload"]["href"]
    # Every statement the hub sends to its database, seen on its own engine.
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = hub.services.database.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        refused = httpx.put(href, content=bytes(len(secret)))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert refused.status_code == 400
    # Not even for a moment: no link was written (and then taken back).
    assert not [s for s in statements if "lfs_objects" in s and not s.lstrip().startswith("SELECT")]
    assert only(batch(as_thief, own, "download", [obj(secret)]))["error"]["code"] == 404


def test_an_upload_links_the_object_only_once_it_is_stored(
    hub: LiveServer, client: Callable[[HubUser | None], httpx.Client]
) -> None:
    owner = make_user(hub)
    repo = new_repo(owner)
    data = os.urandom(1000)
    stored_when_linked: list[bool] = []
    blob = hub.data_dir / "blobs" / sha256(data)[:2] / sha256(data)[2:4] / sha256(data)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("INSERT INTO lfs_objects"):
            stored_when_linked.append(blob.is_file())

    engine = hub.services.database.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        upload(client(owner), repo, data)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert stored_when_linked == [True]


# --- signed download URLs -----------------------------------------------------------------------


def test_a_download_url_is_refused_once_its_user_left_the_org(
    hub: LiveServer, client: Callable[[HubUser | None], httpx.Client]
) -> None:
    admin, member = make_user(hub, "admin"), make_user(hub, "member")
    org = make_org(hub, {admin.name: Role.ADMIN, member.name: Role.READ})
    repo = new_repo(admin, org, private=True)
    data = os.urandom(1000)
    upload(client(admin), repo, data)
    href = download_url(client(member), repo, data)
    assert httpx.get(href).content == data

    hub.services.auth.remove_member(org, member.name)

    refused = httpx.get(href)
    assert refused.status_code == 403
    assert "no longer valid" in refused.json()["error"]
    assert httpx.get(download_url(client(admin), repo, data)).content == data


def test_an_anonymous_resolve_url_is_refused_once_the_repo_is_private(
    hub: LiveServer, client: Callable[[HubUser | None], httpx.Client]
) -> None:
    owner = make_user(hub)
    repo = new_repo(owner)
    data = os.urandom(1000)
    owner.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)
    redirect = client(None).get(f"/{repo}/resolve/main/w.bin")
    assert redirect.status_code == 302
    href = redirect.headers["location"]
    assert httpx.get(href).content == data

    owner.api.update_repo_settings(repo, private=True)

    assert httpx.get(href).status_code == 403
    fresh = client(owner).get(f"/{repo}/resolve/main/w.bin", follow_redirects=True)
    assert fresh.content == data


def test_a_download_url_is_bound_to_the_repo_it_was_issued_for(
    hub: LiveServer, client: Callable[[HubUser | None], httpx.Client]
) -> None:
    owner = make_user(hub)
    first, second = new_repo(owner), new_repo(owner)
    data = os.urandom(1000)
    upload(client(owner), first, data)
    upload(client(owner), second, data)
    href = download_url(client(owner), first, data)

    owner.api.delete_repo(first)

    assert httpx.get(href).status_code == 403
    assert httpx.get(download_url(client(owner), second, data)).content == data


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({}, "public"), ({"private": True}, "private"), ({"gated": "auto"}, "private")],
)
def test_only_objects_of_public_ungated_repos_are_publicly_cacheable(
    hub: LiveServer,
    client: Callable[[HubUser | None], httpx.Client],
    settings: dict[str, Any],
    expected: str,
) -> None:
    owner = make_user(hub)
    repo = new_repo(owner)
    data = os.urandom(1000)
    upload(client(owner), repo, data)
    if settings:
        owner.api.update_repo_settings(repo, **settings)

    response = httpx.get(download_url(client(owner), repo, data))

    assert response.content == data
    assert response.headers["cache-control"].split(",")[0] == expected


# --- D18: malformed object ids and sizes --------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        {"oid": sha256(b"x") + "\n", "size": 1},
        {"oid": sha256(b"x"), "size": 2**70},
        {"oid": sha256(b"x"), "size": 5 * 1024**4 + 1},
    ],
    ids=["trailing-newline", "2^70", "over-5-TiB"],
)
@pytest.mark.parametrize("operation", ["upload", "download"])
def test_a_malformed_or_oversized_object_gets_a_422_of_its_own(
    hub: LiveServer,
    client: Callable[[HubUser | None], httpx.Client],
    item: dict[str, Any],
    operation: str,
) -> None:
    owner = make_user(hub)
    repo = new_repo(owner)

    answer = only(batch(client(owner), repo, operation, [item]))

    assert "actions" not in answer
    assert answer["error"]["code"] == 422
    assert answer["error"]["message"]
