"""The s3 blob backend hands out presigned URLs: LFS bytes go between clients and the bucket.

Against moto's S3 API server: the official client (HF_HUB_DISABLE_XET, this suite's default)
and git-lfs upload straight to the bucket, whole and in parts, and the hub's access log shows
no PUT; downloads (whole, ranged, snapshots, clones) follow the hub's 302 to a presigned GET of
the bucket. Bytes that are not the announced object, sent to a presigned URL, are refused at
verify and never stored or linked. Outsiders of a private repo get no URL.

moto checks neither the signature nor the expiry of presigned URLs: S3's side of that is not
tested here (the URLs carry `X-Amz-Expires` and a signed Content-Length); the hub's is: an
upload verified after its URLs expired is refused, so its bytes are never stored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from huggingface_hub import hf_hub_download, snapshot_download

from hubstead.protocol import RepoType
from hubstead.server.services.access import Action
from hubstead.server.services.auth import ANONYMOUS
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.clock import ManualClock
from tests.helpers.git import GitUser, repo_url, require_git_lfs
from tests.helpers.lfs import LFS_HEADERS, SMALL_LFS_SETTINGS, MiB, batch, sha256
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.s3 import MotoS3
from tests.helpers.storage import upload_lfs

URL_TTL = 120


@pytest.fixture
def bucket(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket; the hub's boto3 finds the test credentials in the environment."""
    for key, value in moto_s3.aws_environ().items():
        monkeypatch.setenv(key, value)
    return moto_s3.new_bucket()


@pytest.fixture
def s3_hub(
    tmp_path: Path, bucket: str, moto_s3: MotoS3, clock: ManualClock
) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path / "hub",
        clock=clock,
        blob_backend="s3",
        s3_bucket=bucket,
        s3_prefix="hub",
        s3_endpoint_url=moto_s3.endpoint_url,
        s3_url_ttl_seconds=URL_TTL,
        **SMALL_LFS_SETTINGS,
    )
    yield server
    server.stop()


@pytest.fixture
def owner(s3_hub: LiveServer) -> HubUser:
    return make_user(s3_hub)


@pytest.fixture
def http(s3_hub: LiveServer, owner: HubUser) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=s3_hub.url, headers={"authorization": f"Bearer {owner.token}"}
    ) as client:
        yield client


Log = Callable[[], list[str]]


@pytest.fixture
def hub_requests(caplog: pytest.LogCaptureFixture) -> Log:
    """The hub's access log so far, a line per request: `<client> "<METHOD> <path>" <status>`."""
    caplog.set_level(logging.INFO, logger="hubstead.access")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "hubstead.access"]


def keys(moto_s3: MotoS3, bucket: str, under: str = "") -> list[str]:
    listed = moto_s3.client().list_objects_v2(Bucket=bucket, Prefix=f"hub/blobs/{under}")
    return sorted(found["Key"][len("hub/blobs/") :] for found in listed.get("Contents", []))


def stored(moto_s3: MotoS3, bucket: str) -> list[str]:
    """The sha256 of the objects stored (not parts, not scratch uploads)."""
    return [k.rsplit("/", 1)[-1] for k in keys(moto_s3, bucket) if not k.startswith(".")]


def obj(data: bytes) -> dict[str, Any]:
    return {"oid": sha256(data), "size": len(data)}


