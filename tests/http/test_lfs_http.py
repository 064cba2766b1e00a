"""The LFS batch API and its transfer and blob URLs over raw HTTP, on a hub with small parts.

Objects of 4 MiB and more are offered multipart transfer in 1 MiB parts (`SMALL_LFS_SETTINGS`).
Transfer URLs are used without an `Authorization` header, as the official client does.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubstead.protocol import format_lfs_pointer
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.clock import ManualClock
from tests.helpers.commits import add, branch_head, header, ndjson, post_commit
from tests.helpers.lfs import MiB, batch, blob_files, lfs_server, sha256
from tests.helpers.live_server import LiveServer


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    postgres = request.config.getoption("--database") == "postgresql"
    with lfs_server(tmp_path_factory.mktemp("lfs-hub"), postgres) as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: LiveServer) -> HubUser:
    return make_user(hub, "owner")


@pytest.fixture
def http(hub: LiveServer, owner: HubUser) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=hub.url, headers={"authorization": f"Bearer {owner.token}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def as_user(hub: LiveServer) -> Iterator[Callable[[HubUser], httpx.Client]]:
    """Clients acting as other users, closed after the test."""
    with contextlib.ExitStack() as stack:

        def client(user: HubUser) -> httpx.Client:
            headers = {"authorization": f"Bearer {user.token}"}
            return stack.enter_context(httpx.Client(base_url=hub.url, headers=headers))

        yield client


@pytest.fixture
def bare(hub: LiveServer) -> Iterator[httpx.Client]:
    """A client without credentials, for the self-authenticating transfer URLs."""
    with httpx.Client(base_url=hub.url, timeout=60) as client:
        yield client


def new_repo(user: HubUser, repo_type: str = "model", private: bool = False) -> str:
    repo_id = f"{user.name}/{unique_name('lfs')}"
    kwargs: dict[str, Any] = {"space_sdk": "gradio"} if repo_type == "space" else {}
    user.api.create_repo(repo_id, repo_type=repo_type, private=private, **kwargs)
    return repo_id


@pytest.fixture
def repo(owner: HubUser) -> str:
    return new_repo(owner)


def obj(data: bytes) -> dict[str, Any]:
    return {"oid": sha256(data), "size": len(data)}


def only(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    objects: list[dict[str, Any]] = response.json()["objects"]
    assert len(objects) == 1
    return objects[0]


def upload_basic(http: httpx.Client, bare: httpx.Client, repo: str, data: bytes) -> None:
    item = only(batch(http, repo, "upload", [obj(data)]))
    response = bare.put(item["actions"]["upload"]["href"], content=data)
    assert response.status_code == 200, response.text


def download_answer(http: httpx.Client, repo: str, data: bytes) -> dict[str, Any]:
    return only(batch(http, repo, "download", [obj(data)]))


def parts_of(data: bytes) -> list[bytes]:
    return [data[i : i + MiB] for i in range(0, len(data), MiB)]


def multipart_action(http: httpx.Client, repo: str, data: bytes) -> dict[str, Any]:
    item = only(batch(http, repo, "upload", [obj(data)]))
    upload: dict[str, Any] = item["actions"]["upload"]
    return upload


def part_urls(upload: dict[str, Any]) -> dict[int, str]:
    return {int(k): v for k, v in upload["header"].items() if k.isdigit()}


def complete(bare: httpx.Client, upload: dict[str, Any], data: bytes, count: int) -> httpx.Response:
    parts = [{"partNumber": n, "etag": "x"} for n in range(1, count + 1)]
    return bare.post(upload["href"], json={"oid": sha256(data), "parts": parts})


def received(bare: httpx.Client, upload: dict[str, Any]) -> list[int]:
    response = bare.get(upload["href"])
    assert response.status_code == 200, response.text
    return [part["partNumber"] for part in response.json()["parts"]]


# --- basic transfer -----------------------------------------------------------------------------


def test_batch_upload_answers_a_presigned_basic_upload_and_a_verify_action(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(1000)

    response = batch(http, repo, "upload", [obj(data)])

    assert response.headers["content-type"].startswith("application/vnd.git-lfs+json")
    body = response.json()
    assert body["transfer"] == "basic"
    item = body["objects"][0]
    assert (item["oid"], item["size"]) == (sha256(data), 1000)
    upload, verify = item["actions"]["upload"], item["actions"]["verify"]
    assert "chunk_size" not in upload.get("header", {})
    assert upload["expires_in"] > 0
    # git-lfs calls the verify URL without credentials (the official client sends its token).
    assert bare.post(verify["href"], json=obj(data)).status_code == 404
    assert bare.put(upload["href"], content=data).status_code == 200
    verified = bare.post(verify["href"], json=obj(data))
    assert verified.status_code == 200, verified.text
    assert http.post(verify["href"], json=obj(data)).status_code == 200
    assert bare.post(verify["href"], json=obj(b"other")).status_code == 403
    assert bare.post(forge(verify["href"]), json=obj(data)).status_code == 403
    assert bare.post(verify["href"].partition("?")[0], json=obj(data)).status_code == 401


def test_an_object_already_stored_for_the_repo_gets_no_actions(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(500)
    upload_basic(http, bare, repo, data)

    item = only(batch(http, repo, "upload", [obj(data)]))

    assert "actions" not in item
    assert "error" not in item


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_batch_works_under_the_dataset_and_space_prefixes(
    http: httpx.Client, bare: httpx.Client, owner: HubUser, repo_type: str
) -> None:
    repo = new_repo(owner, repo_type)
    data = os.urandom(700)
    prefix = f"{repo_type}s/"

    item = only(batch(http, repo, "upload", [obj(data)], prefix=prefix))
    assert bare.put(item["actions"]["upload"]["href"], content=data).status_code == 200
    assert f"/{prefix}{repo}.git/info/lfs/objects/verify" in item["actions"]["verify"]["href"]
    download = only(batch(http, repo, "download", [obj(data)], prefix=prefix))

    assert bare.get(download["actions"]["download"]["href"]).content == data
    # The same repo id without its prefix names a model repo, which does not exist.
    assert batch(http, repo, "download", [obj(data)]).status_code == 404


def test_batch_download_answers_a_presigned_download_url(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(2000)
    upload_basic(http, bare, repo, data)

    item = download_answer(http, repo, data)

    assert item["size"] == 2000
    response = bare.get(item["actions"]["download"]["href"])
    assert response.status_code == 200
    assert response.content == data


def test_wrong_bytes_are_refused_and_nothing_becomes_visible(
    hub: LiveServer, http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(1000)
    item = only(batch(http, repo, "upload", [obj(data)]))

    response = bare.put(item["actions"]["upload"]["href"], content=os.urandom(1000))

    assert response.status_code == 400
    assert sha256(data) in response.json()["error"]
    assert download_answer(http, repo, data)["error"]["code"] == 404
    assert http.post(item["actions"]["verify"]["href"], json=obj(data)).status_code == 404
    assert not (hub.data_dir / "blobs").joinpath(sha256(data)[:2], sha256(data)[2:4]).exists()


@pytest.mark.parametrize("sent", [999, 1001])
def test_a_basic_upload_of_the_wrong_size_is_refused(
    http: httpx.Client, bare: httpx.Client, repo: str, sent: int
) -> None:
    data = os.urandom(1000)
    item = only(batch(http, repo, "upload", [obj(data)]))

    response = bare.put(item["actions"]["upload"]["href"], content=(data * 2)[:sent])

    assert response.status_code == 400
    assert "1000 bytes" in response.json()["error"]
    assert download_answer(http, repo, data)["error"]["code"] == 404


def test_verify_refuses_an_object_that_is_not_stored_or_has_another_size(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(300)
    upload_basic(http, bare, repo, data)
    verify = f"/{repo}.git/info/lfs/objects/verify"

    assert http.post(verify, json={"oid": sha256(data), "size": 301}).status_code == 404
    assert http.post(verify, json=obj(b"never sent")).status_code == 404
    assert http.post(verify, json={"oid": "nope", "size": 1}).status_code == 400


# --- multipart transfer -------------------------------------------------------------------------


def test_a_large_object_gets_one_presigned_url_per_part(http: httpx.Client, repo: str) -> None:
    data = os.urandom(4 * MiB + 10)

    response = batch(http, repo, "upload", [obj(data)])

    assert response.json()["transfer"] == "multipart"
    upload = response.json()["objects"][0]["actions"]["upload"]
    assert upload["header"]["chunk_size"] == str(MiB)
    assert sorted(part_urls(upload)) == [1, 2, 3, 4, 5]
    # A client offering only `basic` gets a single upload URL instead.
    basic = only(batch(http, repo, "upload", [obj(data)], transfers=["basic"]))
    assert "header" not in basic["actions"]["upload"]


def test_a_huge_object_gets_bigger_parts_rather_than_more_than_ten_thousand(
    http: httpx.Client, repo: str
) -> None:
    size = 5 * 1024**4  # 5 TiB, the largest allowed: 1 MiB parts would need 5 million URLs

    item = only(batch(http, repo, "upload", [{"oid": sha256(b"huge"), "size": size}]))

    header = item["actions"]["upload"]["header"]
    chunk_size = int(header["chunk_size"])
    assert chunk_size > MiB
    # The official client checks there is exactly one URL per `chunk_size` bytes.
    assert len(part_urls(item["actions"]["upload"])) == -(-size // chunk_size) <= 10_000


def test_parts_uploaded_in_parallel_and_out_of_order_assemble(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(6 * MiB + 123)
    upload = multipart_action(http, repo, data)
    urls = part_urls(upload)
    chunks = parts_of(data)
    order = list(urls)
    random.shuffle(order)
    etags: dict[int, str] = {}
    failures: list[str] = []

    def send(number: int) -> None:
        with httpx.Client(timeout=60) as client:
            response = client.put(urls[number], content=chunks[number - 1])
        if response.status_code != 200:
            failures.append(response.text)
        etags[number] = response.headers.get("etag", "")

    threads = [threading.Thread(target=send, args=(n,)) for n in order]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert all(etags.values())
    assert received(bare, upload) == [1, 2, 3, 4, 5, 6, 7]
    done = bare.post(
        upload["href"],
        json={"oid": sha256(data), "parts": [{"partNumber": n, "etag": etags[n]} for n in urls]},
    )
    assert done.status_code == 200, done.text
    item = download_answer(http, repo, data)
    assert bare.get(item["actions"]["download"]["href"]).content == data
    assert "actions" not in only(batch(http, repo, "upload", [obj(data)]))


def test_an_interrupted_multipart_upload_resumes_with_a_new_batch_answer(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(4 * MiB + 1)
    chunks = parts_of(data)
    first = multipart_action(http, repo, data)
    for number in (1, 3):
        assert bare.put(part_urls(first)[number], content=chunks[number - 1]).status_code == 200

    second = multipart_action(http, repo, data)

    assert received(bare, second) == [1, 3]
    for number in (2, 4, 5):
        assert bare.put(part_urls(second)[number], content=chunks[number - 1]).status_code == 200
    assert received(bare, second) == [1, 2, 3, 4, 5]
    assert complete(bare, second, data, 5).status_code == 200
    assert download_answer(http, repo, data)["size"] == len(data)


def test_a_completion_with_missing_parts_is_refused_and_the_parts_are_kept(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(4 * MiB + 5)
    upload = multipart_action(http, repo, data)
    for number in (1, 2):
        bare.put(part_urls(upload)[number], content=parts_of(data)[number - 1])

    response = complete(bare, upload, data, 5)

    assert response.status_code == 400
    assert "[3, 4, 5]" in response.json()["error"]
    assert download_answer(http, repo, data)["error"]["code"] == 404
    assert received(bare, upload) == [1, 2]


def test_a_completion_that_lists_other_parts_is_refused(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(4 * MiB + 5)
    upload = multipart_action(http, repo, data)
    for number, chunk in enumerate(parts_of(data), start=1):
        bare.put(part_urls(upload)[number], content=chunk)

    assert complete(bare, upload, data, 4).status_code == 400
    other = {"oid": sha256(b"other"), "parts": [{"partNumber": n} for n in range(1, 6)]}
    assert bare.post(upload["href"], json=other).status_code == 400
    assert bare.post(upload["href"], content=b"not json").status_code == 400
    assert bare.post(upload["href"], json={"oid": sha256(data), "parts": [{}]}).status_code == 400
    assert received(bare, upload) == [1, 2, 3, 4, 5]


def test_a_completion_whose_bytes_are_not_the_object_is_refused(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(4 * MiB + 5)
    upload = multipart_action(http, repo, data)
    for number, chunk in enumerate(parts_of(data), start=1):
        sent = chunk if number != 2 else os.urandom(len(chunk))
        assert bare.put(part_urls(upload)[number], content=sent).status_code == 200

    response = complete(bare, upload, data, 5)

    assert response.status_code == 400
    assert sha256(data) in response.json()["error"]
    assert download_answer(http, repo, data)["error"]["code"] == 404
    # The bad parts are dropped: the client has to send the object again.
    assert received(bare, upload) == []


def test_an_oversized_part_is_refused_and_not_kept(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(4 * MiB + 5)
    upload = multipart_action(http, repo, data)

    response = bare.put(part_urls(upload)[1], content=os.urandom(MiB + 1))

    assert response.status_code == 400
    assert str(MiB) in response.json()["error"]
    assert received(bare, upload) == []
    short = bare.put(part_urls(upload)[5], content=b"1234")
    assert short.status_code == 400
    assert received(bare, upload) == []


def test_bytes_past_the_size_are_refused_without_a_content_length(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    data = os.urandom(4 * MiB + 5)
    upload = multipart_action(http, repo, data)
    small = os.urandom(1000)
    basic = only(batch(http, repo, "upload", [obj(small)]))["actions"]["upload"]["href"]

    def chunked(payload: bytes) -> Iterator[bytes]:  # no Content-Length: chunked encoding
        yield from (payload[i : i + 65536] for i in range(0, len(payload), 65536))

    part = bare.put(part_urls(upload)[1], content=chunked(os.urandom(3 * MiB)))
    whole = bare.put(basic, content=chunked(small + b"!"))

    assert part.status_code == 400
    assert "received more" in part.json()["error"]
    assert received(bare, upload) == []
    assert whole.status_code == 400
    assert download_answer(http, repo, small)["error"]["code"] == 404
    assert bare.put(part_urls(upload)[1], content=chunked(parts_of(data)[0])).status_code == 200
    assert received(bare, upload) == [1]


def send_and_hang_up(href: str, announced: int, sent: bytes) -> None:
    """PUT `announced` bytes to `href` but send only `sent`, then drop the connection."""
    url = httpx.URL(href)
    with socket.create_connection((url.host, url.port or 80)) as connection:
        head = (
            f"PUT {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.netloc.decode()}\r\n"
            f"Content-Length: {announced}\r\n\r\n"
        )
        connection.sendall(head.encode() + sent)


def test_an_upload_cut_short_stores_nothing(
    hub: LiveServer, http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    small = os.urandom(3 * MiB)
    large = os.urandom(4 * MiB + 5)
    basic = only(batch(http, repo, "upload", [obj(small)]))
    upload = multipart_action(http, repo, large)

    send_and_hang_up(basic["actions"]["upload"]["href"], len(small), small[: 2 * MiB])
    send_and_hang_up(part_urls(upload)[1], MiB, parts_of(large)[0][:1000])

    deadline = time.monotonic() + 10
    while list((hub.data_dir / "blobs" / ".tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list((hub.data_dir / "blobs" / ".tmp").iterdir()) == []
    assert download_answer(http, repo, small)["error"]["code"] == 404
    assert received(bare, upload) == []
    upload_basic(http, bare, repo, small)
    assert "actions" in download_answer(http, repo, small)


def test_a_retried_completion_succeeds(http: httpx.Client, bare: httpx.Client, repo: str) -> None:
    data = os.urandom(4 * MiB + 5)
    upload = multipart_action(http, repo, data)
    for number, chunk in enumerate(parts_of(data), start=1):
        bare.put(part_urls(upload)[number], content=chunk)
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(complete(bare, upload, data, 5).status_code))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200, 200, 200]
    assert complete(bare, upload, data, 5).status_code == 200
    assert download_answer(http, repo, data)["size"] == len(data)


@pytest.mark.parametrize("number", ["0", "6", "99", "abc", "-1"])
def test_a_part_number_outside_the_upload_is_refused(
    http: httpx.Client, bare: httpx.Client, repo: str, number: str
) -> None:
    data = os.urandom(4 * MiB + 5)
    upload = multipart_action(http, repo, data)

    response = bare.put(f"{upload['href']}/{number}", content=b"x")

    assert response.status_code == 400
    assert "part" in response.json()["error"].lower()
    assert received(bare, upload) == []


# --- signed URLs --------------------------------------------------------------------------------


def forge(href: str) -> str:
    """The same URL with one character of its signature (after the token's last dot) changed."""
    mac = href.rindex(".") + 1
    flipped = "A" if href[mac] != "A" else "B"
    return href[:mac] + flipped + href[mac + 1 :]


def test_forged_transfer_urls_are_refused(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    small = os.urandom(100)
    large = os.urandom(4 * MiB + 5)
    basic = only(batch(http, repo, "upload", [obj(small)]))["actions"]["upload"]["href"]
    upload = multipart_action(http, repo, large)

    assert bare.put(forge(basic), content=small).status_code == 403
    assert bare.put(forge(part_urls(upload)[1]), content=parts_of(large)[0]).status_code == 403
    assert bare.put("/lfs/multipart/garbage/1", content=b"x").status_code == 403
    assert bare.put("/lfs/uploads/%C3%A9.%C3%A9", content=b"x").status_code == 403
    assert bare.get(forge(upload["href"])).status_code == 403
    assert complete(bare, {"href": forge(upload["href"])}, large, 5).status_code == 403
    # An upload URL is not a completion URL, nor the other way round.
    assert bare.put(basic.replace("/lfs/uploads/", "/lfs/multipart/") + "/1").status_code == 403
    assert received(bare, upload) == []
    assert download_answer(http, repo, small)["error"]["code"] == 404


def test_expired_transfer_and_download_urls_are_refused(
    tmp_path: Path, request: pytest.FixtureRequest, clock: ManualClock
) -> None:
    postgres = request.config.getoption("--database") == "postgresql"
    with lfs_server(tmp_path / "hub", postgres, clock=clock, lfs_url_ttl_seconds=60) as server:
        user = make_user(server)
        repo_id = new_repo(user)
        small, large = os.urandom(100), os.urandom(4 * MiB + 5)
        with (
            httpx.Client(
                base_url=server.url, headers={"authorization": f"Bearer {user.token}"}
            ) as http,
            httpx.Client() as bare,
        ):
            upload_basic(http, bare, repo_id, small)
            download = download_answer(http, repo_id, small)["actions"]["download"]["href"]
            basic = only(batch(http, repo_id, "upload", [obj(os.urandom(10))]))
            multipart = multipart_action(http, repo_id, large)
            clock.advance(61)

            assert httpx.get(download).status_code == 403
            expired = httpx.put(basic["actions"]["upload"]["href"], content=b"x" * 10)
            assert expired.status_code == 403
            assert "expired" in expired.json()["error"]
            assert httpx.put(part_urls(multipart)[1], content=b"x").status_code == 403
            assert httpx.get(multipart["href"]).status_code == 403
            # A new batch answer works again.
            fresh = download_answer(http, repo_id, small)["actions"]["download"]["href"]
            assert httpx.get(fresh).content == small


def test_a_blob_url_serves_only_the_object_its_token_names(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    first, second = os.urandom(100), os.urandom(100)
    upload_basic(http, bare, repo, first)
    upload_basic(http, bare, repo, second)
    href = download_answer(http, repo, first)["actions"]["download"]["href"]
    token = href.partition("?token=")[2]

    assert bare.get(f"/lfs/objects/{sha256(second)}?token={token}").status_code == 403
    assert bare.get(forge(href)).status_code == 403
    assert bare.get(f"/lfs/objects/{sha256(first)}").status_code == 403
    assert bare.get(f"/lfs/objects/{sha256(first)}?token=garbage").status_code == 403
    assert bare.get(f"/lfs/objects/{sha256(first)}?token=%C3%A9.%C3%A9").status_code == 403
    assert bare.get(f"/lfs/objects/{'0' * 64}?token={token}").status_code == 403
    assert bare.get(f"/lfs/objects/not-a-digest?token={token}").status_code == 403


# --- who may reach what -------------------------------------------------------------------------


def test_a_private_repos_objects_are_invisible_to_other_users(
    hub: LiveServer,
    http: httpx.Client,
    bare: httpx.Client,
    owner: HubUser,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    repo = new_repo(owner, private=True)
    data = os.urandom(100)
    upload_basic(http, bare, repo, data)
    stranger = make_user(hub, "stranger")

    as_stranger = as_user(stranger)
    response = batch(as_stranger, repo, "download", [obj(data)])

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RepoNotFound"
    assert batch(as_stranger, repo, "upload", [obj(data)]).status_code == 404
    assert batch(bare, repo, "download", [obj(data)]).status_code == 401
    assert "actions" in download_answer(http, repo, data)


def test_a_read_token_cannot_ask_to_upload(
    hub: LiveServer, owner: HubUser, repo: str, as_user: Callable[[HubUser], httpx.Client]
) -> None:
    reader = make_user(hub, "reader", role=Role.READ)

    response = batch(as_user(reader), repo, "upload", [obj(b"x")])

    assert response.status_code == 403
    # git-lfs prints `message` (without one, the request URL, token included); the official
    # client reads `error` and the headers.
    assert response.headers["content-type"] == "application/vnd.git-lfs+json"
    body = response.json()
    assert body["message"] == body["error"] == response.headers["x-error-message"]
    assert body["request_id"] == response.headers["x-request-id"]


def test_knowing_a_digest_does_not_link_another_repos_object(
    hub: LiveServer,
    http: httpx.Client,
    bare: httpx.Client,
    owner: HubUser,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    secret = os.urandom(256)
    private = new_repo(owner, private=True)
    upload_basic(http, bare, private, secret)
    thief = make_user(hub, "thief")
    own = new_repo(thief)
    as_thief = as_user(thief)
    before = branch_head(as_thief, own)

    line = {"key": "lfsFile", "value": {"path": "x.bin", "algo": "sha256", **obj(secret)}}
    committed = post_commit(as_thief, own, ndjson(header(), line))
    pointer = format_lfs_pointer(sha256(secret), len(secret))
    committed_pointer = post_commit(as_thief, own, ndjson(header(), add("y.txt", pointer)))

    assert committed.status_code == 400
    assert committed_pointer.status_code == 400
    assert branch_head(as_thief, own) == before
    # The batch API asks for the bytes, and will not hand out a download or a verification.
    assert "upload" in only(batch(as_thief, own, "upload", [obj(secret)]))["actions"]
    assert only(batch(as_thief, own, "download", [obj(secret)]))["error"]["code"] == 404
    verify = as_thief.post(f"/{own}.git/info/lfs/objects/verify", json=obj(secret))
    assert verify.status_code == 404


def test_a_multipart_completion_without_the_bytes_does_not_link_a_stored_object(
    hub: LiveServer,
    http: httpx.Client,
    bare: httpx.Client,
    owner: HubUser,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    data = os.urandom(4 * MiB + 5)
    first = new_repo(owner)
    upload = multipart_action(http, first, data)
    for number, chunk in enumerate(parts_of(data), start=1):
        bare.put(part_urls(upload)[number], content=chunk)
    assert complete(bare, upload, data, 5).status_code == 200
    thief = make_user(hub, "thief")
    own = new_repo(thief)
    as_thief = as_user(thief)

    theirs = multipart_action(as_thief, own, data)

    assert complete(bare, theirs, data, 5).status_code == 400
    assert only(batch(as_thief, own, "download", [obj(data)]))["error"]["code"] == 404


# --- bad batch requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"objects": []}',
        b'{"operation": "upload"}',
        b'{"operation": "upload", "objects": {}}',
        b'{"operation": "upload", "objects": [], "transfers": "basic"}',
        b'{"operation": "delete", "objects": []}',
    ],
)
def test_a_malformed_batch_request_is_refused(http: httpx.Client, repo: str, body: bytes) -> None:
    response = http.post(f"/{repo}.git/info/lfs/objects/batch", content=body)

    assert response.status_code == 400
    assert response.json()["error"] == response.json()["message"] != ""


def test_a_malformed_object_gets_an_error_of_its_own(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    good = os.urandom(10)
    objects: list[Any] = [
        {"oid": "not-a-digest", "size": 10},
        {"oid": sha256(good).upper(), "size": 10},
        {"oid": sha256(good), "size": -1},
        {"oid": sha256(good), "size": "10"},
        "nonsense",
        obj(good),
    ]

    for operation in ("upload", "download"):
        answers = batch(http, repo, operation, objects).json()["objects"]

        assert [a.get("error", {}).get("code") for a in answers[:5]] == [422] * 5
        assert all(isinstance(a["error"]["message"], str) for a in answers[:5])
    answers = batch(http, repo, "upload", objects).json()["objects"]
    assert "upload" in answers[5]["actions"]


def test_a_zero_byte_object_round_trips(http: httpx.Client, bare: httpx.Client, repo: str) -> None:
    upload_basic(http, bare, repo, b"")

    item = download_answer(http, repo, b"")

    assert item["size"] == 0
    assert bare.get(item["actions"]["download"]["href"]).content == b""


# --- blob downloads -----------------------------------------------------------------------------

CONTENT = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def blob_url(http: httpx.Client, bare: httpx.Client, repo: str) -> str:
    upload_basic(http, bare, repo, CONTENT)
    href: str = download_answer(http, repo, CONTENT)["actions"]["download"]["href"]
    return href


def test_a_blob_is_served_immutable_with_a_strong_etag(bare: httpx.Client, blob_url: str) -> None:
    response = bare.get(blob_url)

    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["etag"] == f'"{sha256(CONTENT)}"'
    assert response.headers["x-linked-etag"] == f'"{sha256(CONTENT)}"'
    assert response.headers["x-linked-size"] == "1024"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == "1024"
    cache_control = response.headers["cache-control"]
    assert "immutable" in cache_control
    assert "max-age=31536000" in cache_control


def test_head_on_a_blob_has_no_body_and_the_full_length(bare: httpx.Client, blob_url: str) -> None:
    response = bare.head(blob_url)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "1024"
    ranged = bare.head(blob_url, headers={"range": "bytes=10-19"})
    assert ranged.status_code == 206
    assert ranged.headers["content-length"] == "10"
    assert ranged.content == b""


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=100-199", 100, 199),
        ("bytes=1000-", 1000, 1023),
        ("bytes=1000-5000", 1000, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=-5000", 0, 1023),
    ],
)
def test_a_blob_range_gets_206(
    bare: httpx.Client, blob_url: str, range_header: str, start: int, end: int
) -> None:
    response = bare.get(blob_url, headers={"range": range_header})

    assert response.status_code == 206
    assert response.content == CONTENT[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/1024"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize("range_header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
def test_a_blob_range_past_the_end_gets_416(
    bare: httpx.Client, blob_url: str, range_header: str
) -> None:
    response = bare.get(blob_url, headers={"range": range_header})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"


@pytest.mark.parametrize("range_header", ["bytes=abc", "items=0-5", "bytes=0-1,5-6", "bytes=-"])
def test_a_malformed_blob_range_gets_the_whole_object(
    bare: httpx.Client, blob_url: str, range_header: str
) -> None:
    response = bare.get(blob_url, headers={"range": range_header})

    assert response.status_code == 200
    assert response.content == CONTENT


def test_resolve_redirects_an_lfs_file_to_its_blob_url(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    upload_basic(http, bare, repo, CONTENT)
    line = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", **obj(CONTENT)}}
    commit = post_commit(http, repo, ndjson(header(), line)).json()["commitOid"]

    for method in ("HEAD", "GET"):
        response = http.request(method, f"/{repo}/resolve/main/w.bin")

        assert response.status_code == 302
        assert response.headers["x-linked-etag"] == f'"{sha256(CONTENT)}"'
        assert response.headers["x-linked-size"] == "1024"
        assert response.headers["x-repo-commit"] == commit
        location = response.headers["location"]
        assert f"/lfs/objects/{sha256(CONTENT)}?token=" in location
        followed = bare.get(location, headers={"range": "bytes=-4"})
        assert followed.content == CONTENT[-4:]
        assert followed.headers["x-repo-commit"] == commit


def test_preupload_answers_the_sha256_of_an_lfs_file(
    http: httpx.Client, bare: httpx.Client, repo: str
) -> None:
    upload_basic(http, bare, repo, CONTENT)
    line = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", **obj(CONTENT)}}
    assert post_commit(http, repo, ndjson(header(), line)).status_code == 200
    sample = base64.b64encode(CONTENT[:512]).decode()

    response = http.post(
        f"/api/models/{repo}/preupload/main",
        json={"files": [{"path": "w.bin", "size": len(CONTENT), "sample": sample}]},
    )

    (entry,) = response.json()["files"]
    assert entry["uploadMode"] == "lfs"
    assert entry["oid"] == sha256(CONTENT)


def test_one_object_in_many_repos_is_stored_once(
    hub: LiveServer, http: httpx.Client, bare: httpx.Client, owner: HubUser
) -> None:
    data = os.urandom(3000)
    repos = [new_repo(owner) for _ in range(3)]

    for repo in repos:
        upload_basic(http, bare, repo, data)

    assert [p.name for p in blob_files(hub)].count(sha256(data)) == 1
    for repo in repos:
        href = download_answer(http, repo, data)["actions"]["download"]["href"]
        assert bare.get(href).content == data