def only(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    (item,) = response.json()["objects"]
    return item  # type: ignore[no-any-return]


def verify(action: dict[str, Any], data: bytes) -> httpx.Response:
    """Call the verify URL as git-lfs does: no credentials, its signed token only."""
    return httpx.post(action["actions"]["verify"]["href"], json=obj(data), headers=LFS_HEADERS)


def test_uploads_go_to_the_bucket_and_downloads_are_redirected_there(
    s3_hub: LiveServer,
    owner: HubUser,
    moto_s3: MotoS3,
    bucket: str,
    tmp_path: Path,
    hub_requests: Log,
) -> None:
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    small = os.urandom(300_000)
    large = os.urandom(5 * MiB + 321)  # past the 4 MiB threshold: 6 parts of 1 MiB
    upload_lfs(owner.api, repo, "small.bin", small)
    upload_lfs(owner.api, repo, "large.bin", large)

    # The bytes went to the bucket: the hub answered no PUT (batch, verify, completion and the
    # commit are small JSON POSTs), and only the two verified objects are left there.
    assert not [line for line in hub_requests() if '"PUT ' in line]
    assert any("/lfs/multipart/" in line and '"POST ' in line for line in hub_requests())
    assert stored(moto_s3, bucket) == sorted([sha256(small), sha256(large)])
    assert keys(moto_s3, bucket, ".") == []  # no scratch uploads nor parts left

    # resolve answers a 302 straight to a presigned GET of the bucket, with the file's identity.
    auth = {"authorization": f"Bearer {owner.token}"}
    head = httpx.head(f"{s3_hub.url}/{repo}/resolve/main/large.bin", headers=auth)
    assert head.status_code == 302
    location = head.headers["location"]
    assert location.startswith(f"{moto_s3.endpoint_url}/{bucket}/hub/blobs/")
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == [str(URL_TTL)]
    assert head.headers["x-linked-etag"] == f'"{sha256(large)}"'
    assert head.headers["x-linked-size"] == str(len(large))
    assert head.headers["x-repo-commit"] == owner.api.model_info(repo).sha
    assert httpx.get(location).content == large  # no token needed: the URL is the grant

    before = len(hub_requests())
    assert (
        Path(
            hf_hub_download(
                repo, "large.bin", endpoint=s3_hub.url, token=owner.token, cache_dir=tmp_path / "c"
            )
        ).read_bytes()
        == large
    )
    snapshot = Path(
        snapshot_download(repo, endpoint=s3_hub.url, token=owner.token, cache_dir=tmp_path / "s")
    )
    assert (snapshot / "small.bin").read_bytes() == small
    assert (snapshot / "large.bin").read_bytes() == large
    served = hub_requests()[before:]
    assert not [line for line in served if " /lfs/objects/" in line]  # never through the hub

    ranged = httpx.get(
        f"{s3_hub.url}/{repo}/resolve/main/large.bin",
        headers={**auth, "range": "bytes=1048570-1048585"},
        follow_redirects=True,
    )
    assert ranged.status_code == 206
    assert ranged.content == large[1048570:1048586]


def test_a_batch_download_and_a_blob_url_point_at_the_bucket(
    s3_hub: LiveServer, owner: HubUser, http: httpx.Client, moto_s3: MotoS3
) -> None:
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    data = os.urandom(1000)
    upload_lfs(owner.api, repo, "w.bin", data)
    download = only(batch(http, repo, "download", [obj(data)]))["actions"]["download"]
    assert download["href"].startswith(moto_s3.endpoint_url)
    assert download["expires_in"] == URL_TTL
    assert httpx.get(download["href"]).content == data

    # A hub blob URL (issued by an older answer, or while presigning was off) redirects there
    # too, once its token is checked, with the object's identity on the redirect.
    lfs, repos = s3_hub.services.lfs, s3_hub.services.repos
    record = repos.locate(ANONYMOUS, RepoType.MODEL, repo, Action.READ_FILES)
    served = lfs.pointer_download(ANONYMOUS, record, sha256(data), len(data), "0" * 40)
    assert served is not None
    token = served.token
    blob = f"{s3_hub.url}/lfs/objects/{sha256(data)}?token="
    redirect = httpx.get(blob + token)
    assert redirect.status_code == 302
    assert redirect.headers["location"].startswith(moto_s3.endpoint_url)
    assert redirect.headers["x-linked-etag"] == f'"{sha256(data)}"'
    assert redirect.headers["x-linked-size"] == str(len(data))
    assert redirect.headers["x-repo-commit"] == "0" * 40
    assert httpx.get(redirect.headers["location"]).content == data
    assert httpx.get(blob + token[:-2] + "xx").status_code == 403  # no URL without the checks
    assert "location" not in httpx.get(blob + token[:-2] + "xx").headers


def test_bytes_that_are_not_the_announced_object_are_refused_and_never_linked(
    s3_hub: LiveServer, owner: HubUser, http: httpx.Client, moto_s3: MotoS3, bucket: str
) -> None:
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    wanted, other = os.urandom(1000), os.urandom(1000)
    action = only(batch(http, repo, "upload", [obj(wanted)]))
    href = action["actions"]["upload"]["href"]
    assert href.startswith(f"{moto_s3.endpoint_url}/{bucket}/hub/blobs/.incoming/")
    assert "content-length" in parse_qs(urlsplit(href).query)["X-Amz-SignedHeaders"][0]

    # Other bytes of the same length (the bucket takes them: moto checks no signature).
    assert httpx.put(href, content=other).status_code == 200
    refused = verify(action, wanted)
    assert refused.status_code == 400, refused.text
    assert "Upload refused" in refused.json()["message"]
    assert stored(moto_s3, bucket) == []
    assert keys(moto_s3, bucket, ".incoming/") == []  # dropped
    assert only(batch(http, repo, "download", [obj(wanted)]))["error"]["code"] == 404

    # Another object's bytes sent to this object's URL: the same, even though they are the
    # bytes of an object the client could upload.
    action = only(batch(http, repo, "upload", [obj(wanted)]))
    httpx.put(action["actions"]["upload"]["href"], content=other)
    assert verify(action, wanted).status_code == 400
    other_action = only(batch(http, repo, "upload", [obj(other)]))
    httpx.put(other_action["actions"]["upload"]["href"], content=wanted)
    assert verify(other_action, other).status_code == 400
    assert stored(moto_s3, bucket) == []

    # Nothing sent at all, or too few bytes.
    action = only(batch(http, repo, "upload", [obj(wanted)]))
    assert verify(action, wanted).status_code == 404
    httpx.put(action["actions"]["upload"]["href"], content=wanted[:-1])
    assert verify(action, wanted).status_code == 400

    # A verify token names its own scratch key: the right bytes elsewhere do not help.
    first = only(batch(http, repo, "upload", [obj(wanted)]))
    second = only(batch(http, repo, "upload", [obj(wanted)]))
    assert first["actions"]["upload"]["href"] != second["actions"]["upload"]["href"]
    httpx.put(second["actions"]["upload"]["href"], content=wanted)
    assert verify(first, wanted).status_code == 404
    assert stored(moto_s3, bucket) == []

    # The right bytes, at last: stored under their sha256 and linked, once.
    assert verify(second, wanted).status_code == 200
    assert verify(second, wanted).status_code == 200
    assert stored(moto_s3, bucket) == [sha256(wanted)]
    assert "actions" not in only(batch(http, repo, "upload", [obj(wanted)]))


def test_multipart_parts_that_do_not_make_the_object_are_refused(
    s3_hub: LiveServer, owner: HubUser, http: httpx.Client, moto_s3: MotoS3, bucket: str
) -> None:
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    data = os.urandom(4 * MiB + 5)
    upload = only(batch(http, repo, "upload", [obj(data)]))["actions"]["upload"]
    header = upload["header"]
    assert header["chunk_size"] == str(MiB)
    parts = {int(n): url for n, url in header.items() if n.isdigit()}
    assert sorted(parts) == [1, 2, 3, 4, 5]
    assert all(url.startswith(moto_s3.endpoint_url) for url in parts.values())
    assert upload["href"].startswith(s3_hub.url)  # the completion comes to the hub

    for number, url in parts.items():
        chunk = data[(number - 1) * MiB : number * MiB]
        if number == 3:
            chunk = os.urandom(len(chunk))
        sent = httpx.put(url, content=chunk)
        assert sent.status_code == 200 and sent.headers["etag"]
    completion = {"oid": sha256(data), "parts": [{"partNumber": n} for n in parts]}
    refused = httpx.post(upload["href"], json=completion, headers=LFS_HEADERS)
    assert refused.status_code == 400, refused.text
    assert stored(moto_s3, bucket) == []
    assert keys(moto_s3, bucket, ".uploads/") == []  # discarded: the client starts again

    for number, url in parts.items():
        httpx.put(url, content=data[(number - 1) * MiB : number * MiB])
    assert httpx.post(upload["href"], json=completion, headers=LFS_HEADERS).status_code == 200
    assert stored(moto_s3, bucket) == [sha256(data)]


def test_an_upload_verified_after_its_urls_expired_is_not_stored(
    s3_hub: LiveServer,
    owner: HubUser,
    http: httpx.Client,
    moto_s3: MotoS3,
    bucket: str,
    clock: ManualClock,
) -> None:
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    data = os.urandom(1000)
    action = only(batch(http, repo, "upload", [obj(data)]))
    expires_in = action["actions"]["upload"]["expires_in"]
    href = action["actions"]["upload"]["href"]
    assert parse_qs(urlsplit(href).query)["X-Amz-Expires"] == [str(expires_in)]
    httpx.put(href, content=data)  # late: S3 refuses it; moto does not check
    clock.advance(expires_in + 1)
    expired = verify(action, data)
    assert expired.status_code == 403
    assert stored(moto_s3, bucket) == []

    download = only(batch(http, repo, "upload", [obj(data)]))
    httpx.put(download["actions"]["upload"]["href"], content=data)
    assert verify(download, data).status_code == 200
    # Downloads: the hub's own URLs expire (tests/http/test_lfs_http.py); the presigned ones
    # are issued per request with s3_url_ttl_seconds, after the checks of that request.
    answer = only(batch(http, repo, "download", [obj(data)]))["actions"]["download"]
    assert parse_qs(urlsplit(answer["href"]).query)["X-Amz-Expires"] == [str(URL_TTL)]


def test_outsiders_of_a_private_repo_get_no_url(
    s3_hub: LiveServer, owner: HubUser, http: httpx.Client
) -> None:
    repo = f"{owner.name}/secret"
    owner.api.create_repo(repo, private=True)
    data = os.urandom(1000)
    upload_lfs(owner.api, repo, "w.bin", data)
    outsider = make_user(s3_hub)
    resolve = f"{s3_hub.url}/{repo}/resolve/main/w.bin"
    for headers in ({}, {"authorization": f"Bearer {outsider.token}"}):
        answer = httpx.head(resolve, headers=headers)
        assert answer.status_code in (401, 404)
        assert "location" not in answer.headers
        with httpx.Client(base_url=s3_hub.url, headers=headers) as client:
            listed = batch(client, repo, "download", [obj(data)])
            assert listed.status_code in (401, 404)
            assert "X-Amz" not in listed.text
            assert "X-Amz" not in batch(client, repo, "upload", [obj(data)]).text
    assert httpx.head(resolve, headers=http.headers).status_code == 302


def test_git_lfs_pushes_to_and_clones_from_the_bucket(
    s3_hub: LiveServer,
    owner: HubUser,
    moto_s3: MotoS3,
    bucket: str,
    tmp_path: Path,
    hub_requests: Log,
) -> None:
    require_git_lfs()
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    git = GitUser(tmp_path / "home")
    git.run("lfs", "install")
    url = repo_url(s3_hub.url, repo, token=owner.token)
    checkout = git.clone(url, tmp_path / "checkout")
    git.run("lfs", "track", "*.bin", cwd=checkout)
    data = os.urandom(2 * MiB + 7)
    (checkout / "w.bin").write_bytes(data)
    git.run("add", ".gitattributes", "w.bin", cwd=checkout)
    git.run("commit", "-q", "-m", "weights", cwd=checkout)
    git.run("push", cwd=checkout)

    assert not [line for line in hub_requests() if '"PUT ' in line]
    assert stored(moto_s3, bucket) == [sha256(data)]
    assert keys(moto_s3, bucket, ".") == []

    clone = git.clone(url, tmp_path / "clone")
    assert (clone / "w.bin").read_bytes() == data
    assert not [line for line in hub_requests() if " /lfs/objects/" in line]


@pytest.mark.usefixtures("xet")
def test_hf_xet_fetches_xorb_ranges_from_the_bucket(
    s3_hub: LiveServer, owner: HubUser, moto_s3: MotoS3, tmp_path: Path, hub_requests: Log
) -> None:
    repo = f"{owner.name}/weights"
    owner.api.create_repo(repo)
    data = os.urandom(300_000)
    upload_lfs(owner.api, repo, "x.bin", data)
    before = len(hub_requests())

    local = hf_hub_download(
        repo, "x.bin", endpoint=s3_hub.url, token=owner.token, cache_dir=tmp_path / "c"
    )
    assert Path(local).read_bytes() == data
    served = hub_requests()[before:]
    assert any("/reconstructions/" in line for line in served)
    assert not [line for line in served if "/xorb-ranges/" in line]

    # Each URL is good for its range only: the Range header is signed in.
    xet_hash = httpx.head(
        f"{s3_hub.url}/{repo}/resolve/main/x.bin",
        headers={"authorization": f"Bearer {owner.token}"},
    ).headers["x-xet-hash"]
    read = httpx.get(
        f"{s3_hub.url}/api/models/{repo}/xet-read-token/main",
        headers={"authorization": f"Bearer {owner.token}"},
    ).json()
    plan = httpx.get(
        f"{read['casUrl']}/v1/reconstructions/{xet_hash}",
        headers={"authorization": f"Bearer {read['accessToken']}"},
    ).json()
    (fetch,) = [f for infos in plan["fetch_info"].values() for f in infos][:1]
    assert fetch["url"].startswith(moto_s3.endpoint_url)
    assert "range" in parse_qs(urlsplit(fetch["url"]).query)["X-Amz-SignedHeaders"][0]
    assert parse_qs(urlsplit(fetch["url"]).query)["X-Amz-Expires"] == [str(URL_TTL)]
    first, last = fetch["url_range"]["start"], fetch["url_range"]["end"]
    got = httpx.get(fetch["url"], headers={"range": f"bytes={first}-{last}"})
    assert got.status_code == 206 and len(got.content) == last - first + 1


def test_with_s3_url_ttl_seconds_0_the_hub_sends_and_receives_the_bytes(
    tmp_path: Path, bucket: str, moto_s3: MotoS3, hub_requests: Log
) -> None:
    server = start_server(
        tmp_path / "hub",
        blob_backend="s3",
        s3_bucket=bucket,
        s3_prefix="hub",
        s3_endpoint_url=moto_s3.endpoint_url,
        s3_url_ttl_seconds=0,
        **SMALL_LFS_SETTINGS,
    )
    try:
        owner = make_user(server)
        repo = f"{owner.name}/weights"
        owner.api.create_repo(repo)
        data = os.urandom(5 * MiB + 3)
        upload_lfs(owner.api, repo, "w.bin", data)
        assert any('"PUT /lfs/multipart/' in line for line in hub_requests())
        auth = {"authorization": f"Bearer {owner.token}"}
        head = httpx.head(f"{server.url}/{repo}/resolve/main/w.bin", headers=auth)
        assert head.headers["location"].startswith(f"{server.url}/lfs/objects/")
        local = hf_hub_download(
            repo, "w.bin", endpoint=server.url, token=owner.token, cache_dir=tmp_path / "c"
        )
        assert Path(local).read_bytes() == data
        assert stored(moto_s3, bucket) == [sha256(data)]
    finally:
        server.stop()
